"""Building blocks of the engine's index: bit interning, growable numpy buckets, the grid.

Nothing here decides a match; these structures only let the engine find, with a few
vectorised numpy operations, a small superset of an item's possible counterparts.
"""
from __future__ import annotations

import math
from typing import Iterable

import numpy as np

from .rules import EARTH_RADIUS_KM

KM_PER_DEGREE = EARTH_RADIUS_KM * math.pi / 180.0


class BitRegistry:
    """Interns strings (categories, skills, ...) to bit positions of a uint64 mask.

    The n-th distinct string gets bit n % 64: with at most 64 distinct strings the masks
    are exact; beyond that, bits are shared and masks become over-approximations (the
    engine accounts for that, see `collisions`).
    """

    __slots__ = ("_ids",)

    def __init__(self) -> None:
        self._ids: dict[str, int] = {}

    def mask(self, values: Iterable[str]) -> tuple[int, int]:
        """(mask, collisions): collisions = number of values minus bits set (0 when exact)."""
        ids = self._ids
        mask = 0
        count = 0
        for value in values:
            i = ids.get(value)
            if i is None:
                i = len(ids)
                ids[value] = i
            mask |= 1 << (i & 63)
            count += 1
        return mask, count - mask.bit_count()

    @property
    def exact(self) -> bool:
        return len(self._ids) <= 64


def bits_of(mask: int) -> list[int]:
    """Positions of the set bits of a mask, ascending."""
    out = []
    while mask:
        low = mask & -mask
        out.append(low.bit_length() - 1)
        mask ^= low
    return out


class Bucket:
    """A growable float64 2-D array of index rows (one row per item; see engine.py).

    Column 0 holds the item's slot and column 1 the position of this bucket in the item's
    bucket list, so that swap-remove (the last row moves into the hole) can tell the
    engine which item moved. Capacity doubles when full: appends are amortised O(1).
    """

    __slots__ = ("n", "data")

    def __init__(self, ncols: int, capacity: int = 8):
        self.n = 0
        self.data = np.empty((max(capacity, 1), ncols), np.float64)

    def _grow(self, need: int) -> None:
        capacity = max(need, 2 * len(self.data), 8)
        new = np.empty((capacity, self.data.shape[1]), np.float64)
        new[: self.n] = self.data[: self.n]
        self.data = new

    def append(self, row: np.ndarray) -> int:
        i = self.n
        if i == len(self.data):
            self._grow(i + 1)
        self.data[i] = row
        self.n = i + 1
        return i

    def extend(self, rows: np.ndarray) -> None:
        m = len(rows)
        if self.n + m > len(self.data):
            self._grow(self.n + m)
        self.data[self.n : self.n + m] = rows
        self.n += m

    def remove(self, i: int) -> tuple[int, int] | None:
        """Swap-remove row i; returns (slot, position) of the row moved into i, if any."""
        last = self.n - 1
        self.n = last
        if i == last:
            return None
        row = self.data[last]
        self.data[i] = row
        return int(row[0]), int(row[1])

    def view(self) -> np.ndarray:
        return self.data[: self.n]

    def nbytes(self) -> int:
        return self.data.nbytes


class Grid:
    """A lat/lon grid of cells `cell_lat` x `cell_lon` degrees (cell id = row * ncols + col)."""

    __slots__ = ("cell_lat", "cell_lon", "ncols", "nrows")

    def __init__(self, cell_lat: float, cell_lon: float):
        self.cell_lat = float(cell_lat)
        self.cell_lon = float(cell_lon)
        self.ncols = int(math.ceil(360.0 / self.cell_lon))
        self.nrows = int(math.ceil(180.0 / self.cell_lat))

    def cell(self, lat_deg: float, lon_deg: float) -> int:
        row = min(int((lat_deg + 90.0) // self.cell_lat), self.nrows - 1)
        col = int((lon_deg + 180.0) // self.cell_lon) % self.ncols
        return row * self.ncols + col

    def cells_near(self, lat_deg: float, lon_deg: float, radius_km: float) -> list[tuple[int, float]]:
        """(cell, lower bound of the distance to it) of every cell that may hold a point within
        radius_km of (lat, lon); cells whose lower bound exceeds the radius are skipped."""
        dlat = radius_km / KM_PER_DEGREE * 1.01 + 1e-9
        lat_lo, lat_hi = lat_deg - dlat, lat_deg + dlat
        row_lo = max(0, int((lat_lo + 90.0) // self.cell_lat))
        row_hi = min(self.nrows - 1, int((lat_hi + 90.0) // self.cell_lat))
        max_abs_lat = min(90.0, max(abs(lat_lo), abs(lat_hi)))
        if max_abs_lat >= 89.0:
            col_lo, col_hi = 0, self.ncols - 1
        else:
            dlon = dlat / math.cos(math.radians(max_abs_lat))
            col_lo = int((lon_deg - dlon + 180.0) // self.cell_lon)
            col_hi = int((lon_deg + dlon + 180.0) // self.cell_lon)
            if col_hi - col_lo + 1 >= self.ncols:
                col_lo, col_hi = 0, self.ncols - 1
        cos_min = math.cos(math.radians(max_abs_lat))
        cos2 = cos_min * cos_min
        half = math.pi / 360.0  # degrees -> half-angle radians
        rows = []
        for row in range(row_lo, row_hi + 1):
            lo = row * self.cell_lat - 90.0
            hi = lo + self.cell_lat
            gap = 0.0 if lo <= lat_deg <= hi else min(abs(lat_deg - lo), abs(lat_deg - hi))
            s = math.sin(gap * half)
            rows.append((row * self.ncols, s * s))
        cols = []
        lon_w = lon_deg + 180.0
        for c in range(col_lo, col_hi + 1):
            lo = c * self.cell_lon
            hi = lo + self.cell_lon
            gap = 0.0 if lo <= lon_w <= hi else min(abs(lon_w - lo), abs(lon_w - hi))
            s = math.sin(min(gap, 180.0) * half)
            cols.append((c % self.ncols, cos2 * s * s))
        out = []
        limit = 2.0 * EARTH_RADIUS_KM
        for base, sl in rows:
            for col, sc in cols:
                h = sl + sc
                d = 0.0 if h == 0.0 else limit * math.asin(math.sqrt(min(1.0, h))) * 0.999999
                if d <= radius_km:
                    out.append((base + col, d))
        return out


def unit_vector(lat_rad: float, lon_rad: float, coslat: float) -> tuple[float, float, float]:
    return (coslat * math.cos(lon_rad), coslat * math.sin(lon_rad), math.sin(lat_rad))


def chord2_threshold(radius_km: float) -> float:
    """Squared chord (unit sphere) of a great-circle distance, padded so that the test
    chord2 <= threshold never rejects a pair the haversine of rules.py accepts."""
    half = min(radius_km / (2.0 * EARTH_RADIUS_KM), math.pi / 2)
    chord = 2.0 * math.sin(half)
    return chord * chord * (1.0 + 1e-7) + 1e-18


def chord2_to_km(chord2: np.ndarray) -> np.ndarray:
    """Great-circle distance in km from squared unit-sphere chords (same value as haversine)."""
    return (2.0 * EARTH_RADIUS_KM) * np.arcsin(np.minimum(np.sqrt(chord2) * 0.5, 1.0))
