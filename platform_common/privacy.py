"""Where a person lives stays private: the ONE rule for every location that leaves the platform.

A private person's location, and the location of a person's offers and needs, leave the platform
only coarsened: snapped to a fixed grid of 0.01 degrees (about 1.1 km north-south, 0.7 km
east-west in NRW). The snapping is deterministic, so asking again and again (or from many points)
never averages out to the real point. Exact values go only to the owner and, once both sides
accepted a contact request, to the contact partner. Organisations' addresses are public.

Matching uses the exact point internally; a distance that involves a person's point is shown
rounded up to whole kilometres (at least 1: "within 1 km"), so it does not reveal the point.
Every service and read model (profiles' responses, the search index and its results, match
explanations and so the notifications built from them) calls this module; none rounds on its own.
"""
from __future__ import annotations

import math
from collections.abc import Mapping

# Organisations present themselves publicly, with their address; anything else (a private
# person, or a type this code does not know) is treated as private.
ORGANISATION_TYPES = frozenset({"association", "initiative", "education", "company"})
GRID_STEPS_PER_DEGREE = 100  # 0.01 degrees


def is_private(actor_type: str | None) -> bool:
    """Whether the location of this actor (or of its items) must be coarsened for others."""
    return actor_type not in ORGANISATION_TYPES


def coarse_point(lat: float, lon: float) -> dict[str, float]:
    """The grid point nearest to (lat, lon); applying it twice changes nothing."""
    return {"lat": round(lat * GRID_STEPS_PER_DEGREE) / GRID_STEPS_PER_DEGREE,
            "lon": round(lon * GRID_STEPS_PER_DEGREE) / GRID_STEPS_PER_DEGREE}


def public_location(location: Mapping | None, *, actor_type: str | None) -> dict | None:
    """A location as anybody but the owner or a consented contact partner may see it."""
    if location is None:
        return None
    if not is_private(actor_type):
        return {"lat": location["lat"], "lon": location["lon"]}
    return coarse_point(location["lat"], location["lon"])


def public_distance_km(distance_km: float) -> float:
    """A distance to a person's point as shown: whole km rounded up, at least 1 ("within")."""
    return float(max(1, math.ceil(distance_km)))
