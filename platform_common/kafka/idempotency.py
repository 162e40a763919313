"""Remember which events were handled, so a redelivered event changes state once.

Delivery is at-least-once. A handler either applies its change idempotently by entity version,
or asks a `ProcessedEvents` store whether the event id was seen; the mark is written after the
change succeeded (for MongoDB, in the same transaction as the change).
"""
from __future__ import annotations

from typing import Protocol

from pymongo.errors import DuplicateKeyError


class ProcessedEvents(Protocol):
    async def seen(self, event_id: str) -> bool: ...

    async def mark(self, event_id: str, *, session=None) -> None: ...


class RedisProcessedEvents:
    """Markers with a TTL in Redis (`SET key 1 NX EX ttl`)."""

    def __init__(self, redis, *, namespace: str, ttl_s: int = 7 * 24 * 3600):
        self._redis, self._namespace, self._ttl = redis, namespace, ttl_s

    def _key(self, event_id: str) -> str:
        return f"processed:{self._namespace}:{event_id}"

    async def seen(self, event_id: str) -> bool:
        return bool(await self._redis.exists(self._key(event_id)))

    async def mark(self, event_id: str, *, session=None) -> None:
        await self._redis.set(self._key(event_id), "1", nx=True, ex=self._ttl)


class MongoProcessedEvents:
    """Markers in a collection with a unique `_id`; pass the session to mark inside a transaction."""

    def __init__(self, collection):
        self._collection = collection

    async def seen(self, event_id: str) -> bool:
        return await self._collection.find_one({"_id": event_id}, projection={"_id": 1}) is not None

    async def mark(self, event_id: str, *, session=None) -> None:
        from platform_common.events import utcnow

        try:
            await self._collection.insert_one({"_id": event_id, "at": utcnow()}, session=session)
        except DuplicateKeyError:
            pass
