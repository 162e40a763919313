"""Reminders on the real stack: engagement events through the real broker, the reminder stored
in MongoDB, sent once (inbox and SMTP sink) when its time comes and not before, also when the
notifications process is SIGKILLed between storing and sending it (that one end to end through
the gateway: tests/e2e/test_engagements.py)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from pymongo import AsyncMongoClient

from platform_common.events import make_event
from platform_common.events.models import ShiftData, SignupData
from tests.integration.notifications.conftest import TENANT, TUNED_ENV, new_id
from tests.support.waiting import eventually

TITLE = "Lebensmittelausgabe am Samstag"
# The 24 h reminder of a shift starting in 24 h + LEAD falls due LEAD from now.
LEAD = timedelta(seconds=12)


@pytest.fixture
async def store(notifications):
    client = AsyncMongoClient(notifications.mongo_uri_for("notifications"), tz_aware=True)
    yield client["notifications"]
    await client.close()


async def publish_confirmed_signup(platform, volunteer,
                                   lead: timedelta = LEAD) -> tuple[str, datetime]:
    """A shift starting in 24 h + `lead` and the volunteer's confirmed sign-up; (signup id, due
    time of the 24 h reminder)."""
    shift_id, signup_id, item_id = new_id("shift"), new_id("signup"), new_id("offer")
    now = datetime.now(timezone.utc)
    start = (now + timedelta(hours=24) + lead).replace(microsecond=0)
    end = start + timedelta(hours=3)
    shift = ShiftData(id=shift_id, tenant=TENANT, item_id=item_id, item_kind="offer",
                      item_title=TITLE, actor_id=new_id("actor"), start=start, end=end,
                      place_name="Tafel Köln-Mitte", places=2, places_left=1, version=1)
    signup = SignupData(id=signup_id, tenant=TENANT, shift_id=shift_id, item_id=item_id,
                        volunteer_actor_id=volunteer.id, organisation_actor_id=shift.actor_id,
                        status="confirmed", shift_start=start, shift_end=end, version=1)
    for type_, data in (("shift.scheduled", shift), ("signup.confirmed", signup)):
        # Key = shift id, as profiles publishes them: one partition, in order.
        await platform.producer.publish(make_event(type_, tenant=TENANT, subject=data.id,
                                                   source="tests", data=data), key=shift_id)
    return signup_id, start - timedelta(hours=24)


async def stored_reminder(store, signup_id: str) -> dict:
    async def both_stored():
        found = [doc async for doc in store.reminders.find({"signup_id": signup_id})]
        return found if len(found) == 2 else None

    found = await eventually(both_stored, timeout_s=30, message="the sign-up's two reminders")
    assert sorted(doc["offset_hours"] for doc in found) == [2, 24]
    return next(doc for doc in found if doc["offset_hours"] == 24)


async def reminders_in_inbox(platform, volunteer) -> list[dict]:
    return [item for item in (await platform.inbox(volunteer))["items"]
            if item["type"] == "shift.reminder"]


async def assert_sent_once_at_its_time(platform, store, volunteer, signup_id: str,
                                       due_at: datetime) -> None:
    mails = await eventually(lambda: platform.mails(volunteer.email), timeout_s=90,
                             message="the reminder mail")
    async def marked_sent():
        doc = await store.reminders.find_one({"signup_id": signup_id, "offset_hours": 24})
        return doc if doc["status"] == "sent" else None

    await eventually(marked_sent, timeout_s=30, message="the reminder marked sent")
    # The task has finished with it: what came is all that comes.
    mails = await platform.mails(volunteer.email)
    assert len(mails) == 1, [mail["subject"] for mail in mails]
    assert mails[0]["subject"].startswith(f"Erinnerung: {TITLE} am ")
    assert "In 24 Stunden beginnt" in mails[0]["text"]
    [entry] = await reminders_in_inbox(platform, volunteer)
    assert datetime.fromisoformat(entry["created_at"]) >= due_at  # not before its time
    [email] = [d for d in await platform.deliveries(volunteer) if d["channel"] == "email"]
    assert email["status"] == "sent"
    assert (await store.reminders.find_one({"signup_id": signup_id, "offset_hours": 2}))[
        "status"] == "scheduled"  # the 2 h one waits for its own time


async def test_a_reminder_arrives_once_in_inbox_and_mail_when_its_time_comes(platform, store):
    volunteer = await platform.register()
    signup_id, due_at = await publish_confirmed_signup(platform, volunteer)
    reminder = await stored_reminder(store, signup_id)
    assert reminder["due_at"] == due_at and reminder["status"] == "scheduled"
    if datetime.now(timezone.utc) < due_at:  # stored well before its time: nothing yet
        assert await platform.mails(volunteer.email) == []
        assert await reminders_in_inbox(platform, volunteer) == []
    await assert_sent_once_at_its_time(platform, store, volunteer, signup_id, due_at)


async def test_reminder_hours_are_a_preference_checked_on_put(platform):
    volunteer = await platform.register()
    put = "/me/notification-preferences"
    for bad in ([0], [169], [1, 2, 3, 4], [2.5], [True], ["24"], 24):
        response = await platform.api.put(put, headers=volunteer.headers,
                                          json={"actor_id": volunteer.id, "reminder_hours": bad})
        assert response.status_code == 422, (bad, response.text)
        error = response.json()["error"]
        assert error["code"] == "validation_error"
        assert any(detail["field"].startswith("reminder_hours") for detail in error["details"]), \
            (bad, error)
    current = await platform.api.get(put, headers=volunteer.headers,
                                     params={"actor_id": volunteer.id})
    assert current.json()["reminder_hours"] == [24, 2]  # nothing changed
    saved = await platform.api.put(put, headers=volunteer.headers,
                                   json={"actor_id": volunteer.id, "reminder_hours": [2, 48]})
    assert saved.status_code == 200 and saved.json()["reminder_hours"] == [48, 2]


async def test_changed_reminder_hours_replan_the_pending_reminders(platform, store):
    """A person's new reminder_hours reach the reminders already scheduled for their sign-up."""
    volunteer = await platform.register()
    # Far enough ahead that no reminder falls due during the test.
    signup_id, due_24h = await publish_confirmed_signup(platform, volunteer,
                                                        lead=timedelta(days=1))
    await stored_reminder(store, signup_id)
    # The sign-up's copy is stored after its reminders: the re-plan starts from it.
    await eventually(lambda: store.signups.find_one({"_id": signup_id}), timeout_s=30,
                     message="the sign-up's copy")
    start = due_24h + timedelta(hours=24)
    saved = await platform.api.put("/me/notification-preferences", headers=volunteer.headers,
                                   json={"actor_id": volunteer.id, "reminder_hours": [5, 2]})
    assert saved.status_code == 200 and saved.json()["reminder_hours"] == [5, 2]
    planned = {doc["offset_hours"]: (doc["status"], doc["due_at"])
               async for doc in store.reminders.find({"signup_id": signup_id})}
    assert planned == {24: ("cancelled", due_24h), 5: ("scheduled", start - timedelta(hours=5)),
                       2: ("scheduled", start - timedelta(hours=2))}
    assert (await store.preferences.find_one({"_id": volunteer.id}))[
        "reminders_replan_since"] is None  # finished in the request
    exported = await platform.api.get("/me/export", headers=volunteer.headers)
    [actor] = exported.json()["actors"]
    assert sorted(r["offset_hours"] for r in actor["reminders"]) == [2, 5]  # the scheduled
