"""How raw hits and aggregations become the API's response (pure functions)."""
from __future__ import annotations

from platform_common.privacy import is_private, public_distance_km, public_location
from platform_common.vocabulary import ACTOR_TYPES, CATEGORIES, ENGAGEMENT_TYPES
from services.search.domain.cursor import encode_cursor
from services.search.domain.geo import distance_km
from services.search.domain.query import FACET_FIELDS, SearchQuery

DESCRIPTION_PREVIEW = 300
FACET_LABELS = {"category": CATEGORIES, "engagement": ENGAGEMENT_TYPES, "actor_type": ACTOR_TYPES}


def present_hit(source: dict, *, query: SearchQuery) -> dict:
    # The index holds persons' points coarsened already; coarsening again here changes nothing
    # but keeps an index written before that rule (until `make reindex`) from leaking them.
    private = is_private(source.get("actor_type"))
    location = public_location(source.get("location"), actor_type=source.get("actor_type"))
    distance = None
    if query.point is not None and location:
        distance = distance_km(query.point.lat, query.point.lon, location["lat"], location["lon"])
        distance = public_distance_km(distance) if private else round(distance, 2)
    return {
        "id": source["id"],
        "kind": source.get("kind"),
        "title": source.get("title", ""),
        "distance_km": distance,
        "categories": source.get("categories", []),
        "engagement": source.get("engagement"),
        "actor_type": source.get("actor_type"),
        "tenant": source.get("tenant"),
        "place_name": source.get("place_name"),
        "location": location,
        "remote": bool(source.get("remote", False)),
        "updated_at": source.get("updated_at"),
        "description": (source.get("description") or "")[:DESCRIPTION_PREVIEW],
    }


def present_facets(aggregations: dict, *, tenant_names: dict[str, str]) -> dict:
    facets: dict[str, list[dict]] = {}
    for name in FACET_FIELDS:
        buckets = aggregations.get(name, {}).get("buckets", [])
        entries = []
        for bucket in buckets:
            value = str(bucket["key"])
            if name == "tenant":
                label = {"de": tenant_names.get(value, value), "en": tenant_names.get(value, value)}
            else:
                label = dict(FACET_LABELS[name].get(value, {"de": value, "en": value}))
            entries.append({"value": value, "count": bucket["doc_count"], "label": label})
        # Most frequent first; equal counts in a stable, readable order.
        facets[name] = sorted(entries, key=lambda e: (-e["count"], e["value"]))
    return facets


def present_page(raw: dict, *, query: SearchQuery, tenant_names: dict[str, str]) -> dict:
    """`raw` holds one hit more than the page when another page follows."""
    hits = raw["hits"]["hits"]
    page, more = hits[:query.limit], len(hits) > query.limit
    next_cursor = encode_cursor(sort=query.sort, after=page[-1]["sort"]) if more and page else None
    return {
        "items": [present_hit(hit["_source"], query=query) for hit in page],
        "facets": present_facets(raw.get("aggregations", {}), tenant_names=tenant_names),
        "next_cursor": next_cursor,
        "total": raw["hits"]["total"]["value"],
    }


def tenant_ids_in_facets(raw: dict) -> list[str]:
    return [str(b["key"]) for b in raw.get("aggregations", {}).get("tenant", {}).get("buckets", [])]
