"""Bad input is refused with the field's path; nothing is stored and nothing is published."""
from __future__ import annotations

import pytest

from tests.integration.profiles.conftest import in_days, offer_body, wait_for_events

BAD_ITEMS = [
    ("empty title", {"title": "   "}, "title"),
    ("unknown category", {"categories": ["social", "knitting"]}, "categories.1"),
    ("latitude 100", {"location": {"lat": 100, "lon": 7.0}}, "location.lat"),
    ("negative radius", {"radius_km": -5}, "radius_km"),
    ("end before start", {"schedule": {"dates": [{"start": in_days(5, 12),
                                                  "end": in_days(5, 10)}]}},
     "schedule.dates.0.end"),
    ("weekly end before start", {"schedule": {"weekly": [{"day": "mon", "start": "18:00",
                                                          "end": "17:00"}]}},
     "schedule.weekly.0.end"),
    ("wrong type", {"capacity": "zwei"}, "capacity"),
    ("wrong type of flag", {"remote": "ja"}, "remote"),
    ("unknown field", {"colour": "blue"}, "colour"),
    ("unknown weekday", {"schedule": {"weekly": [{"day": "moon", "start": "10:00",
                                                  "end": "11:00"}]}}, "schedule.weekly.0.day"),
    ("too many skills", {"skills": [f"skill{n}" for n in range(21)]}, "skills"),
    ("unknown language", {"languages": ["klingon"]}, "languages.0"),
    ("capacity zero", {"capacity": 0}, "capacity"),
]


@pytest.fixture
async def member_with_actor(profiles):
    tenant = await profiles.tenant()
    return await profiles.member_with_actor(tenant["id"])


@pytest.mark.parametrize("case,change,field", BAD_ITEMS, ids=[c[0] for c in BAD_ITEMS])
async def test_bad_item_is_refused_with_its_path(profiles, profiles_db, member_with_actor,
                                                 case, change, field):
    owner, actor = member_with_actor
    response = await profiles.http.post("/offers", json=offer_body(actor["id"], **change),
                                        headers=owner)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert field in [detail["field"] for detail in error["details"]], error
    assert all(detail["message"] for detail in error["details"])
    assert await profiles_db.items.count_documents({"actor_id": actor["id"]}) == 0
    # No item event in the outbox either (the relay deletes what it published, so other
    # records come and go; the topic side is checked by the next test).
    assert await profiles_db.outbox.count_documents(
        {"topic": "items", "envelope": {"$regex": actor["id"]}}) == 0


async def test_refused_items_never_reach_the_topic(profiles, member_with_actor, topic_log):
    owner, actor = member_with_actor
    for _case, change, _field in BAD_ITEMS:
        await profiles.http.post("/offers", json=offer_body(actor["id"], **change), headers=owner)
    good = await profiles.item("offer", owner, actor["id"])

    # The accepted offer's event arrives; it is the only item event of this actor.
    await wait_for_events(topic_log, subject=good["id"])
    of_actor = [e for e in topic_log.events(type_prefix="offer.")
                if e["data"]["actor_id"] == actor["id"]]
    assert [e["subject"] for e in of_actor] == [good["id"]]


async def test_malformed_json_is_a_400(profiles, member_with_actor):
    owner, _actor = member_with_actor
    response = await profiles.http.post("/offers", content=b'{"title": "Hilfe", ',
                                        headers={**owner, "Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "malformed_json"


@pytest.mark.parametrize("body", [b"[" * 1000 + b"]" * 1000,
                                  b'{"type": "person", "type": "company"}'])
async def test_deep_or_duplicate_key_json_is_a_400_from_the_service_itself(profiles,
                                                                          member_with_actor, body):
    # Behind the gateway too: a body nested a thousand deep was a 500, a duplicate key was taken.
    owner, _actor = member_with_actor
    response = await profiles.http.post("/actors", content=body,
                                        headers={**owner, "Content-Type": "application/json"})
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "malformed_json"


async def test_bad_patch_changes_nothing(profiles, member_with_actor):
    owner, actor = member_with_actor
    offer = await profiles.item("offer", owner, actor["id"])
    for body, field in [({"location": {"lat": 45.0, "lon": 200}, "version": 1}, "location.lon"),
                        ({"title": None, "version": 1}, "title"),
                        ({"radius_km": 0.5, "version": 1}, "radius_km"),
                        ({"version": "1"}, "version")]:
        response = await profiles.http.patch(f"/offers/{offer['id']}", json=body, headers=owner)
        assert response.status_code == 422, (body, response.text)
        assert field in [d["field"] for d in response.json()["error"]["details"]]
    unchanged = (await profiles.http.get(f"/offers/{offer['id']}", headers=owner)).json()
    assert unchanged == offer


async def test_bad_actor_and_tenant_bodies_are_refused(profiles, member_with_actor):
    owner, _actor = member_with_actor
    actor = await profiles.http.post("/actors", headers=owner, json={
        "type": "club", "name": "", "email": "keine-adresse", "location": {"lat": 51, "lon": 7}})
    assert actor.status_code == 422
    assert {d["field"] for d in actor.json()["error"]["details"]} == {"type", "name", "email"}
