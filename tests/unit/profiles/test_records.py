"""Creating and changing records: versions, snapshots, capacity, neighbours, erasure."""
from __future__ import annotations

from datetime import timedelta

import pytest

from platform_common.events.models import ActorData, ItemData, TenantData
from services.profiles.domain import mapping, records, rules
from platform_common.errors import Conflict
from tests.unit.profiles.factories import NOW, actor, item, tenant

LATER = NOW + timedelta(minutes=5)


def test_new_item_takes_tenant_and_type_from_its_actor():
    school = actor(tenant_id="duelmen", actor_type="education")
    need = item(owner_actor=school)
    assert (need.tenant, need.actor_type, need.kind) == ("duelmen", "education", "need")
    assert need.version == 1 and need.status == "published"
    assert need.capacity_left == need.capacity == 3
    assert need.created_at == need.updated_at == NOW
    assert need.expires_at == NOW + rules.ONGOING_LIFETIME  # weekly windows: ongoing


def test_patch_increments_the_version_and_keeps_taken_places():
    need = item().model_copy(update={"capacity_left": 1})  # two of three places taken
    bigger = records.patched_item(need, {"capacity": 5, "title": "Neue Ausgabe"}, now=LATER)
    assert bigger.version == 2 and bigger.updated_at == LATER and bigger.created_at == NOW
    assert (bigger.capacity, bigger.capacity_left, bigger.title) == (5, 3, "Neue Ausgabe")
    smaller = records.patched_item(need, {"capacity": 1}, now=LATER)
    assert smaller.capacity_left == 0


def test_patch_recomputes_expiry_and_ignores_no_changes():
    need = item()
    end = NOW + timedelta(days=3)
    dated = records.patched_item(need, {"schedule": {"dates": [{"start": NOW, "end": end}],
                                                     "weekly": []}}, now=LATER)
    assert dated.expires_at == end
    assert records.patched_item(need, {"title": need.title}, now=LATER) is None


def test_a_change_by_its_owners_renews_an_ongoing_item():
    need = item()  # weekly windows
    much_later = NOW + timedelta(days=150)
    retitled = records.patched_item(need, {"title": "Neue Ausgabe"}, now=much_later)
    assert retitled.expires_at == much_later + rules.ONGOING_LIFETIME
    assert records.renewed(need, now=much_later).expires_at == much_later + rules.ONGOING_LIFETIME
    # A one-off item keeps the end of its last date.
    end = NOW + timedelta(days=3)
    dated = records.patched_item(need, {"schedule": {"dates": [{"start": NOW, "end": end}],
                                                     "weekly": []}}, now=LATER)
    assert records.renewed(dated, now=much_later).expires_at == end


def test_snapshots_are_the_event_payloads():
    hidden = records.with_status(item(), "hidden", now=LATER, reason="Spam")
    snapshot = mapping.snapshot(hidden)
    # The reason travels with the event, so the owner can be told why.
    assert type(snapshot) is ItemData and snapshot.hidden_reason == "Spam"
    assert snapshot.status == "hidden" and snapshot.version == 2
    assert type(mapping.snapshot(actor())) is ActorData
    assert type(mapping.snapshot(tenant())) is TenantData


def test_status_changes_follow_the_lifecycle():
    closed = records.with_status(item(), "closed", now=LATER)
    assert closed.status == "closed" and closed.version == 2
    with pytest.raises(Conflict):
        records.with_status(closed, "hidden", now=LATER)
    unhidden = records.with_status(records.with_status(item(), "hidden", now=LATER, reason="x"),
                                   "published", now=LATER)
    assert unhidden.status == "published" and unhidden.hidden_reason is None
    with pytest.raises(Conflict):
        records.with_status(closed, "published", now=LATER)


def test_neighbours_and_owners_change_only_when_needed():
    town = tenant(neighbours=["duelmen"])
    assert records.with_neighbour(town, "duelmen", present=True, now=LATER) is None
    added = records.with_neighbour(town, "nottuln", present=True, now=LATER)
    assert added.neighbours == ["duelmen", "nottuln"] and added.version == 2
    removed = records.with_neighbour(added, "duelmen", present=False, now=LATER)
    assert removed.neighbours == ["nottuln"] and removed.version == 3

    club = actor(owner="anna")
    assert records.with_owner(club, "anna", present=True, now=LATER) is None
    assert records.with_owner(club, "bernd", present=True, now=LATER).owners == ["anna", "bernd"]
    assert records.patched_actor(club, {"name": club.name}, now=LATER) is None


def test_erased_items_keep_no_personal_text():
    need = item(title="Nachhilfe bei Familie Schulte", place_name="Musterweg 1",
                skills=["mathe"], description="Bitte bei Schultes klingeln")
    erased = records.erased_item(need, location={"lat": 51.9, "lon": 7.2}, now=LATER)
    assert erased.status == "closed" and erased.version == 2
    assert erased.title == records.ERASED_TITLE and erased.description == ""
    assert erased.skills == [] and erased.place_name is None
    assert (erased.location.lat, erased.location.lon) == (51.9, 7.2)


def test_the_mapping_puts_every_contract_field_on_the_wire_and_nothing_else():
    hidden = records.with_status(item(), "hidden", now=LATER, reason="Spam")
    assert mapping.item_event(hidden) == ItemData.model_validate(hidden.model_dump())
    club, town = actor(), tenant(neighbours=["duelmen"])
    assert mapping.actor_event(club) == ActorData.model_validate(club.model_dump())
    assert mapping.tenant_event(town) == TenantData.model_validate(town.model_dump())
    # What only profiles keeps stays home: the records' timestamps of actors and tenants.
    assert "created_at" not in mapping.actor_event(club).model_dump()
    assert "updated_at" not in mapping.tenant_event(town).model_dump()


def test_a_stored_field_is_no_contract_change():
    class ItemWithNote(records.Item):
        internal_note: str = ""

    noted = ItemWithNote.model_validate({**item().model_dump(), "internal_note": "nur intern"})
    assert "internal_note" not in mapping.item_event(noted).model_dump()
    assert "internal_note" not in mapping.item_view(noted, exact=True)


def test_records_read_the_documents_stored_so_far():
    """The documents keep their field names (earlier versions stored the event payloads)."""
    stored = {**mapping.item_event(item()).model_dump(), "_id": "item-1", "legacy": True}
    assert records.Item.model_validate(stored) == item()
