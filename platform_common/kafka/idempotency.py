"""Remember which events were handled, so a redelivered event changes state once.

Delivery is at-least-once. A handler either applies its change idempotently by entity version,
or asks a `ProcessedEvents` store whether the event id was seen; the mark is written after the
change succeeded (for MongoDB, in the same transaction as the change).
"""
from __future__ import annotations

from typing import Protocol

from pymongo.errors import BulkWriteError, DuplicateKeyError

from platform_common.stores import in_chunks


class ProcessedEvents(Protocol):
    async def seen(self, event_id: str) -> bool: ...

    async def mark(self, event_id: str, *, session=None) -> None: ...

    async def seen_among(self, event_ids: list[str]) -> set[str]:
        """The ids of `event_ids` that were marked (one round trip for a batch)."""

    async def mark_many(self, event_ids: list[str]) -> None: ...


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

    async def seen_among(self, event_ids: list[str]) -> set[str]:
        if not event_ids:
            return set()
        values = await self._redis.mget([self._key(event_id) for event_id in event_ids])
        return {event_id for event_id, value in zip(event_ids, values) if value is not None}

    async def mark_many(self, event_ids: list[str]) -> None:
        if not event_ids:
            return
        async with self._redis.pipeline(transaction=False) as pipe:
            for event_id in event_ids:
                pipe.set(self._key(event_id), "1", nx=True, ex=self._ttl)
            await pipe.execute()


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

    async def seen_among(self, event_ids: list[str]) -> set[str]:
        if not event_ids:
            return set()
        seen: set[str] = set()
        for chunk in in_chunks(event_ids):
            cursor = self._collection.find({"_id": {"$in": chunk}}, projection={"_id": 1})
            seen |= {doc["_id"] async for doc in cursor}
        return seen

    async def mark_many(self, event_ids: list[str]) -> None:
        from platform_common.events import utcnow

        if not event_ids:
            return
        try:
            await self._collection.insert_many(
                [{"_id": event_id, "at": utcnow()} for event_id in event_ids], ordered=False)
        except BulkWriteError as exc:
            # Markers that exist already are fine; anything else is a real failure.
            if any(error.get("code") != 11000 for error in exc.details.get("writeErrors", [])):
                raise
