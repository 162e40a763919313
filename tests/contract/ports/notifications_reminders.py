"""The contract of the notifications service's ReminderStore: one reminder per (sign-up,
offset), the due ones in time order, moves and cancellations, and a guarded finish (a reminder
moved or cancelled meanwhile is not marked sent)."""
from __future__ import annotations

from datetime import datetime

import pytest

from services.notifications.domain import rules
from services.notifications.domain.models import Reminder
from services.notifications.ports import ReminderStore
from tests.contract.ports.notifications_builders import at, new_id


def reminder(*, signup_id: str | None = None, shift_id: str | None = None,
             actor_id: str | None = None, offset_hours: int = 24, due_at: datetime | None = None,
             status: str = "scheduled") -> Reminder:
    signup_id = signup_id or new_id("s")
    due_at = due_at or at(0)
    return Reminder(id=rules.reminder_id(signup_id=signup_id, offset_hours=offset_hours),
                    signup_id=signup_id, shift_id=shift_id or new_id("shift"),
                    actor_id=actor_id or new_id("a"), tenant="koeln", offset_hours=offset_hours,
                    shift_start=rules.reminder_due(due_at, -offset_hours), due_at=due_at,
                    status=status, created_at=at(0), updated_at=at(0))


class ReminderStoreContract:
    @pytest.fixture
    def reminders(self) -> ReminderStore:
        raise NotImplementedError("a concrete suite gives the store under test")

    async def test_one_reminder_per_signup_and_offset(self, reminders):
        first = reminder(due_at=at(10))
        again = first.model_copy(update={"due_at": at(99)})
        other = reminder(signup_id=first.signup_id, offset_hours=2, due_at=at(20))
        assert await reminders.schedule([first, other]) == {first.id, other.id}
        assert await reminders.schedule([again]) == set()
        assert [r.due_at for r in await reminders.get_many([first.id, other.id])] == \
            [at(10), at(20)]
        assert {r.id for r in await reminders.of_signup(first.signup_id)} == {first.id, other.id}
        assert await reminders.schedule([]) == set()

    async def test_due_lists_scheduled_reminders_whose_time_came_oldest_first(self, reminders):
        late, early = reminder(due_at=at(30)), reminder(due_at=at(10))
        future = reminder(due_at=at(100))
        done = reminder(due_at=at(5), status="sent")
        await reminders.schedule([late, early, future, done])
        due = await reminders.due(now=at(50), limit=10)
        assert [r.id for r in due if r.id in {late.id, early.id, future.id, done.id}] == \
            [early.id, late.id]
        assert len(await reminders.due(now=at(50), limit=1)) == 1

    async def test_finish_only_while_scheduled_at_the_same_time(self, reminders):
        one = reminder(due_at=at(10))
        await reminders.schedule([one])
        assert not await reminders.finish(one.id, due_at=at(11), status="sent", now=at(12))
        assert await reminders.finish(one.id, due_at=at(10), status="sent", now=at(12))
        [stored] = await reminders.get_many([one.id])
        assert (stored.status, stored.sent_at) == ("sent", at(12))
        assert not await reminders.finish(one.id, due_at=at(10), status="sent", now=at(13))

    async def test_update_moves_a_reminder(self, reminders):
        one = reminder(due_at=at(10))
        await reminders.schedule([one])
        await reminders.update(one.id, due_at=at(40), shift_start=at(50), updated_at=at(1))
        [moved] = await reminders.get_many([one.id])
        assert (moved.due_at, moved.shift_start) == (at(40), at(50))
        assert [r.id for r in await reminders.due(now=at(20), limit=10) if r.id == one.id] == []

    async def test_cancel_by_signup_or_by_shift_touches_only_scheduled_ones(self, reminders):
        shift_id = new_id("shift")
        a, b = reminder(shift_id=shift_id), reminder(shift_id=shift_id)
        sent = reminder(shift_id=shift_id, status="sent")
        c = reminder()
        await reminders.schedule([a, b, sent, c])
        assert await reminders.cancel(signup_id=a.signup_id, now=at(1)) == 1
        assert await reminders.cancel(shift_id=shift_id, now=at(2)) == 1
        statuses = {r.id: r.status for r in await reminders.of_shift(shift_id)}
        assert statuses == {a.id: "cancelled", b.id: "cancelled", sent.id: "sent"}
        [untouched] = await reminders.get_many([c.id])
        assert untouched.status == "scheduled"

    async def test_for_actors_and_delete_actor(self, reminders):
        actor_id = new_id("a")
        later = reminder(actor_id=actor_id, due_at=at(20))
        sooner = reminder(actor_id=actor_id, due_at=at(10))
        other = reminder()
        await reminders.schedule([later, sooner, other])
        assert [r.id for r in await reminders.for_actors([actor_id])] == [sooner.id, later.id]
        await reminders.delete_actor(actor_id)
        assert await reminders.for_actors([actor_id]) == []
        assert [r.id for r in await reminders.for_actors([other.actor_id])] == [other.id]

    async def test_cancel_many_touches_only_the_scheduled_ones_named(self, reminders):
        one, two, sent, untouched = (reminder(), reminder(), reminder(status="sent"),
                                     reminder())
        await reminders.schedule([one, two, sent, untouched])
        assert await reminders.cancel_many([one.id, two.id, sent.id, "never-stored"],
                                           now=at(1)) == 2
        statuses = {r.id: r.status for r in await reminders.get_many(
            [one.id, two.id, sent.id, untouched.id])}
        assert statuses == {one.id: "cancelled", two.id: "cancelled", sent.id: "sent",
                            untouched.id: "scheduled"}
        assert await reminders.cancel_many([], now=at(2)) == 0

    async def test_reschedule_revives_a_cancelled_or_skipped_one_never_a_sent_one(self, reminders):
        cancelled, skipped = reminder(status="cancelled"), reminder(status="skipped")
        sent, scheduled = reminder(status="sent"), reminder(due_at=at(5))
        await reminders.schedule([cancelled, skipped, sent, scheduled])
        for revived in (cancelled, skipped):
            assert await reminders.reschedule(revived.id, shift_start=at(100), due_at=at(90),
                                              now=at(1))
        for kept in (sent, scheduled):
            assert not await reminders.reschedule(kept.id, shift_start=at(100), due_at=at(90),
                                                  now=at(1))
        assert not await reminders.reschedule("never-stored", shift_start=at(100),
                                              due_at=at(90), now=at(1))
        found = {r.id: (r.status, r.due_at, r.shift_start) for r in await reminders.get_many(
            [cancelled.id, skipped.id, sent.id, scheduled.id])}
        assert found[cancelled.id] == found[skipped.id] == ("scheduled", at(90), at(100))
        assert found[sent.id] == ("sent", sent.due_at, sent.shift_start)
        assert found[scheduled.id] == ("scheduled", at(5), scheduled.shift_start)
        assert [r.id for r in await reminders.due(now=at(95), limit=10)
                if r.id in {cancelled.id, skipped.id}] == sorted([cancelled.id, skipped.id])
