"""Sending claimed deliveries: render them from the current address, preferences and texts,
try a few times at once, record the outcome, and the retry task's later rounds."""
from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta
from typing import Awaitable, Callable, Literal
from zoneinfo import ZoneInfo

from prometheus_client import Counter
from tenacity import AsyncRetrying, stop_after_attempt, wait_exponential

from platform_common.observability import get_logger
from services.notifications.domain import messages, rules
from services.notifications.domain.models import (
    Delivery, Loaded, Notification, Preferences, SendJob,
)
from services.notifications.domain.signing import webhook_signature
from services.notifications.domain.webhooks import DeliveryFailed, webhook_body
from services.notifications.service.deps import Deps

log = get_logger(__name__)

NOTIFICATIONS_SENT = Counter("notifications_sent_total", "Deliveries sent", ["channel", "kind"])
NOTIFICATIONS_FAILED = Counter("notifications_failed_total",
                               "Delivery rounds that failed (retried later or given up)",
                               ["channel"])


async def dispatch(deps: Deps, job: SendJob) -> None:
    """Hand a claimed delivery to the background senders, or send it now without them."""
    if deps.send_queue is not None:
        await deps.send_queue.put(job)
    else:
        await send_delivery(deps=deps, delivery=job.delivery, loaded=job.loaded,
                            attempts=deps.settings.delivery_attempts)


RECIPIENT_UNKNOWN = "the recipient is not known yet"


class Cancelled(Exception):
    """The delivery must not be sent any more (channel off, nothing left to send)."""


class NotYet(Exception):
    """The delivery cannot be sent yet (the recipient is unknown so far)."""


Send = Callable[[], Awaitable[None]]


async def _load(deps: Deps, delivery: Delivery) -> Loaded:
    preferences = (await deps.preferences.get(delivery.actor_id)
                   or Preferences.default(delivery.actor_id))
    notifications = await deps.notifications.get_many(delivery.notification_ids)
    recipient = (await deps.recipients.get(delivery.actor_id)
                 if delivery.channel == "email" else None)
    return Loaded(preferences, notifications, recipient)


async def _prepare(deps: Deps, delivery: Delivery, loaded: Loaded | None = None) -> Send:
    """Render the delivery from the current address, preferences and texts (read now, or as
    just read when the notification was stored)."""
    loaded = loaded or await _load(deps, delivery)
    preferences = loaded.preferences
    # A match withdrawn before its (retried or collected) delivery went out is not announced.
    notifications = [n for n in loaded.notifications if not n.withdrawn]
    if not notifications:
        raise Cancelled("the match was withdrawn or the notification is gone")
    if delivery.channel == "webhook":
        return _prepare_webhook(deps, delivery, preferences, notifications)
    if not preferences.channels.email or preferences.frequency == "off":
        raise Cancelled("e-mail is turned off")
    recipient = loaded.recipient
    if recipient is None:
        raise NotYet(RECIPIENT_UNKNOWN)
    if not recipient.email:
        raise Cancelled("the recipient has no e-mail address")
    unsubscribe_url = deps.unsubscribe_url(recipient.actor_id)
    if delivery.kind == "digest":
        day = delivery.created_at.astimezone(ZoneInfo(deps.settings.timezone)).date()
        mail = messages.render_digest_mail(notifications, locale=recipient.locale,
                                           recipient_name=recipient.name,
                                           unsubscribe_url=unsubscribe_url, day=day)
    else:
        # The pairs of a coalescing window in one mail ("3 neue Vorschläge für …").
        mail = messages.render_coalesced_mail(notifications, locale=recipient.locale,
                                              recipient_name=recipient.name,
                                              unsubscribe_url=unsubscribe_url)
    headers = {"List-Unsubscribe": f"<{unsubscribe_url}>",
               "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
               "Content-Language": recipient.locale,
               "X-Notification-Delivery": delivery.id}
    if delivery.target != recipient.email:
        await deps.deliveries.update(delivery.id, target=recipient.email)

    async def send() -> None:
        await deps.mailer.send(to=recipient.email, mail=mail, headers=headers)
    return send


def _prepare_webhook(deps: Deps, delivery: Delivery, preferences: Preferences,
                     notifications: list[Notification]) -> Send:
    if (not preferences.channels.webhook or preferences.frequency == "off"
            or not preferences.webhook_url or not preferences.webhook_secret):
        raise Cancelled("the webhook is turned off")
    url, secret = preferences.webhook_url, preferences.webhook_secret

    async def send() -> None:
        sent_at = deps.clock()
        body = webhook_body(notifications[0], delivery_id=delivery.id, sent_at=sent_at,
                            pairs=notifications)
        await deps.webhooks.post(url, body=body, headers={
            "Content-Type": "application/json",
            "X-Signature": webhook_signature(secret, body),
            "X-Webhook-Timestamp": str(int(sent_at.timestamp())),
            "X-Webhook-Id": delivery.id,
            "User-Agent": "engage-notifications/1",
        })
    return send


@dataclass
class Attempt:
    """How one send round of a delivery went."""

    status: Literal["sent", "cancelled", "not_yet", "error"]
    tried: int = 0
    error: str | None = None


async def attempt_delivery(*, deps: Deps, delivery: Delivery, attempts: int,
                           loaded: Loaded | None = None) -> Attempt:
    """Send now with up to `attempts` quick retries; nothing is recorded yet."""
    settings = deps.settings
    try:
        send = await _prepare(deps, delivery, loaded)
    except Cancelled as reason:
        return Attempt("cancelled", error=str(reason))
    except NotYet as reason:
        return Attempt("not_yet", error=str(reason))
    tried = 0
    try:
        async for attempt in AsyncRetrying(
            stop=stop_after_attempt(attempts),
            wait=wait_exponential(multiplier=settings.delivery_backoff_initial_s,
                                  max=settings.delivery_backoff_max_s),
            reraise=True,
        ):
            with attempt:
                tried += 1
                await send()
    except DeliveryFailed as exc:  # already worded for the owner's eyes
        return Attempt("error", tried, str(exc)[:500])
    except Exception as exc:
        return Attempt("error", tried, f"{exc.__class__.__name__}: {exc}"[:500])
    return Attempt("sent", tried)


async def record_attempt(*, deps: Deps, delivery: Delivery, attempt: Attempt) -> str:
    """Keep the outcome of a send round on the delivery; return its new status."""
    if attempt.status == "cancelled":
        await deps.deliveries.update(delivery.id, status="cancelled", last_error=attempt.error,
                                     next_retry_at=None, updated_at=deps.clock())
        return "cancelled"
    if attempt.status == "not_yet":
        # The recipient is not known (any more): wait for its actor event, no round used up.
        await deps.deliveries.update(delivery.id, status="waiting", last_error=attempt.error,
                                     next_retry_at=None, updated_at=deps.clock())
        return "waiting"
    if attempt.status != "sent":
        return await _record_failure(deps, delivery, attempt.error or "", tried=attempt.tried)
    await _record_sent(deps, [(delivery, attempt)])
    return "sent"


async def _record_sent(deps: Deps, sent: list[tuple[Delivery, Attempt]]) -> None:
    """One write per distinct (attempts, rounds): in a batch of first rounds, one in all."""
    groups: dict[tuple[int, int], list[Delivery]] = {}
    for delivery, attempt in sent:
        groups.setdefault((delivery.attempts + attempt.tried, delivery.rounds + 1),
                          []).append(delivery)
    now = deps.clock()
    for (attempts, rounds), deliveries in groups.items():
        await deps.deliveries.update_many([d.id for d in deliveries], status="sent",
                                          attempts=attempts, rounds=rounds, sent_at=now,
                                          updated_at=now, next_retry_at=None)
        for delivery in deliveries:
            NOTIFICATIONS_SENT.labels(delivery.channel, delivery.kind).inc()


async def send_delivery(*, deps: Deps, delivery: Delivery, attempts: int,
                        loaded: Loaded | None = None) -> str:
    """Send now with up to `attempts` quick retries; record the outcome; return the status."""
    attempt = await attempt_delivery(deps=deps, delivery=delivery, attempts=attempts,
                                     loaded=loaded)
    return await record_attempt(deps=deps, delivery=delivery, attempt=attempt)


async def send_jobs(*, deps: Deps, jobs: list[SendJob]) -> dict[str, int]:
    """Send claimed deliveries together; the successes are recorded in one write."""
    attempts = await asyncio.gather(*(
        attempt_delivery(deps=deps, delivery=job.delivery, loaded=job.loaded,
                         attempts=deps.settings.delivery_attempts) for job in jobs))
    outcome: dict[str, int] = {}
    sent = [(job.delivery, attempt) for job, attempt in zip(jobs, attempts)
            if attempt.status == "sent"]
    if sent:
        await _record_sent(deps, sent)
        outcome["sent"] = len(sent)
    for job, attempt in zip(jobs, attempts):
        if attempt.status != "sent":
            status = await record_attempt(deps=deps, delivery=job.delivery, attempt=attempt)
            outcome[status] = outcome.get(status, 0) + 1
    return outcome


async def _record_failure(deps: Deps, delivery: Delivery, error: str, *, tried: int) -> str:
    """Keep the failure on record; retry it later, or give up after the last round."""
    settings, now = deps.settings, deps.clock()
    rounds = delivery.rounds + 1
    NOTIFICATIONS_FAILED.labels(delivery.channel).inc()
    if rounds > settings.retry_rounds:
        status, next_retry_at = "failed", None
    else:
        status = "retrying"
        next_retry_at = now + timedelta(seconds=rules.retry_delay_s(
            rounds_done=rounds, initial_s=settings.retry_delay_initial_s,
            max_s=settings.retry_delay_max_s))
    await deps.deliveries.update(delivery.id, status=status, attempts=delivery.attempts + tried,
                                 rounds=rounds, last_error=error, next_retry_at=next_retry_at,
                                 updated_at=now)
    log.warning("delivery_failed", delivery_id=delivery.id, channel=delivery.channel,
                status=status, rounds=rounds, error=error)
    return status


async def retry_due_deliveries(*, deps: Deps, limit: int = 200) -> dict[str, int]:
    """The periodic retry task: one more round for every delivery whose retry time has come."""
    outcome: dict[str, int] = {}
    for delivery_id, due_at in await deps.deliveries.due(now=deps.clock(), limit=limit):
        # Each is leased just before it is sent, so a slow run cannot outlive its leases.
        delivery = await deps.deliveries.claim_due(
            delivery_id=delivery_id, due_at=due_at,
            lease_until=deps.clock() + timedelta(seconds=deps.settings.pending_lease_s))
        if delivery is None:
            continue  # another instance took it
        status = await send_delivery(deps=deps, delivery=delivery, attempts=1)
        outcome[status] = outcome.get(status, 0) + 1
    return outcome


