"""Distances on the earth, computed like the search engine's `arc` distance."""
from __future__ import annotations

import math

# The mean earth radius Elasticsearch uses for geo distances, so both agree to the metre.
EARTH_RADIUS_KM = 6371.0087714


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    d_phi, d_lambda = phi2 - phi1, math.radians(lon2 - lon1)
    h = math.sin(d_phi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(d_lambda / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def valid_point(lat: float, lon: float) -> bool:
    return -90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0 and not (
        math.isnan(lat) or math.isnan(lon))
