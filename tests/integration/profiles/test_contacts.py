"""Contact by consent against the real profiles API and relay: request, accept or decline,
e-mails only after acceptance, the events on the `contacts` topic, export and erasure."""
from __future__ import annotations

from dataclasses import dataclass

import httpx
import pytest

from tests.integration.profiles.conftest import Profiles, identity, sub_of, unique, wait_for_events
from tests.support.waiting import eventually


@dataclass
class Pair:
    """A helper (person) with an offer and a club with a need that matches it."""

    tenant: dict
    helper_headers: dict
    helper: dict
    club_headers: dict
    club: dict
    offer: dict
    need: dict

    def body(self, message: str = "Ich helfe gern beim Einkaufen.") -> dict:
        return {"offer_id": self.offer["id"], "need_id": self.need["id"], "message": message}


async def make_pair(profiles: Profiles, *, tenant: dict | None = None,
                    club_tenant: dict | None = None, offer: dict | None = None,
                    need: dict | None = None, announce: bool = True) -> Pair:
    tenant = tenant or await profiles.tenant()
    club_tenant = club_tenant or tenant
    helper_headers, helper = await profiles.member_with_actor(
        tenant["id"], type="person", name="Hanna Helferin", email=f"{unique('hanna')}@example.org")
    club_headers, club = await profiles.member_with_actor(
        club_tenant["id"], name="Tafel Testhausen e.V.", email=f"{unique('tafel')}@example.org")
    # The same categories, place and times on both sides: a match for the matcher too.
    offer_item = await profiles.item("offer", helper_headers, helper["id"], **(offer or {}))
    need_item = await profiles.item("need", club_headers, club["id"],
                                    **{"title": "Fahrer gesucht", **(need or {})})
    if announce and not profiles.matching_runs():
        # No matcher in this session: announce the pair as it would (contact needs a match).
        await profiles.announce(offer_item, need_item)
    return Pair(tenant, helper_headers, helper, club_headers, club, offer_item, need_item)


async def ask_for_contact(profiles: Profiles, headers: dict, body: dict) -> httpx.Response:
    """POST /contacts, once profiles knows the pair as a current suggestion (`not_a_match`
    until the relay consumed its `match.found`: from the matcher, or from make_pair)."""
    async def attempt():
        response = await profiles.http.post("/contacts", json=body, headers=headers)
        if response.status_code == 422 and response.json()["error"]["code"] == "not_a_match":
            return None
        return response

    return await eventually(attempt, timeout_s=30, interval_s=0.5,
                            message="the matcher to know the pair")


@pytest.fixture
async def pair(profiles) -> Pair:
    return await make_pair(profiles)


async def test_request_then_accept_shows_the_details_to_both_and_is_published(
        profiles, pair, topic_log):
    asked = await ask_for_contact(profiles, pair.helper_headers, pair.body())
    assert asked.status_code == 201, asked.text
    contact = asked.json()
    assert {k: contact[k] for k in ("offer_id", "need_id", "requester_actor_id",
                                    "recipient_actor_id", "status", "message", "version")} == {
        "offer_id": pair.offer["id"], "need_id": pair.need["id"],
        "requester_actor_id": pair.helper["id"], "recipient_actor_id": pair.club["id"],
        "status": "requested", "message": "Ich helfe gern beim Einkaufen.", "version": 1}
    assert contact["id"] and contact["created_at"]

    # Before acceptance no e-mail anywhere: not in the request, not on the other's profile.
    for headers in (pair.helper_headers, pair.club_headers):
        seen = await profiles.http.get(f"/contacts/{contact['id']}", headers=headers)
        assert seen.status_code == 200 and "contact" not in seen.json()
        assert "@" not in seen.text
    helper_profile = await profiles.http.get(f"/actors/{pair.helper['id']}",
                                             headers=pair.club_headers)
    assert "email" not in helper_profile.json()
    club_profile = await profiles.http.get(f"/actors/{pair.club['id']}",
                                           headers=pair.helper_headers)
    assert "email" not in club_profile.json()

    accepted = await profiles.http.post(f"/contacts/{contact['id']}/accept",
                                        headers=pair.club_headers)
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["status"] == "accepted" and accepted.json()["version"] == 2
    details = {"requester": {"name": "Hanna Helferin", "email": pair.helper["email"]},
               "recipient": {"name": "Tafel Testhausen e.V.", "email": pair.club["email"]}}
    for headers in (pair.helper_headers, pair.club_headers):
        seen = (await profiles.http.get(f"/contacts/{contact['id']}", headers=headers)).json()
        assert seen["status"] == "accepted" and seen["contact"] == details
    # Now each side's profile shows its e-mail to the other side, and still not to strangers.
    club_profile = await profiles.http.get(f"/actors/{pair.club['id']}",
                                           headers=pair.helper_headers)
    assert club_profile.json()["email"] == pair.club["email"]
    assert "owners" not in club_profile.json()
    helper_profile = await profiles.http.get(f"/actors/{pair.helper['id']}",
                                             headers=pair.club_headers)
    assert helper_profile.json()["email"] == pair.helper["email"]
    stranger = identity(unique("stranger"), pair.tenant["id"])
    for headers in (stranger, {}):
        assert "email" not in (await profiles.http.get(f"/actors/{pair.club['id']}",
                                                       headers=headers)).json()

    events = await wait_for_events(topic_log, subject=contact["id"], count=2)
    assert [(e["type"], e["data"]["version"], e["data"]["status"]) for e in events] == [
        ("contact.requested", 1, "requested"), ("contact.accepted", 2, "accepted")]
    first = events[0]
    assert first["_topic"] == "contacts" and first["_key"] == contact["id"]
    assert first["source"] == "profiles" and first["tenant"] == pair.tenant["id"]
    assert first["data"] == {
        "id": contact["id"], "offer_id": pair.offer["id"], "need_id": pair.need["id"],
        "requester_actor_id": pair.helper["id"], "recipient_actor_id": pair.club["id"],
        "requester_tenant": pair.tenant["id"], "recipient_tenant": pair.tenant["id"],
        "message": "Ich helfe gern beim Einkaufen.", "status": "requested", "version": 1}
    assert "@" not in str([e["data"] for e in events])  # events never carry the e-mails


async def test_decline_tells_the_requester_and_reveals_nothing(profiles, pair, topic_log):
    contact = (await ask_for_contact(profiles, pair.club_headers, pair.body("Hätten Sie Zeit?"))
               ).json()
    assert contact["requester_actor_id"] == pair.club["id"]  # the need's side asked this time

    declined = await profiles.http.post(f"/contacts/{contact['id']}/decline",
                                        headers=pair.helper_headers)
    assert declined.status_code == 200, declined.text
    assert declined.json()["status"] == "declined" and "contact" not in declined.json()
    seen = await profiles.http.get(f"/contacts/{contact['id']}", headers=pair.club_headers)
    assert seen.json()["status"] == "declined" and "@" not in seen.text
    assert "email" not in (await profiles.http.get(f"/actors/{pair.helper['id']}",
                                                   headers=pair.club_headers)).json()

    for answer in ("accept", "decline"):  # answered once, for good
        again = await profiles.http.post(f"/contacts/{contact['id']}/{answer}",
                                         headers=pair.helper_headers)
        assert again.status_code == 409 and again.json()["error"]["code"] == "contact_not_open"

    events = await wait_for_events(topic_log, subject=contact["id"], count=2)
    assert [e["type"] for e in events] == ["contact.requested", "contact.declined"]
    assert events[1]["data"]["status"] == "declined" and events[1]["data"]["version"] == 2

    # After a decline the pair may be asked again.
    again = await ask_for_contact(profiles, pair.club_headers, pair.body("Neuer Versuch"))
    assert again.status_code == 201 and again.json()["id"] != contact["id"]


async def test_strangers_can_neither_answer_nor_read(profiles, pair):
    contact = (await ask_for_contact(profiles, pair.helper_headers, pair.body())).json()
    path = f"/contacts/{contact['id']}"
    stranger = identity(unique("stranger"), pair.tenant["id"])
    # Same user as the club's owner, but signed in for another municipality: not an owner.
    club_owner_elsewhere = identity(sub_of(pair.club_headers), "elsewhere")
    admin = identity(unique("admin"), pair.tenant["id"], "tenant_admin")

    for headers in (stranger, club_owner_elsewhere, admin, pair.helper_headers):
        for answer in ("accept", "decline"):
            refused = await profiles.http.post(f"{path}/{answer}", headers=headers)
            assert refused.status_code == 403, (headers, refused.text)
            assert refused.json()["error"]["code"] == "forbidden"
    for headers in (stranger, club_owner_elsewhere, admin):
        hidden = await profiles.http.get(path, headers=headers)
        assert hidden.status_code == 404 and hidden.json()["error"]["code"] == "not_found"
    assert (await profiles.http.get(path)).status_code == 401
    assert (await profiles.http.post(f"{path}/accept")).status_code == 401
    assert (await profiles.http.post("/contacts/no-such-contact/accept",
                                     headers=pair.club_headers)).status_code == 404
    listed = (await profiles.http.get("/contacts", headers=stranger)).json()
    assert listed == {"items": [], "next": None}
    # Still open: nobody but the recipient changed it.
    still = await profiles.http.get(path, headers=pair.club_headers)
    assert still.json()["status"] == "requested"


async def test_a_duplicate_request_is_a_conflict_naming_the_existing_one(profiles, pair):
    first = (await ask_for_contact(profiles, pair.helper_headers, pair.body())).json()
    for headers in (pair.helper_headers, pair.club_headers):
        duplicate = await profiles.http.post("/contacts", json=pair.body("Nochmal"),
                                             headers=headers)
        assert duplicate.status_code == 409, duplicate.text
        error = duplicate.json()["error"]
        assert error["code"] == "contact_exists" and error["details"]["id"] == first["id"]
    await profiles.http.post(f"/contacts/{first['id']}/accept", headers=pair.club_headers)
    accepted_already = await profiles.http.post("/contacts", json=pair.body(),
                                                headers=pair.helper_headers)
    assert accepted_already.status_code == 409
    assert accepted_already.json()["error"]["details"]["status"] == "accepted"


async def test_lists_own_requests_by_role_and_status(profiles, pair):
    contact = (await ask_for_contact(profiles, pair.helper_headers, pair.body())).json()

    async def ids(headers, **params) -> list[str]:
        response = await profiles.http.get("/contacts", params=params, headers=headers)
        assert response.status_code == 200, response.text
        return [c["id"] for c in response.json()["items"]]

    assert await ids(pair.helper_headers) == [contact["id"]]
    assert await ids(pair.helper_headers, role="sent") == [contact["id"]]
    assert await ids(pair.helper_headers, role="received") == []
    assert await ids(pair.club_headers, role="received", status="requested") == [contact["id"]]
    assert await ids(pair.club_headers, status="accepted") == []
    await profiles.http.post(f"/contacts/{contact['id']}/accept", headers=pair.club_headers)
    assert await ids(pair.club_headers, status="accepted") == [contact["id"]]
    for bad in ({"role": "both"}, {"status": "open"}, {"limit": 0}):
        response = await profiles.http.get("/contacts", params=bad, headers=pair.club_headers)
        assert response.status_code == 422
    assert (await profiles.http.get("/contacts")).status_code == 401


async def test_invalid_requests_are_refused_with_the_reason(profiles, pair):
    async def refused(headers, body) -> dict:
        response = await profiles.http.post("/contacts", json=body, headers=headers)
        assert 400 <= response.status_code < 500, response.text
        return {"status": response.status_code, **response.json()["error"]}

    too_long = await refused(pair.helper_headers, pair.body("x" * 1001))
    assert too_long["status"] == 422 and too_long["details"][0]["field"] == "message"
    missing = await refused(pair.helper_headers, {"offer_id": pair.offer["id"]})
    assert missing["status"] == 422 and missing["details"][0]["field"] == "need_id"
    malformed = await profiles.http.post("/contacts", content=b"{not json",
                                         headers={**pair.helper_headers,
                                                  "Content-Type": "application/json"})
    assert malformed.status_code == 400

    unknown = await refused(pair.helper_headers, {**pair.body(), "need_id": "no-such-need"})
    assert unknown["status"] == 422 and unknown["details"][0]["field"] == "need_id"
    swapped = await refused(pair.helper_headers, {**pair.body(), "offer_id": pair.need["id"]})
    assert swapped["status"] == 422 and swapped["details"][0]["field"] == "offer_id"

    stranger = identity(unique("stranger"), pair.tenant["id"])
    assert (await refused(stranger, pair.body()))["status"] == 403

    # One user acting for both sides (a person and a club): no request to oneself.
    both = identity(unique("both"), pair.tenant["id"])
    own_helper = await profiles.actor(both, type="person", name="Selbst Helfer")
    own_club = await profiles.actor(both, name="Eigener Verein")
    own_offer = await profiles.item("offer", both, own_helper["id"])
    own_need = await profiles.item("need", both, own_club["id"])
    oneself = await refused(both, {"offer_id": own_offer["id"], "need_id": own_need["id"]})
    assert oneself["status"] == 422 and oneself["details"][0]["field"] == "need_id"

    # Closed items: the other side's closed need is gone for the requester; one's own is a 409.
    await profiles.http.delete(f"/needs/{pair.need['id']}", headers=pair.club_headers)
    assert (await refused(pair.helper_headers, pair.body()))["status"] == 422
    own_closed = await refused(pair.club_headers, pair.body())
    assert own_closed["status"] == 409 and own_closed["code"] == "item_not_open"


async def test_visibility_across_municipalities(profiles):
    home = await profiles.tenant()
    neighbour = await profiles.tenant(neighbours=[home["id"]])
    far = await profiles.tenant()

    # Neighbours see each other's "region" items: contact is possible both ways.
    across = await make_pair(profiles, tenant=home, club_tenant=neighbour,
                             offer={"visibility": "region"}, need={"visibility": "region"})
    asked = await ask_for_contact(profiles, across.helper_headers, across.body())
    assert asked.status_code == 201, asked.text
    assert asked.json()["recipient_tenant"] == neighbour["id"]

    # A need visible statewide, but the offer only in its own town: the far club would not
    # see who asks, so the request is refused, pointing at the requester's own offer.
    lopsided = await make_pair(profiles, tenant=home, club_tenant=far,
                               need={"visibility": "state"})
    refused = await profiles.http.post("/contacts", json=lopsided.body(),
                                       headers=lopsided.helper_headers)
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"]["details"][0]["field"] == "offer_id"
    # The far club does not even see the offer.
    refused = await profiles.http.post("/contacts", json=lopsided.body(),
                                       headers=lopsided.club_headers)
    assert refused.status_code == 422
    assert refused.json()["error"]["details"][0]["field"] == "offer_id"


async def test_export_contains_and_erasure_removes_the_requests(profiles, pair, profiles_db):
    contact = (await ask_for_contact(profiles, pair.helper_headers, pair.body())).json()
    await profiles.http.post(f"/contacts/{contact['id']}/accept", headers=pair.club_headers)

    for headers in (pair.helper_headers, pair.club_headers):
        exported = (await profiles.http.get("/me/export", headers=headers)).json()
        assert [c["id"] for c in exported["contacts"]] == [contact["id"]]
        assert exported["contacts"][0]["message"] == "Ich helfe gern beim Einkaufen."

    erased = await profiles.http.delete("/me", headers=pair.helper_headers)
    assert erased.status_code == 200 and erased.json()["erased_actors"] == [pair.helper["id"]]
    assert await profiles_db.contacts.count_documents({"_id": contact["id"]}) == 0
    assert (await profiles.http.get(f"/contacts/{contact['id']}",
                                    headers=pair.club_headers)).status_code == 404
    listed = (await profiles.http.get("/contacts", headers=pair.club_headers)).json()
    assert listed["items"] == []
    assert (await profiles.http.get("/me/export", headers=pair.club_headers)).json()[
        "contacts"] == []


async def test_every_contact_query_has_an_index(profiles_db, profiles_stack):
    keys = [list(index["key"].keys()) async for index in await profiles_db.contacts.list_indexes()]
    assert ["parties", "_id"] in keys
    assert ["requester_actor_id", "_id"] in keys and ["recipient_actor_id", "_id"] in keys
    assert ["offer_id", "need_id", "status"] in keys
