"""In-memory stand-ins for the service's ports, for testing the service logic without servers.
They keep the contracts the real adapters keep (unique keys, version rules, leases, paging
order, expiring counters): tests/contract/ports/notifications_*.py holds the suites that run
against both (test_port_contracts.py here and in tests/integration/notifications)."""
from __future__ import annotations

import asyncio

import time
import uuid
from datetime import datetime, timedelta, timezone

from services.notifications.domain.erasure import mentioned_actors
from services.notifications.domain.messages import Mail
from services.notifications.domain.models import (
    Delivery, Notification, Preferences, Recipient, Reminder, ShiftRow, SignupRow,
)
from services.notifications.service import Deps
from services.notifications.settings import NotificationsSettings


class Clock:
    def __init__(self):
        self.now = datetime(2026, 5, 4, 8, 0, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta) -> None:
        self.now += timedelta(**delta)


def _newest_first(items):
    return sorted(items, key=lambda item: (item.created_at, item.id), reverse=True)


def _after(items, after):
    """The items strictly after the position (created_at, id) in newest-first order."""
    if after is None:
        return list(items)
    return [item for item in items if (item.created_at, item.id) < after]


def _copy(model):
    # What a database answers is a snapshot: a caller changing it changes nothing stored.
    return model.model_copy(deep=True) if model is not None else None


class Recipients:
    def __init__(self):
        self.items: dict[str, Recipient] = {}
        self.erased: set[str] = set()

    async def apply(self, recipient: Recipient) -> bool:
        current = self.items.get(recipient.actor_id)
        if recipient.actor_id in self.erased or (current and current.version >= recipient.version):
            return False
        self.items[recipient.actor_id] = _copy(recipient)
        return True

    async def get(self, actor_id):
        return _copy(self.items.get(actor_id))

    async def get_many(self, actor_ids):
        return {a: _copy(self.items[a]) for a in actor_ids if a in self.items}

    async def owned_by(self, sub):
        return [_copy(self.items[a]) for a in sorted(self.items) if sub in self.items[a].owners]

    async def erase(self, actor_id, version):
        self.erased.add(actor_id)
        self.items.pop(actor_id, None)

    async def erased_among(self, actor_ids):
        return set(actor_ids) & self.erased


class PreferenceStore:
    def __init__(self):
        self.items: dict[str, Preferences] = {}

    async def get(self, actor_id):
        return _copy(self.items.get(actor_id))

    async def get_many(self, actor_ids):
        return {a: _copy(self.items[a]) for a in actor_ids if a in self.items}

    async def save(self, preferences):
        self.items[preferences.actor_id] = _copy(preferences)

    async def delete_actor(self, actor_id):
        self.items.pop(actor_id, None)

    async def replans_due(self, *, now, limit):
        waiting = sorted((p.reminders_replan_since, p.actor_id) for p in self.items.values()
                         if p.reminders_replan_since is not None
                         and p.reminders_replan_since <= now)
        return [actor_id for _, actor_id in waiting[:limit]]

    async def finish_replan(self, actor_id, *, since):
        found = self.items.get(actor_id)
        if found is None or found.reminders_replan_since != since:
            return False
        found.reminders_replan_since = None
        return True

    async def request_replan(self, actor_id, *, since):
        found = self.items.get(actor_id)
        if found is None or found.reminders_replan_since is not None:
            return False
        found.reminders_replan_since = since
        return True


class Notifications:
    def __init__(self):
        self.items: dict[str, Notification] = {}
        self.closings: dict[str, tuple[list[str], datetime]] = {}

    async def insert_many(self, notifications):
        inserted = set()
        for notification in notifications:
            if notification.id in self.items or any(
                    n.dedupe_key == notification.dedupe_key for n in self.items.values()):
                continue
            self.items[notification.id] = _copy(notification)
            inserted.add(notification.id)
        return inserted

    async def by_keys(self, dedupe_keys):
        return {n.dedupe_key: _copy(n) for n in self.items.values() if n.dedupe_key in dedupe_keys}

    async def get_many(self, ids):
        return [_copy(self.items[i]) for i in ids if i in self.items]

    async def page(self, actor_ids, *, unread_only, limit, after):
        found = [n for n in self.items.values() if n.actor_id in actor_ids and n.in_inbox
                 and not (unread_only and n.read)]
        return [_copy(n) for n in _after(_newest_first(found), after)[:limit]]

    async def mark_read(self, notification_id, actor_ids):
        found = self.items.get(notification_id)
        if found is None or found.actor_id not in actor_ids or not found.in_inbox:
            return None
        self.items[notification_id] = found.model_copy(update={"read": True})
        return _copy(self.items[notification_id])

    async def mark_all_read(self, actor_ids):
        unread = [n.id for n in self.items.values()
                  if n.actor_id in actor_ids and n.in_inbox and not n.read]
        for identifier in unread:
            self.items[identifier] = self.items[identifier].model_copy(update={"read": True})
        return len(unread)

    async def mark_withdrawn(self, pair, before):
        ids = [n.id for n in self.items.values()
               if n.pair == pair and n.event_at < before and not n.withdrawn]
        for identifier in ids:
            self.items[identifier] = self.items[identifier].model_copy(update={"withdrawn": True})
        return ids

    async def for_actors(self, actor_ids):
        return [_copy(n) for n in _newest_first(
            n for n in self.items.values() if n.actor_id in actor_ids)]

    async def delete_actor(self, actor_id):
        self.items = {k: n for k, n in self.items.items() if n.actor_id != actor_id}

    async def mentioning(self, actor_id):
        return [_copy(self.items[k]) for k in sorted(self.items)
                if actor_id in mentioned_actors(self.items[k].data)]

    async def rewrite(self, changes):
        for identifier, title, body, data in changes:
            self.items[identifier] = self.items[identifier].model_copy(
                update={"title": title, "body": body, "data": data})

    async def update_many(self, ids, **fields):
        for identifier in ids:
            if identifier in self.items:
                self.items[identifier] = self.items[identifier].model_copy(update=fields)

    async def open_windows(self, windows, now):
        newest = {}
        for n in self.items.values():
            if n.window in windows and n.closes_at is not None and n.closes_at > now \
                    and not n.sealed and (n.window not in newest
                                          or n.closes_at > newest[n.window].closes_at):
                newest[n.window] = _copy(n)
        # The answer travels back: batches handled side by side interleave here.
        await asyncio.sleep(0)
        return newest

    async def join_windows(self, joins):
        for lead_id, member_ids in joins.items():
            lead = self.items.get(lead_id)
            if lead is not None and not lead.sealed and not set(member_ids) & set(lead.member_ids):
                await self.update_many([lead_id], member_ids=[*lead.member_ids, *member_ids])
        return {lead_id for lead_id, member_ids in joins.items() if lead_id in self.items
                and set(member_ids) <= set(self.items[lead_id].member_ids)}

    async def leave_window(self, lead_id, member_ids):
        lead = self.items.get(lead_id)
        if lead is not None:
            await self.update_many([lead_id], member_ids=[
                i for i in lead.member_ids if i not in member_ids])

    async def seal_windows(self, lead_ids):
        await self.update_many(lead_ids, sealed=True, window=None, closes_at=None)
        return await self.get_many(lead_ids)

    async def windows_due(self, *, now, limit):
        due = sorted((n for n in self.items.values()
                      if n.closes_at is not None and n.closes_at <= now),
                     key=lambda n: (n.closes_at, n.id))
        return [n.id for n in due[:limit]]

    async def begin_closing(self, lead_ids, *, at):
        closing_id = uuid.uuid4().hex
        self.closings[closing_id] = (list(lead_ids), at)
        return closing_id

    async def end_closing(self, closing_id):
        self.closings.pop(closing_id, None)

    async def stale_closings(self, *, before):
        return [(closing_id, lead_ids) for closing_id, (lead_ids, at) in self.closings.items()
                if at < before]


class Deliveries:
    def __init__(self):
        self.items: dict[str, Delivery] = {}

    async def claim(self, delivery):
        if delivery.id in self.items or any(d.key == delivery.key for d in self.items.values()):
            return False
        self.items[delivery.id] = _copy(delivery)
        return True

    async def claim_many(self, deliveries):
        return {d.id for d in deliveries if await self.claim(d)}

    async def release_waiting(self, *, actor_id, now):
        waiting = [d.id for d in self.items.values()
                   if d.actor_id == actor_id and d.status == "waiting"]
        await self.update_many(waiting, status="retrying", next_retry_at=now, updated_at=now)
        return len(waiting)

    async def waiting_actors(self):
        return sorted({d.actor_id for d in self.items.values() if d.status == "waiting"})

    async def cancel_waiting(self, *, created_before, reason, now):
        expired = [d.id for d in self.items.values()
                   if d.status == "waiting" and d.created_at < created_before]
        await self.update_many(expired, status="cancelled", last_error=reason, updated_at=now)
        return len(expired)

    async def get(self, delivery_id):
        return _copy(self.items.get(delivery_id))

    async def update(self, delivery_id, **fields):
        if delivery_id in self.items:
            self.items[delivery_id] = self.items[delivery_id].model_copy(update=fields)

    async def update_many(self, delivery_ids, **fields):
        for identifier in delivery_ids:
            await self.update(identifier, **fields)

    @staticmethod
    def _is_due(delivery, now):
        return (delivery.status in ("pending", "retrying") and delivery.next_retry_at is not None
                and delivery.next_retry_at <= now)

    async def due(self, *, now, limit):
        due = sorted((d for d in self.items.values() if self._is_due(d, now)),
                     key=lambda d: (d.next_retry_at, d.id))
        return [(d.id, d.next_retry_at) for d in due[:limit]]

    async def claim_due(self, *, delivery_id, due_at, lease_until):
        delivery = self.items.get(delivery_id)
        if delivery is None or delivery.next_retry_at != due_at:
            return None
        await self.update(delivery_id, next_retry_at=lease_until)
        return _copy(self.items[delivery_id])

    async def page(self, actor_ids, *, limit, after):
        found = [d for d in self.items.values() if d.actor_id in actor_ids]
        return [_copy(d) for d in _after(_newest_first(found), after)[:limit]]

    async def deferred_actors(self):
        return sorted({d.actor_id for d in self.items.values() if d.status == "deferred"})

    async def deferred(self, actor_id):
        return [_copy(d) for d in sorted(self.items.values(), key=lambda d: (d.created_at, d.id))
                if d.actor_id == actor_id and d.status == "deferred"]

    async def cancel_deferred(self, notification_ids, *, reason, now):
        for d in list(self.items.values()):
            if d.status == "deferred" and set(d.notification_ids) & set(notification_ids):
                await self.update(d.id, status="cancelled", last_error=reason, updated_at=now)

    async def for_actors(self, actor_ids):
        return [_copy(d) for d in _newest_first(
            d for d in self.items.values() if d.actor_id in actor_ids)]

    async def delete_actor(self, actor_id):
        self.items = {k: d for k, d in self.items.items() if d.actor_id != actor_id}

    def by_channel(self, channel: str) -> list[Delivery]:
        return [d for d in self.items.values() if d.channel == channel]


class MatchHistory:
    def __init__(self):
        self.items: dict[str, tuple[str, datetime]] = {}

    async def record_withdrawal(self, *, event_id, pair, at):
        self.items.setdefault(event_id, (pair, at))

    async def withdrawals_of(self, pairs):
        found = {}
        for pair, at in self.items.values():
            if pair in pairs:
                found.setdefault(pair, []).append(at)
        return found


class Mailer:
    def __init__(self):
        self.sent: list[tuple[str, Mail, dict]] = []
        self.failing = False

    async def send(self, *, to, mail, headers):
        if self.failing:
            raise ConnectionRefusedError("smtp is down")
        self.sent.append((to, mail, headers))


class Webhooks:
    def __init__(self):
        self.posts: list[tuple[str, bytes, dict]] = []

    async def ensure_allowed(self, url):
        return None

    async def post(self, url, *, body, headers):
        self.posts.append((url, body, headers))


class Counter:
    """Counters that expire `ttl_s` after they were created (as Redis keys with EXPIRE NX)."""

    def __init__(self, clock=time.monotonic):
        self.values: dict[str, int] = {}
        self._expires: dict[str, float] = {}
        self._clock = clock

    async def increment_many(self, increments):
        now = self._clock()
        for key, (by, ttl_s) in increments.items():
            if key in self._expires and self._expires[key] <= now:
                del self.values[key], self._expires[key]
            if key not in self.values:
                self._expires[key] = now + ttl_s
            self.values[key] = self.values.get(key, 0) + by
        return {key: self.values[key] for key in increments}


def make_deps(*, send_queue=None, **settings) -> Deps:
    """Deps on fakes; without a `send_queue` deliveries are sent inline."""
    # Coalescing off unless a test turns it on (tests/unit/notifications/test_coalescing.py).
    defaults = {"coalesce_window_s": 0, "delivery_attempts": 2, "delivery_backoff_initial_s": 0.001,
                "delivery_backoff_max_s": 0.001, "retry_delay_initial_s": 60,
                "retry_rounds": 3, "public_base_url": "https://engage.example"}
    return Deps(settings=NotificationsSettings(**{**defaults, **settings}),
                recipients=Recipients(), preferences=PreferenceStore(),
                notifications=Notifications(), deliveries=Deliveries(),
                match_history=MatchHistory(), mailer=Mailer(), webhooks=Webhooks(),
                counter=Counter(), engagements=Engagements(), reminders=Reminders(),
                clock=Clock(), send_queue=send_queue)


class Engagements:
    def __init__(self):
        self.shifts: dict[str, ShiftRow] = {}
        self.signups: dict[str, SignupRow] = {}

    async def apply_shift(self, shift):
        current = self.shifts.get(shift.shift_id)
        if current is not None and current.version >= shift.version:
            return False
        self.shifts[shift.shift_id] = _copy(shift)
        return True

    async def get_shift(self, shift_id):
        return _copy(self.shifts.get(shift_id))

    async def apply_signup(self, signup):
        current = self.signups.get(signup.signup_id)
        if current is not None and current.version >= signup.version:
            return False
        self.signups[signup.signup_id] = _copy(signup)
        return True

    async def get_signup(self, signup_id):
        return _copy(self.signups.get(signup_id))

    async def signups_of_shift(self, shift_id):
        return [_copy(self.signups[k]) for k in sorted(self.signups)
                if self.signups[k].shift_id == shift_id]

    async def move_signups(self, shift_id, *, start, end):
        for key, row in self.signups.items():
            if row.shift_id == shift_id:
                self.signups[key] = row.model_copy(update={"shift_start": start,
                                                           "shift_end": end})

    async def signups_of_actor(self, actor_id, *, starting_after):
        return [_copy(self.signups[k]) for k in sorted(self.signups)
                if self.signups[k].actor_id == actor_id
                and self.signups[k].shift_start > starting_after]

    async def delete_actor(self, actor_id):
        self.signups = {k: s for k, s in self.signups.items() if s.actor_id != actor_id}


class Reminders:
    def __init__(self):
        self.items: dict[str, Reminder] = {}

    async def schedule(self, reminders):
        inserted = set()
        for reminder in reminders:
            if reminder.id not in self.items:
                self.items[reminder.id] = _copy(reminder)
                inserted.add(reminder.id)
        return inserted

    async def get_many(self, ids):
        return [_copy(self.items[i]) for i in ids if i in self.items]

    async def of_signup(self, signup_id):
        return [_copy(self.items[k]) for k in sorted(self.items)
                if self.items[k].signup_id == signup_id]

    async def of_shift(self, shift_id):
        return [_copy(self.items[k]) for k in sorted(self.items)
                if self.items[k].shift_id == shift_id]

    async def update(self, reminder_id, **fields):
        if reminder_id in self.items:
            self.items[reminder_id] = self.items[reminder_id].model_copy(update=fields)

    async def finish(self, reminder_id, *, due_at, status, now):
        found = self.items.get(reminder_id)
        if found is None or found.due_at != due_at or found.status != "scheduled":
            return False
        fields = {"status": status, "updated_at": now, **({"sent_at": now}
                                                          if status == "sent" else {})}
        await self.update(reminder_id, **fields)
        return True

    async def cancel(self, *, signup_id=None, shift_id=None, now):
        hit = [r.id for r in self.items.values() if r.status == "scheduled" and (
            r.signup_id == signup_id if signup_id is not None else r.shift_id == shift_id)]
        for identifier in hit:
            await self.update(identifier, status="cancelled", updated_at=now)
        return len(hit)

    async def cancel_many(self, ids, *, now):
        hit = [i for i in ids if i in self.items and self.items[i].status == "scheduled"]
        for identifier in hit:
            await self.update(identifier, status="cancelled", updated_at=now)
        return len(hit)

    async def reschedule(self, reminder_id, *, shift_start, due_at, now):
        found = self.items.get(reminder_id)
        if found is None or found.status not in ("cancelled", "skipped"):
            return False
        await self.update(reminder_id, status="scheduled", shift_start=shift_start,
                          due_at=due_at, sent_at=None, updated_at=now)
        return True

    async def due(self, *, now, limit):
        due = sorted((r for r in self.items.values()
                      if r.status == "scheduled" and r.due_at <= now),
                     key=lambda r: (r.due_at, r.id))
        return [_copy(r) for r in due[:limit]]

    async def for_actors(self, actor_ids):
        return [_copy(r) for r in sorted(self.items.values(), key=lambda r: (r.due_at, r.id))
                if r.actor_id in actor_ids]

    async def delete_actor(self, actor_id):
        self.items = {k: r for k, r in self.items.items() if r.actor_id != actor_id}
