"""HTTP API of the search service (the gateway serves it as /api/v1/search)."""
from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel

from platform_common.identity import MaybeIdentity
from services.search import service
from services.search.domain.query import SearchParams

router = APIRouter()


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


Many = Annotated[list[str], Query()]


@router.get("/search", response_model=SearchPage, tags=["search"],
            summary="Radius, filter and text search over offers, needs or actors")
async def search(
    request: Request,
    identity: MaybeIdentity,
    kind: Annotated[str | None, Query(description="offer, need or actor; "
                                                  "without it: offers and needs")] = None,
    lat: float | None = None,
    lon: float | None = None,
    radius_km: Annotated[float | None, Query(description="0 < radius_km <= 500; "
                                                         "needs lat and lon")] = None,
    category: Many = [],
    engagement: Many = [],
    actor_type: Many = [],
    tenant: Many = [],
    remote: Annotated[str | None, Query(
        description="distance (default): remote items only when within the radius; include: "
                    "remote-capable items wherever they are; only; exclude")] = None,
    q: Annotated[str | None, Query(description="words to find (German stemming)")] = None,
    sort: Annotated[str | None, Query(description="distance (default with lat/lon), relevance "
                                                  "(default with q), date (otherwise)")] = None,
    limit: Annotated[int | None, Query(description="1..100, default 20")] = None,
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page")] = None,
    weekday: Annotated[list[str], Query(
        description="mon..sun (any of them); items without a schedule fit every day")] = [],
    time: Annotated[list[str], Query(
        description="morning (until 12:00), afternoon (12-17), evening (from 17:00), "
                    "Europe/Berlin; items without a schedule fit every time")] = [],
    date_from: Annotated[date | None, Query(
        alias="from", description="YYYY-MM-DD: happens on or after this day (weekly items and "
                                  "items without a schedule always)")] = None,
    date_to: Annotated[date | None, Query(
        alias="to", description="YYYY-MM-DD: happens on or before this day")] = None,
    accessible: Annotated[bool | None, Query(description="true: accessible places only")] = None,
) -> dict:
    params = SearchParams(kind=kind, lat=lat, lon=lon, radius_km=radius_km, category=category,
                          engagement=engagement, actor_type=actor_type, tenant=tenant,
                          remote=remote, q=q, sort=sort, limit=limit, cursor=cursor,
                          weekday=weekday, time=time, date_from=date_from, date_to=date_to,
                          accessible=accessible)
    return await service.search(index=request.app.state.components.index, params=params,
                                identity=identity)
