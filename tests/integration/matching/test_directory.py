"""Matching answers who may see what from its own directory, fed by the events it consumes, as
profiles would: no call to profiles. A new item exists for the suggestions API once the
directory consumed its event; the export lists the caller's items' pairs in every state."""
from __future__ import annotations

import pytest

from tests.integration.matching.conftest import headers, unique
from tests.integration.matching.test_suggestions import (
    _events, create_actor, create_tenant, item_body,
)
from tests.support.identity import sub_of
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration


async def matches_status(api, kinds: str, item_id: str, caller: dict | None) -> int:
    return (await api.get(f"/{kinds}/{item_id}/matches", headers=caller or {})).status_code


async def test_the_api_is_ready_only_with_its_directory_consumer(api):
    ready = await api.get("/readyz")
    assert ready.status_code == 200, ready.text
    assert ready.json()["checks"] == {"mongodb": "ok", "kafka": "ok", "consumer": "ok"}


async def test_visibility_and_ownership_follow_profiles_events(profiles, api, matching_db):
    tenant, elsewhere = unique("koeln"), unique("essen")
    for t in (tenant, elsewhere):
        await create_tenant(profiles, t)
    owner, colleague = headers(unique("ida"), tenant, "org_admin"), headers(unique("jan"), tenant)
    verein = await create_actor(profiles, owner, "association", "Lesefreunde e.V.")
    need = await profiles.post("/needs", headers=owner, json=item_body(
        verein["id"], title="Vorlesen am Dienstag", lat=50.94, lon=6.96,
        categories=["education"], weekly=[]))
    assert need.status_code == 201, need.text
    need_id = need.json()["id"]

    async def owner_sees() -> bool:
        return await matches_status(api, "needs", need_id, owner) == 200
    await eventually(owner_sees, timeout_s=15, message="the need in matching's directory")
    stored = await matching_db.directory_items.find_one({"_id": need_id})
    assert (stored["kind"], stored["tenant"], stored["actor_id"], stored["status"],
            stored["visibility"]) == ("need", tenant, verein["id"], "published", "tenant")
    # Seen by its tenant (no party of any suggestion: 403), unknown elsewhere, as in profiles.
    assert await matches_status(api, "needs", need_id, colleague) == 403
    assert await matches_status(api, "needs", need_id, headers(unique("x"), elsewhere)) == 404
    assert await matches_status(api, "offers", need_id, owner) == 404

    # A new owner (actor.updated) sees the need's suggestions once the event arrived.
    added = await profiles.post(f"/actors/{verein['id']}/members",
                                json={"sub": sub_of(colleague)}, headers=owner)
    assert added.status_code == 200, added.text

    async def colleague_sees() -> bool:
        return await matches_status(api, "needs", need_id, colleague) == 200
    await eventually(colleague_sees, timeout_s=15, message="the new owner in the directory")

    # Hidden by a moderator: only owners and moderators still see it.
    hidden = await profiles.post(f"/needs/{need_id}/hide",
                                 json={"reason": "Bitte ohne Telefonnummer im Titel."},
                                 headers=headers("admin", tenant, "tenant_admin"))
    assert hidden.status_code == 200, hidden.text
    stranger = headers(unique("eve"), tenant)

    async def hidden_from_stranger() -> bool:
        return await matches_status(api, "needs", need_id, stranger) == 404
    await eventually(hidden_from_stranger, timeout_s=15, message="the hidden status")
    assert await matches_status(api, "needs", need_id, owner) == 200
    assert await matches_status(api, "needs", need_id,
                                headers("admin", tenant, "tenant_admin")) == 200


async def test_the_export_lists_found_and_withdrawn_pairs_of_the_callers_items(
        profiles, api, match_log):
    tenant = unique("koeln")
    await create_tenant(profiles, tenant)
    helper, club = headers(unique("lea"), tenant), headers(unique("tafel"), tenant)
    lea = await create_actor(profiles, helper, "person", "Lea Beispiel")
    tafel = await create_actor(profiles, club, "association", "Tafel Süd")
    offer = await profiles.post("/offers", headers=helper, json=item_body(
        lea["id"], title="Ich fahre Lebensmittel aus", lat=50.92, lon=6.95,
        categories=["social"], weekly=[]))
    assert offer.status_code == 201, offer.text
    need = await profiles.post("/needs", headers=club, json=item_body(
        tafel["id"], title="Fahrerin gesucht", lat=50.921, lon=6.951,
        categories=["social"], weekly=[]))
    assert need.status_code == 201, need.text
    offer, need = offer.json(), need.json()
    await eventually(lambda: _events(match_log, offer["id"], need["id"], "match.found"),
                     timeout_s=30, message="match.found")

    async def exported(caller: dict, state: str) -> bool:
        answer = await api.get("/me/export", headers=caller)
        assert answer.status_code == 200, answer.text
        return [(m["offer_id"], m["need_id"], m["state"]) for m in answer.json()["matches"]] == [
            (offer["id"], need["id"], state)]
    await eventually(lambda: exported(helper, "found"), timeout_s=15, message="the export")
    assert await exported(club, "found")
    assert (await profiles.delete(f"/needs/{need['id']}", headers=club)).status_code == 200
    await eventually(lambda: _events(match_log, offer["id"], need["id"], "match.withdrawn"),
                     timeout_s=30, message="match.withdrawn")
    # The closed need is still the club's: its withdrawn pair stays in the export.
    await eventually(lambda: exported(club, "withdrawn"), timeout_s=15,
                     message="the withdrawn pair in the export")
    stranger = await api.get("/me/export", headers=headers(unique("eve"), tenant))
    assert stranger.json() == {"matches": []}
