"""The transactional outbox: accepted changes reach Kafka in order, once, even across a relay crash."""
from __future__ import annotations

import uuid
from collections import Counter
from datetime import datetime, timedelta, timezone

import httpx

from platform_common.events import Envelope, read_event
from tests.integration.profiles.conftest import identity, wait_for_events
from tests.support.waiting import eventually


async def test_changes_reach_the_topics_with_envelope_and_snapshot(profiles, topic_log):
    tenant = await profiles.tenant()
    owner, actor = await profiles.member_with_actor(tenant["id"])
    offer = await profiles.item("offer", owner, actor["id"])
    await profiles.http.patch(f"/offers/{offer['id']}", headers=owner,
                              json={"title": "Einkaufshilfe, neu", "version": 1})
    await profiles.http.delete(f"/offers/{offer['id']}", headers=owner)

    events = await wait_for_events(topic_log, subject=offer["id"], count=3)
    assert [(e["type"], e["data"]["version"]) for e in events] == [
        ("offer.published", 1), ("offer.updated", 2), ("offer.closed", 3)]
    published = events[0]
    assert published["_topic"] == "items" and published["_key"] == offer["id"]
    assert published["source"] == "profiles" and published["tenant"] == tenant["id"]
    assert published["version"] == 2 and uuid.UUID(published["id"])
    assert published["occurred_at"] and published["traceparent"]
    # The payload is the full snapshot, exactly what the API answered.
    envelope, data = read_event(Envelope.model_validate(
        {k: v for k, v in published.items() if not k.startswith("_")}))
    # The API leaves out a hidden_reason that is null; the snapshot carries it as null.
    assert data.model_dump(mode="json", exclude={"hidden_reason"}) == \
        {k: v for k, v in offer.items() if k in type(data).model_fields}
    assert data.hidden_reason is None
    assert events[1]["data"]["title"] == "Einkaufshilfe, neu"
    assert events[2]["data"]["status"] == "closed"

    tenant_events = await wait_for_events(topic_log, subject=tenant["id"])
    assert tenant_events[0]["type"] == "tenant.created" and tenant_events[0]["_topic"] == "tenants"
    actor_events = await wait_for_events(topic_log, subject=actor["id"])
    assert actor_events[0]["type"] == "actor.registered"
    assert actor_events[0]["data"]["email"] == actor["email"]


async def test_relay_reports_readiness_and_outbox_metrics(profiles_stack):
    async with httpx.AsyncClient(base_url=profiles_stack.url("profiles_relay"), timeout=10) as relay:
        ready = await relay.get("/readyz")
        assert ready.status_code == 200
        assert ready.json()["checks"] == {"mongo": "ok", "kafka": "ok", "relay": "ok",
                                          "stats_consumer": "ok"}
        # Metrics only on the metrics port; the main port has none.
        assert (await relay.get("/metrics")).status_code == 404
        metrics = (await relay.get(profiles_stack.metrics_url("profiles-relay"))).text
    assert "outbox_backlog{" in metrics and "# TYPE outbox_published_total counter" in metrics
    async with httpx.AsyncClient(base_url=profiles_stack.url("profiles"), timeout=10) as api:
        assert (await api.get("/readyz")).json()["checks"] == {"mongo": "ok"}


async def test_relay_crash_loses_nothing_and_duplicates_nothing(profiles, profiles_stack,
                                                               profiles_db, topic_log):
    tenant = await profiles.tenant()
    owner, actor = await profiles.member_with_actor(tenant["id"])
    offer = await profiles.item("offer", owner, actor["id"])
    await wait_for_events(topic_log, subject=offer["id"])

    profiles_stack.kill("profiles-relay")
    try:
        # The API still accepts changes: they wait in the outbox.
        changed = await profiles.http.patch(f"/offers/{offer['id']}", headers=owner,
                                            json={"title": "Während der Relay schläft",
                                                  "version": 1})
        assert changed.status_code == 200
        need = await profiles.item("need", owner, actor["id"], title="Neu im Ausfall")
        pending = await profiles_db.outbox.count_documents(
            {"published": False, "key": {"$in": [offer["id"], need["id"]]}})
        assert pending == 2
        assert [e["type"] for e in topic_log.events(subject=offer["id"])] == ["offer.published"]
    finally:
        profiles_stack.start_service("profiles-relay")

    offer_events = await wait_for_events(topic_log, subject=offer["id"], count=2)
    need_events = await wait_for_events(topic_log, subject=need["id"])
    assert [e["data"]["version"] for e in offer_events] == [1, 2]

    async def all_removed():
        return await profiles_db.outbox.count_documents(
            {"key": {"$in": [offer["id"], need["id"]]}}) == 0

    await eventually(all_removed, message="the published records to leave the outbox")
    assert [e["type"] for e in need_events] == ["need.published"]

    # One more change of each as a barrier: same key, same partition, so once it arrived any
    # duplicate of the earlier events would have arrived before it.
    await profiles.http.patch(f"/offers/{offer['id']}", headers=owner,
                              json={"remote": True, "version": 2})
    await profiles.http.patch(f"/needs/{need['id']}", headers=owner,
                              json={"remote": True, "version": 1})
    offer_events = await wait_for_events(topic_log, subject=offer["id"], count=3)
    need_events = await wait_for_events(topic_log, subject=need["id"], count=2)
    assert [e["data"]["version"] for e in offer_events] == [1, 2, 3]
    assert [e["data"]["version"] for e in need_events] == [1, 2]
    counts = Counter(e["id"] for e in offer_events + need_events)
    assert len(counts) == 5 and set(counts.values()) == {1}


async def test_relay_expires_items_whose_last_date_passed(profiles, profiles_stack, topic_log):
    tenant = await profiles.tenant()
    owner, actor = await profiles.member_with_actor(tenant["id"])
    soon = datetime.now(timezone.utc) + timedelta(seconds=2)
    need = await profiles.item("need", owner, actor["id"], schedule={"dates": [
        {"start": (soon - timedelta(hours=1)).isoformat(), "end": soon.isoformat()}]})
    assert need["expires_at"] is not None

    # The relay expires at start and then every ~30 s: a restart makes the test quick.
    async def passed():
        return datetime.now(timezone.utc) > soon

    await eventually(passed, message="the need's last date to pass")
    profiles_stack.kill("profiles-relay")
    profiles_stack.start_service("profiles-relay")

    async def expired():
        response = await profiles.http.get(f"/needs/{need['id']}", headers=owner)
        return response.json()["status"] == "expired"

    await eventually(expired, message="the need to expire")
    events = await wait_for_events(topic_log, subject=need["id"], count=2)
    assert events[-1]["type"] == "need.closed" and events[-1]["data"]["status"] == "expired"
    assert (await profiles.http.get(f"/needs/{need['id']}",
                                    headers=identity("someone", tenant["id"]))).status_code == 404


async def test_relay_expires_items_with_only_weekly_windows_after_their_lifetime(
        profiles, profiles_stack, profiles_db, topic_log):
    """A weekly need ends ONGOING_LIFETIME (180 days) after its owners last changed it; one
    stored before ongoing items had an end (expires_at null) lapses as long after its last
    change. Half a year cannot pass in a test: the documents are aged in the store."""
    tenant = await profiles.tenant()
    owner, actor = await profiles.member_with_actor(tenant["id"])
    weekly = {"dates": [], "weekly": [{"day": "tue", "start": "17:00", "end": "19:00"}]}
    lapsing, legacy, current = [await profiles.item("need", owner, actor["id"], schedule=weekly)
                                for _ in range(3)]
    created = datetime.fromisoformat(lapsing["created_at"])
    assert datetime.fromisoformat(lapsing["expires_at"]) == created + timedelta(days=180)
    long_ago = datetime.now(timezone.utc) - timedelta(days=181)
    await profiles_db.items.update_one({"_id": lapsing["id"]},
                                       {"$set": {"expires_at": long_ago + timedelta(days=180)}})
    await profiles_db.items.update_one({"_id": legacy["id"]},
                                       {"$set": {"expires_at": None, "updated_at": long_ago}})

    # The relay expires at start and then every ~30 s: a restart makes the test quick.
    profiles_stack.kill("profiles-relay")
    profiles_stack.start_service("profiles-relay")

    async def status(need: dict) -> str:
        response = await profiles.http.get(f"/needs/{need['id']}", headers=owner)
        return response.json()["status"]

    async def both_expired():
        return await status(lapsing) == "expired" and await status(legacy) == "expired"

    await eventually(both_expired, message="the weekly needs to expire")
    for need in (lapsing, legacy):
        events = await wait_for_events(topic_log, subject=need["id"], count=2)
        assert events[-1]["type"] == "need.closed" and events[-1]["data"]["status"] == "expired"
    assert await status(current) == "published"
