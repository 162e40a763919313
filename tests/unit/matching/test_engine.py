"""The incremental engine's API behaviour (engine.py), checked against the oracle where useful."""
from __future__ import annotations

import random

import pytest

from services.matching.engine import BruteForceMatcher, Diff, MatchingEngine, TenantInfo, Weights
from services.matching.engine.model import Item

from .factories import need, offer


def pairs(diff_matches) -> list[tuple[str, str]]:
    return [m.pair for m in diff_matches]


class TestPublishAndRemove:
    def test_publishing_a_need_near_an_offer_reports_the_match(self):
        engine = MatchingEngine()
        assert engine.upsert(offer("o1")) == Diff()
        diff = engine.upsert(need("n1", km_north=2))
        assert pairs(diff.found) == [("o1", "n1")]
        assert diff.withdrawn == []
        [m] = engine.matches_for("o1")
        assert m.pair == ("o1", "n1") and m.reasons
        assert engine.matches_for("n1") == [m]

    def test_closing_an_item_withdraws_its_matches(self):
        engine = MatchingEngine()
        engine.upsert(offer("o1"))
        engine.upsert(need("n1", km_north=2))
        before = engine.matches_for("n1")
        diff = engine.remove("o1")
        assert diff.found == [] and diff.withdrawn == before
        assert engine.matches_for("n1") == []
        assert "o1" not in engine

    def test_removing_an_unknown_item_changes_nothing(self):
        assert MatchingEngine().remove("nope").empty

    def test_matches_are_listed_best_first(self):
        engine = MatchingEngine()
        engine.upsert(offer("o1"))
        for i, km in enumerate([9, 1, 5]):
            engine.upsert(need(f"n{i}", km_north=km))
        ids = [m.need_id for m in engine.matches_for("o1")]
        assert ids == ["n1", "n2", "n0"]
        scores = [m.score for m in engine.matches_for("o1")]
        assert scores == sorted(scores, reverse=True)


class TestVersions:
    def test_redelivering_the_same_version_is_ignored(self):
        engine = MatchingEngine()
        engine.upsert(offer("o1"))
        n = need("n1", km_north=2)
        assert not engine.upsert(n).empty
        assert engine.upsert(n).empty

    def test_an_older_version_is_ignored(self):
        engine = MatchingEngine()
        engine.upsert(offer("o1", version=3))
        assert engine.upsert(offer("o1", version=2, radius_km=2)).empty
        assert engine.get("o1").version == 3

    def test_an_update_that_changes_the_score_is_reported_as_found(self):
        engine = MatchingEngine()
        engine.upsert(offer("o1"))
        engine.upsert(need("n1", km_north=2))
        [before] = engine.matches_for("o1")
        diff = engine.upsert(need("n1", km_north=4, version=2))
        assert diff.withdrawn == []
        [after] = diff.found
        assert after.pair == before.pair and after.score < before.score

    def test_an_update_out_of_reach_withdraws_the_match(self):
        engine = MatchingEngine()
        engine.upsert(offer("o1", radius_km=5))
        engine.upsert(need("n1", km_north=2))
        diff = engine.upsert(need("n1", km_north=40, version=2))
        assert pairs(diff.withdrawn) == [("o1", "n1")] and diff.found == []

    def test_a_stale_close_is_ignored_and_a_late_old_upsert_cannot_resurrect(self):
        engine = MatchingEngine()
        engine.upsert(offer("o1", version=1))
        engine.upsert(offer("o1", version=2))
        assert engine.remove("o1", version=1).empty
        assert "o1" in engine
        engine.remove("o1", version=2)
        assert engine.upsert(offer("o1", version=2)).empty
        assert "o1" not in engine
        engine.upsert(offer("o1", version=3))
        assert "o1" in engine


class TestTopK:
    def test_the_match_set_is_the_union_of_both_sides_top_k(self):
        engine = MatchingEngine(k=1)
        engine.upsert(offer("o1"))
        for i, km in enumerate([1, 2, 3]):
            engine.upsert(need(f"n{i}", km_north=km))
        # the offer's top-1 is n0, but each need's top-1 is the only offer: all 3 pairs match
        assert engine.top_k("o1") == [("n0", engine.top_k("o1")[0][1])]
        assert len(engine.matches_for("o1")) == 3

    def test_a_better_counterpart_pushes_a_pair_out(self):
        engine = MatchingEngine(k=1)
        engine.upsert(offer("o1", km_north=0))
        engine.upsert(need("n1", km_north=5))
        engine.upsert(offer("o2", km_north=5.5))
        # n1's top-1 is now o2; o1 still has n1 as its top-1, so (o1, n1) stays
        assert {m.pair for m in engine.matches_for("n1")} == {("o1", "n1"), ("o2", "n1")}
        diff = engine.upsert(need("n2", km_north=0.5))
        # o1 prefers n2 now and n1 prefers o2: (o1, n1) leaves the match set
        assert ("o1", "n1") in pairs(diff.withdrawn)
        assert ("o1", "n2") in pairs(diff.found)

    def test_removing_a_top_counterpart_refills_from_the_rest(self):
        engine = MatchingEngine(k=1, buffer_extra=1)
        engine.upsert(need("n0", km_north=0))
        for i in range(4):
            engine.upsert(offer(f"o{i}", km_north=1 + i))
        for i in range(3):
            engine.remove(f"o{i}")
            assert engine.top_k("n0")[0][0] == f"o{i + 1}"


class TestTenants:
    def test_changing_a_tenants_weights_rescores_its_needs(self):
        engine = MatchingEngine(tenants={"duesseldorf": TenantInfo("duesseldorf")})
        engine.upsert(offer("o1"))
        engine.upsert(need("n1", km_north=3))
        [before] = engine.matches_for("n1")
        diff = engine.upsert_tenant(TenantInfo("duesseldorf", weights=Weights(distance=10.0)))
        [after] = diff.found
        assert after.pair == before.pair and after.score != before.score
        assert engine.upsert_tenant(TenantInfo("duesseldorf", weights=Weights(distance=10.0))).empty

    def test_adding_a_neighbour_opens_region_matches(self):
        engine = MatchingEngine(tenants={"a": TenantInfo("a"), "b": TenantInfo("b")})
        engine.upsert(offer("o1", tenant="a", visibility="region"))
        engine.upsert(need("n1", tenant="b", visibility="region", km_north=1))
        assert engine.matches_for("o1") == []
        diff = engine.upsert_tenant(TenantInfo("a", frozenset({"b"})))
        assert diff.found == [] and engine.matches_for("o1") == []  # b does not list a yet
        diff = engine.upsert_tenant(TenantInfo("b", frozenset({"a"})))
        assert pairs(diff.found) == [("o1", "n1")]


def random_items(n: int, seed: int) -> list[Item]:
    rng = random.Random(seed)
    cats = ["sport", "culture", "seniors"]
    out = []
    for i in range(n):
        make = offer if rng.random() < 0.5 else need
        out.append(make(
            f"x{i:03d}", km_north=rng.uniform(-30, 30), km_east=rng.uniform(-40, 40),
            radius_km=rng.uniform(2, 40), remote=rng.random() < 0.1,
            categories=frozenset(rng.sample(cats, rng.randint(1, 2))),
            tenant=rng.choice(["a", "b", "c"]), visibility=rng.choice(["tenant", "region", "state"]),
            skills=frozenset(rng.sample(["s1", "s2", "s3"], rng.randint(0, 2))),
            engagement=rng.choice(["spontaneous", "regular", "project"]),
        ))
    return out


class TestAtScale:
    """More items than the initial capacities and grid cells: the index must grow and agree."""

    TENANTS = {"a": TenantInfo("a", frozenset({"b"})), "b": TenantInfo("b", frozenset({"a"})), "c": TenantInfo("c")}

    def test_bulk_load_equals_the_oracle_and_later_events_agree(self):
        items = random_items(160, seed=11)
        engine = MatchingEngine(k=3, tenants=self.TENANTS, buffer_extra=2)
        oracle = BruteForceMatcher(k=3, tenants=self.TENANTS)
        engine.bulk_load(items)
        oracle.load(items)
        for it in items:
            assert engine.matches_for(it.id) == oracle.matches_for(it.id)
        rng = random.Random(3)
        extra = random_items(40, seed=12)
        for i, it in enumerate(extra):
            it = Item(**{**{f: getattr(it, f) for f in it.__slots__}, "id": f"y{i:03d}"})
            assert engine.upsert(it) == oracle.upsert(it)
            victim = rng.choice(items)
            assert engine.remove(victim.id) == oracle.remove(victim.id)
        for it in items + extra:
            assert engine.matches_for(it.id) == oracle.matches_for(it.id)

    def test_bulk_load_requires_an_empty_engine(self):
        engine = MatchingEngine()
        engine.upsert(offer())
        with pytest.raises(RuntimeError):
            engine.bulk_load([need()])


def test_items_in_many_buckets_are_indexed_and_removed_correctly():
    """An item with many categories sits in many buckets (more than the fixed position
    table holds); swap-remove must keep every other item's positions right."""
    many = frozenset(["sport", "culture", "seniors", "youth", "health", "animals", "digital"])
    engine, oracle = MatchingEngine(k=2, buffer_extra=1), BruteForceMatcher(k=2)
    items = []
    for i in range(12):
        make = offer if i % 2 == 0 else need
        cats = many if i % 3 == 0 else frozenset(sorted(many)[i % 7: i % 7 + 2])
        items.append(make(f"m{i:02d}", km_north=i * 0.7, km_east=-i * 0.4, categories=cats,
                          remote=(i % 5 == 4)))
    for it in items:
        assert engine.upsert(it) == oracle.upsert(it)
    for i, it in enumerate(items[::3]):
        moved = Item(**{**{f: getattr(it, f) for f in it.__slots__}, "version": 2, "lat": it.lat + 0.01})
        assert engine.upsert(moved) == oracle.upsert(moved)
    for it in items[1::2]:
        assert engine.remove(it.id) == oracle.remove(it.id)
        for other in items:
            assert engine.matches_for(other.id) == oracle.matches_for(other.id)
