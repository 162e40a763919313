"""What the service keeps: recipients, preferences, notifications and deliveries."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Locale = Literal["de", "en"]
Frequency = Literal["instant", "daily", "off"]
DeliveryChannel = Literal["email", "webhook"]
DeliveryKind = Literal["instant", "digest"]
# pending: claimed, being sent; sent; retrying: failed, the retry task tries again later;
# failed: gave up after every retry round (kept as a record); deferred: waits for the next daily
# digest (frequency "daily", or over the instant-mail rate limit); digested: went out in the
# digest `digest_id`; waiting: its recipient's actor event has not arrived yet (no retry task
# looks at it: the actor event releases it); cancelled: not sent (channel switched off, match
# withdrawn, no address, the recipient never became known).
DeliveryStatus = Literal["pending", "sent", "retrying", "failed", "deferred", "digested",
                         "waiting", "cancelled"]
NotificationType = Literal["match.found", "contact.requested", "contact.accepted", "contact.declined",
                           "item.hidden", "signup.promoted", "signup.removed", "shift.cancelled",
                           "shift.changed", "shift.reminder"]
# scheduled: waits for its time; sent: told (or found told); cancelled: the sign-up or shift
# was cancelled, or the person took the offset out of reminder_hours; skipped: not sent when
# due (the shift had started or was cancelled, the sign-up was cancelled, the person turned the
# offset off, or a later reminder of the same sign-up was due as well).
ReminderStatus = Literal["scheduled", "sent", "cancelled", "skipped"]
DEFAULT_REMINDER_HOURS = (24, 2)


class Model(BaseModel):
    model_config = ConfigDict(extra="ignore")


class Localized(Model):
    de: str
    en: str

    def get(self, locale: str) -> str:
        return self.en if locale == "en" else self.de


class Recipient(Model):
    """Our copy of an actor: where to reach it and who owns it (from actor events)."""

    actor_id: str
    tenant: str
    name: str
    email: str | None = None
    locale: Locale = "de"
    owners: list[str] = Field(default_factory=list)
    version: int


class Channels(Model):
    email: bool = True
    inbox: bool = True
    webhook: bool = False


class Preferences(Model):
    actor_id: str
    channels: Channels = Field(default_factory=Channels)
    frequency: Frequency = "instant"
    webhook_url: str | None = None
    webhook_secret: str | None = None
    # Hours before a confirmed shift at which the volunteer is reminded ([] = never).
    reminder_hours: list[int] = Field(default_factory=lambda: list(DEFAULT_REMINDER_HOURS))
    # Set (to the time of the change) when `reminder_hours` changed and the person's upcoming
    # reminders are not yet re-planned for it; cleared once they are. Stored with the change
    # itself, so a crash before the re-plan leaves it for the reminder task to finish.
    reminders_replan_since: datetime | None = None

    @classmethod
    def default(cls, actor_id: str) -> "Preferences":
        return cls(actor_id=actor_id)


class Notification(Model):
    id: str
    type: NotificationType
    actor_id: str
    tenant: str
    title: Localized
    body: Localized
    data: dict[str, Any] = Field(default_factory=dict)
    created_at: datetime
    # When the event that caused it happened (orders it against match withdrawals).
    event_at: datetime
    dedupe_key: str
    read: bool = False
    in_inbox: bool = True
    # "<offer_id>:<need_id>" for match notifications.
    pair: str | None = None
    withdrawn: bool = False
    # Coalescing (match notifications with COALESCE_WINDOW_S > 0): every pair of a recipient's
    # item found within the window is listed by one "lead" notification, the inbox entry and
    # the source of the window's deliveries. `group_id`: the lead this pair belongs to (the
    # lead's own id on the lead). A lead lists a pair before the pair is stored.
    group_id: str | None = None
    # On a lead only: "<actor_id>:<item_id>" and when the window closes, both only while it
    # is open (removed when it is sealed, so the sparse indexes on them hold the open windows
    # only; `closes_at` comes back for a moment when the window waits for a listed pair still
    # being stored); its pairs (itself first, in the order they joined) and whether it takes
    # no more pairs.
    window: str | None = None
    member_ids: list[str] = Field(default_factory=list)
    closes_at: datetime | None = None
    sealed: bool = False


class Delivery(Model):
    id: str
    key: str  # unique: one delivery per notification and channel, one digest per actor and day
    actor_id: str
    channel: DeliveryChannel
    kind: DeliveryKind
    notification_ids: list[str]
    status: DeliveryStatus = "pending"
    attempts: int = 0  # single send attempts, all rounds together
    rounds: int = 0    # send rounds: the first one plus the retry task's
    digest_id: str | None = None
    last_error: str | None = None
    target: str | None = None
    created_at: datetime
    updated_at: datetime
    sent_at: datetime | None = None
    next_retry_at: datetime | None = None


class ShiftRow(Model):
    """Our copy of a shift (from shift events): what reminders and sign-up texts name."""

    shift_id: str
    tenant: str
    item_id: str
    item_kind: str
    item_title: str
    start: datetime
    end: datetime
    place_name: str | None = None
    status: str = "scheduled"
    version: int


class SignupRow(Model):
    """Our copy of a sign-up (from signup events): who is on a shift."""

    signup_id: str
    shift_id: str
    actor_id: str  # the volunteer
    tenant: str
    item_id: str
    status: str
    reason: str | None = None
    shift_start: datetime
    shift_end: datetime
    version: int


class Reminder(Model):
    """One reminder of one confirmed sign-up, `offset_hours` before its shift starts."""

    id: str  # "<signup_id>:<offset_hours>": one per sign-up and offset
    signup_id: str
    shift_id: str
    actor_id: str
    tenant: str
    offset_hours: int
    shift_start: datetime
    due_at: datetime
    status: ReminderStatus = "scheduled"
    created_at: datetime
    updated_at: datetime
    sent_at: datetime | None = None


class NotificationDraft(Model):
    """A notification before it is stored for one actor."""

    type: NotificationType
    actor_id: str
    tenant: str
    title: Localized
    body: Localized
    data: dict[str, Any]
    dedupe_key: str
    event_at: datetime
    pair: str | None = None


@dataclass
class Loaded:
    """What a delivery is rendered from, as read when its notification was stored."""

    preferences: Preferences
    notifications: list[Notification]
    recipient: Recipient | None


@dataclass
class SendJob:
    """A claimed delivery handed to the background senders."""

    delivery: Delivery
    loaded: Loaded | None = None   # None: read everything afresh (retries, digests)
