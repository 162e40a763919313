"""Test helpers: compact constructors for items and prepared pairs."""
from __future__ import annotations

import math

from services.matching.engine import rules
from services.matching.engine.model import Item, TenantInfo

# Düsseldorf city centre; offsets below are in km (north, east).
BASE_LAT, BASE_LON = 51.2277, 6.7735


def at(km_north: float = 0.0, km_east: float = 0.0) -> tuple[float, float]:
    lat = BASE_LAT + km_north / 111.195
    lon = BASE_LON + km_east / (111.195 * math.cos(math.radians(BASE_LAT)))
    return lat, lon


def offer(id: str = "o1", km_north: float = 0.0, km_east: float = 0.0, **kw) -> Item:
    lat, lon = at(km_north, km_east)
    fields = dict(
        id=id, kind="offer", actor_id="actor-" + id, actor_type="person", tenant="duesseldorf",
        visibility="state", lat=lat, lon=lon, radius_km=20.0, categories=frozenset({"sport"}),
    )
    fields.update(kw)
    return Item(**fields)


def need(id: str = "n1", km_north: float = 0.0, km_east: float = 0.0, **kw) -> Item:
    lat, lon = at(km_north, km_east)
    fields = dict(
        id=id, kind="need", actor_id="actor-" + id, actor_type="association", tenant="duesseldorf",
        visibility="state", lat=lat, lon=lon, radius_km=20.0, categories=frozenset({"sport"}),
    )
    fields.update(kw)
    return Item(**fields)


def directory(*infos: TenantInfo) -> rules.TenantDirectory:
    return rules.TenantDirectory(list(infos))


def score(o: Item, n: Item, tenants: rules.TenantDirectory | None = None) -> float | None:
    return rules.score(rules.prepare(o), rules.prepare(n), tenants or directory())


def explain(o: Item, n: Item, tenants: rules.TenantDirectory | None = None):
    return rules.explain(rules.prepare(o), rules.prepare(n), tenants or directory())


def reason(match, factor: str):
    return next(r for r in match.reasons if r.factor == factor)
