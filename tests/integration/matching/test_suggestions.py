"""From published offers and needs to explained suggestions, through the real services.

profiles (HTTP) -> outbox relay -> `items` -> matching worker -> `matches` + MongoDB ->
matching API; and events published straight into `items` for the distance rules.
"""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from platform_common.events.models import ItemData, TenantData
from tests.integration.matching.conftest import headers, publish_all, unique
from tests.integration.matching.streams import item_event, tenant_event
from tests.support.kafka import read_topic
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration
KOELN = (50.9375, 6.9603)


def trace_id(traceparent: str | None) -> str | None:
    return traceparent.split("-")[1] if traceparent else None


async def create_tenant(profiles, tenant_id: str) -> None:
    response = await profiles.post("/tenants", headers=headers("op", "land", "operator"), json={
        "id": tenant_id, "name": "Köln-Test", "center": {"lat": KOELN[0], "lon": KOELN[1]}})
    assert response.status_code == 201, response.text


async def create_actor(profiles, who: dict, kind: str, name: str) -> dict:
    response = await profiles.post("/actors", headers=who, json={
        "type": kind, "name": name, "email": f"{unique('mail')}@example.org",
        "location": {"lat": KOELN[0], "lon": KOELN[1]}})
    assert response.status_code == 201, response.text
    return response.json()


def item_body(actor_id: str, *, title: str, lat: float, lon: float, categories: list[str],
              weekly: list[dict], **extra) -> dict:
    return {"actor_id": actor_id, "title": title, "description": "", "categories": categories,
            "skills": [], "requirements": [], "engagement": "regular",
            "location": {"lat": lat, "lon": lon}, "radius_km": 10, "remote": False,
            "schedule": {"dates": [], "weekly": weekly}, "capacity": 1, "visibility": "tenant",
            "languages": ["de"], "accessible": False, **extra}


async def test_offer_and_need_nearby_become_an_explained_suggestion_until_the_need_closes(
        matching_stack, profiles, api, match_log, matching_db):
    tenant = unique("koeln")
    await create_tenant(profiles, tenant)
    helper, club = headers(unique("anna"), tenant), headers(unique("verein"), tenant)
    anna = await create_actor(profiles, helper, "person", "Anna Beispiel")
    verein = await create_actor(profiles, club, "association", "Tafel Köln-Nord e.V.")

    offer = await profiles.post("/offers", headers=helper, json=item_body(
        anna["id"], title="Ich helfe samstags beim Einkaufen", lat=50.94, lon=6.96,
        categories=["elderly", "neighbourhood"],
        weekly=[{"day": "sat", "start": "09:00", "end": "12:00"}]))
    assert offer.status_code == 201, offer.text
    need = await profiles.post("/needs", headers=club, json=item_body(
        verein["id"], title="Begleitung zum Wochenmarkt gesucht", lat=50.955, lon=6.975,
        categories=["elderly"], weekly=[{"day": "sat", "start": "10:00", "end": "13:00"}]))
    assert need.status_code == 201, need.text
    offer_id, need_id = offer.json()["id"], need.json()["id"]

    found = await eventually(lambda: _events(match_log, offer_id, need_id, "match.found"),
                             timeout_s=30, message="match.found on the matches topic")
    event = found[0]
    assert event["tenant"] == tenant and event["source"] == "matching"
    assert event["data"]["offer"] == {"id": offer_id, "actor_id": anna["id"], "tenant": tenant,
                                      "title": "Ich helfe samstags beim Einkaufen"}
    assert event["data"]["need"]["actor_id"] == verein["id"]
    assert 0 < event["data"]["score"] <= 1
    factors = {reason["factor"] for reason in event["data"]["reasons"]}
    assert {"categories", "distance", "schedule"} <= factors
    assert event["data"]["caused_by_event_at"] is not None
    # The trace of the item event that caused the match continues in the match event.
    item_records = await read_topic(matching_stack.kafka_bootstrap, "items", min_count=2)
    item_traces = {trace_id(dict(r.headers).get("traceparent", b"").decode() or None)
                   for r in item_records if r.key and r.key.decode() in (offer_id, need_id)}
    assert trace_id(event["_headers"].get("traceparent")) in item_traces - {None}
    assert trace_id(event["traceparent"]) == trace_id(event["_headers"]["traceparent"])

    shown = await eventually(lambda: _suggestions(api, "offers", offer_id, helper),
                             timeout_s=10, message="the suggestion in the API")
    assert [(s["offer_id"], s["need_id"]) for s in shown] == [(offer_id, need_id)]
    suggestion = shown[0]
    assert suggestion["score"] == event["data"]["score"]
    assert suggestion["need"]["title"] == "Begleitung zum Wochenmarkt gesucht"
    category = next(r for r in suggestion["reasons"] if r["factor"] == "categories")
    assert set(category["label"]) == {"de", "en"} and category["text"] == category["label"]["de"]
    english = await api.get(f"/offers/{offer_id}/matches", params={"lang": "en"}, headers=helper)
    assert all(r["text"] == r["label"]["en"] for r in english.json()["items"][0]["reasons"])
    from_need = await api.get(f"/needs/{need_id}/matches", headers=club)
    assert [(s["offer_id"], s["need_id"]) for s in from_need.json()["items"]] == [(offer_id, need_id)]
    stored = await matching_db.matches.find_one({"_id": f"{offer_id}:{need_id}"})
    assert stored["state"] == "found" and stored["score"] == suggestion["score"]

    closed = await profiles.delete(f"/needs/{need_id}", headers=club)
    assert closed.status_code == 200, closed.text
    await eventually(lambda: _events(match_log, offer_id, need_id, "match.withdrawn"),
                     timeout_s=30, message="match.withdrawn on the matches topic")
    assert await eventually(lambda: _no_suggestions(api, offer_id, helper), timeout_s=10,
                            message="the suggestion leaves the API")
    history = [e["type"] for e in match_log.for_pair(offer_id, need_id)]
    assert history == ["match.found", "match.withdrawn"]


async def test_suggestions_are_private_to_the_parties(profiles, api, match_log):
    tenant = unique("koeln")
    await create_tenant(profiles, tenant)
    helper, club = headers(unique("ben"), tenant), headers(unique("kita"), tenant)
    ben = await create_actor(profiles, helper, "person", "Ben Beispiel")
    kita = await create_actor(profiles, club, "education", "Kita Sonnenschein")
    offer = (await profiles.post("/offers", headers=helper, json=item_body(
        ben["id"], title="Vorlesen für Kinder", lat=50.94, lon=6.96,
        categories=["children_youth"], weekly=[]))).json()
    need = (await profiles.post("/needs", headers=club, json=item_body(
        kita["id"], title="Vorlesepaten gesucht", lat=50.945, lon=6.965,
        categories=["children_youth", "education"], weekly=[]))).json()
    await eventually(lambda: _events(match_log, offer["id"], need["id"], "match.found"),
                     timeout_s=30, message="match.found")
    await eventually(lambda: _suggestions(api, "offers", offer["id"], helper), timeout_s=10,
                     message="the suggestion is stored")

    allowed = {"owner of the need's actor": club,
               "tenant admin": headers("admin", tenant, "tenant_admin"),
               "operator": headers("op", "land", "operator")}
    for who, caller in allowed.items():
        response = await api.get(f"/offers/{offer['id']}/matches", headers=caller)
        assert response.status_code == 200, (who, response.text)
        assert [s["need_id"] for s in response.json()["items"]] == [need["id"]], who

    stranger = await api.get(f"/offers/{offer['id']}/matches", headers=headers("eve", tenant))
    assert stranger.status_code == 403
    assert stranger.json()["error"]["code"] == "forbidden"
    other_admin = headers("admin", unique("bonn"), "tenant_admin")
    assert (await api.get(f"/needs/{need['id']}/matches", headers=other_admin)).status_code in (403, 404)
    assert (await api.get(f"/offers/{offer['id']}/matches")).status_code == 401
    missing = await api.get("/offers/does-not-exist/matches", headers=helper)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    assert (await api.get(f"/offers/{need['id']}/matches", headers=club)).status_code == 404
    bad = await api.get(f"/offers/{offer['id']}/matches", params={"lang": "fr"}, headers=helper)
    assert bad.status_code == 422 and bad.json()["error"]["details"][0]["field"] == "lang"
    too_many = await api.get(f"/offers/{offer['id']}/matches", params={"limit": 0}, headers=helper)
    assert too_many.status_code == 422


async def test_offers_outside_either_radius_never_match_unless_remote(producer, match_log,
                                                                      matching_db):
    now = datetime.now(timezone.utc)
    tenant = TenantData(id=unique("koeln"), name="Köln", center={"lat": KOELN[0], "lon": KOELN[1]},
                        version=1)
    await publish_all(producer, [tenant_event(tenant)])

    def item(kind: str, lat: float, lon: float, radius: float, **extra) -> ItemData:
        return ItemData(id=unique(kind), kind=kind, tenant=tenant.id, actor_id=unique("actor"),
                        actor_type="association", title=f"{kind} at {lat},{lon}",
                        categories=["environment"], engagement="project",
                        location={"lat": lat, "lon": lon}, radius_km=radius,
                        created_at=now, updated_at=now, version=1, **extra)

    need = item("need", 50.94, 6.96, 10)
    beyond_both = item("offer", 51.45, 7.01, 10)          # Essen, ~57 km away
    beyond_need = item("offer", 51.10, 6.96, 40)          # ~18 km: within its own radius only
    beyond_offer = item("offer", 50.94, 7.07, 5)          # ~7.7 km: within the need's only
    remote = item("offer", 51.45, 7.01, 10, remote=True)  # far away, but remote
    near = item("offer", 50.945, 6.97, 10)
    # All keyed by the need: one partition, so by the time the near offer's match shows, the
    # worker has handled every offer before it.
    offers = [beyond_both, beyond_need, beyond_offer, remote, near]
    await publish_all(producer, [item_event(need, "published")] +
                      [item_event(o, "published") for o in offers], keys=[need.id] * 6, chunk=1)

    await eventually(lambda: _events(match_log, near.id, need.id, "match.found"), timeout_s=30,
                     message="the near offer's match")
    for far in (beyond_both, beyond_need, beyond_offer):
        assert match_log.for_pair(far.id, need.id) == []
        assert await matching_db.matches.find_one({"_id": f"{far.id}:{need.id}"}) is None
    assert [e["type"] for e in match_log.for_pair(remote.id, need.id)] == ["match.found"]
    distance = next(r for r in match_log.for_pair(remote.id, need.id)[0]["data"]["reasons"]
                    if r["factor"] == "distance")
    assert distance["value"] == 1.0 and "remote" in distance["label"]["en"].lower()


async def _events(log, offer_id: str, need_id: str, kind: str) -> list[dict]:
    return [e for e in log.for_pair(offer_id, need_id) if e["type"] == kind]


async def _suggestions(api, kinds: str, item_id: str, caller: dict) -> list[dict]:
    response = await api.get(f"/{kinds}/{item_id}/matches", headers=caller)
    if response.status_code == 404:
        # Matching's directory has not consumed the item's event yet (its own consumer, next
        # to the worker's feed): the item does not exist for the API until then.
        return []
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def _no_suggestions(api, offer_id: str, caller: dict) -> bool:
    response = await api.get(f"/offers/{offer_id}/matches", headers=caller)
    assert response.status_code == 200, response.text
    return response.json()["items"] == []


async def test_an_erased_person_leaves_no_title_in_stored_suggestions(profiles, match_log,
                                                                      matching_db):
    tenant = unique("koeln")
    await create_tenant(profiles, tenant)
    person, club = headers(unique("carla"), tenant), headers(unique("verein"), tenant)
    carla = await create_actor(profiles, person, "person", "Carla Beispiel")
    verein = await create_actor(profiles, club, "association", "Umweltgruppe Ehrenfeld")
    title = "Carla Beispiel gärtnert gern in Ehrenfeld"
    offer = (await profiles.post("/offers", headers=person, json=item_body(
        carla["id"], title=title, lat=50.95, lon=6.92, categories=["environment"],
        weekly=[]))).json()
    need = (await profiles.post("/needs", headers=club, json=item_body(
        verein["id"], title="Beetpaten gesucht", lat=50.952, lon=6.925,
        categories=["environment"], weekly=[]))).json()
    await eventually(lambda: _events(match_log, offer["id"], need["id"], "match.found"),
                     timeout_s=30, message="match.found")
    # The pair is withdrawn first (the need closes): its stored record still names the offer.
    assert (await profiles.delete(f"/needs/{need['id']}", headers=club)).status_code == 200
    await eventually(lambda: _events(match_log, offer["id"], need["id"], "match.withdrawn"),
                     timeout_s=30, message="match.withdrawn")
    stored = await matching_db.matches.find_one({"_id": f"{offer['id']}:{need['id']}"})
    assert stored["offer"]["title"] == title

    erased = await profiles.delete("/me", headers=person)
    assert erased.status_code == 200 and erased.json()["erased_actors"] == [carla["id"]]

    async def title_gone():
        doc = await matching_db.matches.find_one({"_id": f"{offer['id']}:{need['id']}"})
        return doc["offer"]["title"] == ""
    await eventually(title_gone, timeout_s=30, message="the erased person's title is forgotten")
    assert await matching_db.matches.find_one({"offer.title": title}) is None
