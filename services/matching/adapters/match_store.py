"""The persisted match set in MongoDB (database "matching").

`matches`: one document per pair that was ever announced, `_id` = "<offer_id>:<need_id>",
with its state ("found" / "withdrawn"), score, reasons, both sides, the fingerprint the
worker compares, and the last announced event (id, type, time, trace) so that an event
whose publishing was interrupted is published again with the same id.
`instances`: per worker process, the last batch whose events were all acknowledged.
`owners`: per partition, the worker instance that last took responsibility for it (when, and a
token new with every take).
"""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any, Iterable

from pymongo import ASCENDING, DESCENDING, ReplaceOne, UpdateOne
from pymongo.errors import BulkWriteError

from platform_common.events import utcnow

WRITE_CHUNK = 1000
DUPLICATE_KEY = 11000
STALE_INSTANCE_AGE = timedelta(days=7)
# A take-over reads a partition's found pairs in pages of about PAGE_PAIRS: in one query, the
# 256k pairs of 30k open items kept the single-threaded local store busy so long that the
# driver's heartbeat failed and the read was retried forever. A page is a range of pair keys
# within the partition, answered from the `partition_found` index. It costs on every pair write,
# but without it the local store answers each page by a collection scan (measured: a range of
# `_id` with the partition beside it). Pair keys begin with the offer's UUID, whose leading
# hex digits spread them evenly over the KEY_SPACE of their first KEY_DIGITS digits; so the
# next range's width follows from how full the last one was.
PAGE_PAIRS = 5000
KEY_DIGITS = 6
KEY_SPACE = 16 ** KEY_DIGITS
FIRST_RANGE = KEY_SPACE // 256
LOWEST_KEY, HIGHEST_KEY = "", "\U0010ffff"


class MongoMatchStore:
    """The MatchStore port (services/matching/ports.py) in MongoDB."""

    def __init__(self, database):
        self._matches = database["matches"]
        self._instances = database["instances"]
        self._owners = database["owners"]

    async def ensure_indexes(self) -> None:
        await self._matches.create_index([("offer_id", ASCENDING), ("state", ASCENDING),
                                          ("score", DESCENDING)], name="offer_matches")
        await self._matches.create_index([("need_id", ASCENDING), ("state", ASCENDING),
                                          ("score", DESCENDING)], name="need_matches")
        # The take-over's: a partition's unfinished batches and the pairs written since a
        # snapshot (one index for both), its found pairs by key ranges. Every index costs on
        # each of the many pair writes.
        await self._matches.create_index([("need_partition", ASCENDING),
                                          ("batch.instance", ASCENDING), ("batch.n", ASCENDING)],
                                         name="partition_batch")
        await self._matches.create_index([("need_partition", ASCENDING), ("state", ASCENDING),
                                          ("_id", ASCENDING)], name="partition_found")

    # ---- worker -----------------------------------------------------------------------------
    async def register_instance(self, instance: str) -> None:
        now = utcnow()
        await self._instances.update_one(
            {"_id": instance}, {"$set": {"committed": 0, "started_at": now, "updated_at": now}},
            upsert=True)

    async def write(self, docs: list[dict[str, Any]], *, new_keys: set[str]) -> None:
        """Store the pair documents: those in `new_keys` (pairs not stored as found, most of
        them never stored) are inserted, which costs a document store less than an upsert;
        one that exists after all (found again after a withdrawal) is replaced."""
        for start in range(0, len(docs), WRITE_CHUNK):
            chunk = docs[start:start + WRITE_CHUNK]
            inserts = [doc for doc in chunk if doc["_id"] in new_keys]
            replaces = [doc for doc in chunk if doc["_id"] not in new_keys]
            if inserts:
                try:
                    await self._matches.insert_many(inserts, ordered=False)
                except BulkWriteError as exc:
                    if any(error["code"] != DUPLICATE_KEY for error in exc.details["writeErrors"]):
                        raise
                    replaces += [inserts[error["index"]] for error in exc.details["writeErrors"]]
            if replaces:
                await self._matches.bulk_write(
                    [ReplaceOne({"_id": doc["_id"]}, doc, upsert=True) for doc in replaces],
                    ordered=False)

    async def commit(self, instance: str, batch: int) -> None:
        await self._instances.update_one(
            {"_id": instance}, {"$set": {"committed": batch, "updated_at": utcnow()}}, upsert=True)

    async def take_ownership(self, instance: str, partitions: Iterable[int]) -> None:
        now = utcnow()
        # `take` is new with every take (a restart from a snapshot compares it, see the port).
        take = uuid.uuid4().hex
        operations = [UpdateOne({"_id": p}, {"$set": {"instance": instance, "since": now,
                                                      "take": take}},
                                upsert=True) for p in partitions]
        if operations:
            await self._owners.bulk_write(operations, ordered=False)

    async def owners(self, partitions: Iterable[int]) -> dict[int, str]:
        cursor = self._owners.find({"_id": {"$in": list(partitions)}})
        return {doc["_id"]: doc["instance"] async for doc in cursor}

    async def owner_records(self, partitions: Iterable[int]) -> dict[int, tuple[str, str]]:
        cursor = self._owners.find({"_id": {"$in": list(partitions)}})
        return {doc["_id"]: (doc["instance"], doc.get("take") or doc["since"].isoformat())
                async for doc in cursor}

    async def written_after(self, partition: int, instance: str, batch: int) -> list[dict[str, Any]]:
        """(answered from the `partition_batch` index)"""
        return await self._matches.find({"need_partition": partition, "batch.instance": instance,
                                         "batch.n": {"$gt": batch}}).to_list(None)

    async def found_fingerprints(self, partitions: Iterable[int]) -> dict[int, dict[str, str]]:
        """Per partition: pair key -> fingerprint of every stored pair in state "found" (read
        in pages, see PAGE_PAIRS)."""
        return {partition: await self._found_in(partition) for partition in partitions}

    async def _found_in(self, partition: int) -> dict[str, str]:
        found: dict[str, str] = {}
        start, width = 0, FIRST_RANGE
        while start < KEY_SPACE:
            end = min(start + width, KEY_SPACE)
            page = await self._matches.find(found_page_filter(partition, start, end),
                                            projection={"fingerprint": 1}).to_list(None)
            found.update((doc["_id"], doc["fingerprint"]) for doc in page)
            start = end
            # Aim at PAGE_PAIRS, but grow at most 16-fold: a sparse stretch says little.
            width = max(1, min(width * 16, width * PAGE_PAIRS // max(1, len(page))))
        return found

    async def uncommitted(self, partitions: Iterable[int], *,
                          partition_count: int) -> list[dict[str, Any]]:
        """Pair documents of `partitions` written by a batch whose events may not all be out."""
        wanted = list(partitions)
        found: list[dict[str, Any]] = []
        stale_before = utcnow() - STALE_INSTANCE_AGE
        async for instance in self._instances.find({}):
            query = {"batch.instance": instance["_id"], "batch.n": {"$gt": instance["committed"]}}
            for partition in wanted:
                found += await self._matches.find({"need_partition": partition, **query}).to_list(None)
            if _older_than(instance.get("updated_at"), stale_before):
                # Forget long-gone processes with nothing left to finish (documents naming an
                # unknown instance count as committed).
                unfinished = [await self._matches.find_one({"need_partition": p, **query},
                                                           projection={"_id": 1})
                              for p in range(partition_count)]
                if not any(unfinished):
                    await self._instances.delete_one({"_id": instance["_id"]})
        return found

    async def get_many(self, keys: list[str]) -> list[dict[str, Any]]:
        docs: list[dict[str, Any]] = []
        for start in range(0, len(keys), WRITE_CHUNK):
            docs += await self._matches.find({"_id": {"$in": keys[start:start + WRITE_CHUNK]}}).to_list(None)
        return docs

    async def forget_titles(self, item_ids: list[str]) -> None:
        """An erased actor's items keep no title in the stored pairs (GDPR erasure)."""
        if item_ids:
            await self._matches.update_many({"offer_id": {"$in": item_ids}},
                                            {"$set": {"offer.title": ""}})
            await self._matches.update_many({"need_id": {"$in": item_ids}},
                                            {"$set": {"need.title": ""}})

    # ---- API ----------------------------------------------------------------------
    async def matches_of(self, *, kind: str, item_id: str, limit: int) -> list[dict[str, Any]]:
        field = "offer_id" if kind == "offer" else "need_id"
        cursor = self._matches.find({field: item_id, "state": "found"}).sort(
            [("score", DESCENDING), ("_id", ASCENDING)]).limit(limit)
        return await cursor.to_list(None)

    async def pairs_of(self, *, offer_ids: list[str], need_ids: list[str]) -> list[dict[str, Any]]:
        """Every stored pair (found or withdrawn) of these items: a personal-data export."""
        found: dict[str, dict[str, Any]] = {}
        for field, ids in (("offer_id", offer_ids), ("need_id", need_ids)):
            for start in range(0, len(ids), WRITE_CHUNK):
                chunk = ids[start:start + WRITE_CHUNK]
                async for doc in self._matches.find({field: {"$in": chunk}}):
                    found[doc["_id"]] = doc
        return [found[key] for key in sorted(found)]


def found_page_filter(partition: int, start: int, end: int) -> dict[str, Any]:
    """The found pairs of `partition` whose keys lie in [start, end) of the KEY_SPACE; the
    first range also holds every key below it, the last every key above (the ranges cover
    every string, so keys that are no UUID are read too)."""
    keys: dict[str, str] = {}
    if start > 0:
        keys["$gte"] = f"{start:0{KEY_DIGITS}x}"
    if end < KEY_SPACE:
        keys["$lt"] = f"{end:0{KEY_DIGITS}x}"
    query: dict[str, Any] = {"need_partition": partition, "state": "found"}
    if keys:
        query["_id"] = keys
    return query


def _older_than(moment: datetime | None, limit: datetime) -> bool:
    return moment is not None and moment < limit
