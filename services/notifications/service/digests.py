"""The daily digest: one mail per actor and day collecting its deferred mails."""
from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from services.notifications.domain import rules
from services.notifications.domain.models import Delivery
from services.notifications.service.deps import Deps
from services.notifications.service.sending import send_delivery


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


