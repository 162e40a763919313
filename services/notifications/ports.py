"""The small interfaces the service logic talks to; adapters/ holds one real adapter each
(the in-memory fakes of the stores live in tests/unit/notifications/fakes.py, and the suites in
tests/contract/ports/notifications_*.py hold both to the same contract)."""
from __future__ import annotations

from datetime import datetime
from typing import Callable, Protocol

from services.notifications.domain.messages import Mail
from services.notifications.domain.models import (
    Delivery, Localized, Notification, Preferences, Recipient, Reminder, SendJob, ShiftRow,
    SignupRow,
)

Position = tuple[datetime, str]  # (created_at, id) of the last item of a page
Clock = Callable[[], datetime]


class RecipientStore(Protocol):
    async def apply(self, recipient: Recipient) -> bool:
        """Store the snapshot unless we hold the same or a newer version (or it was erased)."""

    async def get(self, actor_id: str) -> Recipient | None: ...

    async def get_many(self, actor_ids: list[str]) -> dict[str, Recipient]: ...

    async def owned_by(self, sub: str) -> list[Recipient]: ...

    async def erase(self, actor_id: str, version: int) -> None:
        """Forget the actor and remember only its id, so late events do not bring it back."""

    async def erased_among(self, actor_ids: list[str]) -> set[str]: ...


class PreferenceStore(Protocol):
    async def get(self, actor_id: str) -> Preferences | None: ...

    async def get_many(self, actor_ids: list[str]) -> dict[str, Preferences]: ...

    async def save(self, preferences: Preferences) -> None: ...

    async def delete_actor(self, actor_id: str) -> None: ...

    # ---- re-planning reminders after a change of `reminder_hours` (service/engagements.py) ----

    async def replans_due(self, *, now: datetime, limit: int) -> list[str]:
        """Actors whose `reminders_replan_since` is set (at or before `now`), oldest first."""

    async def finish_replan(self, actor_id: str, *, since: datetime) -> bool:
        """Clear `reminders_replan_since` if it is still `since`; whether it did."""

    async def request_replan(self, actor_id: str, *, since: datetime) -> bool:
        """Set `reminders_replan_since` to `since` on stored preferences that have none set;
        whether it did."""


class NotificationStore(Protocol):
    async def insert_many(self, notifications: list[Notification]) -> set[str]:
        """Insert each unless one with the same dedupe key exists; the ids inserted."""

    async def by_keys(self, dedupe_keys: list[str]) -> dict[str, Notification]: ...

    async def get_many(self, ids: list[str]) -> list[Notification]: ...

    async def page(self, actor_ids: list[str], *, unread_only: bool, limit: int,
                   after: Position | None) -> list[Notification]: ...

    async def mark_read(self, notification_id: str, actor_ids: list[str]) -> Notification | None: ...

    async def mark_all_read(self, actor_ids: list[str]) -> int: ...

    async def mark_withdrawn(self, pair: str, before: datetime) -> list[str]:
        """Flag the pair's notifications caused before `before`; their ids."""

    async def for_actors(self, actor_ids: list[str]) -> list[Notification]: ...

    async def delete_actor(self, actor_id: str) -> None: ...

    async def mentioning(self, actor_id: str) -> list[Notification]:
        """Other actors' notifications that name this actor (contact party, match counterpart)."""

    async def rewrite(self, changes: list[tuple[str, Localized, Localized, dict]]) -> None:
        """Replace (id, title, body, data) of these notifications."""

    # ---- coalescing windows (see service/coalescing.py) ----

    async def update_many(self, ids: list[str], **fields) -> None:
        """Set these fields on these notifications."""

    async def open_windows(self, windows: list[str], now: datetime) -> dict[str, Notification]:
        """Per window of `windows`: its newest unsealed lead whose window closes after `now`,
        if any."""

    async def join_windows(self, joins: dict[str, list[str]]) -> set[str]:
        """Per lead id of `joins`: append its pair ids to the lead's pairs, atomically, unless
        it is sealed or lists one of them already. The leads that list all of theirs after it
        (any other was sealed)."""

    async def leave_window(self, lead_id: str, member_ids: list[str]) -> None:
        """Take these ids off the lead's pairs (listed, but found stored before under another
        id)."""

    async def seal_windows(self, lead_ids: list[str]) -> list[Notification]:
        """Take no more pairs into these leads and take them off the open and due windows
        (`window` and `closes_at` removed); the leads as sealed, in the order asked for (those
        gone left out)."""

    async def windows_due(self, *, now: datetime, limit: int) -> list[str]:
        """Ids of the leads whose `closes_at` is at or before `now`, oldest first."""

    async def begin_closing(self, lead_ids: list[str], *, at: datetime) -> str:
        """Record that these leads are being sealed and told (so a crash before the end is
        finished by the next window task); the record's id."""

    async def end_closing(self, closing_id: str) -> None: ...

    async def stale_closings(self, *, before: datetime) -> list[tuple[str, list[str]]]:
        """(id, lead ids) of the closings begun before `before` and not ended."""


class DeliveryStore(Protocol):
    async def claim(self, delivery: Delivery) -> bool:
        """Insert; False when a delivery with the same key exists (someone else sends it)."""

    async def claim_many(self, deliveries: list[Delivery]) -> set[str]:
        """`claim` for several: the ids of those inserted."""

    async def release_waiting(self, *, actor_id: str, now: datetime) -> int:
        """Make the actor's deliveries that wait for its actor event due now; how many."""

    async def waiting_actors(self) -> list[str]:
        """Actors whose deliveries wait for their actor event."""

    async def cancel_waiting(self, *, created_before: datetime, reason: str,
                             now: datetime) -> int:
        """Give up the waiting deliveries created before `created_before`; how many."""

    async def get(self, delivery_id: str) -> Delivery | None: ...

    async def update(self, delivery_id: str, **fields) -> None: ...

    async def due(self, *, now: datetime, limit: int) -> list[tuple[str, datetime]]:
        """(id, retry time) of pending/retrying deliveries whose retry time has come, oldest
        first."""

    async def claim_due(self, *, delivery_id: str, due_at: datetime,
                        lease_until: datetime) -> Delivery | None:
        """Take the delivery, leased until `lease_until`, if its retry time is still `due_at`
        (any claim or outcome changes it); None if another instance took it meanwhile."""

    async def page(self, actor_ids: list[str], *, limit: int,
                   after: Position | None) -> list[Delivery]: ...

    async def deferred_actors(self) -> list[str]:
        """Actors with e-mails waiting for their digest."""

    async def deferred(self, actor_id: str) -> list[Delivery]: ...

    async def update_many(self, delivery_ids: list[str], **fields) -> None: ...

    async def cancel_deferred(self, notification_ids: list[str], *, reason: str,
                              now: datetime) -> None: ...

    async def for_actors(self, actor_ids: list[str]) -> list[Delivery]: ...

    async def delete_actor(self, actor_id: str) -> None: ...


class MatchHistory(Protocol):
    async def record_withdrawal(self, *, event_id: str, pair: str, at: datetime) -> None: ...

    async def withdrawals_of(self, pairs: list[str]) -> dict[str, list[datetime]]:
        """When each pair was withdrawn (pairs never withdrawn are left out)."""


class EngagementStore(Protocol):
    """Our read model of shifts and sign-ups (from the engagements topic): who is on a shift,
    and what the shift is called, for the texts."""

    async def apply_shift(self, shift: ShiftRow) -> bool:
        """Store unless we hold the same or a newer version."""

    async def get_shift(self, shift_id: str) -> ShiftRow | None: ...

    async def apply_signup(self, signup: SignupRow) -> bool:
        """Store unless we hold the same or a newer version."""

    async def get_signup(self, signup_id: str) -> SignupRow | None: ...

    async def signups_of_shift(self, shift_id: str) -> list[SignupRow]: ...

    async def move_signups(self, shift_id: str, *, start: datetime, end: datetime) -> None:
        """The shift's new time on every sign-up of it."""

    async def signups_of_actor(self, actor_id: str, *,
                               starting_after: datetime) -> list[SignupRow]:
        """The volunteer's sign-ups (any status) of shifts starting after `starting_after`."""

    async def delete_actor(self, actor_id: str) -> None:
        """Forget the actor's sign-ups."""


class ReminderStore(Protocol):
    async def schedule(self, reminders: list[Reminder]) -> set[str]:
        """Insert each unless one with its id (sign-up, offset) exists; the ids inserted."""

    async def get_many(self, ids: list[str]) -> list[Reminder]: ...

    async def of_signup(self, signup_id: str) -> list[Reminder]: ...

    async def of_shift(self, shift_id: str) -> list[Reminder]: ...

    async def update(self, reminder_id: str, **fields) -> None: ...

    async def finish(self, reminder_id: str, *, due_at: datetime, status: str,
                     now: datetime) -> bool:
        """Mark a scheduled reminder sent or skipped, unless it was moved or cancelled
        meanwhile (its `due_at` or status changed); whether it did."""

    async def cancel(self, *, signup_id: str | None = None, shift_id: str | None = None,
                     now: datetime) -> int:
        """Cancel the scheduled reminders of the sign-up (or of every sign-up of the shift)."""

    async def cancel_many(self, ids: list[str], *, now: datetime) -> int:
        """Cancel those of these reminders that are still scheduled; how many."""

    async def reschedule(self, reminder_id: str, *, shift_start: datetime, due_at: datetime,
                         now: datetime) -> bool:
        """Schedule a cancelled or skipped reminder again, for this time (never a sent one);
        whether it did."""

    async def due(self, *, now: datetime, limit: int) -> list[Reminder]:
        """Scheduled reminders whose time has come, oldest first."""

    async def for_actors(self, actor_ids: list[str]) -> list[Reminder]:
        """All reminders of these actors, by due time."""

    async def delete_actor(self, actor_id: str) -> None: ...


class Mailer(Protocol):
    async def send(self, *, to: str, mail: Mail, headers: dict[str, str]) -> None: ...


class WebhookSender(Protocol):
    async def ensure_allowed(self, url: str) -> None:
        """Raise ValueError for a target this deployment must not call."""

    async def post(self, url: str, *, body: bytes, headers: dict[str, str]) -> None:
        """Raise (DeliveryFailed, in words safe to show) unless the receiver answered 2xx."""


class WindowCounter(Protocol):
    async def increment_many(self, increments: dict[str, tuple[int, int]]) -> dict[str, int]:
        """Add `by` to each counter (key -> (by, ttl_s), the ttl set when the key is new);
        the new values."""


class SendQueue(Protocol):
    """Where the use cases put claimed deliveries for the background senders (the process's
    bounded asyncio.Queue, which its Dispatcher consumes); waits while it is full."""

    async def put(self, job: SendJob) -> None: ...
