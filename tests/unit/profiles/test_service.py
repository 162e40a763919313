"""The use cases against an in-memory store: what is stored and which events go to the outbox."""
from __future__ import annotations

from datetime import timedelta

import pytest

from services.profiles import service
from services.profiles.domain import rules
from platform_common.errors import (
    Conflict, Forbidden, InvalidInput, NotFound, VersionConflict,
)
from services.profiles.domain.requests import (
    ActorCreate, ItemPatch, TenantCreate, TenantPatch,
)
from tests.unit.profiles.factories import NOW, item_request, who
from tests.unit.profiles.memory_store import MemoryStore

OPERATOR = who("op", "land", "operator")


async def make_tenant(store, tenant_id, neighbours=()):
    return await service.create_tenant(store=store, identity=OPERATOR, now=NOW,
                                       request=TenantCreate.model_validate({
                                           "id": tenant_id, "name": tenant_id.title(),
                                           "center": {"lat": 51.9, "lon": 7.2},
                                           "neighbours": list(neighbours)}))


async def make_actor(store, identity, actor_type="association"):
    return await service.register_actor(store=store, identity=identity, now=NOW,
                                        request=ActorCreate.model_validate({
                                            "type": actor_type, "name": "Heimatverein",
                                            "email": "info@heimat.example",
                                            "location": {"lat": 51.9, "lon": 7.2}}))


@pytest.fixture
async def town():
    store = MemoryStore()
    await make_tenant(store, "coesfeld")
    await make_tenant(store, "duelmen", neighbours=["coesfeld"])
    await make_tenant(store, "koeln")
    return store


async def test_neighbours_are_mirrored_with_an_event_for_each_changed_tenant(town):
    assert [(e.type, e.subject) for e in town.events] == [
        ("tenant.created", "coesfeld"), ("tenant.created", "duelmen"),
        ("tenant.updated", "coesfeld"), ("tenant.created", "koeln")]
    coesfeld = await service.get_tenant(store=town, tenant_id="coesfeld")
    assert coesfeld.neighbours == ["duelmen"] and coesfeld.version == 2

    admin = who("admin", "koeln", "tenant_admin")
    await service.update_tenant(store=town, identity=admin, tenant_id="koeln", now=NOW,
                                patch=TenantPatch(neighbours=["coesfeld"]), expected_version=1)
    coesfeld = await service.get_tenant(store=town, tenant_id="coesfeld")
    assert sorted(coesfeld.neighbours) == ["duelmen", "koeln"] and coesfeld.version == 3


async def test_a_failed_use_case_stores_and_emits_nothing(town):
    events_before = len(town.events)
    with pytest.raises(InvalidInput):
        await make_tenant(town, "nottuln", neighbours=["coesfeld", "atlantis"])
    with pytest.raises(Forbidden):
        await service.create_tenant(store=town, identity=who("x", "coesfeld", "tenant_admin"),
                                    now=NOW, request=TenantCreate.model_validate({
                                        "id": "billerbeck", "name": "Billerbeck",
                                        "center": {"lat": 52.0, "lon": 7.3}}))
    assert len(town.events) == events_before
    assert await town.read.get_tenant("nottuln") is None
    assert (await town.read.get_tenant("coesfeld")).neighbours == ["duelmen"]


async def test_items_are_published_only_by_owners(town):
    anna = who("anna", "coesfeld")
    club = await make_actor(town, anna)
    with pytest.raises(Forbidden):
        await service.create_item(store=town, identity=who("bernd", "coesfeld"), kind="offer",
                                  request=item_request(actor_id=club.id), now=NOW)
    offer = await service.create_item(store=town, identity=anna, kind="offer",
                                      request=item_request(actor_id=club.id), now=NOW)
    event = town.events[-1]
    assert (event.type, event.subject, event.tenant, event.source) == \
        ("offer.published", offer.id, "coesfeld", "profiles")
    assert event.data["version"] == 1 and event.data["title"] == offer.title
    assert town.data["outbox"][-1][:2] == ("items", offer.id)


async def test_stale_versions_and_foreign_callers_change_nothing(town):
    anna = who("anna", "coesfeld")
    club = await make_actor(town, anna)
    offer = await service.create_item(store=town, identity=anna, kind="offer", now=NOW,
                                      request=item_request(actor_id=club.id, visibility="state"))
    count = len(town.events)
    with pytest.raises(VersionConflict):
        await service.update_item(store=town, identity=anna, kind="offer", item_id=offer.id,
                                  patch=ItemPatch(title="Neu"), expected_version=2, now=NOW)
    with pytest.raises(Forbidden):
        await service.update_item(store=town, identity=who("anna", "koeln"), kind="offer",
                                  item_id=offer.id, patch=ItemPatch(title="Neu"),
                                  expected_version=1, now=NOW)
    with pytest.raises(NotFound):
        await service.update_item(store=town, identity=anna, kind="need", item_id=offer.id,
                                  patch=ItemPatch(title="Neu"), expected_version=1, now=NOW)
    assert len(town.events) == count
    updated = await service.update_item(store=town, identity=anna, kind="offer", item_id=offer.id,
                                        patch=ItemPatch(title="Neu"), expected_version=1, now=NOW)
    assert updated.version == 2 and town.events[-1].type == "offer.updated"


async def test_listing_respects_visibility(town):
    anna = who("anna", "coesfeld")
    club = await make_actor(town, anna)
    for level in ("tenant", "region", "state"):
        await service.create_item(store=town, identity=anna, kind="need", now=NOW,
                                  request=item_request(actor_id=club.id, visibility=level))

    async def levels(identity):
        found, _next = await service.list_items(store=town, identity=identity, kind="need",
                                                actor_id=club.id, tenant=None, status=None,
                                                after=None, limit=50)
        return sorted(i.visibility for i in found)

    assert await levels(anna) == ["region", "state", "tenant"]
    assert await levels(who("x", "duelmen")) == ["region", "state"]
    assert await levels(who("x", "koeln")) == ["state"]
    assert await levels(None) == ["state"]


async def test_the_last_owner_of_an_organisation_cannot_erase_the_account(town):
    anna = who("anna", "coesfeld", "member", "org_admin")
    person = await make_actor(town, anna, actor_type="person")
    club = await make_actor(town, anna)
    with pytest.raises(Conflict) as refused:
        await service.erase_me(store=town, identity=anna, now=NOW)
    assert refused.value.code == "last_owner_of_organisations"
    assert refused.value.details == [{"id": club.id, "name": club.name, "type": "association",
                                      "tenant": "coesfeld"}]
    assert club.name in refused.value.message and club.id in refused.value.message
    assert await town.read.get_actor(person.id) is not None, "nothing was erased"
    assert (await town.read.get_actor(club.id)).owners == ["anna"]

    await service.add_member(store=town, identity=anna, actor_id=club.id, sub="bernd", now=NOW)
    result = await service.erase_me(store=town, identity=anna, now=NOW)
    assert result["erased_actors"] == [person.id] and result["left_actors"] == [club.id]


async def test_an_owner_closes_an_organisation_and_may_then_erase_the_account(town):
    anna = who("anna", "coesfeld")
    person = await make_actor(town, anna, actor_type="person")
    club = await make_actor(town, anna)
    need = await service.create_item(store=town, identity=anna, kind="need", now=NOW,
                                     request=item_request(actor_id=club.id))
    offer = await service.create_item(store=town, identity=anna, kind="offer", now=NOW,
                                      request=item_request(actor_id=club.id))
    await service.pause_item(store=town, identity=anna, kind="offer", item_id=offer.id, now=NOW)
    events_before = len(town.events)
    # Neither another member of the town, nor its tenant admin, nor an owner signed in to
    # another tenant may close it; nothing changes.
    for stranger in (who("bernd", "coesfeld"), who("admin", "coesfeld", "tenant_admin"),
                     who("anna", "duelmen")):
        with pytest.raises(Forbidden):
            await service.close_actor(store=town, identity=stranger, actor_id=club.id, now=NOW)
    with pytest.raises(NotFound):
        await service.close_actor(store=town, identity=anna, actor_id="nope", now=NOW)
    assert len(town.events) == events_before
    assert (await town.read.get_item(need.id)).status == "published"

    result = await service.close_actor(store=town, identity=anna, actor_id=club.id, now=NOW)
    assert result == {"id": club.id, "type": "association",
                      "closed_items": sorted([need.id, offer.id])}
    assert await town.read.get_actor(club.id) is None
    assert (await town.read.get_item(need.id)).status == "closed"
    assert (await town.read.get_item(offer.id)).status == "paused", "already out of search"
    assert [(e.type, e.subject) for e in town.events[events_before:]] == [
        *sorted([("need.closed", need.id), ("offer.closed", offer.id)], key=lambda e: e[1]),
        ("actor.erased", club.id)]
    assert town.events[-1].data["item_ids"] == sorted([need.id, offer.id])
    # A retry finds nothing left to close.
    with pytest.raises(NotFound):
        await service.close_actor(store=town, identity=anna, actor_id=club.id, now=NOW)

    erased = await service.erase_me(store=town, identity=anna, now=NOW)
    assert erased == {"erased_actors": [person.id], "left_actors": [], "closed_items": []}


async def test_a_person_profile_is_deleted_by_its_owner(town):
    anna = who("anna", "coesfeld")
    person = await make_actor(town, anna, actor_type="person")
    with pytest.raises(Forbidden):
        await service.close_actor(store=town, identity=who("bernd"), actor_id=person.id, now=NOW)
    result = await service.close_actor(store=town, identity=anna, actor_id=person.id, now=NOW)
    assert result == {"id": person.id, "type": "person", "closed_items": []}
    assert await town.read.get_actor(person.id) is None
    assert town.events[-1].type == "actor.erased"


async def test_expiry_closes_due_items_with_an_event(town):
    anna = who("anna", "coesfeld")
    club = await make_actor(town, anna)
    end = NOW + timedelta(hours=3)
    need = await service.create_item(store=town, identity=anna, kind="need", now=NOW,
                                     request=item_request(actor_id=club.id, schedule={
                                         "dates": [{"start": NOW.isoformat(), "end": end.isoformat()}]}))
    assert await service.expire_due_items(store=town, now=NOW + timedelta(hours=1)) == 0
    assert await service.expire_due_items(store=town, now=end + timedelta(seconds=1)) == 1
    assert (await town.read.get_item(need.id)).status == "expired"
    assert town.events[-1].type == "need.closed" and town.events[-1].data["status"] == "expired"
    assert await service.expire_due_items(store=town, now=end + timedelta(days=1)) == 0


async def test_an_item_with_only_weekly_windows_lapses_unless_its_owners_renew_it(town):
    anna = who("anna", "coesfeld")
    club = await make_actor(town, anna)
    kept, left = [await service.create_item(store=town, identity=anna, kind="need", now=NOW,
                                            request=item_request(actor_id=club.id))
                  for _ in range(2)]
    lapse = NOW + rules.ONGOING_LIFETIME
    assert kept.expires_at == left.expires_at == lapse
    assert await service.expire_due_items(store=town, now=lapse - timedelta(days=1)) == 0
    # Its owners change one of them a month later: it runs for another lifetime from then.
    month = NOW + timedelta(days=30)
    kept = await service.update_item(store=town, identity=anna, kind="need", item_id=kept.id,
                                     patch=ItemPatch(title="Ausgabe am Dienstag", version=1),
                                     expected_version=1, now=month)
    assert kept.expires_at == month + rules.ONGOING_LIFETIME
    assert await service.expire_due_items(store=town, now=lapse) == 1
    assert (await town.read.get_item(left.id)).status == "expired"
    assert town.events[-1].subject == left.id and town.events[-1].data["status"] == "expired"
    assert (await town.read.get_item(kept.id)).status == "published"
    # Paused past its end, and resumed: renewed, not refused.
    await service.pause_item(store=town, identity=anna, kind="need", item_id=kept.id, now=month)
    much_later = kept.expires_at + timedelta(days=10)
    resumed = await service.resume_item(store=town, identity=anna, kind="need", item_id=kept.id,
                                        now=much_later)
    assert resumed.status == "published"
    assert resumed.expires_at == much_later + rules.ONGOING_LIFETIME
    # The lapsed one comes back the same way, for another lifetime from then.
    back = await service.resume_item(store=town, identity=anna, kind="need", item_id=left.id,
                                     now=much_later)
    assert back.status == "published" and back.expires_at == much_later + rules.ONGOING_LIFETIME
    assert town.events[-1].type == "need.published" and town.events[-1].subject == left.id


async def test_an_expired_one_off_item_stays_ended(town):
    anna = who("anna", "coesfeld")
    club = await make_actor(town, anna)
    end = NOW + timedelta(hours=3)
    need = await service.create_item(store=town, identity=anna, kind="need", now=NOW,
                                     request=item_request(actor_id=club.id, schedule={
                                         "dates": [{"start": NOW.isoformat(), "end": end.isoformat()}]}))
    assert await service.expire_due_items(store=town, now=end) == 1
    with pytest.raises(Conflict) as refused:
        await service.resume_item(store=town, identity=anna, kind="need", item_id=need.id,
                                  now=end + timedelta(days=1))
    assert refused.value.code == "invalid_transition"


async def test_erasure_of_a_person(town):
    anna = who("anna", "coesfeld", "member", "org_admin")
    person = await make_actor(town, anna, actor_type="person")
    club = await make_actor(town, anna)
    await service.add_member(store=town, identity=anna, actor_id=club.id, sub="bernd", now=NOW)
    need = await service.create_item(store=town, identity=anna, kind="need", now=NOW,
                                     request=item_request(actor_id=person.id))
    result = await service.erase_me(store=town, identity=anna, now=NOW)
    assert result == {"erased_actors": [person.id], "left_actors": [club.id],
                      "closed_items": [need.id]}
    assert await town.read.get_actor(person.id) is None
    assert (await town.read.get_actor(club.id)).owners == ["bernd"]
    erased = [e for e in town.events if e.type == "actor.erased"]
    assert erased[0].data["item_ids"] == [need.id] and erased[0].data["version"] == 2
