"""In-memory stand-ins for the service's ports, for testing the service logic without servers.
They keep the contracts the real adapters keep (unique keys, version rules, leases)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from services.notifications.domain.erasure import mentioned_actors
from services.notifications.domain.messages import Mail
from services.notifications.domain.models import Delivery, Notification, Preferences, Recipient
from services.notifications.service import Deps
from services.notifications.settings import NotificationsSettings


class Clock:
    def __init__(self):
        self.now = datetime(2026, 5, 4, 8, 0, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta) -> None:
        self.now += timedelta(**delta)


class Recipients:
    def __init__(self):
        self.items: dict[str, Recipient] = {}
        self.erased: set[str] = set()

    async def apply(self, recipient: Recipient) -> bool:
        current = self.items.get(recipient.actor_id)
        if recipient.actor_id in self.erased or (current and current.version >= recipient.version):
            return False
        self.items[recipient.actor_id] = recipient
        return True

    async def get(self, actor_id):
        return self.items.get(actor_id)

    async def get_many(self, actor_ids):
        return {a: self.items[a] for a in actor_ids if a in self.items}

    async def owned_by(self, sub):
        return [r for r in self.items.values() if sub in r.owners]

    async def erase(self, actor_id, version):
        self.erased.add(actor_id)
        self.items.pop(actor_id, None)

    async def erased_among(self, actor_ids):
        return set(actor_ids) & self.erased


class PreferenceStore:
    def __init__(self):
        self.items: dict[str, Preferences] = {}

    async def get(self, actor_id):
        found = self.items.get(actor_id)
        return found.model_copy(deep=True) if found else None

    async def get_many(self, actor_ids):
        return {a: self.items[a].model_copy(deep=True) for a in actor_ids if a in self.items}

    async def save(self, preferences):
        self.items[preferences.actor_id] = preferences.model_copy(deep=True)

    async def delete_actor(self, actor_id):
        self.items.pop(actor_id, None)


class Notifications:
    def __init__(self):
        self.items: dict[str, Notification] = {}

    async def insert_many(self, notifications):
        inserted = set()
        for notification in notifications:
            if not any(n.dedupe_key == notification.dedupe_key for n in self.items.values()):
                self.items[notification.id] = notification.model_copy(deep=True)
                inserted.add(notification.id)
        return inserted

    async def by_keys(self, dedupe_keys):
        return {n.dedupe_key: n for n in self.items.values() if n.dedupe_key in dedupe_keys}

    async def get_many(self, ids):
        return [self.items[i] for i in ids if i in self.items]

    async def mark_withdrawn(self, pair, before):
        ids = [n.id for n in self.items.values()
               if n.pair == pair and n.event_at < before and not n.withdrawn]
        for identifier in ids:
            self.items[identifier].withdrawn = True
        return ids

    async def delete_actor(self, actor_id):
        self.items = {k: n for k, n in self.items.items() if n.actor_id != actor_id}

    async def mentioning(self, actor_id):
        return [n for n in self.items.values() if actor_id in mentioned_actors(n.data)]

    async def rewrite(self, changes):
        for identifier, title, body, data in changes:
            self.items[identifier] = self.items[identifier].model_copy(
                update={"title": title, "body": body, "data": data})


class Deliveries:
    def __init__(self):
        self.items: dict[str, Delivery] = {}

    async def claim(self, delivery):
        if any(d.key == delivery.key for d in self.items.values()):
            return False
        self.items[delivery.id] = delivery.model_copy(deep=True)
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
        return self.items.get(delivery_id)

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
        return self.items[delivery_id]

    async def deferred_actors(self):
        return sorted({d.actor_id for d in self.items.values() if d.status == "deferred"})

    async def deferred(self, actor_id):
        return [d for d in self.items.values() if d.actor_id == actor_id and d.status == "deferred"]

    async def cancel_deferred(self, notification_ids, *, reason, now):
        for d in list(self.items.values()):
            if d.status == "deferred" and set(d.notification_ids) & set(notification_ids):
                await self.update(d.id, status="cancelled", last_error=reason, updated_at=now)

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
    def __init__(self):
        self.values: dict[str, int] = {}

    async def increment_many(self, increments):
        for key, (by, _ttl_s) in increments.items():
            self.values[key] = self.values.get(key, 0) + by
        return {key: self.values[key] for key in increments}


def make_deps(**settings) -> Deps:
    defaults = {"delivery_attempts": 2, "delivery_backoff_initial_s": 0.001,
                "delivery_backoff_max_s": 0.001, "retry_delay_initial_s": 60,
                "retry_rounds": 3, "public_base_url": "https://engage.example"}
    return Deps(settings=NotificationsSettings(**{**defaults, **settings}),
                recipients=Recipients(), preferences=PreferenceStore(),
                notifications=Notifications(), deliveries=Deliveries(),
                match_history=MatchHistory(), mailer=Mailer(), webhooks=Webhooks(),
                counter=Counter(), clock=Clock())
