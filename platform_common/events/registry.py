"""Which event types exist, their current version, payload model and upcasters.

Producers build events with `make_event`; consumers call `read_event`, which upcasts an older
payload version step by step to the current one before validating it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from pydantic import BaseModel

from platform_common.events.envelope import Envelope
from platform_common.events import models

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class EventType:
    name: str
    version: int
    model: type[BaseModel]
    topic: str
    # upcasters[n] turns a version-n payload into a version-(n+1) payload.
    upcasters: dict[int, Upcaster] = field(default_factory=dict)
    # Payload models of older versions, kept so their schemas stay pinned.
    old_models: dict[int, type[BaseModel]] = field(default_factory=dict)


class UnknownEventType(ValueError):
    pass


class UnsupportedEventVersion(ValueError):
    pass


TOPIC_TENANTS = "tenants"
TOPIC_ACTORS = "actors"
TOPIC_ITEMS = "items"
TOPIC_MATCHES = "matches"
TOPIC_CONTACTS = "contacts"
# Shifts, sign-ups and hours, keyed by shift id: a shift's events stay in order.
TOPIC_ENGAGEMENTS = "engagements"
ALL_TOPICS = (TOPIC_TENANTS, TOPIC_ACTORS, TOPIC_ITEMS, TOPIC_MATCHES, TOPIC_CONTACTS,
              TOPIC_ENGAGEMENTS)


def _item_v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    upgraded = dict(data)
    upgraded.setdefault("languages", [])
    upgraded.setdefault("accessible", False)
    upgraded.setdefault("capacity_left", upgraded.get("capacity", 1))
    upgraded.setdefault("place_name", None)
    upgraded.setdefault("expires_at", None)
    return upgraded


def _item_event(name: str) -> EventType:
    return EventType(
        name, 2, models.ItemData, TOPIC_ITEMS,
        upcasters={1: _item_v1_to_v2}, old_models={1: models.ItemDataV1},
    )


EVENT_TYPES: dict[str, EventType] = {
    event.name: event
    for event in [
        EventType("tenant.created", 1, models.TenantData, TOPIC_TENANTS),
        EventType("tenant.updated", 1, models.TenantData, TOPIC_TENANTS),
        EventType("actor.registered", 1, models.ActorData, TOPIC_ACTORS),
        EventType("actor.updated", 1, models.ActorData, TOPIC_ACTORS),
        EventType("actor.erased", 1, models.ActorErasedData, TOPIC_ACTORS),
        _item_event("offer.published"),
        _item_event("offer.updated"),
        _item_event("offer.closed"),
        _item_event("need.published"),
        _item_event("need.updated"),
        _item_event("need.closed"),
        EventType("match.found", 1, models.MatchData, TOPIC_MATCHES),
        EventType("match.withdrawn", 1, models.MatchData, TOPIC_MATCHES),
        EventType("contact.requested", 1, models.ContactData, TOPIC_CONTACTS),
        EventType("contact.accepted", 1, models.ContactData, TOPIC_CONTACTS),
        EventType("contact.declined", 1, models.ContactData, TOPIC_CONTACTS),
        EventType("shift.scheduled", 1, models.ShiftData, TOPIC_ENGAGEMENTS),
        EventType("shift.changed", 1, models.ShiftData, TOPIC_ENGAGEMENTS),
        EventType("shift.cancelled", 1, models.ShiftData, TOPIC_ENGAGEMENTS),
        EventType("signup.confirmed", 1, models.SignupData, TOPIC_ENGAGEMENTS),
        EventType("signup.waitlisted", 1, models.SignupData, TOPIC_ENGAGEMENTS),
        # A waitlisted volunteer got a place that became free.
        EventType("signup.promoted", 1, models.SignupData, TOPIC_ENGAGEMENTS),
        EventType("signup.cancelled", 1, models.SignupData, TOPIC_ENGAGEMENTS),
        EventType("signup.removed", 1, models.SignupData, TOPIC_ENGAGEMENTS),
        EventType("hours.proposed", 1, models.HoursData, TOPIC_ENGAGEMENTS),
        EventType("hours.confirmed", 1, models.HoursData, TOPIC_ENGAGEMENTS),
    ]
}


def event_type(name: str) -> EventType:
    try:
        return EVENT_TYPES[name]
    except KeyError:
        raise UnknownEventType(f"unknown event type {name!r}") from None


def make_event(
    name: str, *, tenant: str, subject: str, source: str, data: BaseModel | dict[str, Any]
) -> Envelope:
    """An envelope of the current version; the payload is validated against its model."""
    spec = event_type(name)
    payload = data if isinstance(data, spec.model) else spec.model.model_validate(
        data.model_dump() if isinstance(data, BaseModel) else data
    )
    return Envelope(
        type=name, version=spec.version, tenant=tenant, subject=subject, source=source,
        data=payload.model_dump(mode="json"),
    )


def upcast(envelope: Envelope) -> Envelope:
    """The same event with its payload upgraded to the current version of its type."""
    spec = event_type(envelope.type)
    if envelope.version > spec.version:
        raise UnsupportedEventVersion(
            f"{envelope.type} v{envelope.version} is newer than this consumer knows (v{spec.version})"
        )
    data, version = envelope.data, envelope.version
    while version < spec.version:
        step = spec.upcasters.get(version)
        if step is None:
            raise UnsupportedEventVersion(f"no upcaster for {envelope.type} v{version}")
        data, version = step(data), version + 1
    return envelope.model_copy(update={"data": data, "version": version})


def read_event(envelope: Envelope) -> tuple[Envelope, BaseModel]:
    """Upcast, then validate the payload: (current-version envelope, typed payload)."""
    current = upcast(envelope)
    return current, event_type(current.type).model.model_validate(current.data)
