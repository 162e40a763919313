"""Contact by consent, the pure rules: who asks, which pairs qualify, who answers, who sees what."""
from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import ValidationError

from services.profiles.domain import contacts, mapping, records
from services.profiles.domain.contacts import ContactCreate
from platform_common.errors import Conflict, Forbidden, InvalidInput
from tests.unit.profiles.factories import NOW, actor, http_status, item, who

LATER = NOW + timedelta(hours=1)


def pair(**need_overrides):
    helper = actor(owner="anna", actor_id="helper", actor_type="person")
    club = actor(owner="bernd", actor_id="club")
    offer = item("offer", helper, item_id="offer-1", actor_id="helper")
    need = item("need", club, item_id="need-1", actor_id="club", **need_overrides)
    return helper, club, offer, need


def requested(message: str = "Hallo!") -> contacts.Contact:
    helper, club, _offer, _need = pair()
    return contacts.new_contact(
        ContactCreate(offer_id="offer-1", need_id="need-1", message=message),
        contact_id="c-1", requester=helper, recipient=club, now=NOW)


def test_the_request_body_is_strict_and_the_message_limited():
    body = ContactCreate.model_validate({"offer_id": "o", "need_id": "n", "message": "  Hi  "})
    assert body.message == "Hi"
    assert ContactCreate.model_validate({"offer_id": "o", "need_id": "n"}).message == ""
    ContactCreate.model_validate({"offer_id": "o", "need_id": "n", "message": "x" * 1000})
    for bad in ({"offer_id": "o", "need_id": "n", "message": "x" * 1001},
                {"offer_id": "o"}, {"offer_id": "o", "need_id": ""},
                {"offer_id": "o", "need_id": 5}, {"offer_id": "o", "need_id": "n", "x": 1}):
        with pytest.raises(ValidationError):
            ContactCreate.model_validate(bad)


def test_the_requester_side_is_the_one_the_caller_acts_for():
    helper, club, _offer, _need = pair()
    assert contacts.requester_side(who("anna"), offer_actor=helper, need_actor=club) == "offer"
    assert contacts.requester_side(who("bernd"), offer_actor=helper, need_actor=club) == "need"
    with pytest.raises(Forbidden):
        contacts.requester_side(who("carla"), offer_actor=helper, need_actor=club)
    # Owners act only from their actor's tenant.
    with pytest.raises(Forbidden):
        contacts.requester_side(who("anna", "duelmen"), offer_actor=helper, need_actor=club)


def test_asking_oneself_is_refused():
    helper, _club, _offer, _need = pair()
    second = actor(owner="anna", actor_id="anna-club")
    with pytest.raises(InvalidInput) as refused:
        contacts.requester_side(who("anna"), offer_actor=helper, need_actor=second)
    assert http_status(refused.value) == 422 and refused.value.details[0]["field"] == "need_id"
    with pytest.raises(InvalidInput):
        contacts.requester_side(who("anna"), offer_actor=helper, need_actor=helper)


def test_both_items_must_be_published():
    _helper, _club, offer, need = pair()
    contacts.check_pair_open(offer, need)
    closed = records.with_status(need, "closed", now=NOW)
    with pytest.raises(Conflict) as refused:
        contacts.check_pair_open(offer, closed)
    assert refused.value.code == "item_not_open"
    assert refused.value.details == {"kind": "need", "id": "need-1", "status": "closed"}


@pytest.mark.parametrize("offer_tenant,offer_visibility,need_tenant,need_visibility,expected", [
    ("coesfeld", "tenant", "coesfeld", "tenant", True),
    ("coesfeld", "tenant", "duelmen", "state", False),   # the offer is not seen in Dülmen
    ("coesfeld", "region", "duelmen", "region", True),   # neighbours
    ("coesfeld", "region", "koeln", "state", False),
    ("coesfeld", "state", "koeln", "region", False),     # the need is not seen in Coesfeld
    ("coesfeld", "state", "koeln", "state", True),
])
def test_items_must_be_visible_in_each_others_municipality(offer_tenant, offer_visibility,
                                                           need_tenant, need_visibility, expected):
    offer = item("offer", actor(tenant_id=offer_tenant), visibility=offer_visibility)
    need = item("need", actor(tenant_id=need_tenant, actor_id="other"), item_id="need-1",
                visibility=need_visibility)
    neighbours = {"coesfeld": ["duelmen"], "duelmen": ["coesfeld"], "koeln": []}
    assert contacts.mutually_visible(
        offer, need, offer_tenant_neighbours=neighbours[offer_tenant],
        need_tenant_neighbours=neighbours[need_tenant]) is expected


def test_one_active_request_per_pair():
    contacts.check_no_active_request(None)
    with pytest.raises(Conflict) as refused:
        contacts.check_no_active_request(requested())
    assert http_status(refused.value) == 409 and refused.value.code == "contact_exists"
    assert refused.value.details["id"] == "c-1"


def test_only_a_current_suggestion_passes():
    contacts.check_match(True, offer_id="o", need_id="n")
    with pytest.raises(contacts.NotAMatch) as refused:
        contacts.check_match(False, offer_id="o", need_id="n")
    assert http_status(refused.value) == 422 and refused.value.code == "not_a_match"
    assert refused.value.details[0]["path"] == ["need_id"]


def test_a_new_request_and_its_event_payload():
    contact = requested()
    assert (contact.requester_actor_id, contact.recipient_actor_id) == ("helper", "club")
    assert (contact.requester_tenant, contact.recipient_tenant) == ("coesfeld", "coesfeld")
    assert contact.status == "requested" and contact.version == 1 and contact.decided_at is None
    payload = mapping.contact_event(contact).model_dump()
    assert payload["message"] == "Hallo!" and "created_at" not in payload


def test_only_the_recipient_answers_and_only_once():
    helper, club, _offer, _need = pair()
    contact = requested()
    for stranger in (who("anna"), who("carla"), who("bernd", "duelmen")):  # requester, others
        with pytest.raises(Forbidden):
            contacts.decided(contact, "accepted", identity=stranger, recipient=club, now=LATER)
    accepted = contacts.decided(contact, "accepted", identity=who("bernd"), recipient=club,
                                now=LATER)
    assert accepted.status == "accepted" and accepted.version == 2
    assert accepted.decided_at == LATER == accepted.updated_at and accepted.created_at == NOW
    assert contact.status == "requested"  # a new version, the old one unchanged
    for answer in ("accepted", "declined"):
        with pytest.raises(Conflict) as refused:
            contacts.decided(accepted, answer, identity=who("bernd"), recipient=club, now=LATER)
        assert refused.value.code == "contact_not_open"
    declined = contacts.decided(contact, "declined", identity=who("bernd"), recipient=club,
                                now=LATER)
    assert declined.status == "declined"
    with pytest.raises(Forbidden):  # the recipient's actor is gone
        contacts.decided(contact, "accepted", identity=who("bernd"), recipient=None, now=LATER)


def test_e_mails_are_shown_only_after_acceptance():
    helper, club, _offer, _need = pair()
    contact = requested()
    before = mapping.contact_view(contact, requester=helper, recipient=club)
    assert "contact" not in before and "@" not in str(before)
    accepted = contacts.decided(contact, "accepted", identity=who("bernd"), recipient=club,
                                now=LATER)
    after = mapping.contact_view(accepted, requester=helper, recipient=club)
    assert after["contact"] == {
        "requester": {"name": helper.name, "email": helper.email},
        "recipient": {"name": club.name, "email": club.email}}
    declined = contacts.decided(contact, "declined", identity=who("bernd"), recipient=club,
                                now=LATER)
    assert "contact" not in mapping.contact_view(declined, requester=helper, recipient=club)


def test_parties_and_accepted_counterparts():
    helper, club, _offer, _need = pair()
    assert contacts.is_party(who("anna"), requester=helper, recipient=club)
    assert contacts.is_party(who("bernd"), requester=helper, recipient=club)
    assert not contacts.is_party(who("carla"), requester=helper, recipient=club)
    assert not contacts.is_party(None, requester=helper, recipient=club)

    contact = requested()
    accepted = contacts.decided(contact, "accepted", identity=who("bernd"), recipient=club,
                                now=LATER)
    assert not contacts.shares_accepted_contact([contact], actor_id="club",
                                                own_actor_ids=["helper"])
    assert contacts.shares_accepted_contact([accepted], actor_id="club", own_actor_ids=["helper"])
    assert contacts.shares_accepted_contact([accepted], actor_id="helper", own_actor_ids=["club"])
    assert not contacts.shares_accepted_contact([accepted], actor_id="club",
                                                own_actor_ids=["someone-else"])
    view = mapping.counterpart_actor_view(club)
    assert view["email"] == club.email and "owners" not in view
