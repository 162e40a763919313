"""Contact requests are for current matches: profiles knows them from the real matching
worker's `matches` events (its own read model), so it needs no answer from matching."""
from __future__ import annotations

import pytest

from tests.integration.profiles.conftest import unique
from tests.integration.profiles.test_contacts import ask_for_contact, make_pair
from tests.support.waiting import eventually


@pytest.fixture(scope="module")
def matching_stack(services):
    return services("profiles", "profiles-relay", "matching", "matching-worker")


async def test_only_current_matches_may_be_asked(profiles, matching_stack):
    pair = await make_pair(profiles)
    # Another need of the same club that shares no category with the offer: never a match.
    unmatched_need = await profiles.item("need", pair.club_headers, pair.club["id"],
                                         title="Katzen füttern", categories=["animals"])
    # A third party whose only need does not match the offer either.
    outsider_headers, outsider = await profiles.member_with_actor(pair.tenant["id"],
                                                                  name="Tierheim e.V.")
    outsider_need = await profiles.item("need", outsider_headers, outsider["id"],
                                        title="Hunde ausführen", categories=["animals"])

    # The matching pair, once the matcher found it (eventually consistent).
    asked = await ask_for_contact(profiles, pair.helper_headers, pair.body())
    assert asked.status_code == 201, asked.text

    async def refused(headers, need_id) -> dict:
        response = await profiles.http.post(
            "/contacts", json={"offer_id": pair.offer["id"], "need_id": need_id},
            headers=headers)
        assert response.status_code == 422, response.text
        return response.json()["error"]

    # From the offer's side (matching lists all of the offer's suggestions) ...
    error = await refused(pair.helper_headers, unmatched_need["id"])
    assert error["code"] == "not_a_match" and error["details"][0]["field"] == "need_id"
    # ... from the side of a need that has another match with the offer ...
    assert (await refused(pair.club_headers, unmatched_need["id"]))["code"] == "not_a_match"
    # ... and from a need's side without any match with the offer (matching answers 403).
    assert (await refused(outsider_headers, outsider_need["id"]))["code"] == "not_a_match"


async def test_a_current_match_may_be_asked_while_matching_is_down(profiles, matching_stack):
    pair = await make_pair(profiles)
    # Known as a match (the first request waits for that), then matching's API goes away.
    first = await ask_for_contact(profiles, pair.club_headers, pair.body(f"Erst? {unique('m')}"))
    assert first.status_code == 201, first.text
    assert (await profiles.http.post(f"/contacts/{first.json()['id']}/decline",
                                     headers=pair.helper_headers)).status_code == 200

    matching_stack.kill("matching")
    try:
        asked = await profiles.http.post("/contacts", json=pair.body("Doch noch?"),
                                         headers=pair.helper_headers)
        assert asked.status_code == 201, asked.text
        assert asked.json()["status"] == "requested"
    finally:
        matching_stack.start_service("matching")


async def test_a_withdrawn_match_may_no_longer_be_asked(profiles, profiles_db, matching_stack):
    # A pair the matcher never finds (no shared category), announced and withdrawn by hand.
    pair = await make_pair(profiles, need={"categories": ["animals"], "title": "Katzen füttern"},
                           announce=False)
    key = f"{pair.offer['id']}:{pair.need['id']}"
    await profiles.announce(pair.offer, pair.need)
    await profiles.announce(pair.offer, pair.need, type="match.withdrawn")

    async def withdrawn():
        doc = await profiles_db.suggestions.find_one({"_id": key})
        return doc if doc and not doc["current"] else None

    await eventually(withdrawn, timeout_s=30, message="the withdrawal recorded")
    refused = await profiles.http.post("/contacts", json=pair.body(), headers=pair.helper_headers)
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "not_a_match"
