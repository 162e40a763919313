"""The one privacy rule: a person's point leaves the platform only coarsened (platform_common)."""
import random

import pytest

from platform_common.privacy import (
    coarse_point, is_private, public_distance_km, public_location,
)
from services.search.domain.geo import distance_km

HOME = {"lat": 50.9412345, "lon": 6.9587654}


def test_a_persons_point_is_snapped_to_the_grid_of_two_decimals():
    assert public_location(HOME, actor_type="person") == {"lat": 50.94, "lon": 6.96}


def test_organisations_keep_their_exact_address():
    for actor_type in ("association", "initiative", "education", "company"):
        assert public_location(HOME, actor_type=actor_type) == HOME


def test_unknown_actor_types_count_as_private():
    assert is_private(None) and is_private("person") and is_private("robot")
    assert public_location(HOME, actor_type=None) == {"lat": 50.94, "lon": 6.96}


def test_snapping_is_deterministic_and_idempotent():
    first = coarse_point(HOME["lat"], HOME["lon"])
    assert coarse_point(HOME["lat"], HOME["lon"]) == first
    assert coarse_point(first["lat"], first["lon"]) == first


def test_points_close_to_each_other_share_one_cell_so_nothing_averages_out():
    # Many slightly different guesses around a home all give the same public point.
    rng = random.Random(7)
    cells = {tuple(coarse_point(50.9412345 + rng.uniform(-0.003, 0.003),
                                6.9587654 + rng.uniform(-0.001, 0.001)).values())
             for _ in range(200)}
    assert cells == {(50.94, 6.96)}


@pytest.mark.parametrize("seed", range(5))
def test_the_public_point_is_within_about_a_kilometre_of_the_real_one(seed):
    rng = random.Random(seed)
    for _ in range(500):
        lat, lon = rng.uniform(50.3, 52.5), rng.uniform(5.9, 9.5)
        public = coarse_point(lat, lon)
        assert distance_km(lat, lon, public["lat"], public["lon"]) <= 0.7
        # ... and never the point itself, to more than two decimals
        assert public["lat"] == round(public["lat"], 2) and public["lon"] == round(public["lon"], 2)


def test_distances_to_a_person_are_whole_km_rounded_up_at_least_one():
    assert public_distance_km(0.0) == 1.0
    assert public_distance_km(0.04) == 1.0
    assert public_distance_km(1.0) == 1.0
    assert public_distance_km(1.01) == 2.0
    assert public_distance_km(3.2) == 4.0
    assert public_distance_km(3.2) >= 3.2  # never nearer than it is (the matcher's bound relies on it)


def test_no_location_stays_none():
    assert public_location(None, actor_type="person") is None
