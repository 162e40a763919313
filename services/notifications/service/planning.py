"""Storing notifications once and planning their deliveries: which channels, claimed once
each under a unique key, the instant-mail rate limit, and the mails that wait for their
recipient's actor event."""
from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from prometheus_client import Counter

from services.notifications.domain import erasure, rules
from services.notifications.domain.models import (
    Delivery, Loaded, Notification, NotificationDraft, Preferences, Recipient, SendJob,
)
from services.notifications.service import coalescing
from services.notifications.service.deps import Deps
from services.notifications.service.sending import RECIPIENT_UNKNOWN, dispatch

NOTIFICATIONS_CREATED = Counter("notifications_created_total", "Notifications created", ["type"])
NOTIFICATIONS_DEFERRED = Counter("notifications_deferred_total",
                                 "Instant mails moved into the digest", ["reason"])


@dataclass
class Planned:
    notification: Notification
    loaded: Loaded
    plan: rules.ChannelPlan


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
        plan = rules.plan_channels(own, recipient,
                                   always_instant=draft.type in rules.ALWAYS_INSTANT)
        notification = Notification(id=_ordered_id(now), created_at=now, in_inbox=plan.inbox,
                                    **draft.model_dump())
        planned.append(Planned(notification, Loaded(own, [notification], recipient), plan))
    # The pairs of a coalescing window are stored in their windows (service/coalescing.py),
    # the others as they are.
    coalescing_pairs = [(item.notification, item.plan.inbox) for item in planned
                        if coalescing.coalesces(deps, item.notification)]
    inserted = await deps.notifications.insert_many(
        [p.notification for p in planned if not coalescing.coalesces(deps, p.notification)])
    if coalescing_pairs:
        inserted |= await coalescing.store_pairs(deps=deps, pairs=coalescing_pairs)
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
    # A pair of a coalescing window is delivered with its window when the window closes.
    await _deliver(deps=deps, stored=[item for item in stored.values()
                                      if not coalescing.coalesces(deps, item.notification)])
    return [item.notification for item in stored.values()]


async def plan_windows(*, deps: Deps, windows: list[tuple[Notification, list[Notification]]]
                       ) -> None:
    """Plan the deliveries of closed coalescing windows (lead, its pairs) once each: one mail
    (or digest entry) and one webhook call for all the pairs of a window, under the lead's
    delivery keys (so planning it again after a crash claims nothing twice)."""
    actor_ids = sorted({lead.actor_id for lead, _ in windows})
    recipients = await deps.recipients.get_many(actor_ids)
    preferences = await deps.preferences.get_many(actor_ids)
    planned = []
    for lead, members in windows:
        own = preferences.get(lead.actor_id) or Preferences.default(lead.actor_id)
        recipient = recipients.get(lead.actor_id)
        planned.append(Planned(lead, Loaded(own, members or [lead], recipient),
                               rules.plan_channels(own, recipient)))
    await _deliver(deps=deps, stored=planned)


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
            waiting = _new_delivery(deps, item, channel="email", status="waiting")
            waiting.last_error = RECIPIENT_UNKNOWN
            wanted.append((waiting, item))
        elif item.plan.email == "instant":
            wanted.append((_new_delivery(deps, item, channel="email",
                                         target=address), item))
        elif item.plan.email == "digest":
            wanted.append((_new_delivery(deps, item, channel="email",
                                         status="deferred", target=address), item))
        if item.plan.webhook:
            wanted.append((_new_delivery(deps, item, channel="webhook",
                                         target=item.loaded.preferences.webhook_url), item))
    if not wanted:
        return
    # Instant mails count against the rate limit before they are stored, so that a mail over
    # the limit is stored deferred at once (one write, not an insert and an update). A
    # redelivered event counts its mails again: the limit can only get stricter, never looser.
    mails = [(d, item) for d, item in wanted
             if d.channel == "email" and d.status in ("pending", "waiting")
             and item.notification.type not in rules.ALWAYS_INSTANT]
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
            await dispatch(deps, SendJob(delivery=delivery, loaded=item.loaded))
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


def _new_delivery(deps: Deps, item: Planned, *, channel: str,
                  status: str = "pending", target: str | None = None) -> Delivery:
    """One delivery of the planned notification: of all its window's pairs when coalesced."""
    notification = item.notification
    now = deps.clock()
    key = rules.delivery_key(notification_id=notification.id, channel=channel)
    return Delivery(
        id=rules.delivery_id(key), actor_id=notification.actor_id, channel=channel, kind="instant",
        key=key,
        notification_ids=[n.id for n in item.loaded.notifications] or [notification.id],
        status=status, target=target, created_at=now, updated_at=now,
        # A pending delivery whose sender crashed is picked up by the retry task after this lease.
        next_retry_at=(now + timedelta(seconds=deps.settings.pending_lease_s)
                       if status == "pending" else None))


async def close_windows(*, deps: Deps, limit: int = 500) -> dict[str, int]:
    """The window task (every `coalesce_check_interval_s`): seal every window that has closed
    and plan its deliveries once. The closing is on record while it runs, so that one a crash
    interrupted is finished here after `coalesce_repair_after_s`."""
    store, now = deps.notifications, deps.clock()
    resumed = 0
    before = now - timedelta(seconds=deps.settings.coalesce_repair_after_s)
    for closing_id, lead_ids in await store.stale_closings(before=before):
        await _close(deps, lead_ids)
        await store.end_closing(closing_id)
        resumed += 1
    due = await store.windows_due(now=now, limit=limit)
    if not due:
        return {"closed": 0, "waiting": 0, "resumed": resumed}
    closing_id = await store.begin_closing(due, at=now)
    closed, waiting = await _close(deps, due)
    await store.end_closing(closing_id)
    return {"closed": closed, "waiting": waiting, "resumed": resumed}


async def _close(deps: Deps, lead_ids: list[str]) -> tuple[int, int]:
    """Seal these leads and plan the deliveries of those whose listed pairs are all stored
    (or given up on: listed `coalesce_repair_after_s` after the window closed and still not
    stored, because the process died before storing them or they were stored before under
    another id). The others wait a moment: their pairs are on the way. (told, waiting)"""
    store, now, settings = deps.notifications, deps.clock(), deps.settings
    leads = await store.seal_windows(lead_ids)
    members = {n.id: n for n in await store.get_many(
        [member for lead in leads for member in lead.member_ids if member != lead.id])}
    ready: list[tuple[Notification, list[Notification]]] = []
    waiting: list[str] = []
    give_up = timedelta(seconds=settings.coalesce_window_s + settings.coalesce_repair_after_s)
    for lead in leads:
        pairs = [lead] + [members[i] for i in lead.member_ids if i in members]
        if len(pairs) < len(set(lead.member_ids) | {lead.id}) and now < lead.created_at + give_up:
            waiting.append(lead.id)
        else:
            ready.append((lead, pairs))
    if waiting:  # due again at the next run of the window task
        await store.update_many(waiting, closes_at=now + timedelta(
            seconds=settings.coalesce_check_interval_s))
    if ready:
        await plan_windows(deps=deps, windows=ready)
        for _, pairs in ready:
            coalescing.WINDOW_PAIRS.observe(len(pairs))
    return len(ready), len(waiting)
