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
from datetime import date, datetime
from typing import Iterable, Literal

from services.notifications.domain.models import Preferences, Recipient

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


def plan_channels(preferences: Preferences, recipient: Recipient | None) -> ChannelPlan:
    """Which channels one notification goes through.

    The inbox is a record, not a push: it follows only `channels.inbox`. `frequency` times the
    pushes: "instant" mails and posts at once, "daily" collects mails into one digest a day
    (webhooks stay instant: they feed machines), "off" pauses every push. An actor we do not
    know yet (its actor event is still on the way) is planned as usual: the mail waits for the
    address in the retry task.
    """
    pushes = preferences.frequency != "off"
    has_address = recipient is None or bool(recipient.email)
    email: EmailPlan | None = None
    if pushes and preferences.channels.email and has_address:
        email = "digest" if preferences.frequency == "daily" else "instant"
    webhook = pushes and preferences.channels.webhook and bool(preferences.webhook_url)
    return ChannelPlan(inbox=preferences.channels.inbox, email=email, webhook=webhook)


def retry_delay_s(*, rounds_done: int, initial_s: float, max_s: float) -> float:
    """Exponential backoff between the retry task's rounds."""
    return min(max_s, initial_s * (2 ** max(0, rounds_done - 1)))
