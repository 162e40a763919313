"""Who is told about an event, the keys that make every notification unique, and the channels
a notification goes through.

Idempotency: every notification has a key per recipient actor and cause, held unique in the
database, so a redelivered event, a second match.found for the same pair (e.g. after a score
change) or a second consumer instance never notifies twice:

- match.found -> `match.found:<offer_id>:<need_id>:<actor_id>:<round>`, where `round` counts the
  withdrawals of this pair that happened (by event time) before this match.found. A match that
  is withdrawn and found again later is thus a new notification; replaying old events gives the
  same rounds and so the same keys.
- contact.<status> -> `contact.<status>:<contact_id>:<actor_id>` (each status happens once).
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Iterable, Literal

from services.notifications.domain.models import Preferences, Recipient, Reminder

Role = Literal["offer", "need"]


def pair_key(offer_id: str, need_id: str) -> str:
    return f"{offer_id}:{need_id}"


def match_round(found_at: datetime, withdrawals: Iterable[datetime]) -> int:
    """How many withdrawals of the pair precede this match.found."""
    return sum(1 for withdrawn_at in withdrawals if withdrawn_at < found_at)


def match_key(*, offer_id: str, need_id: str, actor_id: str, round_: int) -> str:
    return f"match.found:{offer_id}:{need_id}:{actor_id}:{round_}"


def contact_key(*, status: str, contact_id: str, actor_id: str) -> str:
    return f"contact.{status}:{contact_id}:{actor_id}"


def item_hidden_key(*, item_id: str, version: int, actor_id: str) -> str:
    return f"item.hidden:{item_id}:{version}:{actor_id}"


def signup_key(*, type_: str, signup_id: str) -> str:
    """signup.promoted / signup.removed happen once per sign-up."""
    return f"{type_}:{signup_id}"


def shift_cancelled_key(*, shift_id: str, actor_id: str) -> str:
    return f"shift.cancelled:{shift_id}:{actor_id}"


def shift_changed_key(*, shift_id: str, version: int, actor_id: str) -> str:
    return f"shift.changed:{shift_id}:{version}:{actor_id}"


def reminder_key(reminder: Reminder) -> str:
    """With the shift's start: a moved shift's reminder is a new one."""
    return f"shift.reminder:{reminder.id}:{reminder.shift_start.isoformat()}"


def reminder_id(*, signup_id: str, offset_hours: int) -> str:
    return f"{signup_id}:{offset_hours}"


# Sign-up statuses of people on a shift (told when it is cancelled).
ON_SHIFT = ("confirmed", "waitlisted")
# Notifications that go out at once by the person's channels, never into a digest nor held by
# the instant-mail rate limit (their point is their timing).
ALWAYS_INSTANT = ("shift.reminder",)
MAX_REMINDERS = 3
REMINDER_HOURS_RANGE = (1, 168)


def reminder_due(shift_start: datetime, offset_hours: int) -> datetime:
    return shift_start - timedelta(hours=offset_hours)


def reminders_for(*, signup_id: str, shift_id: str, actor_id: str, tenant: str,
                  shift_start: datetime, hours: Iterable[int], since: datetime,
                  now: datetime) -> list[Reminder]:
    """The reminders of a confirmed sign-up: one per offset whose time lies after `since` (when
    the person signed up or was promoted: a reminder already past then is pointless)."""
    reminders = []
    for offset in sorted(set(hours), reverse=True):
        due_at = reminder_due(shift_start, offset)
        if due_at > since:
            reminders.append(Reminder(
                id=reminder_id(signup_id=signup_id, offset_hours=offset), signup_id=signup_id,
                shift_id=shift_id, actor_id=actor_id, tenant=tenant, offset_hours=offset,
                shift_start=shift_start, due_at=due_at, created_at=now, updated_at=now))
    return reminders


def validate_reminder_hours(hours: list) -> list[int] | str:
    """The hours sorted (largest first, no repeats), or what is wrong with them."""
    low, high = REMINDER_HOURS_RANGE
    if not isinstance(hours, list) or len(hours) > MAX_REMINDERS:
        return f"must be a list of at most {MAX_REMINDERS} whole numbers of hours"
    if any(isinstance(h, bool) or not isinstance(h, int) or not low <= h <= high for h in hours):
        return f"each must be a whole number of hours from {low} to {high}"
    return sorted(set(hours), reverse=True)


def delivery_key(*, notification_id: str, channel: str) -> str:
    return f"{channel}:{notification_id}"


def delivery_id(key: str) -> str:
    """A delivery's id follows from its key, so the id's uniqueness is the idempotency check
    and the store needs no second unique index."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"delivery:{key}").hex


def digest_key(*, actor_id: str, day: date) -> str:
    return f"digest:{actor_id}:{day.isoformat()}"


def match_recipients(*, offer_actor_id: str, need_actor_id: str) -> list[tuple[str, Role]]:
    """Both sides are told; an actor on both sides (not matched by the matcher) once."""
    recipients: list[tuple[str, Role]] = [(need_actor_id, "need")]
    if offer_actor_id != need_actor_id:
        recipients.append((offer_actor_id, "offer"))
    return recipients


def contact_recipients(*, status: str, requester_actor_id: str,
                       recipient_actor_id: str) -> list[str]:
    if status == "requested":
        return [recipient_actor_id]
    if status == "accepted":
        return list(dict.fromkeys([requester_actor_id, recipient_actor_id]))
    if status == "declined":
        return [requester_actor_id]
    raise ValueError(f"unknown contact status {status!r}")


EmailPlan = Literal["instant", "digest"]


@dataclass(frozen=True)
class ChannelPlan:
    inbox: bool
    email: EmailPlan | None
    webhook: bool


def plan_channels(preferences: Preferences, recipient: Recipient | None, *,
                  always_instant: bool = False) -> ChannelPlan:
    """Which channels one notification goes through.

    The inbox is a record, not a push: it follows only `channels.inbox`. `frequency` times the
    pushes: "instant" mails and posts at once, "daily" collects mails into one digest a day
    (webhooks stay instant: they feed machines), "off" pauses every push. An actor we do not
    know yet (its actor event is still on the way) is planned as usual: the mail waits for the
    address in the retry task. `always_instant` (reminders): a daily digest does not delay it.
    """
    pushes = preferences.frequency != "off"
    has_address = recipient is None or bool(recipient.email)
    email: EmailPlan | None = None
    if pushes and preferences.channels.email and has_address:
        email = ("digest" if preferences.frequency == "daily" and not always_instant
                 else "instant")
    webhook = pushes and preferences.channels.webhook and bool(preferences.webhook_url)
    return ChannelPlan(inbox=preferences.channels.inbox, email=email, webhook=webhook)


def retry_delay_s(*, rounds_done: int, initial_s: float, max_s: float) -> float:
    """Exponential backoff between the retry task's rounds."""
    return min(max_s, initial_s * (2 ** max(0, rounds_done - 1)))
