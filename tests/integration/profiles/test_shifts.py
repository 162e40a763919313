"""Shifts, sign-ups with a waitlist and hours against the real profiles API and relay: the API,
bad input (422 with the field, nothing changed), the race for the last place, and the events
on the `engagements` topic (through the outbox)."""
from __future__ import annotations

import asyncio
import json
import subprocess
from datetime import datetime, timedelta, timezone

import pytest

from tests.integration.profiles.conftest import Profiles, identity, unique
from tests.support.waiting import eventually


def at(hours_from_now: float) -> str:
    moment = datetime.now(timezone.utc) + timedelta(hours=hours_from_now)
    return moment.replace(microsecond=0).isoformat()


def shift_body(**overrides) -> dict:
    return {"start": at(72), "end": at(75), "places": 2, "place_name": "Marktplatz 1",
            "note": "Bitte festes Schuhwerk", **overrides}


class Town:
    def __init__(self, profiles: Profiles, tenant: dict, club_headers: dict, club: dict,
                 need: dict):
        self.profiles, self.tenant = profiles, tenant
        self.club_headers, self.club, self.need = club_headers, club, need

    @property
    def http(self):
        return self.profiles.http

    async def volunteer(self, name: str = "Vera Volunteer") -> tuple[dict, dict]:
        return await self.profiles.member_with_actor(
            self.tenant["id"], type="person", name=name, email=f"{unique('v')}@example.org")

    async def shift(self, **overrides) -> dict:
        answer = await self.http.post(f"/needs/{self.need['id']}/shifts",
                                      json=shift_body(**overrides), headers=self.club_headers)
        assert answer.status_code == 201, answer.text
        return answer.json()

    async def sign_up(self, shift: dict, headers: dict, actor: dict):
        return await self.http.post(f"/shifts/{shift['id']}/signups",
                                    json={"actor_id": actor["id"]}, headers=headers)


@pytest.fixture
async def town(profiles) -> Town:
    tenant = await profiles.tenant()
    club_headers, club = await profiles.member_with_actor(
        tenant["id"], name="Tafel Testhausen e.V.", email=f"{unique('tafel')}@example.org")
    need = await profiles.item("need", club_headers, club["id"], title="Helfende für die Tafel",
                               visibility="state")
    return Town(profiles, tenant, club_headers, club, need)


async def move_to_past(profiles_db, shift: dict, *, hours_ago: float = 5) -> None:
    """Make a shift lie in the past (the API refuses to create one)."""
    start = datetime.now(timezone.utc) - timedelta(hours=hours_ago)
    await profiles_db.shifts.update_one({"_id": shift["id"]}, {"$set": {
        "start": start, "end": start + timedelta(hours=3)}})


def pdf_text(content: bytes) -> str:
    done = subprocess.run(["pdftotext", "-", "-"], input=content, capture_output=True,
                          check=True)
    return done.stdout.decode()


def errors_of(answer) -> tuple[str, list[str]]:
    error = answer.json()["error"]
    return error["code"], [detail["field"] for detail in error.get("details") or []]


async def test_waitlist_cancel_promote_and_privacy(town, topic_log):
    shift = await town.shift()
    assert (shift["places"], shift["places_left"], shift["confirmed"]) == (2, 2, 0)
    people = [await town.volunteer(f"Person {n}") for n in range(3)]
    answers = [await town.sign_up(shift, headers, actor) for headers, actor in people]
    assert [a.status_code for a in answers] == [201, 201, 201], [a.text for a in answers]
    signups = [a.json() for a in answers]
    assert [s["status"] for s in signups] == ["confirmed", "confirmed", "waitlisted"]
    assert signups[2]["waitlist_position"] == 1

    # The public sees counts, never names; the organisation sees who is coming.
    public = (await town.http.get(f"/shifts/{shift['id']}")).json()
    assert (public["confirmed"], public["waitlisted"], public["places_left"]) == (2, 1, 0)
    assert "Person" not in json.dumps(public) and public["my_signup"] is None
    listed = await town.http.get(f"/shifts/{shift['id']}/signups", headers=town.club_headers)
    assert listed.status_code == 200, listed.text
    assert {s["volunteer_name"] for s in listed.json()["items"]} == {"Person 0", "Person 1",
                                                                   "Person 2"}
    refused = await town.http.get(f"/shifts/{shift['id']}/signups", headers=people[0][0])
    assert refused.status_code == 403
    again = await town.sign_up(shift, *people[0])
    assert again.status_code == 409 and again.json()["error"]["code"] == "already_signed_up"

    cancelled = await town.http.post(f"/signups/{signups[1]['id']}/cancel", json={},
                                     headers=people[1][0])
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    mine = (await town.http.get("/me/signups", headers=people[2][0])).json()["items"]
    assert [(s["id"], s["status"]) for s in mine] == [(signups[2]["id"], "confirmed")]
    assert mine[0]["shift"]["item_title"] == "Helfende für die Tafel"

    # Removal by the organisation needs a reason.
    no_reason = await town.http.post(f"/signups/{signups[0]['id']}/cancel", json={},
                                     headers=town.club_headers)
    assert no_reason.status_code == 422 and errors_of(no_reason)[1] == ["reason"]
    removed = await town.http.post(f"/signups/{signups[0]['id']}/cancel",
                                   json={"reason": "Doppelt eingetragen"},
                                   headers=town.club_headers)
    assert removed.status_code == 200 and removed.json()["status"] == "removed"

    async def published():
        events = [e for e in topic_log.events(subject=shift["id"])]
        return events if len(events) >= 7 else None

    events = await eventually(published, timeout_s=20, message="the shift's events")
    assert all(e["_key"] == shift["id"] for e in events)
    assert [e["type"] for e in events] == [
        "shift.scheduled", "signup.confirmed", "signup.confirmed", "signup.waitlisted",
        "signup.cancelled", "signup.promoted", "signup.removed"]
    promoted = [e for e in events if e["type"] == "signup.promoted"]
    assert len(promoted) == 1 and promoted[0]["data"]["id"] == signups[2]["id"]
    assert promoted[0]["data"]["volunteer_actor_id"] == people[2][1]["id"]


BAD_SHIFTS = [
    ("end before start", {"start": at(50), "end": at(48)}, "end"),
    ("longer than 24 h", {"start": at(50), "end": at(80)}, "end"),
    ("start in the past", {"start": at(-2), "end": at(1)}, "start"),
    ("negative places", {"places": -1}, "places"),
    ("no places", {"places": 0}, "places"),
    ("negative cut-off", {"cancel_cutoff_hours": -1}, "cancel_cutoff_hours"),
]


@pytest.mark.parametrize("case,change,field", BAD_SHIFTS, ids=[c[0] for c in BAD_SHIFTS])
async def test_bad_shifts_are_refused_and_nothing_is_stored(town, profiles_db, case, change,
                                                            field):
    answer = await town.http.post(f"/needs/{town.need['id']}/shifts",
                                  json=shift_body(**change), headers=town.club_headers)
    assert answer.status_code == 422, answer.text
    assert field in errors_of(answer)[1]
    assert await profiles_db.shifts.count_documents({"item_id": town.need["id"]}) == 0


async def test_bad_signups_and_hours_change_nothing(town, profiles_db):
    shift = await town.shift()
    headers, actor = await town.volunteer()
    past = await town.shift()
    await move_to_past(profiles_db, past)
    late = await town.sign_up(past, headers, actor)
    assert late.status_code == 422 and errors_of(late)[1] == ["shift_id"]
    assert await profiles_db.signups.count_documents({"shift_id": past["id"]}) == 0
    own = await town.sign_up(shift, town.club_headers, town.club)
    assert own.status_code == 422 and errors_of(own)[1] == ["actor_id"]

    signup = (await town.sign_up(shift, headers, actor)).json()
    early = await town.http.post(f"/signups/{signup['id']}/hours", json={"hours": 2},
                                 headers=town.club_headers)
    assert early.status_code == 422 and errors_of(early)[1] == ["signup_id"]
    await move_to_past(profiles_db, shift)
    for hours in (25, 0, -1, 4.5):  # over 24, none, negative, longer than the shift + 1
        answer = await town.http.post(f"/signups/{signup['id']}/hours", json={"hours": hours},
                                      headers=town.club_headers)
        assert answer.status_code == 422, answer.text
        assert errors_of(answer)[1] == ["hours"]
    stored = await profiles_db.signups.find_one({"_id": signup["id"]})
    assert stored["hours_status"] is None and stored["version"] == 1


async def test_hours_card_certificate_and_stats(town, profiles_db):
    shift = await town.shift()
    headers, actor = await town.volunteer("Hanna Helferin")
    no_show_headers, no_show = await town.volunteer()
    signup = (await town.sign_up(shift, headers, actor)).json()
    other = (await town.sign_up(shift, no_show_headers, no_show)).json()
    await move_to_past(profiles_db, shift)

    proposed = await town.http.post(f"/signups/{signup['id']}/hours", json={"hours": 2.5},
                                    headers=headers)
    assert proposed.status_code == 200 and proposed.json()["hours"]["status"] == "proposed"
    confirmed = await town.http.post(f"/signups/{signup['id']}/hours/confirm",
                                     headers=town.club_headers)
    assert confirmed.status_code == 200 and confirmed.json()["hours"]["status"] == "confirmed"
    absent = await town.http.post(f"/signups/{other['id']}/hours", json={"attended": False},
                                  headers=town.club_headers)
    assert absent.status_code == 200, absent.text

    admin = identity(unique("admin"), town.tenant["id"], "tenant_admin")
    card = await town.http.patch(f"/tenants/{town.tenant['id']}", headers=admin,
                                 json={"volunteer_card": {"hours_per_year": 100},
                                       "version": town.tenant["version"]})
    assert card.status_code == 200 and card.json()["volunteer_card"] == {"hours_per_year": 100}
    summary = (await town.http.get(f"/actors/{actor['id']}/hours", headers=headers)).json()
    assert summary["total_hours"] == 2.5
    assert summary["by_organisation"] == [{"actor_id": town.club["id"],
                                           "name": "Tafel Testhausen e.V.", "hours": 2.5}]
    assert summary["card"]["threshold_hours_per_year"] == 100
    assert (await town.http.get(f"/actors/{actor['id']}/hours",
                                headers=no_show_headers)).status_code == 403

    pdf = await town.http.get(f"/actors/{actor['id']}/certificate.pdf", headers=headers)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    text = pdf_text(pdf.content)
    assert "Hanna Helferin" in text and "Tafel Testhausen e.V." in text and "2,5" in text
    issued = await town.http.get(
        f"/actors/{town.club['id']}/volunteers/{actor['id']}/certificate.pdf",
        headers=town.club_headers)
    assert issued.status_code == 200 and issued.content.startswith(b"%PDF")

    stats = (await town.http.get(f"/tenants/{town.tenant['id']}/stats", headers=admin)).json()
    assert {k: stats[k] for k in ("shifts", "signups", "waitlisted", "no_shows",
                                  "hours_confirmed")} == \
        {"shifts": 1, "signups": 2, "waitlisted": 0, "no_shows": 1, "hours_confirmed": 2.5}


async def test_two_signups_race_for_the_last_place(town, profiles_db):
    shift = await town.shift(places=1)
    people = [await town.volunteer(f"Racer {n}") for n in range(6)]
    answers = await asyncio.gather(*(town.sign_up(shift, h, a) for h, a in people))
    assert all(a.status_code == 201 for a in answers), [a.text for a in answers]
    statuses = sorted(a.json()["status"] for a in answers)
    assert statuses == ["confirmed"] + ["waitlisted"] * 5
    positions = sorted(a.json()["waitlist_position"] for a in answers
                       if a.json()["status"] == "waitlisted")
    assert positions == [1, 2, 3, 4, 5]
    stored = await profiles_db.shifts.find_one({"_id": shift["id"]})
    assert (stored["confirmed"], stored["waitlisted"]) == (1, 5)


async def test_calendars_and_the_secret_feed(town):
    shift = await town.shift()
    headers, actor = await town.volunteer()
    await town.sign_up(shift, headers, actor)
    feed = await town.http.get(f"/needs/{town.need['id']}/calendar.ics")
    assert feed.status_code == 200 and feed.headers["content-type"].startswith("text/calendar")
    assert shift["id"] in feed.text.replace("\r\n ", "")
    municipal = await town.http.get(f"/tenants/{town.tenant['id']}/calendar.ics")
    assert shift["id"] in municipal.text.replace("\r\n ", "")

    async def feed_path(headers: dict, *, renew: bool = False) -> str:
        answer = await (town.http.post("/me/calendar/renew", headers=headers) if renew
                        else town.http.get("/me/calendar", headers=headers))
        assert answer.status_code == 200, answer.text
        assert answer.json()["url"].endswith(".ics")
        return answer.json()["url"].split("/api/v1", 1)[1]  # the gateway's public URL

    token_path = await feed_path(headers)
    personal = await town.http.get(token_path)
    assert personal.status_code == 200 and shift["id"] in personal.text.replace("\r\n ", "")
    assert await feed_path(headers) == token_path  # shown again (a second device)
    # Another person's link opens their own feed, never this one.
    other_path = await feed_path((await town.volunteer("Otto Other"))[0])
    assert other_path != token_path
    other = await town.http.get(other_path)
    assert other.status_code == 200 and shift["id"] not in other.text.replace("\r\n ", "")

    renewed_path = await feed_path(headers, renew=True)
    assert renewed_path != token_path
    assert (await town.http.get(token_path)).status_code == 404
    assert (await town.http.get(renewed_path)).status_code == 200
    assert await feed_path(headers) == renewed_path


async def test_export_and_erasure_cover_signups(town, profiles_db):
    shift = await town.shift(places=1)
    leaving_headers, leaving = await town.volunteer()
    waiting_headers, waiting = await town.volunteer()
    await town.sign_up(shift, leaving_headers, leaving)
    waiting_signup = (await town.sign_up(shift, waiting_headers, waiting)).json()
    exported = (await town.http.get("/me/export", headers=leaving_headers)).json()
    assert len(exported["signups"]) == 1
    calendar = await town.http.get("/me/calendar", headers=leaving_headers)
    feed = calendar.json()["url"].split("/api/v1", 1)[1]
    assert (await town.http.get(feed)).status_code == 200
    erased = await town.http.delete("/me", headers=leaving_headers)
    assert erased.status_code == 200, erased.text
    assert (await town.http.get(feed)).status_code == 404, "the feed URL goes with the person"
    assert await profiles_db.signups.count_documents({"volunteer_actor_id": leaving["id"]}) == 0
    mine = (await town.http.get("/me/signups", headers=waiting_headers)).json()["items"]
    assert [(s["id"], s["status"]) for s in mine] == [(waiting_signup["id"], "confirmed")]
