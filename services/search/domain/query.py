"""Search requests: validation of the query parameters and the Elasticsearch query they become.

Pure functions: the API hands in the raw parameters, gets back a `SearchQuery` or an
`InvalidSearch` listing every problem by parameter name, and the adapter sends the body built
by `search_body` unchanged.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from platform_common.vocabulary import ACTOR_TYPES, CATEGORIES, ENGAGEMENT_TYPES
from services.search.domain.cursor import InvalidCursor, decode_cursor
from services.search.domain.documents import SEARCHABLE_STATUS
from services.search.domain.schedule import DAY_PARTS, WEEKDAYS, day_start

KINDS = ("offer", "need", "actor")
SORTS = ("distance", "relevance", "date")
# distance: only what lies within the radius (remote items too, when they are that close);
# include: remote-capable items as well, wherever they are; only / exclude: just / no remote items.
REMOTE_MODES = ("distance", "include", "only", "exclude")
MAX_RADIUS_KM = 500.0
DEFAULT_LIMIT, MAX_LIMIT = 20, 100
MAX_TEXT_LENGTH = 200
MAX_FILTER_VALUES = 50
# Which documents a search over "items" (no kind given) covers.
ITEM_KINDS = ("offer", "need")
# Text fields and how much a word found in each counts.
TEXT_FIELDS = {"title": 3.0, "skills": 2.0, "description": 1.0, "place_name": 1.0}
MAX_TEXT_TERMS = 20
FACET_FIELDS = {"category": "categories", "engagement": "engagement",
                "actor_type": "actor_type", "tenant": "tenant"}
FACET_SIZES = {"category": len(CATEGORIES) + 5, "engagement": len(ENGAGEMENT_TYPES) + 5,
               "actor_type": len(ACTOR_TYPES) + 5, "tenant": 500}
RESULT_FIELDS = ["id", "kind", "title", "description", "categories", "engagement", "actor_type",
                 "tenant", "place_name", "location", "remote", "updated_at"]


@dataclass(frozen=True)
class SearchParams:
    """The query string as received (types already parsed by the web layer)."""

    kind: str | None = None
    lat: float | None = None
    lon: float | None = None
    radius_km: float | None = None
    category: list[str] = field(default_factory=list)
    engagement: list[str] = field(default_factory=list)
    actor_type: list[str] = field(default_factory=list)
    tenant: list[str] = field(default_factory=list)
    remote: str | None = None
    q: str | None = None
    sort: str | None = None
    limit: int | None = None
    cursor: str | None = None
    weekday: list[str] = field(default_factory=list)
    time: list[str] = field(default_factory=list)
    date_from: date | None = None
    date_to: date | None = None
    accessible: bool | None = None


@dataclass(frozen=True)
class Point:
    lat: float
    lon: float


@dataclass(frozen=True)
class SearchQuery:
    kinds: tuple[str, ...]
    point: Point | None
    radius_km: float | None
    categories: tuple[str, ...]
    engagements: tuple[str, ...]
    actor_types: tuple[str, ...]
    tenants: tuple[str, ...]
    remote: str
    text: str | None
    sort: str
    limit: int
    search_after: list | None
    weekdays: tuple[str, ...] = ()
    day_parts: tuple[str, ...] = ()
    date_from: date | None = None
    date_to: date | None = None
    accessible_only: bool = False


class InvalidSearch(ValueError):
    def __init__(self, problems: list[tuple[str, str]]):
        super().__init__("; ".join(f"{name}: {message}" for name, message in problems))
        self.problems = problems

    def details(self) -> list[dict]:
        return [{"field": name, "path": [name], "message": message}
                for name, message in self.problems]


class InvalidSearchCursor(ValueError):
    """A cursor that cannot be decoded into a search position."""


def _unknown(values: list[str], allowed, name: str, problems: list) -> tuple[str, ...]:
    if len(values) > MAX_FILTER_VALUES:
        problems.append((name, f"at most {MAX_FILTER_VALUES} values"))
    unknown = [v for v in values if v not in allowed]
    if unknown:
        problems.append((name, f"unknown value(s) {', '.join(map(repr, unknown))}; "
                               f"allowed: {', '.join(allowed)}"))
    return tuple(dict.fromkeys(values))


def default_sort(*, has_point: bool, has_text: bool) -> str:
    if has_point:
        return "distance"
    return "relevance" if has_text else "date"


def validate_search(params: SearchParams) -> SearchQuery:
    """The checked query, or InvalidSearch naming each bad parameter (InvalidSearchCursor apart)."""
    problems: list[tuple[str, str]] = []
    if params.kind is not None and params.kind not in KINDS:
        problems.append(("kind", f"must be one of {', '.join(KINDS)}"))

    point = None
    if (params.lat is None) != (params.lon is None):
        missing = "lon" if params.lon is None else "lat"
        problems.append((missing, "lat and lon must be given together"))
    elif params.lat is not None and params.lon is not None:
        if not (math.isfinite(params.lat) and -90 <= params.lat <= 90):
            problems.append(("lat", "must be between -90 and 90"))
        if not (math.isfinite(params.lon) and -180 <= params.lon <= 180):
            problems.append(("lon", "must be between -180 and 180"))
        point = Point(params.lat, params.lon)
    if params.radius_km is not None:
        if not (math.isfinite(params.radius_km) and 0 < params.radius_km <= MAX_RADIUS_KM):
            problems.append(("radius_km", f"must be greater than 0 and at most {MAX_RADIUS_KM:g}"))
        elif params.lat is None and params.lon is None:
            problems.append(("radius_km", "needs lat and lon"))

    categories = _unknown(params.category, tuple(CATEGORIES), "category", problems)
    engagements = _unknown(params.engagement, tuple(ENGAGEMENT_TYPES), "engagement", problems)
    actor_types = _unknown(params.actor_type, tuple(ACTOR_TYPES), "actor_type", problems)
    tenants = tuple(dict.fromkeys(t.strip() for t in params.tenant if t.strip()))
    if len(tenants) > MAX_FILTER_VALUES:
        problems.append(("tenant", f"at most {MAX_FILTER_VALUES} values"))

    remote = params.remote or "distance"
    if remote not in REMOTE_MODES:
        problems.append(("remote", f"must be one of {', '.join(REMOTE_MODES)}"))

    text = (params.q or "").strip() or None
    if text is not None and len(text) > MAX_TEXT_LENGTH:
        problems.append(("q", f"at most {MAX_TEXT_LENGTH} characters"))

    has_point = params.lat is not None and params.lon is not None
    sort = params.sort or default_sort(has_point=has_point, has_text=text is not None)
    if sort not in SORTS:
        problems.append(("sort", f"must be one of {', '.join(SORTS)}"))
    elif sort == "distance" and not has_point:
        problems.append(("sort", "sorting by distance needs lat and lon"))

    limit = DEFAULT_LIMIT if params.limit is None else params.limit
    if not 1 <= limit <= MAX_LIMIT:
        problems.append(("limit", f"must be between 1 and {MAX_LIMIT}"))

    weekdays = _unknown(params.weekday, WEEKDAYS, "weekday", problems)
    day_parts = _unknown(params.time, tuple(DAY_PARTS), "time", problems)
    if params.date_from and params.date_to and params.date_to < params.date_from:
        problems.append(("to", "must not be before from"))
    if params.kind == "actor":
        for name, given in (("weekday", weekdays), ("time", day_parts),
                            ("from", params.date_from), ("to", params.date_to),
                            ("accessible", params.accessible)):
            if given:
                problems.append((name, "filters offers and needs, not actors"))

    if problems:
        raise InvalidSearch(problems)

    search_after = None
    if params.cursor:  # empty: the first page, as in every paged list
        try:
            search_after = decode_cursor(params.cursor, sort=sort)
        except InvalidCursor as exc:
            raise InvalidSearchCursor(str(exc)) from exc

    kinds = (params.kind,) if params.kind else ITEM_KINDS
    return SearchQuery(kinds=kinds, point=point, radius_km=params.radius_km,
                       categories=categories, engagements=engagements, actor_types=actor_types,
                       tenants=tenants, remote=remote, text=text, sort=sort, limit=limit,
                       search_after=search_after, weekdays=weekdays, day_parts=day_parts,
                       date_from=params.date_from, date_to=params.date_to,
                       accessible_only=bool(params.accessible))


def _km(radius_km: float) -> str:
    """Fixed-point, at least a millimetre: `5e-324km` (a valid tiny float) is not a distance
    the search engine parses (it answered 400, and the search a 500)."""
    return f"{max(radius_km, 0.000001):.6f}".rstrip("0").rstrip(".") + "km"


def _geo_filter(query: SearchQuery) -> dict | None:
    if query.point is None or query.radius_km is None:
        return None
    return {"geo_distance": {"distance": _km(query.radius_km),
                             "location": {"lat": query.point.lat, "lon": query.point.lon}}}


def filters(query: SearchQuery, *, scopes: list[str] | None, now: datetime) -> list[dict]:
    """Every condition a hit must meet; facets are counted over exactly these hits."""
    clauses: list[dict] = [{"term": {"status": SEARCHABLE_STATUS}}]
    if scopes is not None:
        clauses.append({"terms": {"visible_to": scopes}})
    if query.kinds != ("actor",):
        # Items past their end date vanish even before the producer sends the expiry event.
        clauses.append({"bool": {"should": [
            {"bool": {"must_not": [{"exists": {"field": "expires_at"}}]}},
            {"range": {"expires_at": {"gt": now.isoformat()}}},
        ], "minimum_should_match": 1}})
    for values, field_name in ((query.categories, "categories"),
                               (query.engagements, "engagement"),
                               (query.actor_types, "actor_type"), (query.tenants, "tenant")):
        if values:
            clauses.append({"terms": {field_name: list(values)}})

    clauses += _schedule_filters(query)
    if query.accessible_only:
        clauses.append({"term": {"accessible": True}})

    geo = _geo_filter(query)
    if query.remote == "only":
        clauses.append({"term": {"remote": True}})
    elif query.remote == "exclude":
        clauses.append({"term": {"remote": False}})
    if geo is not None:
        if query.remote == "include":
            clauses.append({"bool": {"should": [geo, {"term": {"remote": True}}],
                                     "minimum_should_match": 1}})
        else:
            clauses.append(geo)
    return clauses


def _any_of(*clauses: dict) -> dict:
    return {"bool": {"should": list(clauses), "minimum_should_match": 1}}


def _schedule_filters(query: SearchQuery) -> list[dict]:
    """Items without a schedule ("flexible") fit every weekday, time and date; weekly items
    fit every date range (they recur until their end date, which the expiry filter checks)."""
    flexible = {"term": {"flexible": True}}
    clauses = []
    if query.weekdays:
        clauses.append(_any_of(flexible, {"terms": {"weekdays": list(query.weekdays)}}))
    if query.day_parts:
        clauses.append(_any_of(flexible, {"terms": {"day_parts": list(query.day_parts)}}))
    if query.date_from or query.date_to:
        overlap = []
        if query.date_to:
            overlap.append({"range": {"dates_start": {
                "lt": day_start(query.date_to + timedelta(days=1)).isoformat()}}})
        if query.date_from:
            overlap.append({"range": {"dates_end": {"gte": day_start(query.date_from).isoformat()}}})
        clauses.append(_any_of(flexible, {"term": {"recurring": True}},
                               {"bool": {"filter": overlap}}))
    return clauses


def sort_clause(query: SearchQuery) -> list[dict]:
    # The id breaks ties, so every hit has a distinct position and cursors never skip or repeat.
    tie_breaker = {"id": "asc"}
    if query.sort == "distance":
        assert query.point is not None
        return [{"_geo_distance": {"location": {"lat": query.point.lat, "lon": query.point.lon},
                                   "order": "asc", "unit": "km", "distance_type": "arc"}},
                tie_breaker]
    if query.sort == "relevance":
        return [{"_score": "desc"}, tie_breaker]
    return [{"updated_at": {"order": "desc"}}, tie_breaker]


def text_clauses(terms: list[str]) -> list[dict]:
    """Every word must occur, in any text field; relevance = the weights of the fields it is in.

    `terms` are the words of `q` as the index's German analyzer produced them (stemmed, stop
    words removed), so exact term queries behave like a match query, also across fields.
    Constant scores, unlike BM25, do not move when other documents are indexed, so relevance
    cursors stay exact from page to page; equal scores are ordered by id.
    """
    return [{"bool": {"should": [{"constant_score": {"filter": {"term": {name: term}},
                                                     "boost": boost}}
                                 for name, boost in TEXT_FIELDS.items()],
                      "minimum_should_match": 1}}
            for term in dict.fromkeys(terms[:MAX_TEXT_TERMS])]


def search_body(query: SearchQuery, *, scopes: list[str] | None, now: datetime,
                text_terms: list[str] | None = None) -> dict:
    """The request body; asks for one hit more than the page to know whether another follows.

    A `q` of stop words only ("die", "und") has no terms left and filters nothing.
    """
    bool_query: dict = {"filter": filters(query, scopes=scopes, now=now)}
    if query.text is not None and text_terms:
        bool_query["must"] = text_clauses(text_terms)
    aggregations = {name: {"terms": {"field": FACET_FIELDS[name], "size": FACET_SIZES[name]}}
                    for name in FACET_FIELDS}
    body = {
        "query": {"bool": bool_query},
        "sort": sort_clause(query),
        "size": query.limit + 1,
        "track_total_hits": True,
        "_source": RESULT_FIELDS,
        "aggs": aggregations,
    }
    if query.search_after is not None:
        body["search_after"] = query.search_after
    return body
