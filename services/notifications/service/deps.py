"""The ports and settings every use case takes, in one object (the process builds it once)."""
from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime, timezone

from services.notifications.domain import messages
from services.notifications.domain.ratelimit import RateLimit
from services.notifications.domain.signing import unsubscribe_token
from services.notifications.ports import (
    Clock, DeliveryStore, EngagementStore, Mailer, MatchHistory, NotificationStore,
    PreferenceStore, RecipientStore, ReminderStore, SendQueue, WebhookSender, WindowCounter,
)
from services.notifications.settings import NotificationsSettings


def utc_now() -> datetime:
    """Now, in milliseconds: what MongoDB stores, so cursors and responses agree."""
    now = datetime.now(timezone.utc)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


@dataclass
class Deps:
    settings: NotificationsSettings
    recipients: RecipientStore
    preferences: PreferenceStore
    notifications: NotificationStore
    deliveries: DeliveryStore
    match_history: MatchHistory
    mailer: Mailer
    webhooks: WebhookSender
    counter: WindowCounter
    engagements: EngagementStore
    reminders: ReminderStore
    clock: Clock = utc_now
    # Claimed deliveries go here for the background senders (the process); without a queue
    # they are sent inline (the unit tests).
    send_queue: SendQueue | None = None
    # Set when deliveries became due early; the process's retry task waits on it.
    retry_wakeup: asyncio.Event = field(default_factory=asyncio.Event)
    # The batches of several partitions are handled side by side; their pairs are placed in
    # coalescing windows one batch at a time, so that two pairs of one item that came through
    # two partitions find the same window (coalescing.store_pairs).
    window_placement: asyncio.Lock = field(default_factory=asyncio.Lock)
    rate_limit: RateLimit = field(init=False)

    def __post_init__(self) -> None:
        self.rate_limit = RateLimit(limit=self.settings.instant_mail_limit_per_hour)

    def wake_retries(self) -> None:
        """Let the retry task look now instead of at its next interval."""
        self.retry_wakeup.set()

    @property
    def secret(self) -> str:
        return self.settings.notifications_secret.get_secret_value()

    def link(self, kind: str, item_id: str) -> str:
        return messages.item_link(self.settings.public_base_url, kind, item_id)

    def unsubscribe_url(self, actor_id: str) -> str:
        return (f"{self.settings.public_base_url.rstrip('/')}/api/v1/unsubscribe"
                f"?token={unsubscribe_token(self.secret, actor_id)}")
