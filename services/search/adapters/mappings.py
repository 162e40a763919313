"""Index names, settings and mappings of the four collections.

Each collection has a read alias (`engage-offers`) pointing at exactly one concrete, versioned
index (`engage-offers-v20250101120000000000`), and a write alias (`engage-offers-all`) holding
every live concrete index of it: normally the same one, during a rebuild also the new one, so
the live consumer writes into both and nothing is lost when the read alias swaps.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

COLLECTIONS = ("tenants", "actors", "offers", "needs")
COLLECTION_OF_KIND = {"tenant": "tenants", "actor": "actors", "offer": "offers", "need": "needs"}

# The built-in `german` analyzer: lower-casing, German stop words, umlaut normalisation and a
# light German stemmer ("Häuser" finds "Haus"). Both Elasticsearch and the local noida-db have it.
TEXT_ANALYZER = "german"
GERMAN_TEXT = {"type": "text", "analyzer": TEXT_ANALYZER}
KEYWORD = {"type": "keyword"}
DATE = {"type": "date"}

_COMMON = {
    "id": KEYWORD, "kind": KEYWORD, "tenant": KEYWORD, "actor_type": KEYWORD,
    "title": GERMAN_TEXT, "description": GERMAN_TEXT, "place_name": GERMAN_TEXT,
    "location": {"type": "geo_point"}, "visible_to": KEYWORD, "status": KEYWORD,
    "updated_at": DATE, "version": {"type": "long"},
    # Items only, mapped for actors too so the same filters and facets apply to every kind.
    "categories": KEYWORD, "engagement": KEYWORD, "remote": {"type": "boolean"},
    "expires_at": DATE,
}

ITEM_MAPPING = {"dynamic": False, "properties": {
    **_COMMON,
    "actor_id": KEYWORD, "skills": GERMAN_TEXT, "requirements": KEYWORD,
    "radius_km": {"type": "float"}, "capacity": {"type": "integer"},
    "capacity_left": {"type": "integer"}, "visibility": KEYWORD, "languages": KEYWORD,
    "accessible": {"type": "boolean"}, "created_at": DATE,
    # When it happens (services/search/domain/schedule.py), for the weekday, time and date filters.
    "weekdays": KEYWORD, "day_parts": KEYWORD, "dates_start": DATE, "dates_end": DATE,
    "recurring": {"type": "boolean"}, "flexible": {"type": "boolean"},
}}

ACTOR_MAPPING = {"dynamic": False, "properties": {**_COMMON, "locale": KEYWORD}}

TENANT_MAPPING = {"dynamic": False, "properties": {
    "id": KEYWORD, "name": GERMAN_TEXT, "center": {"type": "geo_point"},
    "neighbours": KEYWORD, "version": {"type": "long"},
}}

MAPPINGS = {"tenants": TENANT_MAPPING, "actors": ACTOR_MAPPING,
            "offers": ITEM_MAPPING, "needs": ITEM_MAPPING}


def index_settings(replicas: int) -> dict:
    return {"number_of_shards": 1, "number_of_replicas": replicas}


def version_stamp(now: datetime | None = None) -> str:
    return (now or datetime.now(timezone.utc)).strftime("%Y%m%d%H%M%S%f")


@dataclass(frozen=True)
class IndexNames:
    prefix: str

    def read_alias(self, collection: str) -> str:
        return f"{self.prefix}-{collection}"

    def write_alias(self, collection: str) -> str:
        return f"{self.prefix}-{collection}-all"

    def concrete(self, collection: str, stamp: str) -> str:
        return f"{self.prefix}-{collection}-v{stamp}"

    def read_aliases(self, kinds: tuple[str, ...]) -> list[str]:
        return [self.read_alias(COLLECTION_OF_KIND[kind]) for kind in kinds]
