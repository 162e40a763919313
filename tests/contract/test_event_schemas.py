"""The checked-in JSON schemas pin every event type and version (contracts/events/).

A change that would break a consumer (a removed field, a changed type, a newly required
field, a lost enum value) fails here unless it comes with a new version and an upcaster.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest
from pydantic import create_model

from platform_common.events import EVENT_TYPES, Envelope, make_event, read_event, upcast
from platform_common.events.models import ItemData
from platform_common.events.schemas import CONTRACTS_DIR, breaking_changes, current_schemas

PINNED = {path.name: json.loads(path.read_text()) for path in CONTRACTS_DIR.glob("*.json")}


@pytest.mark.parametrize("name", sorted(current_schemas()))
def test_every_event_version_is_pinned(name):
    assert name in PINNED, f"{name} has no pinned schema: run 'make schemas' and commit it"


@pytest.mark.parametrize("name", sorted(PINNED))
def test_no_breaking_change_without_new_version(name):
    current = current_schemas()
    assert name in current, (f"pinned schema {name} disappeared: an event version that was "
                             "published must stay readable (keep its model and upcaster)")
    problems = breaking_changes(PINNED[name], current[name])
    assert not problems, f"{name} changed incompatibly: {problems}; add a new version with an upcaster"


@pytest.mark.parametrize("name", sorted(PINNED))
def test_pinned_schema_is_up_to_date(name):
    assert current_schemas().get(name) == PINNED[name], (
        f"{name} changed compatibly but the pin is stale: run 'make schemas' and commit")


def _item_schema_without(field: str) -> dict:
    fields = {name: (info.annotation, info) for name, info in ItemData.model_fields.items()
              if name != field}
    return create_model("ItemData", **fields).model_json_schema()


def test_removing_a_field_is_detected_as_breaking():
    problems = breaking_changes(PINNED["offer.published.v2.json"], _item_schema_without("title"))
    assert "field 'title' was removed" in problems


def test_making_a_field_required_or_changing_its_type_is_breaking():
    old = {"properties": {"a": {"type": "string"}, "b": {"type": "integer"}}, "required": ["a"]}
    new = {"properties": {"a": {"type": "integer"}, "b": {"type": "integer"}}, "required": ["a", "b"]}
    problems = breaking_changes(old, new)
    assert any("changed type" in p for p in problems)
    assert any("'b' became required" in p for p in problems)


def test_adding_an_optional_field_is_compatible():
    old = {"properties": {"a": {"type": "string"}}, "required": ["a"]}
    new = {"properties": {"a": {"type": "string"}, "c": {"type": "string"}}, "required": ["a"]}
    assert breaking_changes(old, new) == []


def test_an_old_item_event_is_upcast_to_the_current_version():
    v1 = Envelope(type="need.published", version=1, tenant="koeln", source="profiles",
                  subject="n1", data={
                      "id": "n1", "kind": "need", "tenant": "koeln", "actor_id": "a1",
                      "actor_type": "association", "title": "Hilfe beim Sommerfest",
                      "categories": ["social"], "engagement": "spontaneous",
                      "location": {"lat": 50.94, "lon": 6.96}, "radius_km": 10,
                      "capacity": 3, "created_at": "2026-06-01T10:00:00Z",
                      "updated_at": "2026-06-01T10:00:00Z", "version": 1})
    envelope, data = read_event(v1)
    assert envelope.version == EVENT_TYPES["need.published"].version == 2
    assert data.capacity_left == 3 and data.languages == [] and data.accessible is False


def test_a_newer_version_than_known_is_refused():
    event = make_event("tenant.created", tenant="koeln", subject="koeln", source="test", data={
        "id": "koeln", "name": "Köln", "center": {"lat": 50.94, "lon": 6.96}, "version": 1})
    with pytest.raises(ValueError, match="newer"):
        upcast(event.model_copy(update={"version": 99}))


def test_envelope_round_trips_through_bytes():
    event = make_event("tenant.created", tenant="koeln", subject="koeln", source="test", data={
        "id": "koeln", "name": "Köln", "center": {"lat": 50.94, "lon": 6.96}, "version": 1})
    again = Envelope.from_bytes(event.to_bytes())
    assert again == event
    assert again.occurred_at.tzinfo is not None
    assert again.occurred_at <= datetime.now(timezone.utc)
