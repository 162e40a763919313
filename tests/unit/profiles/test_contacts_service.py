"""Contact requests as use cases against the in-memory store: what is stored, what is emitted."""
from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from platform_common.events.models import MatchData
from services.profiles import service
from services.profiles.domain.contacts import ContactCreate, NotAMatch
from services.profiles.domain.suggestions import SuggestionChange
from platform_common.errors import Conflict, Forbidden, InvalidInput, NotFound
from tests.unit.profiles.factories import NOW, http_status, item_request, who
from tests.unit.profiles.memory_store import MemoryStore, MemorySuggestions
from tests.unit.profiles.test_service import make_actor, make_tenant

ANNA, BERND, CARLA = who("anna", "coesfeld"), who("bernd", "coesfeld"), who("carla", "coesfeld")


@pytest.fixture
async def town():
    store = MemoryStore()
    await make_tenant(store, "coesfeld")
    await make_tenant(store, "duelmen", neighbours=["coesfeld"])
    store.helper = await make_actor(store, ANNA, actor_type="person")
    store.club = await make_actor(store, BERND)
    store.offer = await service.create_item(store=store, identity=ANNA, kind="offer", now=NOW,
                                            request=item_request(actor_id=store.helper.id))
    store.need = await service.create_item(store=store, identity=BERND, kind="need", now=NOW,
                                           request=item_request(actor_id=store.club.id))
    return store


async def ask(store, identity, *, suggestions=None, message="Ich kann helfen.", **ids):
    body = ContactCreate(offer_id=ids.get("offer_id", store.offer.id),
                         need_id=ids.get("need_id", store.need.id), message=message)
    return await service.request_contact(store=store, suggestions=suggestions,
                                         identity=identity, request=body, now=NOW)


async def test_a_request_is_stored_and_its_event_goes_to_the_outbox(town):
    contact = await ask(town, ANNA)
    assert contact["status"] == "requested" and contact["version"] == 1
    assert contact["requester_actor_id"] == town.helper.id
    assert contact["recipient_actor_id"] == town.club.id
    assert "contact" not in contact and "@" not in str(contact)
    topic, key, event = town.data["outbox"][-1]
    assert (topic, key, event.type, event.subject) == ("contacts", contact["id"],
                                                       "contact.requested", contact["id"])
    assert event.data["message"] == "Ich kann helfen." and event.data["status"] == "requested"
    assert event.tenant == "coesfeld"


async def test_the_need_side_may_ask_too(town):
    contact = await ask(town, BERND)
    assert contact["requester_actor_id"] == town.club.id
    assert contact["recipient_actor_id"] == town.helper.id


async def test_refusals_store_and_emit_nothing(town):
    events_before = len(town.events)
    with pytest.raises(Forbidden):  # owns neither side
        await ask(town, CARLA)
    with pytest.raises(InvalidInput) as unknown:
        await ask(town, ANNA, need_id="no-such-need")
    assert unknown.value.details[0]["field"] == "need_id"
    with pytest.raises(InvalidInput):  # ids of the wrong kind are unknown too
        await ask(town, ANNA, offer_id=town.need.id)
    anna_club = await make_actor(town, ANNA)
    own_need = await service.create_item(store=town, identity=ANNA, kind="need", now=NOW,
                                         request=item_request(actor_id=anna_club.id))
    with pytest.raises(InvalidInput):  # both sides are the caller's
        await ask(town, ANNA, need_id=own_need.id)
    assert len(town.events) == events_before + 2  # the actor and need just made
    assert town.data["contacts"] == {}


async def test_closed_items_and_invisible_pairs_are_refused(town):
    await service.close_item(store=town, identity=BERND, kind="need", item_id=town.need.id,
                             expected_version=None, now=NOW)
    # Closed: the requester no longer sees the other side's need at all.
    with pytest.raises(InvalidInput):
        await ask(town, ANNA)
    # The own side closed: a conflict (the caller sees it).
    with pytest.raises(Conflict) as refused:
        await ask(town, BERND)
    assert refused.value.code == "item_not_open"

    # A need in the neighbouring town with "region" visibility, an offer only for Coesfeld.
    dora = who("dora", "duelmen")
    far_club = await make_actor(town, dora)
    far_need = await service.create_item(store=town, identity=dora, kind="need", now=NOW,
                                         request=item_request(actor_id=far_club.id,
                                                              visibility="region"))
    with pytest.raises(InvalidInput) as invisible:
        await ask(town, ANNA, need_id=far_need.id)
    assert invisible.value.details[0]["field"] == "offer_id"  # the caller's side is the reason


async def test_a_second_active_request_for_the_pair_is_a_conflict(town):
    first = await ask(town, ANNA)
    for identity in (ANNA, BERND):  # the same requester, or the other side asking back
        with pytest.raises(Conflict) as refused:
            await ask(town, identity)
        assert http_status(refused.value) == 409 and refused.value.details["id"] == first["id"]
    await service.decline_contact(store=town, identity=BERND, contact_id=first["id"], now=NOW)
    again = await ask(town, ANNA)  # after a decline the pair may be asked again
    assert again["id"] != first["id"]


async def test_acceptance_shows_both_sides_and_is_emitted(town):
    contact = await ask(town, ANNA)
    with pytest.raises(Forbidden):
        await service.accept_contact(store=town, identity=ANNA, contact_id=contact["id"], now=NOW)
    with pytest.raises(Forbidden):
        await service.accept_contact(store=town, identity=CARLA, contact_id=contact["id"], now=NOW)
    with pytest.raises(NotFound):
        await service.accept_contact(store=town, identity=BERND, contact_id="nope", now=NOW)
    accepted = await service.accept_contact(store=town, identity=BERND, contact_id=contact["id"],
                                            now=NOW)
    assert accepted["status"] == "accepted" and accepted["version"] == 2
    assert accepted["contact"]["requester"]["email"] == town.helper.email
    assert accepted["contact"]["recipient"] == {"name": town.club.name, "email": town.club.email}
    topic, key, event = town.data["outbox"][-1]
    assert (topic, key, event.type) == ("contacts", contact["id"], "contact.accepted")
    assert event.data["version"] == 2
    with pytest.raises(Conflict):
        await service.decline_contact(store=town, identity=BERND, contact_id=contact["id"],
                                      now=NOW)

    for party in (ANNA, BERND):
        seen = await service.get_contact(store=town, identity=party, contact_id=contact["id"])
        assert seen["contact"] == accepted["contact"]
    with pytest.raises(NotFound):
        await service.get_contact(store=town, identity=CARLA, contact_id=contact["id"])


async def test_lists_by_role_and_status(town):
    contact = await ask(town, ANNA)
    sent, _ = await service.list_contacts(store=town, identity=ANNA, role="sent", status=None,
                                          after=None, limit=50)
    received, _ = await service.list_contacts(store=town, identity=ANNA, role="received",
                                              status=None, after=None, limit=50)
    assert [c["id"] for c in sent] == [contact["id"]] and received == []
    both, _ = await service.list_contacts(store=town, identity=BERND, role=None,
                                          status="requested", after=None, limit=50)
    assert [c["id"] for c in both] == [contact["id"]]
    accepted, _ = await service.list_contacts(store=town, identity=BERND, role=None,
                                              status="accepted", after=None, limit=50)
    assert accepted == []
    nothing, _ = await service.list_contacts(store=town, identity=CARLA, role=None, status=None,
                                             after=None, limit=50)
    assert nothing == []


async def test_the_accepted_counterpart_sees_the_e_mail_on_the_profile(town):
    def email_of(view):
        return view.get("email")

    contact = await ask(town, ANNA)
    assert email_of(await service.actor_view_for(store=town, identity=ANNA,
                                                 actor_id=town.club.id)) is None
    await service.accept_contact(store=town, identity=BERND, contact_id=contact["id"], now=NOW)
    assert email_of(await service.actor_view_for(store=town, identity=ANNA,
                                                 actor_id=town.club.id)) == town.club.email
    assert email_of(await service.actor_view_for(store=town, identity=BERND,
                                                 actor_id=town.helper.id)) == town.helper.email
    for stranger in (CARLA, None):
        assert email_of(await service.actor_view_for(store=town, identity=stranger,
                                                     actor_id=town.club.id)) is None


async def test_only_a_current_suggestion_may_be_asked(town):
    none = MemorySuggestions()
    with pytest.raises(NotAMatch) as refused:
        await ask(town, ANNA, suggestions=none)
    assert refused.value.code == "not_a_match"
    assert refused.value.details[0]["field"] == "need_id"
    assert none.asked == [(town.offer.id, town.need.id)]
    assert town.data["contacts"] == {}
    # Not looked up at all for a request that is invalid anyway.
    with pytest.raises(Forbidden):
        await ask(town, CARLA, suggestions=none)
    assert len(none.asked) == 1
    found = MemorySuggestions((town.offer.id, town.need.id))
    assert (await ask(town, ANNA, suggestions=found))["status"] == "requested"


async def test_a_withdrawn_suggestion_may_no_longer_be_asked(town):
    suggestions = MemorySuggestions()
    found = SuggestionChange(town.offer.id, town.need.id, current=True, at=NOW)
    await suggestions.apply([found])
    await suggestions.apply([SuggestionChange(town.offer.id, town.need.id, current=False,
                                              at=NOW + timedelta(seconds=1))])
    await suggestions.apply([found])  # redelivered: older than the withdrawal
    with pytest.raises(NotAMatch):
        await ask(town, ANNA, suggestions=suggestions)


async def test_export_and_erasure_cover_contact_requests(town):
    contact = await ask(town, ANNA)
    exported = await service.export_me(store=town, identity=BERND)
    assert [c["id"] for c in exported["contacts"]] == [contact["id"]]
    assert (await service.export_me(store=town, identity=CARLA))["contacts"] == []

    result = await service.erase_me(store=town, identity=ANNA, now=NOW)
    assert result["erased_actors"] == [town.helper.id]
    assert town.data["contacts"] == {}
    # The other side keeps its profile but no longer has the request with the erased person.
    assert await town.read.get_actor(town.club.id) is not None
    assert (await service.export_me(store=town, identity=BERND))["contacts"] == []


async def test_a_request_right_after_the_suggestion_appeared_waits_for_the_relay(town):
    body = ContactCreate(offer_id=town.offer.id, need_id=town.need.id)
    # A pair that does not become a suggestion is refused once the wait is over.
    with pytest.raises(NotAMatch):
        await service.request_contact(store=town, suggestions=MemorySuggestions(), identity=ANNA,
                                      now=NOW, match_wait_s=0.3, request=body)
    suggestions = MemorySuggestions()

    async def relay_records_it_shortly():
        await asyncio.sleep(0.3)
        await suggestions.apply([SuggestionChange(town.offer.id, town.need.id, current=True,
                                                  at=NOW)])

    recording = asyncio.create_task(relay_records_it_shortly())
    asked = await service.request_contact(store=town, suggestions=suggestions, identity=ANNA,
                                          now=NOW, match_wait_s=2, request=body)
    await recording
    assert asked["status"] == "requested" and len(suggestions.asked) > 1


class RecordedStats:
    def __init__(self):
        self.found: list = []

    async def record_matches_found(self, found):
        self.found.extend(found)


async def test_match_events_feed_the_suggestions_and_the_statistics(town):
    def match(offer_id, need_id):
        side = {"actor_id": "a", "tenant": "coesfeld", "title": "T"}
        return MatchData(offer={"id": offer_id, **side}, need={"id": need_id, **side}, score=0.8)

    stats, suggestions = RecordedStats(), MemorySuggestions()
    found, later = match(town.offer.id, town.need.id), NOW + timedelta(seconds=1)
    await service.record_match_events(stats=stats, suggestions=suggestions, events=[
        ("match.found", found, NOW), ("match.found", match("o-2", "n-2"), NOW),
        ("match.withdrawn", match("o-2", "n-2"), later)])
    assert await suggestions.is_current(offer_id=town.offer.id, need_id=town.need.id)
    assert not await suggestions.is_current(offer_id="o-2", need_id="n-2")
    # Statistics count every found pair, withdrawn later or not.
    assert [(m.offer.id, at) for m, at in stats.found] == [(town.offer.id, NOW), ("o-2", NOW)]
