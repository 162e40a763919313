"""From the shared event payloads (ItemData, TenantData) to the matching engine's values.

Kept apart from the engine so the engine stays free of event contracts, and apart from the
worker so the brute-force oracle in the tests translates items exactly like the worker.
"""
from __future__ import annotations

from platform_common.events.models import ItemData, TenantData, WeeklyWindow
from services.matching.engine.model import (
    FACTORS, MAX_RADIUS_KM, MIN_RADIUS_KM, MINUTES_PER_DAY, Item, TenantInfo, Weights,
)

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def is_open(data: ItemData) -> bool:
    """Only published items take part in matching; closed, expired and hidden ones leave it."""
    return data.status == "published"


def _minutes(clock: str) -> int:
    hours, _, minutes = clock.partition(":")
    value = int(hours) * 60 + int(minutes or 0)
    if not 0 <= value <= MINUTES_PER_DAY:
        raise ValueError(f"time of day out of range: {clock!r}")
    return value


def weekly_window(window: WeeklyWindow) -> tuple[int, int, int]:
    return WEEKDAYS.index(window.day), _minutes(window.start), _minutes(window.end)


def to_item(data: ItemData) -> Item:
    """The engine's view of an item; raises ValueError for values the engine cannot use."""
    # The engine accepts radii within [2, 200] km; profiles validates its own range, and a
    # radius outside the engine's range is clamped rather than dropping the whole item.
    radius = min(max(float(data.radius_km), MIN_RADIUS_KM), MAX_RADIUS_KM)
    return Item(
        id=data.id,
        kind=data.kind,
        actor_id=data.actor_id,
        actor_type=data.actor_type,
        tenant=data.tenant,
        visibility=data.visibility,
        lat=data.location.lat,
        lon=data.location.lon,
        radius_km=radius,
        remote=data.remote,
        categories=frozenset(data.categories),
        skills=frozenset(data.skills),
        requirements=frozenset(data.requirements),
        engagement=data.engagement,
        languages=frozenset(data.languages),
        accessible=data.accessible,
        dates=tuple((window.start, window.end) for window in data.schedule.dates),
        weekly=tuple(weekly_window(window) for window in data.schedule.weekly),
        capacity_left=max(0, data.capacity_left),
        version=data.version,
    )


def to_weights(matching_weights: dict[str, float]) -> Weights:
    """A tenant's weights; unknown factor names are ignored, missing ones keep their default."""
    known = {name: value for name, value in matching_weights.items() if name in FACTORS}
    return Weights(**known)


def to_tenant(data: TenantData) -> TenantInfo:
    try:
        weights = to_weights(data.matching_weights)
    except ValueError:
        # Profiles validates weights; should an invalid set slip through, match with defaults.
        weights = Weights()
    return TenantInfo(id=data.id, neighbours=frozenset(data.neighbours), weights=weights)
