"""Shifts and sign-ups (topic `engagements`): the volunteers' notifications, our read model of
who is on which shift, and the durable reminders before a confirmed shift.

Crash safety: every handler first checks the entity's version against the read model, then
does its work (notifications under dedupe keys, reminders under unique ids: repeating it is
harmless), and stores the new version last. A crash in between repeats the work, never loses
it; a repeated or older event finds the same or a newer version and does nothing."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from platform_common.events.models import SHIFT_CANCELLED_REASON, ShiftData, SignupData
from platform_common.observability import get_logger
from services.notifications.domain import messages, rules
from services.notifications.domain.models import (
    NotificationDraft, Preferences, Reminder, ShiftRow, SignupRow,
)
from services.notifications.service.deps import Deps
from services.notifications.service.planning import notify_many

log = get_logger(__name__)

# The reason profiles gives the sign-ups it cancels with their shift (their people are told by
# shift.cancelled, which may come before or after these sign-up events).


def _iso(moment: datetime) -> str:
    return moment.isoformat()


def _ms(*moments: datetime) -> tuple[datetime, ...]:
    """To the millisecond: what MongoDB keeps, so a stored time equals the event's."""
    return tuple(m.replace(microsecond=m.microsecond // 1000 * 1000) for m in moments)


def _data(deps: Deps, *, shift_id: str, item_id: str, shift: ShiftRow | None, start: datetime,
          end: datetime, **extra: Any) -> dict[str, Any]:
    return {"shift_id": shift_id, "item_id": item_id,
            "item_title": shift.item_title if shift else None,
            "place_name": shift.place_name if shift else None,
            "start": _iso(start), "end": _iso(end),
            "link": deps.link(shift.item_kind, item_id) if shift else None, **extra}


async def _reminder_hours(deps: Deps, actor_id: str) -> list[int]:
    preferences = await deps.preferences.get(actor_id) or Preferences.default(actor_id)
    return preferences.reminder_hours


# ---- sign-ups ------------------------------------------------------------------------------------

async def on_signup(*, deps: Deps, signup: SignupData, type_: str, event_at: datetime) -> None:
    volunteer = signup.volunteer_actor_id
    if await deps.recipients.erased_among([volunteer]):
        return  # a late event of an erased person: nothing of it is kept
    current = await deps.engagements.get_signup(signup.id)
    if current is not None and current.version >= signup.version:
        return
    shift = await deps.engagements.get_shift(signup.shift_id)
    hours: list[int] | None = None  # the reminder hours scheduled with, if any
    if type_ in ("signup.confirmed", "signup.promoted"):
        if type_ == "signup.promoted":
            title, body = messages.promoted_texts(
                item_title=shift.item_title if shift else None, start=signup.shift_start,
                place_name=shift.place_name if shift else None)
            await _tell(deps, signup, shift, type_, title, body, event_at)
        if shift is None or shift.status != "cancelled":
            hours = await _reminder_hours(deps, volunteer)
            await deps.reminders.schedule(rules.reminders_for(
                signup_id=signup.id, shift_id=signup.shift_id, actor_id=volunteer,
                tenant=signup.tenant, shift_start=signup.shift_start, hours=hours,
                since=event_at, now=deps.clock()))
    elif type_ in ("signup.cancelled", "signup.removed"):
        if type_ == "signup.removed":
            title, body = messages.removed_texts(
                item_title=shift.item_title if shift else None, start=signup.shift_start,
                reason=signup.reason)
            await _tell(deps, signup, shift, type_, title, body, event_at)
        await deps.reminders.cancel(signup_id=signup.id, now=deps.clock())
    # signup.waitlisted: nothing to tell (the person just signed up), only the read model.
    await deps.engagements.apply_signup(SignupRow(
        signup_id=signup.id, shift_id=signup.shift_id, actor_id=volunteer, tenant=signup.tenant,
        item_id=signup.item_id, status=signup.status, reason=signup.reason,
        shift_start=signup.shift_start, shift_end=signup.shift_end, version=signup.version))
    if hours is not None and await _reminder_hours(deps, volunteer) != hours:
        # The person changed their hours while these reminders were scheduled; a re-plan that
        # ran meanwhile could not see this sign-up yet (it is stored just now): plan again.
        await deps.preferences.request_replan(volunteer, since=deps.clock())


async def _tell(deps: Deps, signup: SignupData, shift: ShiftRow | None, type_: str, title,
                body, event_at: datetime) -> None:
    await notify_many(deps=deps, drafts=[NotificationDraft(
        type=type_, actor_id=signup.volunteer_actor_id, tenant=signup.tenant, title=title,
        body=body, event_at=event_at,
        data=_data(deps, shift_id=signup.shift_id, item_id=signup.item_id, shift=shift,
                   start=signup.shift_start, end=signup.shift_end, signup_id=signup.id,
                   reason=signup.reason),
        dedupe_key=rules.signup_key(type_=type_, signup_id=signup.id))])


# ---- shifts --------------------------------------------------------------------------------------

async def on_shift(*, deps: Deps, shift: ShiftData, type_: str, event_at: datetime) -> None:
    previous = await deps.engagements.get_shift(shift.id)
    if previous is not None and previous.version >= shift.version:
        return
    row = ShiftRow(shift_id=shift.id, tenant=shift.tenant, item_id=shift.item_id,
                   item_kind=shift.item_kind, item_title=shift.item_title, start=shift.start,
                   end=shift.end, place_name=shift.place_name, status=shift.status,
                   version=shift.version)
    if type_ == "shift.cancelled" or shift.status == "cancelled":
        await _shift_cancelled(deps, row, event_at)
    elif type_ == "shift.changed":
        await _shift_changed(deps, row, previous, event_at)
    await deps.engagements.apply_shift(row)


async def _shift_cancelled(deps: Deps, shift: ShiftRow, event_at: datetime) -> None:
    """Everyone confirmed or waitlisted is told, also when their sign-ups' cancellation (with
    the shift) arrived first."""
    signups = await deps.engagements.signups_of_shift(shift.shift_id)
    told = sorted({s.actor_id for s in signups if s.status in rules.ON_SHIFT or (
        s.status == "cancelled" and s.reason == SHIFT_CANCELLED_REASON)})
    title, body = messages.shift_cancelled_texts(item_title=shift.item_title, start=shift.start)
    data = _data(deps, shift_id=shift.shift_id, item_id=shift.item_id, shift=shift,
                 start=shift.start, end=shift.end)
    await notify_many(deps=deps, drafts=[NotificationDraft(
        type="shift.cancelled", actor_id=actor_id, tenant=shift.tenant, title=title, body=body,
        data=data, event_at=event_at,
        dedupe_key=rules.shift_cancelled_key(shift_id=shift.shift_id, actor_id=actor_id))
        for actor_id in told])
    await deps.reminders.cancel(shift_id=shift.shift_id, now=deps.clock())


async def _shift_changed(deps: Deps, shift: ShiftRow, previous: ShiftRow | None,
                         event_at: datetime) -> None:
    """A new time: the confirmed volunteers are told and their reminders move."""
    signups = await deps.engagements.signups_of_shift(shift.shift_id)
    if previous is not None:
        old_start = previous.start
        moved = _ms(previous.start, previous.end) != _ms(shift.start, shift.end)
    else:  # the shift's earlier events are not known: the sign-ups know its time
        known = [(s.shift_start, s.shift_end) for s in signups]
        old_start = known[0][0] if known else shift.start
        moved = any(_ms(*times) != _ms(shift.start, shift.end) for times in known)
    if not moved:
        return
    title, body = messages.shift_changed_texts(item_title=shift.item_title, old_start=old_start,
                                               start=shift.start, end=shift.end)
    data = _data(deps, shift_id=shift.shift_id, item_id=shift.item_id, shift=shift,
                 start=shift.start, end=shift.end, previous_start=_iso(old_start))
    confirmed = sorted({s.actor_id for s in signups if s.status == "confirmed"})
    await notify_many(deps=deps, drafts=[NotificationDraft(
        type="shift.changed", actor_id=actor_id, tenant=shift.tenant, title=title, body=body,
        data=data, event_at=event_at,
        dedupe_key=rules.shift_changed_key(shift_id=shift.shift_id, version=shift.version,
                                           actor_id=actor_id)) for actor_id in confirmed])
    await _move_reminders(deps, shift)
    await deps.engagements.move_signups(shift.shift_id, start=shift.start, end=shift.end)


async def _move_reminders(deps: Deps, shift: ShiftRow) -> None:
    """Each reminder follows the new start: a scheduled one moves; one already sent (or
    skipped) is due again when its new time still lies ahead."""
    now = deps.clock()
    for reminder in await deps.reminders.of_shift(shift.shift_id):
        if reminder.status == "cancelled" or _ms(reminder.shift_start) == _ms(shift.start):
            continue
        due_at = rules.reminder_due(shift.start, reminder.offset_hours)
        if reminder.status == "scheduled" or due_at > now:
            await deps.reminders.update(reminder.id, shift_start=shift.start, due_at=due_at,
                                        status="scheduled", sent_at=None, updated_at=now)


# ---- re-planning when the person changes reminder_hours ------------------------------------------

async def replan_reminders(*, deps: Deps, actor_id: str) -> bool:
    """Make the person's upcoming reminders follow their stored `reminder_hours`, if a change
    waits for it (`reminders_replan_since`, stored with the change): on every confirmed sign-up
    of a shift starting after the change, the scheduled reminders of offsets no longer wanted
    are cancelled, and the offsets newly wanted are scheduled (or a cancelled one again) unless
    their time had passed at the change. A sent reminder is never touched (and its dedupe key
    would not let it out twice). Idempotent, so it runs in the request that changed the hours
    and again from the reminder task should that request have died before finishing; whether
    there was a change to plan."""
    preferences = await deps.preferences.get(actor_id)
    if preferences is None or preferences.reminders_replan_since is None:
        return False
    since, wanted = preferences.reminders_replan_since, preferences.reminder_hours
    now = deps.clock()
    for signup in await deps.engagements.signups_of_actor(actor_id, starting_after=since):
        if signup.status != "confirmed":
            continue
        shift = await deps.engagements.get_shift(signup.shift_id)
        if shift is not None and shift.status == "cancelled":
            continue
        existing = {r.offset_hours: r for r in await deps.reminders.of_signup(signup.signup_id)}
        await deps.reminders.cancel_many(
            [r.id for offset, r in existing.items() if offset not in wanted], now=now)
        await deps.reminders.schedule(rules.reminders_for(
            signup_id=signup.signup_id, shift_id=signup.shift_id, actor_id=actor_id,
            tenant=signup.tenant, shift_start=signup.shift_start,
            hours=[offset for offset in wanted if offset not in existing], since=since, now=now))
        for offset in wanted:
            due_at = rules.reminder_due(signup.shift_start, offset)
            if offset in existing and due_at > since:  # turned off once, wanted again
                await deps.reminders.reschedule(existing[offset].id, due_at=due_at,
                                                shift_start=signup.shift_start, now=now)
    if not await deps.preferences.finish_replan(actor_id, since=since):
        # The hours changed again meanwhile, and a re-plan of that change may have finished
        # before our writes: unless we planned what is stored now, plan once more.
        current = await deps.preferences.get(actor_id)
        if current is not None and current.reminder_hours != wanted:
            await deps.preferences.request_replan(actor_id, since=since)
    return True


async def replan_waiting_reminders(*, deps: Deps, limit: int = 100) -> int:
    """The re-plans a crash left undone (the change stored, its re-plan not finished)."""
    replanned = 0
    for actor_id in await deps.preferences.replans_due(now=deps.clock(), limit=limit):
        replanned += await replan_reminders(deps=deps, actor_id=actor_id)
    return replanned


# ---- the reminder task ---------------------------------------------------------------------------

async def run_reminder_task(*, deps: Deps) -> dict[str, int]:
    """One round of the periodic reminder task: finish waiting re-plans first (so that a
    changed offset is not sent, nor a new one missed), then send what is due."""
    replanned = await replan_waiting_reminders(deps=deps)
    return {"replanned": replanned, **await send_due_reminders(deps=deps)}


async def send_due_reminders(*, deps: Deps, limit: int = 200) -> dict[str, int]:
    """Tell each due reminder once, by the person's channels, at once (never into a digest).
    Each goes through `notify_many` under its dedupe key, which stores the notification and
    claims its deliveries before sending: a crash after that is finished by the retry task, and
    a second run (or instance) finds the key taken. Skipped: reminders whose shift has started
    or was cancelled, whose sign-up was cancelled or removed, whose offset the person turned
    off, and the earlier of several due at once for one sign-up: after downtime over both the
    24 h and the 2 h moment only the 2 h one goes out (saying how long is really left), not two
    mails at once of which the first is stale."""
    now = deps.clock()
    due = await deps.reminders.due(now=now, limit=limit)
    if not due:
        return {}
    by_signup: dict[str, list[Reminder]] = {}
    for reminder in due:
        by_signup.setdefault(reminder.signup_id, []).append(reminder)
    actor_ids = sorted({r.actor_id for r in due})
    preferences = await deps.preferences.get_many(actor_ids)
    shifts = {shift_id: await deps.engagements.get_shift(shift_id)
              for shift_id in sorted({r.shift_id for r in due})}
    # A re-plan racing a cancellation can leave a reminder scheduled on a cancelled sign-up.
    signups = {signup_id: await deps.engagements.get_signup(signup_id) for signup_id in by_signup}
    to_send: list[Reminder] = []
    skipped: list[Reminder] = []
    for signup_id, reminders in by_signup.items():
        first = reminders[0]
        hours = (preferences.get(first.actor_id)
                 or Preferences.default(first.actor_id)).reminder_hours
        shift, signup = shifts.get(first.shift_id), signups.get(signup_id)
        off = ((shift is not None and shift.status == "cancelled")
               or (signup is not None and signup.status in ("cancelled", "removed")))
        wanted = sorted((r for r in reminders if not off and r.shift_start > now
                         and r.offset_hours in hours), key=lambda r: (r.due_at, r.id))
        skipped += [r for r in reminders if r not in wanted]
        if wanted:  # only the latest of several due at once goes out
            *earlier, latest = wanted
            skipped += earlier
            to_send.append(latest)
    drafts = []
    for reminder in to_send:
        shift = shifts.get(reminder.shift_id)
        hours_left = max(1, round((reminder.shift_start - now).total_seconds() / 3600))
        title, body = messages.reminder_texts(
            item_title=shift.item_title if shift else None, start=reminder.shift_start,
            place_name=shift.place_name if shift else None, hours_left=hours_left)
        drafts.append(NotificationDraft(
            type="shift.reminder", actor_id=reminder.actor_id, tenant=reminder.tenant,
            title=title, body=body, event_at=reminder.due_at,
            data=_data(deps, shift_id=reminder.shift_id,
                       item_id=shift.item_id if shift else "", shift=shift,
                       start=reminder.shift_start, end=shift.end if shift else reminder.shift_start,
                       signup_id=reminder.signup_id, offset_hours=reminder.offset_hours),
            dedupe_key=rules.reminder_key(reminder)))
    await notify_many(deps=deps, drafts=drafts)
    outcome = {"sent": 0, "skipped": 0}
    for status, reminders in (("sent", to_send), ("skipped", skipped)):
        for reminder in reminders:
            if await deps.reminders.finish(reminder.id, due_at=reminder.due_at, status=status,
                                           now=now):
                outcome[status] += 1
    return outcome


def reminder_view(reminder: Reminder) -> dict[str, Any]:
    return reminder.model_dump(include={"id", "signup_id", "shift_id", "actor_id",
                                        "offset_hours", "shift_start", "due_at", "status"})
