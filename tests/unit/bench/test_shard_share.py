"""bench/shard_share.py: what a geographic worker must hold, on a few hand-placed items."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from bench.shard_share import Population, kd_regions, partial_topk, single_stage

KM = 1 / 111.2  # degrees of latitude per km


@dataclass
class FakeTenant:
    neighbours: frozenset = frozenset()


@dataclass
class FakeFactory:
    tenants: dict = field(default_factory=lambda: {"west": FakeTenant(), "east": FakeTenant()})


@dataclass
class FakeItem:
    id: str
    kind: str
    lat: float
    lon: float = 7.0
    radius_km: float = 5.0
    remote: bool = False
    tenant: str = "west"
    visibility: str = "state"


def north_south_items() -> list[FakeItem]:
    """Two clusters 100 km apart (north and south), each with an offer and a need."""
    return [FakeItem("o-south", "offer", 51.0), FakeItem("n-south", "need", 51.0 + 1 * KM),
            FakeItem("o-north", "offer", 51.0 + 100 * KM), FakeItem("n-north", "need", 51.0 + 101 * KM)]


def held(population: Population, mask: np.ndarray) -> set[str]:
    return {item_id for item_id, kept in zip(population.ids, mask) if kept}


def test_two_regions_far_apart_hold_only_their_own_items():
    population = Population(north_south_items(), FakeFactory())
    boxes = kd_regions(population, 2)
    holdings = [held(population, single_stage(population, boxes, s)) for s in range(2)]
    assert sorted(map(sorted, holdings)) == [["n-north", "o-north"], ["n-south", "o-south"]]


def test_a_remote_offer_with_state_visibility_makes_every_worker_hold_every_need():
    items = north_south_items() + [FakeItem("o-remote", "offer", 51.0, remote=True)]
    population = Population(items, FakeFactory())
    boxes = kd_regions(population, 2)
    for shard in range(2):
        assert {"n-south", "n-north", "o-remote"} <= held(population, single_stage(population, boxes, shard))


def test_partial_top_k_holds_remote_items_and_items_whose_radius_reaches_the_region():
    items = north_south_items() + [FakeItem("o-remote", "offer", 51.0, remote=True),
                                   FakeItem("n-wide", "need", 51.0 + 60 * KM, radius_km=50.0)]
    population = Population(items, FakeFactory())
    boxes = kd_regions(population, 2)
    holdings = [held(population, partial_topk(population, boxes, s)) for s in range(2)]
    assert all("o-remote" in h for h in holdings)
    # 60 km from the south cluster: a 50 km radius reaches the region around the boundary
    # only on the side where it lies; a 5 km radius never crosses 100 km.
    assert not any({"o-south", "o-north"} <= h for h in holdings)


def test_a_tenant_only_need_is_not_valid_for_an_offer_of_another_tenant():
    items = [FakeItem("o", "offer", 51.0, tenant="east"),
             FakeItem("n", "need", 51.0, tenant="west", visibility="tenant")]
    population = Population(items, FakeFactory())
    assert not population.valid_counterparts(np.array([0])).any()
