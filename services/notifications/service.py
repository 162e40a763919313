"""What the notifications service does: turn events into notifications, deliver them through
the recipients' channels exactly once, retry what failed, send digests, and answer the owners
of actors about their notifications, preferences and deliveries.

Delivery rule: every delivery is claimed first by inserting its record under a unique key
(one per notification and channel, one digest per actor and day); only the instance whose insert
succeeded sends. A redelivered event, a second match.found or a second consumer instance finds
the key taken and sends nothing.
"""
from __future__ import annotations

import asyncio
import itertools
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, Awaitable, Callable, Literal
from zoneinfo import ZoneInfo

from prometheus_client import Counter
from tenacity import AsyncRetrying, stop_after_attempt, wait_exponential

from platform_common.events.models import (
    ActorData, ActorErasedData, ContactData, ItemData, MatchData,
)
from platform_common.http import ApiError, field_error
from platform_common.http.errors import invalid_cursor
from platform_common.identity import Identity
from platform_common.kafka import ConsumedEvent
from platform_common.observability import get_logger
from services.notifications.domain import erasure, messages, rules
from services.notifications.domain.models import (
    Channels, Delivery, Notification, NotificationDraft, Preferences, Recipient,
)
from services.notifications.domain.paging import decode_cursor, encode_cursor
from services.notifications.domain.ratelimit import RateLimit
from services.notifications.domain.signing import (
    new_webhook_secret, read_unsubscribe_token, unsubscribe_token, webhook_signature,
)
from services.notifications.domain.webhooks import (
    DeliveryFailed, validate_webhook_url, webhook_body,
)
from services.notifications.ports import (
    DeliveryStore, Mailer, MatchHistory, NotificationStore, PreferenceStore, RecipientStore,
    WebhookSender, WindowCounter,
)
from services.notifications.settings import NotificationsSettings

if TYPE_CHECKING:
    from services.notifications.dispatcher import Dispatcher

log = get_logger(__name__)

NOTIFICATIONS_CREATED = Counter("notifications_created_total", "Notifications created", ["type"])
NOTIFICATIONS_SENT = Counter("notifications_sent_total", "Deliveries sent", ["channel", "kind"])
NOTIFICATIONS_FAILED = Counter("notifications_failed_total",
                               "Delivery rounds that failed (retried later or given up)",
                               ["channel"])
NOTIFICATIONS_DEFERRED = Counter("notifications_deferred_total",
                                 "Instant mails moved into the digest", ["reason"])


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
    clock: Callable[[], datetime] = utc_now
    # Sends in the background when set (the app); without it a delivery is sent inline.
    dispatcher: "Dispatcher | None" = None
    rate_limit: RateLimit = field(init=False)
    retry_wakeup: asyncio.Event = field(init=False, default_factory=asyncio.Event)

    def __post_init__(self) -> None:
        self.rate_limit = RateLimit(limit=self.settings.instant_mail_limit_per_hour)

    async def dispatch(self, job: "SendJob") -> None:
        if self.dispatcher is not None:
            await self.dispatcher.submit(job)
        else:
            await send_delivery(deps=self, delivery=job.delivery, loaded=job.loaded,
                                attempts=self.settings.delivery_attempts)

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


# ---- events -------------------------------------------------------------------------------------

async def handle_event(*, deps: Deps, event: ConsumedEvent) -> None:
    kind, data, at = event.envelope.type, event.data, event.envelope.occurred_at
    if kind in ("actor.registered", "actor.updated"):
        await apply_actor(deps=deps, actor=data)
    elif kind == "actor.erased":
        await erase_actor(deps=deps, erased=data)
    elif kind == "match.found":
        await on_match_found(deps=deps, match=data, event_at=at)
    elif kind == "match.withdrawn":
        await on_match_withdrawn(deps=deps, match=data, event_id=str(event.envelope.id), event_at=at)
    elif kind.startswith("contact."):
        await on_contact(deps=deps, contact=data, event_at=at)
    elif kind in ("offer.closed", "need.closed") and data.status == "hidden":
        await on_item_hidden(deps=deps, item=data, event_at=at)
    # Other types on these topics say nothing to notify about.


async def handle_events(*, deps: Deps, events: list[ConsumedEvent]) -> None:
    """A batch in offset order: consecutive match.found events are stored together (a few round
    trips for the whole run), every other event one by one, so the order per pair holds."""
    run: list[tuple[MatchData, datetime]] = []
    for event in events:
        if event.envelope.type == "match.found":
            run.append((event.data, event.envelope.occurred_at))
            continue
        if run:
            await on_matches_found(deps=deps, matches=run)
            run = []
        await handle_event(deps=deps, event=event)
    if run:
        await on_matches_found(deps=deps, matches=run)


async def apply_actor(*, deps: Deps, actor: ActorData) -> None:
    stored = await deps.recipients.apply(Recipient(
        actor_id=actor.id, tenant=actor.tenant, name=actor.name, email=actor.email,
        locale=actor.locale, owners=actor.owners, version=actor.version))
    # A match can overtake its recipient's actor event (they travel on different topics): its
    # mail waits; now that the recipient is known it goes out at once.
    if stored and await deps.deliveries.release_waiting(actor_id=actor.id, now=deps.clock()):
        deps.wake_retries()


async def erase_actor(*, deps: Deps, erased: ActorErasedData) -> None:
    """GDPR erasure: everything about the actor goes; only its id stays, to ignore late events.
    The other parties' notifications keep what happened but lose the actor's name, messages
    and item titles (their pending mails are rendered from them, so they lose them too)."""
    await deps.recipients.erase(erased.id, erased.version)
    await deps.preferences.delete_actor(erased.id)
    await deps.deliveries.delete_actor(erased.id)
    await deps.notifications.delete_actor(erased.id)
    mentioning = await deps.notifications.mentioning(erased.id)
    others = sorted({actor_id for n in mentioning
                     for actor_id in erasure.mentioned_actors(n.data)} - {erased.id})
    names = {actor_id: recipient.name
             for actor_id, recipient in (await deps.recipients.get_many(others)).items()}
    rewritten = []
    for notification in mentioning:
        texts = erasure.without_erased(type_=notification.type, data=notification.data,
                                       erased={erased.id}, names=names)
        if texts is not None:
            rewritten.append((notification.id, *texts))
    await deps.notifications.rewrite(rewritten)
    log.info("actor_erased", actor_id=erased.id, anonymised_notifications=len(rewritten))


async def on_match_found(*, deps: Deps, match: MatchData, event_at: datetime) -> None:
    await on_matches_found(deps=deps, matches=[(match, event_at)])


async def on_matches_found(*, deps: Deps, matches: list[tuple[MatchData, datetime]]) -> None:
    pairs = sorted({rules.pair_key(match.offer.id, match.need.id) for match, _ in matches})
    withdrawals = await deps.match_history.withdrawals_of(pairs)
    drafts: list[NotificationDraft] = []
    for match, event_at in matches:
        offer, need = match.offer, match.need
        pair = rules.pair_key(offer.id, need.id)
        round_ = rules.match_round(event_at, withdrawals.get(pair, []))
        # All reasons, strongest first: the inbox shows them all, a mail the top ones.
        reasons = sorted((reason.model_dump() for reason in match.reasons),
                         key=lambda reason: reason["contribution"], reverse=True)
        for actor_id, role in rules.match_recipients(offer_actor_id=offer.actor_id,
                                                     need_actor_id=need.actor_id):
            own, other = (need, offer) if role == "need" else (offer, need)
            title, body = messages.match_texts(role=role, offer_title=offer.title,
                                               need_title=need.title, score=match.score)
            data = {
                "offer_id": offer.id, "need_id": need.id,
                "offer_title": offer.title, "need_title": need.title,
                "role": role, "item_id": own.id,
                "counterpart": {"kind": "need" if role == "offer" else "offer", "id": other.id,
                                "title": other.title, "actor_id": other.actor_id,
                                "tenant": other.tenant},
                "score": match.score, "reasons": reasons,
                "link": deps.link("need", need.id), "offer_link": deps.link("offer", offer.id),
            }
            drafts.append(NotificationDraft(
                type="match.found", actor_id=actor_id, tenant=own.tenant, title=title, body=body,
                data=data, event_at=event_at, pair=pair,
                dedupe_key=rules.match_key(offer_id=offer.id, need_id=need.id,
                                           actor_id=actor_id, round_=round_)))
    await notify_many(deps=deps, drafts=drafts)


async def on_match_withdrawn(*, deps: Deps, match: MatchData, event_id: str,
                             event_at: datetime) -> None:
    """Nobody is told; the match's notifications are flagged and leave the pending digests."""
    pair = rules.pair_key(match.offer.id, match.need.id)
    await deps.match_history.record_withdrawal(event_id=event_id, pair=pair, at=event_at)
    withdrawn = await deps.notifications.mark_withdrawn(pair, before=event_at)
    await deps.deliveries.cancel_deferred(withdrawn, reason="the match was withdrawn",
                                          now=deps.clock())


async def on_item_hidden(*, deps: Deps, item: ItemData, event_at: datetime) -> None:
    """A moderator hid the item: its owners learn it, and why."""
    reason = item.hidden_reason or "—"
    title, body = messages.item_hidden_texts(kind=item.kind, title=item.title, reason=reason)
    await notify_many(deps=deps, drafts=[NotificationDraft(
        type="item.hidden", actor_id=item.actor_id, tenant=item.tenant, title=title, body=body,
        data={"item_id": item.id, "kind": item.kind, "item_title": item.title, "reason": reason,
              "link": deps.link(item.kind, item.id)},
        event_at=event_at,
        dedupe_key=rules.item_hidden_key(item_id=item.id, version=item.version,
                                         actor_id=item.actor_id))])


async def on_contact(*, deps: Deps, contact: ContactData, event_at: datetime) -> None:
    requester = await deps.recipients.get(contact.requester_actor_id)
    recipient = await deps.recipients.get(contact.recipient_actor_id)
    unknown = [p for p, known in ((contact.requester_actor_id, requester),
                                  (contact.recipient_actor_id, recipient)) if known is None]
    if unknown and await deps.recipients.erased_among(unknown):
        # A late event of a party erased meanwhile: its message goes with it.
        contact = contact.model_copy(update={"message": ""})
    title, body = messages.contact_texts(
        status=contact.status, message=contact.message,
        requester_name=requester.name if requester else None,
        recipient_name=recipient.name if recipient else None)
    tenants = {contact.requester_actor_id: contact.requester_tenant,
               contact.recipient_actor_id: contact.recipient_tenant}
    data = {"contact_id": contact.id, "status": contact.status, "offer_id": contact.offer_id,
            "need_id": contact.need_id, "message": contact.message,
            "requester_actor_id": contact.requester_actor_id,
            "recipient_actor_id": contact.recipient_actor_id,
            "link": deps.link("need", contact.need_id)}
    await notify_many(deps=deps, drafts=[
        NotificationDraft(type=f"contact.{contact.status}", actor_id=actor_id,
                          tenant=tenants[actor_id], title=title, body=body, data=data,
                          event_at=event_at,
                          dedupe_key=rules.contact_key(status=contact.status,
                                                       contact_id=contact.id, actor_id=actor_id))
        for actor_id in rules.contact_recipients(status=contact.status,
                                                 requester_actor_id=contact.requester_actor_id,
                                                 recipient_actor_id=contact.recipient_actor_id)])


@dataclass
class Loaded:
    """What a delivery is rendered from, as read when its notification was stored."""

    preferences: Preferences
    notifications: list[Notification]
    recipient: Recipient | None


@dataclass
class Planned:
    notification: Notification
    loaded: Loaded
    plan: rules.ChannelPlan


@dataclass
class SendJob:
    delivery: Delivery
    loaded: Loaded | None = None   # None: read everything afresh (retries, digests)


async def notify(*, deps: Deps, draft: NotificationDraft) -> Notification | None:
    """Store one notification once and hand it to its channels once."""
    stored = await notify_many(deps=deps, drafts=[draft])
    return stored[0] if stored else None


async def notify_many(*, deps: Deps, drafts: list[NotificationDraft]) -> list[Notification]:
    """Store the notifications (each once, by its dedupe key) and hand them to their channels
    (each delivery once, by its key), reading and writing each store once for all of them."""
    if not drafts:
        return []
    actor_ids = sorted({draft.actor_id for draft in drafts})
    recipients = await deps.recipients.get_many(actor_ids)
    unknown = [actor_id for actor_id in actor_ids if actor_id not in recipients]
    erased = await deps.recipients.erased_among(unknown) if unknown else set()
    preferences = await deps.preferences.get_many(actor_ids)
    now = deps.clock()
    planned: list[Planned] = []
    for draft in drafts:
        if draft.actor_id in erased:
            continue
        if erased and erasure.mentioned_actors(draft.data) & erased:
            # The other side of a late match event was erased meanwhile: not its item's title.
            names = {actor_id: r.name for actor_id, r in recipients.items()}
            title, body, data = erasure.without_erased(type_=draft.type, data=draft.data,
                                                       erased=erased, names=names) \
                or (draft.title, draft.body, draft.data)
            draft = draft.model_copy(update={"title": title, "body": body, "data": data})
        recipient = recipients.get(draft.actor_id)
        own = preferences.get(draft.actor_id) or Preferences.default(draft.actor_id)
        plan = rules.plan_channels(own, recipient)
        notification = Notification(id=_ordered_id(now), created_at=now, in_inbox=plan.inbox,
                                    **draft.model_dump())
        planned.append(Planned(notification, Loaded(own, [notification], recipient), plan))
    inserted = await deps.notifications.insert_many([p.notification for p in planned])
    # Seen before (a redelivery, a second instance): only the deliveries a crash may have left
    # unclaimed are still to do, for the stored notification.
    seen_keys = [p.notification.dedupe_key for p in planned if p.notification.id not in inserted]
    existing = await deps.notifications.by_keys(seen_keys) if seen_keys else {}
    stored: dict[str, Planned] = {}  # by notification id: a repeat within the batch is one
    for item in planned:
        if item.notification.id in inserted:
            NOTIFICATIONS_CREATED.labels(item.notification.type).inc()
        else:
            earlier = existing.get(item.notification.dedupe_key)
            if earlier is None:
                continue
            item.notification, item.loaded.notifications = earlier, [earlier]
        stored.setdefault(item.notification.id, item)
    await _deliver(deps=deps, stored=list(stored.values()))
    return [item.notification for item in stored.values()]


_sequence = itertools.count()


def _ordered_id(now: datetime) -> str:
    """32 hex digits that sort by creation: the inbox orders by (created_at, id), and a batch
    shares one created_at, so the id keeps the events' order within it."""
    millis = int(now.timestamp() * 1000)
    return f"{millis:012x}{next(_sequence) % 16**8:08x}{uuid.uuid4().hex[:12]}"


async def _deliver(*, deps: Deps, stored: list[Planned]) -> None:
    wanted: list[tuple[Delivery, Planned]] = []
    for item in stored:
        address = _address(item.loaded.recipient)
        if item.plan.email == "instant" and item.loaded.recipient is None:
            # The match overtook the recipient's actor event: the mail waits, without send
            # rounds and without the retry task looking at it, until that event arrives
            # (apply_actor releases it).
            waiting = _new_delivery(deps, item.notification, channel="email", status="waiting")
            waiting.last_error = RECIPIENT_UNKNOWN
            wanted.append((waiting, item))
        elif item.plan.email == "instant":
            wanted.append((_new_delivery(deps, item.notification, channel="email",
                                         target=address), item))
        elif item.plan.email == "digest":
            wanted.append((_new_delivery(deps, item.notification, channel="email",
                                         status="deferred", target=address), item))
        if item.plan.webhook:
            wanted.append((_new_delivery(deps, item.notification, channel="webhook",
                                         target=item.loaded.preferences.webhook_url), item))
    if not wanted:
        return
    # Instant mails count against the rate limit before they are stored, so that a mail over
    # the limit is stored deferred at once (one write, not an insert and an update). A
    # redelivered event counts its mails again: the limit can only get stricter, never looser.
    mails = [(d, item) for d, item in wanted
             if d.channel == "email" and d.status in ("pending", "waiting")]
    limited = await _over_rate_limit(deps, [delivery for delivery, _ in mails])
    limited_ids = {delivery.id for delivery in limited}
    for delivery in limited:
        delivery.status, delivery.next_retry_at = "deferred", None
        delivery.last_error = (f"more than {deps.rate_limit.limit} instant e-mails this hour: "
                               "goes into the next daily digest")
    claimed_ids = await deps.deliveries.claim_many([delivery for delivery, _ in wanted])
    claimed = [(delivery, item) for delivery, item in wanted if delivery.id in claimed_ids]
    for delivery, item in claimed:
        if delivery.status == "pending":
            await deps.dispatch(SendJob(delivery=delivery, loaded=item.loaded))
        elif delivery.status == "deferred":
            NOTIFICATIONS_DEFERRED.labels(
                "rate_limited" if delivery.id in limited_ids else "daily").inc()
    # The recipient's actor event may have been applied (by another instance, or meanwhile)
    # after we read the recipients and before the waiting mails were stored, so that its
    # `apply_actor` found nothing to release: look once more.
    await _release_if_recipients_arrived(
        deps, sorted({d.actor_id for d, _ in claimed if d.status == "waiting"}))


async def _release_if_recipients_arrived(deps: Deps, actor_ids: list[str]) -> int:
    """Release the waiting mails of those of `actor_ids` whose actor event has arrived."""
    released = 0
    for start in range(0, len(actor_ids), 500):
        arrived = await deps.recipients.get_many(actor_ids[start:start + 500])
        for actor_id in arrived:
            released += await deps.deliveries.release_waiting(actor_id=actor_id,
                                                              now=deps.clock())
    if released:
        deps.wake_retries()
    return released


async def check_waiting_deliveries(*, deps: Deps) -> dict[str, int]:
    """The safety net behind `apply_actor` (run every `pending_lease_s`): release the waiting
    mails whose recipient is known by now (say a crash came between storing them and the check
    after), and give up those whose recipient never arrived within the retention. One indexed
    look at the waiting deliveries, however many there are: they are never tried one by one."""
    now = deps.clock()
    released = await _release_if_recipients_arrived(deps, await deps.deliveries.waiting_actors())
    expired = await deps.deliveries.cancel_waiting(
        created_before=now - timedelta(hours=deps.settings.waiting_retention_hours),
        reason="the recipient never became known", now=now)
    return {"released": released, "expired": expired}


async def _over_rate_limit(deps: Deps, mails: list[Delivery]) -> list[Delivery]:
    """Count the instant mails per recipient and window: those over the limit."""
    if not mails:
        return []
    now = deps.clock()
    by_actor: dict[str, list[Delivery]] = {}
    for mail in mails:
        by_actor.setdefault(mail.actor_id, []).append(mail)
    windows = {actor_id: deps.rate_limit.window(actor_id, now) for actor_id in by_actor}
    counts = await deps.counter.increment_many(
        {key: (len(by_actor[actor_id]), ttl) for actor_id, (key, ttl) in windows.items()})
    limited = []
    for actor_id, actor_mails in by_actor.items():
        first = counts[windows[actor_id][0]] - len(actor_mails) + 1
        limited += [mail for number, mail in enumerate(actor_mails, start=first)
                    if not deps.rate_limit.allows(number)]
    return limited


def _address(recipient: Recipient | None) -> str | None:
    return recipient.email if recipient else None


def _new_delivery(deps: Deps, notification: Notification, *, channel: str,
                  status: str = "pending", target: str | None = None) -> Delivery:
    now = deps.clock()
    key = rules.delivery_key(notification_id=notification.id, channel=channel)
    return Delivery(
        id=rules.delivery_id(key), actor_id=notification.actor_id, channel=channel, kind="instant",
        key=key,
        notification_ids=[notification.id], status=status, target=target, created_at=now, updated_at=now,
        # A pending delivery whose sender crashed is picked up by the retry task after this lease.
        next_retry_at=(now + timedelta(seconds=deps.settings.pending_lease_s)
                       if status == "pending" else None))


# ---- sending ------------------------------------------------------------------------------------

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
        return _prepare_webhook(deps, delivery, preferences, notifications[0])
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
        mail = messages.render_notification_mail(notifications[0], locale=recipient.locale,
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
                     notification: Notification) -> Send:
    if (not preferences.channels.webhook or preferences.frequency == "off"
            or not preferences.webhook_url or not preferences.webhook_secret):
        raise Cancelled("the webhook is turned off")
    url, secret = preferences.webhook_url, preferences.webhook_secret

    async def send() -> None:
        sent_at = deps.clock()
        body = webhook_body(notification, delivery_id=delivery.id, sent_at=sent_at)
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


async def run_digests(*, deps: Deps, force: bool = False) -> dict[str, int]:
    """Send each actor with deferred mails one digest a day (from `digest_hour` on, or now when
    forced). Mails deferred after today's digest wait for tomorrow's."""
    now = deps.clock()
    local = now.astimezone(ZoneInfo(deps.settings.timezone))
    outcome = {"digests": 0, "sent": 0, "failed": 0}
    if not force and local.hour < deps.settings.digest_hour:
        return outcome
    for actor_id in await deps.deliveries.deferred_actors():
        waiting = await deps.deliveries.deferred(actor_id)
        if not waiting:
            continue
        key = rules.digest_key(actor_id=actor_id, day=local.date())
        digest = Delivery(
            id=rules.delivery_id(key), key=key,
            actor_id=actor_id, channel="email", kind="digest",
            notification_ids=[n for d in waiting for n in d.notification_ids],
            status="pending", target=waiting[0].target, created_at=now, updated_at=now,
            next_retry_at=now + timedelta(seconds=deps.settings.pending_lease_s))
        if not await deps.deliveries.claim(digest):
            continue  # today's digest is out already
        await deps.deliveries.update_many([d.id for d in waiting], status="digested",
                                          digest_id=digest.id, updated_at=now)
        outcome["digests"] += 1
        status = await send_delivery(deps=deps, delivery=digest,
                                     attempts=deps.settings.delivery_attempts)
        outcome["sent" if status == "sent" else "failed"] += 1
    return outcome


# ---- the API --------------------------------------------------------------------------------------

def notification_view(notification: Notification) -> dict[str, Any]:
    return {"id": notification.id, "type": notification.type, "actor_id": notification.actor_id,
            "title": notification.title.model_dump(), "body": notification.body.model_dump(),
            "created_at": notification.created_at, "read": notification.read,
            "withdrawn": notification.withdrawn, "data": notification.data}


def delivery_view(delivery: Delivery) -> dict[str, Any]:
    return delivery.model_dump(exclude={"key"})


def preferences_view(preferences: Preferences, *, new_secret: str | None = None) -> dict[str, Any]:
    return {"actor_id": preferences.actor_id, "channels": preferences.channels.model_dump(),
            "frequency": preferences.frequency, "webhook_url": preferences.webhook_url,
            # The secret is shown once, when it is made; afterwards only whether one exists.
            "webhook_secret": new_secret,
            "webhook_secret_set": preferences.webhook_secret is not None}


async def _owned_actor_ids(deps: Deps, identity: Identity) -> list[str]:
    return [recipient.actor_id for recipient in await deps.recipients.owned_by(identity.sub)]


async def _owned_recipient(deps: Deps, identity: Identity, actor_id: str) -> Recipient:
    recipient = await deps.recipients.get(actor_id)
    if recipient is None or identity.sub not in recipient.owners:
        # The same answer for "not yours" and "does not exist": ids are not probed.
        raise ApiError(404, "not_found", f"actor {actor_id!r} is not one of yours")
    return recipient


def _position(cursor: str | None) -> tuple[datetime, str] | None:
    if not cursor:
        return None
    try:
        return decode_cursor(cursor)
    except ValueError:
        raise invalid_cursor("cursor") from None


async def list_notifications(*, deps: Deps, identity: Identity, unread: bool | None,
                             limit: int, cursor: str | None) -> dict[str, Any]:
    actor_ids = await _owned_actor_ids(deps, identity)
    after = _position(cursor)
    if not actor_ids:
        return {"items": [], "next_cursor": None}
    found = await deps.notifications.page(actor_ids, unread_only=bool(unread), limit=limit + 1,
                                          after=after)
    items = found[:limit]
    next_cursor = (encode_cursor(items[-1].created_at, items[-1].id)
                   if len(found) > limit else None)
    return {"items": [notification_view(n) for n in items], "next_cursor": next_cursor}


async def mark_read(*, deps: Deps, identity: Identity, notification_id: str) -> dict[str, Any]:
    notification = await deps.notifications.mark_read(
        notification_id, await _owned_actor_ids(deps, identity))
    if notification is None:
        raise ApiError(404, "not_found", f"notification {notification_id!r} does not exist")
    return notification_view(notification)


async def mark_all_read(*, deps: Deps, identity: Identity) -> dict[str, int]:
    actor_ids = await _owned_actor_ids(deps, identity)
    return {"updated": await deps.notifications.mark_all_read(actor_ids) if actor_ids else 0}


async def get_preferences(*, deps: Deps, identity: Identity,
                          actor_id: str | None) -> dict[str, Any]:
    if actor_id is not None:
        await _owned_recipient(deps, identity, actor_id)
        preferences = await deps.preferences.get(actor_id) or Preferences.default(actor_id)
        return preferences_view(preferences)
    items = []
    for owned in await _owned_actor_ids(deps, identity):
        items.append(preferences_view(await deps.preferences.get(owned)
                                      or Preferences.default(owned)))
    return {"items": items}


UNSET: Any = object()


async def update_preferences(*, deps: Deps, identity: Identity, actor_id: str | None,
                             channels: dict[str, bool] | None, frequency: str | None,
                             webhook_url: str | None = UNSET,
                             rotate_webhook_secret: bool = False) -> dict[str, Any]:
    """Change what is given; a new webhook URL (or a rotation) makes a new secret, shown once."""
    if actor_id is None:
        owned = await _owned_actor_ids(deps, identity)
        if len(owned) != 1:
            raise field_error(["actor_id"], "is required when you manage more than one actor"
                              if owned else "none of your actors is known yet")
        actor_id = owned[0]
    await _owned_recipient(deps, identity, actor_id)
    current = await deps.preferences.get(actor_id) or Preferences.default(actor_id)
    updated = current.model_copy(deep=True)
    if channels:
        updated.channels = Channels(**{**current.channels.model_dump(), **channels})
    if frequency is not None:
        updated.frequency = frequency
    new_secret = None
    if webhook_url is not UNSET and webhook_url != current.webhook_url:
        if webhook_url is None:
            updated.webhook_url, updated.webhook_secret = None, None
        else:
            updated.webhook_url = await _checked_webhook_url(deps, webhook_url)
            rotate_webhook_secret = True
    if rotate_webhook_secret and updated.webhook_url:
        new_secret = updated.webhook_secret = new_webhook_secret()
    if updated.channels.webhook and not updated.webhook_url:
        raise field_error(["webhook_url"], "is required when the webhook channel is on")
    await deps.preferences.save(updated)
    return preferences_view(updated, new_secret=new_secret)


async def _checked_webhook_url(deps: Deps, url: str) -> str:
    try:
        url = validate_webhook_url(url)
        await deps.webhooks.ensure_allowed(url)
    except ValueError as exc:
        raise field_error(["webhook_url"], str(exc)) from None
    return url


async def list_deliveries(*, deps: Deps, identity: Identity, limit: int,
                          cursor: str | None) -> dict[str, Any]:
    actor_ids = await _owned_actor_ids(deps, identity)
    after = _position(cursor)
    if not actor_ids:
        return {"items": [], "next_cursor": None}
    found = await deps.deliveries.page(actor_ids, limit=limit + 1, after=after)
    items = found[:limit]
    next_cursor = (encode_cursor(items[-1].created_at, items[-1].id)
                   if len(found) > limit else None)
    return {"items": [delivery_view(d) for d in items], "next_cursor": next_cursor}


async def export_data(*, deps: Deps, identity: Identity) -> dict[str, Any]:
    """Everything this service holds about the caller's actors (GDPR Art. 15/20)."""
    actors = []
    for recipient in await deps.recipients.owned_by(identity.sub):
        actor_ids = [recipient.actor_id]
        preferences = (await deps.preferences.get(recipient.actor_id)
                       or Preferences.default(recipient.actor_id))
        actors.append({
            "actor_id": recipient.actor_id,
            "recipient": recipient.model_dump(exclude={"actor_id"}),
            "preferences": preferences_view(preferences),
            "notifications": [notification_view(n)
                              for n in await deps.notifications.for_actors(actor_ids)],
            "deliveries": [delivery_view(d) for d in await deps.deliveries.for_actors(actor_ids)],
        })
    return {"service": "notifications", "subject": identity.sub,
            "exported_at": deps.clock(), "actors": actors}


async def unsubscribe(*, deps: Deps, token: str) -> tuple[str, bool]:
    """Turn e-mail off for the token's actor: (locale for the answer page, whether it worked)."""
    actor_id = read_unsubscribe_token(deps.secret, token)
    if actor_id is None:
        return "de", False
    recipient = await deps.recipients.get(actor_id)
    if recipient is None:
        return "de", True  # erased or unknown: there is nothing left to send to
    preferences = await deps.preferences.get(actor_id) or Preferences.default(actor_id)
    if preferences.channels.email:
        preferences.channels.email = False
        await deps.preferences.save(preferences)
        log.info("unsubscribed", actor_id=actor_id)
    return recipient.locale, True

