"""Contact requests are for current matches: profiles asks the real matching service, and
goes ahead when matching does not answer."""
from __future__ import annotations

import pytest

from tests.integration.profiles.conftest import unique
from tests.integration.profiles.test_contacts import ask_for_contact, make_pair


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


async def test_a_matching_service_that_does_not_answer_does_not_block(profiles, matching_stack):
    pair = await make_pair(profiles, need={"categories": ["animals"], "title": "Katzen füttern"})
    body = pair.body(f"Trotzdem? {unique('msg')}")
    first = await profiles.http.post("/contacts", json=body, headers=pair.helper_headers)
    assert first.status_code == 422 and first.json()["error"]["code"] == "not_a_match"

    matching_stack.kill("matching")
    try:
        asked = await profiles.http.post("/contacts", json=body, headers=pair.helper_headers)
        assert asked.status_code == 201, asked.text
        assert asked.json()["status"] == "requested"
    finally:
        matching_stack.start_service("matching")
