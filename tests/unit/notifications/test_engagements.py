"""Shifts and sign-ups on in-memory ports: the volunteers' notifications (each once), the read
model of who is on a shift, and the reminders (timing by a fake clock, cancel, move, erasure).
The same paths on the real stack: tests/integration/notifications/test_reminders.py."""
from __future__ import annotations

from datetime import datetime, timedelta
from uuid import uuid4

import pytest

from platform_common.errors import InvalidInput
from platform_common.events import make_event
from platform_common.events.models import ActorData, ActorErasedData, ShiftData, SignupData
from platform_common.identity import Identity
from platform_common.kafka import ConsumedEvent
from services.notifications import service
from services.notifications.domain.models import Preferences
from tests.unit.notifications.fakes import make_deps

VOLUNTEERS = ("anna", "ben", "cem")
TITLE = "Lebensmittelausgabe"


def actor(actor_id: str, *, locale: str = "de") -> ActorData:
    return ActorData(id=actor_id, tenant="koeln", type="person", name=actor_id.title(),
                     location={"lat": 50.9, "lon": 6.9}, email=f"{actor_id}@example.org",
                     locale=locale, owners=[f"user-{actor_id}"], version=1)


class World:
    """One shift of the Tafel, starting three days after the fake clock's start."""

    def __init__(self, deps):
        self.deps = deps
        self.start = deps.clock() + timedelta(days=3)
        self.shift_version = 0
        self.versions: dict[str, int] = {}

    def consumed(self, type_: str, data, key: str) -> ConsumedEvent:
        envelope = make_event(type_, tenant="koeln", subject=data.id, source="test",
                              data=data.model_dump(mode="json"))
        envelope = envelope.model_copy(update={"id": uuid4(), "occurred_at": self.deps.clock()})
        return ConsumedEvent(envelope, data, "engagements", 0, 0, key)

    async def deliver(self, event: ConsumedEvent) -> None:
        await service.handle_events(deps=self.deps, events=[event])

    async def shift(self, type_: str = "shift.scheduled", *, start: datetime | None = None,
                    status: str = "scheduled") -> ConsumedEvent:
        self.shift_version += 1
        self.start = start or self.start
        data = ShiftData(id="shift-1", tenant="koeln", item_id="offer-1", item_kind="offer",
                         item_title=TITLE, actor_id="tafel", start=self.start,
                         end=self.start + timedelta(hours=3), place_name="Tafel Köln-Mitte",
                         places=1, places_left=0, status=status, version=self.shift_version)
        event = self.consumed(type_, data, "shift-1")
        await self.deliver(event)
        return event

    async def signup(self, volunteer: str, type_: str, *, reason: str | None = None,
                     deliver: bool = True) -> ConsumedEvent:
        signup_id = f"signup-{volunteer}"
        self.versions[signup_id] = self.versions.get(signup_id, 0) + 1
        status = {"signup.promoted": "confirmed"}.get(type_, type_.removeprefix("signup."))
        data = SignupData(id=signup_id, tenant="koeln", shift_id="shift-1", item_id="offer-1",
                          volunteer_actor_id=volunteer, organisation_actor_id="tafel",
                          status=status, reason=reason, shift_start=self.start,
                          shift_end=self.start + timedelta(hours=3),
                          version=self.versions[signup_id])
        event = self.consumed(type_, data, "shift-1")
        if deliver:
            await self.deliver(event)
        return event

    def mails(self, to: str) -> list[str]:
        return [mail.subject for address, mail, _ in self.deps.mailer.sent if address == to]

    def inbox(self, actor_id: str, type_: str | None = None):
        return [n for n in self.deps.notifications.items.values()
                if n.actor_id == actor_id and (type_ is None or n.type == type_)]

    async def run_reminders_until(self, until: datetime, step=timedelta(minutes=10)) -> None:
        """The reminder task as the process runs it, every `step` of fake time."""
        while self.deps.clock() < until:
            self.deps.clock.advance(seconds=step.total_seconds())
            await service.send_due_reminders(deps=self.deps)


async def world(**settings) -> World:
    deps = make_deps(**settings)
    for name in (*VOLUNTEERS, "tafel"):
        await service.apply_actor(deps=deps, actor=actor(name))
    built = World(deps)
    await built.shift()
    return built


async def test_exactly_one_24h_and_one_2h_reminder_each_at_its_time():
    w = await world()
    await w.signup("anna", "signup.confirmed")
    assert w.mails("anna@example.org") == []  # she signed up herself: nothing to tell
    assert sorted(r.due_at for r in w.deps.reminders.items.values()) == [
        w.start - timedelta(hours=24), w.start - timedelta(hours=2)]

    await w.run_reminders_until(w.start - timedelta(hours=24, minutes=10))
    assert w.mails("anna@example.org") == []  # not before its time
    await w.run_reminders_until(w.start - timedelta(hours=23))
    [first] = w.inbox("anna", "shift.reminder")
    assert first.created_at >= w.start - timedelta(hours=24)
    assert first.title.de == f"Erinnerung: {TITLE} am 07.05.2026 um 10:00 Uhr"
    assert "In 24 Stunden beginnt" in first.body.de and "Tafel Köln-Mitte" in first.body.de
    await w.run_reminders_until(w.start + timedelta(hours=5))
    reminders = sorted(w.inbox("anna", "shift.reminder"), key=lambda n: n.created_at)
    assert len(reminders) == 2 and "In 2 Stunden beginnt" in reminders[1].body.de
    assert len(w.mails("anna@example.org")) == 2
    assert {r.status for r in w.deps.reminders.items.values()} == {"sent"}


async def test_the_task_run_twice_or_after_a_crash_before_marking_sends_nothing_twice():
    w = await world()
    await w.signup("anna", "signup.confirmed")
    w.deps.clock.now = w.start - timedelta(hours=24)
    assert await service.send_due_reminders(deps=w.deps) == {"sent": 1, "skipped": 0}
    # As if the process died after sending but before marking it: scheduled again.
    [sent] = [r for r in w.deps.reminders.items.values() if r.status == "sent"]
    await w.deps.reminders.update(sent.id, status="scheduled")
    await service.send_due_reminders(deps=w.deps)
    assert len(w.mails("anna@example.org")) == 1 and len(w.inbox("anna")) == 1


async def test_a_cancelled_signup_gets_no_reminders():
    w = await world()
    await w.signup("anna", "signup.confirmed")
    await w.signup("anna", "signup.cancelled")
    await w.run_reminders_until(w.start + timedelta(hours=1), step=timedelta(hours=1))
    assert w.mails("anna@example.org") == [] and w.inbox("anna") == []
    assert {r.status for r in w.deps.reminders.items.values()} == {"cancelled"}


async def test_a_moved_shift_tells_the_confirmed_and_moves_their_reminders():
    w = await world()
    await w.signup("anna", "signup.confirmed")
    await w.signup("ben", "signup.waitlisted")
    old_start = w.start
    event = await w.shift("shift.changed", start=old_start + timedelta(days=1))
    await w.deliver(event)  # delivered twice: told once
    [changed] = w.inbox("anna", "shift.changed")
    assert changed.title.de == f"Neue Zeit: {TITLE} am 08.05.2026 um 10:00 Uhr"
    assert "bisher 07.05.2026 um 10:00 Uhr" in changed.body.de
    assert w.inbox("ben") == []  # waitlisted: not told
    assert w.mails("anna@example.org") == [changed.title.de]
    assert sorted(r.due_at for r in w.deps.reminders.items.values()) == [
        w.start - timedelta(hours=24), w.start - timedelta(hours=2)]
    await w.run_reminders_until(w.start, step=timedelta(hours=1))
    assert [n.data["start"] for n in w.inbox("anna", "shift.reminder")] == \
        [w.start.isoformat()] * 2
    # A change that keeps the time (say the note) tells nobody.
    await w.shift("shift.changed")
    assert len(w.inbox("anna", "shift.changed")) == 1


async def test_a_shift_moved_after_its_24h_reminder_reminds_again_before_the_new_time():
    w = await world()
    await w.signup("anna", "signup.confirmed")
    await w.run_reminders_until(w.start - timedelta(hours=20), step=timedelta(hours=1))
    assert len(w.inbox("anna", "shift.reminder")) == 1
    await w.shift("shift.changed", start=w.start + timedelta(days=2))
    await w.run_reminders_until(w.start, step=timedelta(hours=1))
    assert len(w.inbox("anna", "shift.reminder")) == 3


async def test_promoted_is_told_once_even_when_the_event_comes_twice():
    w = await world()
    await w.signup("anna", "signup.waitlisted")
    event = await w.signup("anna", "signup.promoted")
    await w.deliver(event)
    [promoted] = w.inbox("anna", "signup.promoted")
    assert promoted.title.de == f"Sie haben einen Platz: {TITLE} am 07.05.2026 um 10:00 Uhr"
    assert promoted.data["link"] == "https://engage.example/#/offers/offer-1"
    assert w.mails("anna@example.org") == [promoted.title.de]
    assert len(w.deps.reminders.items) == 2  # a promoted sign-up is reminded too


async def test_an_older_signup_version_changes_nothing():
    w = await world()
    confirmed = await w.signup("anna", "signup.confirmed")
    await w.signup("anna", "signup.cancelled")
    await w.deliver(confirmed)  # late and old
    assert (await w.deps.engagements.get_signup("signup-anna")).status == "cancelled"
    assert {r.status for r in w.deps.reminders.items.values()} == {"cancelled"}


async def test_a_removed_volunteer_is_told_with_the_reason():
    w = await world()
    await w.signup("anna", "signup.confirmed")
    await w.signup("anna", "signup.removed", reason="Die Ausgabe fällt aus")
    [removed] = w.inbox("anna", "signup.removed")
    assert removed.body.de.endswith("Begründung: Die Ausgabe fällt aus")
    assert {r.status for r in w.deps.reminders.items.values()} == {"cancelled"}


@pytest.mark.parametrize("signups_cancelled_first", [False, True])
async def test_a_cancelled_shift_tells_the_confirmed_and_waitlisted(signups_cancelled_first):
    w = await world()
    await w.signup("anna", "signup.confirmed")
    await w.signup("ben", "signup.waitlisted")
    await w.signup("cem", "signup.confirmed")
    await w.signup("cem", "signup.cancelled")  # withdrew before: not told
    if signups_cancelled_first:  # profiles cancels the sign-ups with the shift
        for volunteer in ("anna", "ben"):
            await w.signup(volunteer, "signup.cancelled", reason="shift cancelled")
    await w.shift("shift.cancelled", status="cancelled")
    for volunteer in ("anna", "ben"):
        [told] = w.inbox(volunteer, "shift.cancelled")
        assert told.title.de == f"Abgesagt: {TITLE} am 07.05.2026 um 10:00 Uhr"
    assert w.inbox("cem") == []
    assert {r.status for r in w.deps.reminders.items.values()} == {"cancelled"}
    await w.run_reminders_until(w.start, step=timedelta(hours=1))
    assert w.inbox("anna", "shift.reminder") == []


async def test_reminder_hours_of_the_person_are_used_and_an_empty_list_means_none():
    w = await world()
    await w.deps.preferences.save(Preferences(actor_id="anna", reminder_hours=[]))
    await w.deps.preferences.save(Preferences(actor_id="ben", reminder_hours=[5]))
    await w.signup("anna", "signup.confirmed")
    await w.signup("ben", "signup.confirmed")
    await w.run_reminders_until(w.start, step=timedelta(minutes=30))
    assert w.inbox("anna") == []
    [reminder] = w.inbox("ben", "shift.reminder")
    assert reminder.created_at == w.start - timedelta(hours=5)


async def test_a_reminder_is_instant_even_for_a_daily_digest_and_not_rate_limited():
    w = await world(instant_mail_limit_per_hour=1)
    await w.deps.preferences.save(Preferences(actor_id="anna", frequency="daily"))
    await w.signup("anna", "signup.waitlisted")
    await w.signup("anna", "signup.promoted")
    assert w.mails("anna@example.org") == []  # promoted: into her digest, as she chose
    w.deps.clock.now = w.start - timedelta(hours=2)
    await service.send_due_reminders(deps=w.deps)
    assert len(w.mails("anna@example.org")) == 1  # the latest due reminder only
    assert {r.offset_hours: r.status for r in w.deps.reminders.items.values()} == \
        {24: "skipped", 2: "sent"}


async def test_reminders_due_during_downtime_go_out_at_once_unless_the_shift_started():
    w = await world()
    await w.signup("anna", "signup.confirmed")
    await w.signup("ben", "signup.confirmed")
    w.deps.clock.now = w.start - timedelta(hours=10)  # the 24 h one passed while down
    assert await service.send_due_reminders(deps=w.deps) == {"sent": 2, "skipped": 0}
    w.deps.clock.now = w.start + timedelta(minutes=1)  # the 2 h ones passed, shift started
    assert await service.send_due_reminders(deps=w.deps) == {"sent": 0, "skipped": 2}
    assert len(w.mails("anna@example.org")) == 1


async def test_erasure_removes_reminders_and_signups_and_export_lists_pending_ones():
    w = await world()
    await w.signup("anna", "signup.confirmed")
    await w.signup("ben", "signup.confirmed")
    owner = Identity(sub="user-anna", tenant="koeln", roles=frozenset({"member"}))
    exported = await service.export_data(deps=w.deps, identity=owner)
    [anna] = exported["actors"]
    assert sorted(r["offset_hours"] for r in anna["reminders"]) == [2, 24]
    assert anna["preferences"]["reminder_hours"] == [24, 2]

    await service.erase_actor(deps=w.deps, erased=ActorErasedData(id="anna", tenant="koeln",
                                                                  version=2))
    assert {r.actor_id for r in w.deps.reminders.items.values()} == {"ben"}
    assert [s.actor_id for s in await w.deps.engagements.signups_of_shift("shift-1")] == ["ben"]
    await w.signup("anna", "signup.promoted")  # a late event of the erased person
    assert {r.actor_id for r in w.deps.reminders.items.values()} == {"ben"}
    assert w.inbox("anna") == []


async def test_hours_events_are_acknowledged_without_anything_happening():
    from platform_common.events.models import HoursData

    w = await world()
    data = HoursData(id="signup-anna", tenant="koeln", shift_id="shift-1", item_id="offer-1",
                     volunteer_actor_id="anna", organisation_actor_id="tafel", attended=True,
                     hours=3, status="confirmed", worked_on=w.start, version=1)
    await w.deliver(w.consumed("hours.confirmed", data, "shift-1"))
    assert w.deps.notifications.items == {}


@pytest.mark.parametrize("hours", [[0], [169], [1, 2, 3, 4], [2.5], [True], "24"])
async def test_bad_reminder_hours_are_refused_naming_the_field(hours):
    w = await world()
    owner = Identity(sub="user-anna", tenant="koeln", roles=frozenset({"member"}))
    with pytest.raises(InvalidInput) as refused:
        await service.update_preferences(deps=w.deps, identity=owner, actor_id="anna",
                                         channels=None, frequency=None, reminder_hours=hours)
    assert refused.value.details[0]["field"] == "reminder_hours"
    assert await w.deps.preferences.get("anna") is None


async def test_reminder_hours_are_saved_sorted_without_repeats():
    w = await world()
    owner = Identity(sub="user-anna", tenant="koeln", roles=frozenset({"member"}))
    view = await service.update_preferences(deps=w.deps, identity=owner, actor_id="anna",
                                            channels=None, frequency=None,
                                            reminder_hours=[2, 48, 2])
    assert view["reminder_hours"] == [48, 2]
    view = await service.update_preferences(deps=w.deps, identity=owner, actor_id="anna",
                                            channels=None, frequency=None, reminder_hours=[])
    assert view["reminder_hours"] == []


async def test_a_change_within_the_stored_millisecond_is_not_a_new_time():
    """MongoDB keeps milliseconds: an event's microseconds must not look like a move."""
    w = await world()
    await w.signup("anna", "signup.confirmed")
    w.start = w.start.replace(microsecond=123456)
    stored = w.deps.engagements.shifts["shift-1"]
    w.deps.engagements.shifts["shift-1"] = stored.model_copy(update={
        "start": w.start.replace(microsecond=123000),
        "end": (w.start + timedelta(hours=3)).replace(microsecond=123000)})
    await w.shift("shift.changed")
    assert w.inbox("anna", "shift.changed") == []


async def test_a_reminder_follows_the_persons_channels():
    w = await world()
    await w.deps.preferences.save(Preferences(actor_id="anna", channels={"inbox": False}))
    await w.deps.preferences.save(Preferences(actor_id="ben", channels={"email": False}))
    await w.signup("anna", "signup.confirmed")
    await w.signup("ben", "signup.confirmed")
    w.deps.clock.now = w.start - timedelta(hours=24)
    await service.send_due_reminders(deps=w.deps)
    [anna] = w.inbox("anna", "shift.reminder")
    assert not anna.in_inbox and len(w.mails("anna@example.org")) == 1
    [ben] = w.inbox("ben", "shift.reminder")
    assert ben.in_inbox and w.mails("ben@example.org") == []


# ---- reminder_hours changed: the upcoming reminders follow -------------------------------------

ANNA = Identity(sub="user-anna", tenant="koeln", roles=frozenset({"member"}))


async def change_hours(w: World, hours: list[int], owner: Identity = ANNA) -> dict:
    return await service.update_preferences(deps=w.deps, identity=owner, actor_id=None,
                                            channels=None, frequency=None, reminder_hours=hours)


def statuses(w: World, signup_id: str = "signup-anna") -> dict[int, str]:
    return {r.offset_hours: r.status for r in w.deps.reminders.items.values()
            if r.signup_id == signup_id}


def reminded_offsets(w: World, actor_id: str = "anna") -> list[int]:
    told = sorted(w.inbox(actor_id, "shift.reminder"), key=lambda n: n.created_at)
    return [n.data["offset_hours"] for n in told]


async def test_changed_reminder_hours_replan_the_upcoming_reminders():
    w = await world()
    await w.signup("anna", "signup.confirmed")
    await change_hours(w, [48, 2])
    assert statuses(w) == {48: "scheduled", 24: "cancelled", 2: "scheduled"}
    [new] = [r for r in w.deps.reminders.items.values() if r.offset_hours == 48]
    assert new.due_at == w.start - timedelta(hours=48)
    assert (await w.deps.preferences.get("anna")).reminders_replan_since is None  # done
    await w.run_reminders_until(w.start, step=timedelta(hours=1))
    assert reminded_offsets(w) == [48, 2]
    assert len(w.mails("anna@example.org")) == 2


async def test_a_sent_reminder_is_not_sent_again_and_a_new_one_already_past_is_not_sent():
    w = await world()
    await w.signup("anna", "signup.confirmed")
    await w.run_reminders_until(w.start - timedelta(hours=20), step=timedelta(hours=1))
    assert reminded_offsets(w) == [24]
    await change_hours(w, [36, 24, 1])  # 36 h before the shift lies behind us
    assert statuses(w) == {24: "sent", 2: "cancelled", 1: "scheduled"}
    await w.run_reminders_until(w.start, step=timedelta(minutes=30))
    assert reminded_offsets(w) == [24, 1]


async def test_an_offset_turned_off_and_on_again_is_scheduled_again():
    w = await world()
    await w.signup("anna", "signup.confirmed")
    await change_hours(w, [24])
    assert statuses(w) == {24: "scheduled", 2: "cancelled"}
    await change_hours(w, [24, 2])
    assert statuses(w) == {24: "scheduled", 2: "scheduled"}
    await w.run_reminders_until(w.start, step=timedelta(hours=1))
    assert reminded_offsets(w) == [24, 2]


async def test_only_confirmed_signups_of_shifts_ahead_get_reminders_back():
    w = await world()
    await w.signup("ben", "signup.waitlisted")
    await w.signup("cem", "signup.confirmed")
    await w.signup("cem", "signup.cancelled")
    for volunteer in ("ben", "cem"):
        owner = Identity(sub=f"user-{volunteer}", tenant="koeln", roles=frozenset({"member"}))
        await change_hours(w, [48], owner=owner)
    assert statuses(w, "signup-ben") == {}
    assert statuses(w, "signup-cem") == {24: "cancelled", 2: "cancelled"}
    await w.run_reminders_until(w.start, step=timedelta(hours=1))
    assert w.inbox("ben") == [] and w.inbox("cem") == []


async def test_a_replan_a_crash_left_half_done_is_finished_by_the_reminder_task():
    w = await world()
    await w.signup("anna", "signup.confirmed")
    schedule = w.deps.reminders.schedule

    async def crash(reminders):  # the process dies after cancelling, before scheduling
        raise ConnectionError("killed")

    w.deps.reminders.schedule = crash
    with pytest.raises(ConnectionError):
        await change_hours(w, [5])
    w.deps.reminders.schedule = schedule
    assert (await w.deps.preferences.get("anna")).reminder_hours == [5]  # the change is stored
    assert statuses(w) == {24: "cancelled", 2: "cancelled"}  # half done

    w.deps.clock.advance(minutes=1)
    assert (await service.run_reminder_task(deps=w.deps))["replanned"] == 1
    assert statuses(w) == {24: "cancelled", 2: "cancelled", 5: "scheduled"}
    assert (await service.run_reminder_task(deps=w.deps))["replanned"] == 0  # once
    await w.run_reminders_until(w.start, step=timedelta(hours=1))
    assert reminded_offsets(w) == [5]


async def test_a_replan_overtaken_by_a_newer_change_is_planned_again_from_the_stored_hours():
    w = await world()
    await w.signup("anna", "signup.confirmed")
    schedule = w.deps.reminders.schedule

    async def newer_change_finished_meanwhile(reminders):
        # Another request stored [7] and finished its re-plan while this one still plans [5].
        await w.deps.preferences.save(Preferences(actor_id="anna", reminder_hours=[7]))
        return await schedule(reminders)

    w.deps.reminders.schedule = newer_change_finished_meanwhile
    await change_hours(w, [5])
    w.deps.reminders.schedule = schedule
    assert (await w.deps.preferences.get("anna")).reminders_replan_since is not None
    await service.run_reminder_task(deps=w.deps)
    assert statuses(w) == {24: "cancelled", 5: "cancelled", 2: "cancelled", 7: "scheduled"}


async def test_hours_changed_while_a_signup_is_confirmed_are_followed_by_it_too():
    w = await world()
    schedule = w.deps.reminders.schedule

    async def hours_changed_meanwhile(reminders):
        # The change and its re-plan ran before this sign-up was stored: it saw nothing.
        await w.deps.preferences.save(Preferences(actor_id="anna", reminder_hours=[6]))
        return await schedule(reminders)

    w.deps.reminders.schedule = hours_changed_meanwhile
    await w.signup("anna", "signup.confirmed")
    w.deps.reminders.schedule = schedule
    await service.run_reminder_task(deps=w.deps)
    assert statuses(w) == {24: "cancelled", 2: "cancelled", 6: "scheduled"}


async def test_a_reminder_left_scheduled_on_a_cancelled_signup_is_not_sent():
    """A re-plan that read the sign-up just before its cancellation may schedule after it."""
    w = await world()
    await w.signup("anna", "signup.confirmed")
    await w.signup("anna", "signup.cancelled")
    [late] = [r for r in w.deps.reminders.items.values() if r.offset_hours == 2]
    await w.deps.reminders.reschedule(late.id, shift_start=late.shift_start, due_at=late.due_at,
                                      now=w.deps.clock())
    await w.run_reminders_until(w.start, step=timedelta(hours=1))
    assert w.inbox("anna") == [] and statuses(w) == {24: "cancelled", 2: "skipped"}


async def test_after_downtime_over_both_moments_only_the_2h_reminder_goes_out():
    """Down over the 24 h and the 2 h moment: one mail, the 2 h one, telling the time really
    left, rather than two at once of which the first says "in 24 hours" an hour before."""
    w = await world()
    await w.signup("anna", "signup.confirmed")
    w.deps.clock.now = w.start - timedelta(minutes=90)  # back up
    assert await service.send_due_reminders(deps=w.deps) == {"sent": 1, "skipped": 1}
    assert statuses(w) == {24: "skipped", 2: "sent"}
    [told] = w.inbox("anna", "shift.reminder")
    assert told.data["offset_hours"] == 2 and "In 2 Stunden beginnt" in told.body.de
    assert w.mails("anna@example.org") == [told.title.de]
    await w.run_reminders_until(w.start, step=timedelta(minutes=10))
    assert len(w.inbox("anna")) == 1
