"""The engagement lifecycle through the gateway on the real stack: a Verein offers a shift with
two places, three volunteers sign up, the third waits; one cancels, the third is promoted (one
`signup.promoted` on the `engagements` topic), and the feeds and the certificate pass the
gateway unchanged."""
from __future__ import annotations

import asyncio
import json
import uuid
from datetime import datetime, timedelta, timezone

import httpx
import pytest
from aiokafka import AIOKafkaConsumer
from pymongo import AsyncMongoClient

from tests.support.api import PublicApi, item_body, unique
from tests.support.waiting import eventually_sync

pytestmark = pytest.mark.e2e
COESFELD = {"lat": 51.9458, "lon": 7.1675}


@pytest.fixture(scope="module")
def api(stack):
    client = PublicApi(stack.url("gateway"))
    yield client
    client.close()


def engagement_events(stack, subject: str) -> list[dict]:
    """Every event about `subject` on the `engagements` topic so far (read from the start)."""
    async def read() -> list[dict]:
        consumer = AIOKafkaConsumer("engagements", bootstrap_servers=stack.kafka_bootstrap,
                                    group_id=f"e2e-engagements-{uuid.uuid4().hex}",
                                    auto_offset_reset="earliest", enable_auto_commit=False)
        await consumer.start()
        found = []
        try:
            while True:
                batch = await consumer.getmany(timeout_ms=1000)
                if not batch:
                    return found
                for records in batch.values():
                    for record in records:
                        envelope = json.loads(record.value)
                        if envelope["subject"] == subject:
                            found.append(envelope)
        finally:
            await consumer.stop()

    return asyncio.run(read())


def at(days: float, hour: int) -> str:
    moment = datetime.now(timezone.utc) + timedelta(days=days)
    return moment.replace(hour=hour, minute=0, second=0, microsecond=0).isoformat()


def test_shift_waitlist_promotion_through_the_gateway(stack, api):
    tenant = api.new_tenant("Coesfeld", COESFELD)
    verein = api.login(unique("verein-admin"), tenant, "org_admin")
    verein_id = api.new_actor(verein, type="association", name="Tafel Coesfeld e.V.",
                              location=COESFELD)
    need = api.http.post("/needs", json=item_body(verein_id, COESFELD,
                                                  title="Helfende für die Lebensmittelausgabe"),
                         headers=verein)
    assert need.status_code == 201, need.text
    need_id = need.json()["id"]

    created = api.http.post(f"/needs/{need_id}/shifts", headers=verein, json={
        "start": at(5, 9), "end": at(5, 12), "places": 2, "place_name": "Marktplatz 1"})
    assert created.status_code == 201, created.text
    shift = created.json()

    volunteers = []
    for n in range(3):
        headers = api.login(unique(f"volunteer{n}"), tenant)
        actor_id = api.new_actor(headers, type="person", name=f"Freiwillige {n}",
                                 location=COESFELD)
        volunteers.append((headers, actor_id))
    signups = []
    for headers, actor_id in volunteers:
        answer = api.http.post(f"/shifts/{shift['id']}/signups", json={"actor_id": actor_id},
                               headers=headers)
        assert answer.status_code == 201, answer.text
        signups.append(answer.json())
    assert [s["status"] for s in signups] == ["confirmed", "confirmed", "waitlisted"]
    assert signups[2]["waitlist_position"] == 1

    cancelled = api.http.post(f"/signups/{signups[0]['id']}/cancel", json={},
                              headers=volunteers[0][0])
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"

    third = api.http.get("/me/signups", headers=volunteers[2][0])
    assert third.status_code == 200, third.text
    assert [(s["id"], s["status"]) for s in third.json()["items"]] == \
        [(signups[2]["id"], "confirmed")]

    events = eventually_sync(
        lambda: (found := engagement_events(stack, shift["id"])) and
        any(e["type"] == "signup.cancelled" for e in found) and found,
        timeout_s=30, interval_s=0.5, message="the shift's events on the topic")
    promoted = [e for e in events if e["type"] == "signup.promoted"]
    assert len(promoted) == 1, [e["type"] for e in events]
    assert promoted[0]["data"]["id"] == signups[2]["id"]

    # Binary and text answers pass the gateway unchanged.
    feed = api.http.get(f"/needs/{need_id}/calendar.ics")
    assert feed.status_code == 200, feed.text
    assert feed.headers["content-type"].startswith("text/calendar")
    assert shift["id"] in feed.text.replace("\r\n ", "")
    link = api.http.get("/me/calendar", headers=volunteers[2][0]).json()["url"]
    assert link.startswith(stack.url("gateway") + "/api/v1/calendars/")
    personal = api.http.get(link.split("/api/v1", 1)[1])
    assert personal.status_code == 200 and shift["id"] in personal.text.replace("\r\n ", "")
    certificate = api.http.get(f"/actors/{volunteers[2][1]}/certificate.pdf",
                               headers=volunteers[2][0])
    assert certificate.status_code == 200, certificate.text
    assert certificate.headers["content-type"] == "application/pdf"
    assert certificate.content.startswith(b"%PDF")


# The 24 h reminder of a shift starting in 24 h + REMINDER_LEAD falls due REMINDER_LEAD from
# now: the test controls the clock by choosing the shift's time.
REMINDER_LEAD = timedelta(seconds=20)


def mails_to(stack, address: str) -> list[dict]:
    return httpx.get(stack.url("mail_http") + "/api/messages", params={"to": address}).json()


def inbox_of(api: PublicApi, headers: dict, type_: str) -> list[dict]:
    answer = api.http.get("/me/notifications", headers=headers)
    assert answer.status_code == 200, answer.text
    return [item for item in answer.json()["items"] if item["type"] == type_]


def stored_reminders(stack, signup_ids: list[str]) -> list[dict]:
    async def read() -> list[dict]:
        client = AsyncMongoClient(stack.mongo_uri_for("notifications"), tz_aware=True)
        try:
            return [doc async for doc in client["notifications"]["reminders"].find(
                {"signup_id": {"$in": signup_ids}})]
        finally:
            await client.close()
    return asyncio.run(read())


def test_promoted_told_once_and_one_24h_reminder_each_across_a_sigkill(stack, api):
    """Acceptance of issue 13 through the gateway: the promoted volunteer is told exactly once,
    and each confirmed volunteer gets exactly one 24 h reminder, not before its time, although
    the notifications service is SIGKILLed between scheduling the reminders and sending them
    (and misses the cancellation and the promotion while it is down)."""
    tenant = api.new_tenant("Dülmen", COESFELD)
    verein = api.login(unique("verein-admin"), tenant, "org_admin")
    verein_id = api.new_actor(verein, type="association", name="DRK Dülmen", location=COESFELD)
    need = api.http.post("/needs", json=item_body(verein_id, COESFELD, title="Blutspende-Team"),
                         headers=verein)
    assert need.status_code == 201, need.text
    start = (datetime.now(timezone.utc) + timedelta(hours=24) + REMINDER_LEAD).replace(
        microsecond=0)
    due_at = start - timedelta(hours=24)
    created = api.http.post(f"/needs/{need.json()['id']}/shifts", headers=verein, json={
        "start": start.isoformat(), "end": (start + timedelta(hours=3)).isoformat(),
        "places": 2, "place_name": "Stadthalle"})
    assert created.status_code == 201, created.text
    shift_id = created.json()["id"]

    volunteers = []  # (headers, actor id, mail address, sign-up)
    for n in range(3):
        headers = api.login(unique(f"spender{n}"), tenant)
        address = f"{unique(f'spender{n}')}@example.org"
        actor_id = api.new_actor(headers, type="person", name=f"Spender {n}",
                                 location=COESFELD, email=address)
        answer = api.http.post(f"/shifts/{shift_id}/signups", json={"actor_id": actor_id},
                               headers=headers)
        assert answer.status_code == 201, answer.text
        volunteers.append((headers, actor_id, address, answer.json()))
    assert [v[3]["status"] for v in volunteers] == ["confirmed", "confirmed", "waitlisted"]
    first, second, third = volunteers

    # Scheduled: the two confirmed sign-ups' 24 h and 2 h reminders are stored.
    eventually_sync(lambda: len(stored_reminders(stack, [first[3]["id"], second[3]["id"]])) == 4,
                    timeout_s=60, interval_s=0.5, message="the confirmed sign-ups' reminders")
    try:
        stack.kill("notifications")  # SIGKILL, before anything is due
        assert datetime.now(timezone.utc) < due_at, "the kill came too late to test it"
        # While it is down, the first cancels and the third moves up.
        cancelled = api.http.post(f"/signups/{first[3]['id']}/cancel", json={},
                                  headers=first[0])
        assert cancelled.status_code == 200, cancelled.text
    finally:
        stack.start_service("notifications")

    def reminded(volunteer) -> bool:
        return bool(inbox_of(api, volunteer[0], "shift.reminder")) and bool(
            [m for m in mails_to(stack, volunteer[2]) if m["subject"].startswith("Erinnerung")])

    eventually_sync(lambda: reminded(second) and reminded(third), timeout_s=180, interval_s=1,
                    message="the 24 h reminders of the confirmed volunteers")

    def sent_or_cancelled() -> bool:
        """Every 24 h reminder has its final state: what came is all that comes."""
        docs = stored_reminders(stack, [v[3]["id"] for v in volunteers])
        day_before = [d for d in docs if d["offset_hours"] == 24]
        return len(day_before) == 3 and all(d["status"] != "scheduled" for d in day_before)

    eventually_sync(sent_or_cancelled, timeout_s=60, interval_s=0.5,
                    message="the 24 h reminders sent or cancelled")
    for volunteer in (second, third):
        [entry] = inbox_of(api, volunteer[0], "shift.reminder")
        assert datetime.fromisoformat(entry["created_at"]) >= due_at, "not before its time"
        reminder_mails = [m for m in mails_to(stack, volunteer[2])
                          if m["subject"].startswith("Erinnerung")]
        assert len(reminder_mails) == 1, [m["subject"] for m in reminder_mails]
    # The one who cancelled is not reminded; the promoted one was told once.
    assert inbox_of(api, first[0], "shift.reminder") == []
    assert not [m for m in mails_to(stack, first[2]) if m["subject"].startswith("Erinnerung")]
    assert len(inbox_of(api, third[0], "signup.promoted")) == 1
    assert len([m for m in mails_to(stack, third[2])
                if m["subject"].startswith("Sie haben einen Platz")]) == 1
