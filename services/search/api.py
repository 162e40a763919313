"""HTTP API of the search service (the gateway serves it as /api/v1/search)."""
from __future__ import annotations

import re
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, BeforeValidator

from platform_common.http import current_process, error_responses
from platform_common.http.auth import MaybeIdentity
from platform_common.vocabulary import ACTOR_TYPES, CATEGORIES, ENGAGEMENT_TYPES
from services.search import service
from services.search.bootstrap import SearchProcess
from services.search.domain.query import (
    KINDS, MAX_FILTER_VALUES, MAX_LIMIT, MAX_RADIUS_KM, MAX_TEXT_LENGTH, REMOTE_MODES, SORTS,
    SearchParams,
)
from services.search.domain.schedule import DAY_PARTS, WEEKDAYS

router = APIRouter()
Search = Annotated[SearchProcess, Depends(current_process)]


class Label(BaseModel):
    de: str
    en: str


class FacetValue(BaseModel):
    value: str
    count: int
    label: Label


class Location(BaseModel):
    lat: float
    lon: float


class SearchHit(BaseModel):
    id: str
    kind: str
    title: str
    distance_km: float | None = None
    categories: list[str] = []
    engagement: str | None = None
    actor_type: str | None = None
    tenant: str | None = None
    place_name: str | None = None
    location: Location | None = None
    remote: bool = False
    updated_at: str | None = None
    description: str = ""


class SearchPage(BaseModel):
    items: list[SearchHit]
    facets: dict[str, list[FacetValue]]
    next_cursor: str | None
    total: int


# The vocabularies and limits that validate_search enforces, stated in the OpenAPI document
# only: validate_search still checks them, and reports every problem of a request at once.
def stated(description: str | None = None, **json_schema):
    return Query(description=description, json_schema_extra=json_schema)


def one_of(values, description: str | None = None):
    return stated(description, enum=list(values))


def many_of(values, description: str | None = None):
    return stated(description, items={"type": "string", "enum": list(values)},
                  maxItems=MAX_FILTER_VALUES)


def _iso_date(value):
    """Only YYYY-MM-DD, as documented (pydantic would also read `0` as 1970-01-01)."""
    if isinstance(value, str) and not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
        raise ValueError("must be a date YYYY-MM-DD")
    return value


IsoDate = Annotated[date, BeforeValidator(_iso_date)]


@router.get("/search", response_model=SearchPage, tags=["search"],
            summary="Radius, filter and text search over offers, needs or actors",
            responses=error_responses(400, 422))
async def search(
    search_process: Search,
    identity: MaybeIdentity,
    kind: Annotated[str | None, one_of(KINDS, "without it: offers and needs")] = None,
    lat: Annotated[float | None, stated("with lon", minimum=-90, maximum=90)] = None,
    lon: Annotated[float | None, stated("with lat", minimum=-180, maximum=180)] = None,
    radius_km: Annotated[float | None, stated("needs lat and lon", exclusiveMinimum=0,
                                              maximum=MAX_RADIUS_KM)] = None,
    category: Annotated[list[str], many_of(CATEGORIES)] = [],
    engagement: Annotated[list[str], many_of(ENGAGEMENT_TYPES)] = [],
    actor_type: Annotated[list[str], many_of(ACTOR_TYPES)] = [],
    tenant: Annotated[list[str], stated(maxItems=MAX_FILTER_VALUES)] = [],
    remote: Annotated[str | None, one_of(
        REMOTE_MODES, "distance (default): remote items only when within the radius; include: "
        "remote-capable items wherever they are; only; exclude")] = None,
    q: Annotated[str | None, stated("words to find (German stemming)",
                                    maxLength=MAX_TEXT_LENGTH)] = None,
    sort: Annotated[str | None, one_of(
        SORTS, "distance (default with lat/lon; needs them), relevance (default with q), "
               "date (otherwise)")] = None,
    limit: Annotated[int | None, stated("default 20", minimum=1, maximum=MAX_LIMIT)] = None,
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page")] = None,
    weekday: Annotated[list[str], many_of(
        WEEKDAYS, "any of these days; items without a schedule fit every day")] = [],
    time: Annotated[list[str], many_of(
        DAY_PARTS, "morning (until 12:00), afternoon (12-17), evening (from 17:00), "
                   "Europe/Berlin; items without a schedule fit every time")] = [],
    date_from: Annotated[IsoDate | None, Query(
        alias="from", description="YYYY-MM-DD: happens on or after this day (weekly items and "
                                  "items without a schedule always)")] = None,
    date_to: Annotated[IsoDate | None, Query(
        alias="to", description="YYYY-MM-DD: happens on or before this day")] = None,
    accessible: Annotated[bool | None, Query(description="true: accessible places only")] = None,
) -> dict:
    params = SearchParams(kind=kind, lat=lat, lon=lon, radius_km=radius_km, category=category,
                          engagement=engagement, actor_type=actor_type, tenant=tenant,
                          remote=remote, q=q, sort=sort, limit=limit, cursor=cursor,
                          weekday=weekday, time=time, date_from=date_from, date_to=date_to,
                          accessible=accessible)
    return await service.search(index=search_process.index, params=params,
                                identity=identity)
