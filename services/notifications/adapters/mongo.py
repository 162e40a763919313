"""MongoDB adapters of the stores (database "notifications")."""
from __future__ import annotations

import uuid
from contextlib import suppress
from datetime import datetime, timezone
from collections.abc import AsyncIterator
from typing import Any

from pymongo import ASCENDING, DESCENDING, ReturnDocument, UpdateOne
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, DuplicateKeyError

from platform_common.stores import in_chunks
from services.notifications.domain.models import (
    Delivery, Localized, Notification, Preferences, Recipient, Reminder, ShiftRow, SignupRow,
)
from services.notifications.ports import Position

NEWEST_FIRST = [("created_at", DESCENDING), ("_id", DESCENDING)]
# A lower bound for "before a time" on a field most documents leave empty: the local store
# answers `{"$gte": EARLIEST, "$lte": t}` from the index, but scans the whole collection for a
# bare `{"$lte": t}` (0.7 s at 30k notifications, run every window check).
EARLIEST = datetime(1970, 1, 1, tzinfo=timezone.utc)
# Where a notification names another actor than its recipient: found again on that actor's
# erasure. Sparse: only contact notifications carry the contact parties.
MENTION_FIELDS = ("data.counterpart.actor_id", "data.requester_actor_id", "data.recipient_actor_id")
# A lead's open-window fields: stored only while set (sparse indexes).
WINDOW_FIELDS = ("window", "closes_at")


def _to_doc(model, id_field: str) -> dict[str, Any]:
    doc = model.model_dump()
    doc["_id"] = doc.pop(id_field)
    return doc


def _from_doc(doc: dict[str, Any], id_field: str) -> dict[str, Any]:
    doc = dict(doc)
    doc[id_field] = doc.pop("_id")
    return doc


async def _insert_new(collection, docs: list[dict[str, Any]]) -> set[str]:
    """Insert every document whose unique keys are free; the `_id`s inserted."""
    if not docs:
        return set()
    try:
        await collection.insert_many(docs, ordered=False)
    except BulkWriteError as exc:
        errors = exc.details.get("writeErrors", [])
        if any(error.get("code") != 11000 for error in errors):
            raise
        failed = {error["index"] for error in errors}
        return {doc["_id"] for index, doc in enumerate(docs) if index not in failed}
    return {doc["_id"] for doc in docs}


async def _find_in(collection, field: str, values: list, extra: dict[str, Any] | None = None,
                   **options) -> AsyncIterator[dict[str, Any]]:
    """The documents whose `field` is one of `values`, asked in `$in` chunks (see IN_CHUNK)."""
    for chunk in in_chunks(values):
        async for doc in collection.find({field: {"$in": chunk}, **(extra or {})}, **options):
            yield doc


async def _update_in(collection, field: str, values: list, update: dict[str, Any],
                     extra: dict[str, Any] | None = None) -> None:
    for chunk in in_chunks(values):
        await collection.update_many({field: {"$in": chunk}, **(extra or {})}, update)


async def _newest_first_of_actor(collection, equal: dict[str, Any], *,
                                 after: Position | None, limit: int) -> list[dict[str, Any]]:
    """Up to `limit` documents with the fields `equal` (an actor id first), newest first by
    (created_at, _id), strictly after the position: each query has equalities and one range
    only, the shape the local store answers from a compound index (equalities, created_at,
    _id), where `$in` with a range, or an `$or`, scans the whole collection. After a position:
    the rest of its millisecond (`_id` below), then the older ones (`created_at` below)."""
    if after is None:
        queries = [equal]
    else:
        created_at, identifier = after
        queries = [{**equal, "created_at": created_at, "_id": {"$lt": identifier}},
                   {**equal, "created_at": {"$lt": created_at}}]
    found: list[dict[str, Any]] = []
    for query in queries:
        cursor = collection.find(query).sort(NEWEST_FIRST).limit(limit - len(found))
        found += [doc async for doc in cursor]
        if len(found) >= limit:
            break
    return found


async def _merged_page(collection, actor_ids: list[str], extra: dict[str, Any], *,
                       after: Position | None, limit: int) -> list[dict[str, Any]]:
    """One query per actor (see `_newest_first_of_actor`), merged to the page."""
    found: list[dict[str, Any]] = []
    for actor_id in dict.fromkeys(actor_ids):
        found += await _newest_first_of_actor(collection, {"actor_id": actor_id, **extra},
                                              after=after, limit=limit)
    found.sort(key=lambda doc: (doc["created_at"], doc["_id"]), reverse=True)
    return found[:limit]


# Indexes earlier versions made on `notifications` and this one does not keep (or keeps
# sparse): each index costs every write of the collection, the hottest of the service.
# (actor_id, created_at, _id) is served by the inbox index's actor prefix; the window fields
# are sparse now; `joining_since` is gone (a lead lists its pairs before they are stored).
OUTDATED_NOTIFICATION_INDEXES = ("actor_id_1_created_at_-1__id_-1", "window_1_closes_at_1",
                                 "joining_since_1")
SPARSE_NOW = ("closes_at_1", "window_1")


async def _drop_outdated_indexes(collection) -> None:
    existing = await collection.index_information()
    for name, spec in existing.items():
        outdated = name in OUTDATED_NOTIFICATION_INDEXES
        if outdated or (name in SPARSE_NOW and not spec.get("sparse")):
            await collection.drop_index(name)


async def create_indexes(db: AsyncDatabase) -> None:
    await db.recipients.create_index([("owners", ASCENDING)])
    # The reminder task's look for preferences whose reminders wait for a re-plan.
    await db.preferences.create_index([("reminders_replan_since", ASCENDING)])
    await _drop_outdated_indexes(db.notifications)
    await db.notifications.create_index([("dedupe_key", ASCENDING)], unique=True)
    # The inbox pages: one range scan per actor (see `_newest_first_of_actor`); its actor
    # prefix also answers the erasure, the export and "all read".
    await db.notifications.create_index([("actor_id", ASCENDING), ("in_inbox", ASCENDING),
                                         ("created_at", DESCENDING), ("_id", DESCENDING)])
    await db.notifications.create_index([("pair", ASCENDING)])
    # Coalescing windows: the open lead of a (recipient, item), and the leads whose window
    # closed. Sparse: only a lead carries these fields, and only while its window is open, so
    # every other notification (and each write of it) skips both indexes.
    await db.notifications.create_index([("window", ASCENDING)], sparse=True)
    await db.notifications.create_index([("closes_at", ASCENDING)], sparse=True)
    for field in MENTION_FIELDS:
        await db.notifications.create_index([(field, ASCENDING)], sparse=True)
    await db.deliveries.create_index([("actor_id", ASCENDING), ("created_at", DESCENDING),
                                      ("_id", DESCENDING)])
    await db.deliveries.create_index([("status", ASCENDING), ("next_retry_at", ASCENDING)])
    await db.deliveries.create_index([("notification_ids", ASCENDING)])
    await db.match_withdrawals.create_index([("pair", ASCENDING)])
    await db.signups.create_index([("shift_id", ASCENDING)])
    await db.signups.create_index([("actor_id", ASCENDING)])
    # The reminder task: equality on the status and a range on the time.
    await db.reminders.create_index([("status", ASCENDING), ("due_at", ASCENDING)])
    await db.reminders.create_index([("signup_id", ASCENDING)])
    await db.reminders.create_index([("shift_id", ASCENDING)])
    await db.reminders.create_index([("actor_id", ASCENDING), ("due_at", ASCENDING)])


class MongoRecipients:
    def __init__(self, db: AsyncDatabase):
        self._recipients, self._erased = db.recipients, db.erased_actors

    async def apply(self, recipient: Recipient) -> bool:
        if await self.is_erased(recipient.actor_id):
            return False
        doc = _to_doc(recipient, "actor_id")
        try:
            # Matches only an older version (or nothing): an equal or newer stored version makes
            # the upsert collide with the existing _id, and the snapshot is ignored.
            result = await self._recipients.update_one(
                {"_id": recipient.actor_id, "version": {"$lt": recipient.version}},
                {"$set": doc}, upsert=True)
        except DuplicateKeyError:
            return False
        return result.modified_count > 0 or result.upserted_id is not None

    async def get(self, actor_id: str) -> Recipient | None:
        doc = await self._recipients.find_one({"_id": actor_id})
        return Recipient.model_validate(_from_doc(doc, "actor_id")) if doc else None

    async def get_many(self, actor_ids: list[str]) -> dict[str, Recipient]:
        return {doc["_id"]: Recipient.model_validate(_from_doc(doc, "actor_id"))
                async for doc in _find_in(self._recipients, "_id", actor_ids)}

    async def owned_by(self, sub: str) -> list[Recipient]:
        cursor = self._recipients.find({"owners": sub}).sort("_id", ASCENDING)
        return [Recipient.model_validate(_from_doc(doc, "actor_id")) async for doc in cursor]

    async def erase(self, actor_id: str, version: int) -> None:
        await self._erased.update_one({"_id": actor_id}, {"$max": {"version": version}}, upsert=True)
        await self._recipients.delete_one({"_id": actor_id})

    async def is_erased(self, actor_id: str) -> bool:
        return await self._erased.find_one({"_id": actor_id}, projection={"_id": 1}) is not None

    async def erased_among(self, actor_ids: list[str]) -> set[str]:
        return {doc["_id"] async for doc in _find_in(self._erased, "_id", actor_ids,
                                                     projection={"_id": 1})}


class MongoPreferences:
    def __init__(self, db: AsyncDatabase):
        self._collection = db.preferences

    async def get(self, actor_id: str) -> Preferences | None:
        doc = await self._collection.find_one({"_id": actor_id})
        return Preferences.model_validate(_from_doc(doc, "actor_id")) if doc else None

    async def get_many(self, actor_ids: list[str]) -> dict[str, Preferences]:
        return {doc["_id"]: Preferences.model_validate(_from_doc(doc, "actor_id"))
                async for doc in _find_in(self._collection, "_id", actor_ids)}

    async def save(self, preferences: Preferences) -> None:
        await self._collection.replace_one({"_id": preferences.actor_id},
                                           _to_doc(preferences, "actor_id"), upsert=True)

    async def delete_actor(self, actor_id: str) -> None:
        await self._collection.delete_one({"_id": actor_id})

    async def replans_due(self, *, now: datetime, limit: int) -> list[str]:
        # A range with both bounds: answered from the index on the local store too (it scans
        # the collection for a one-sided range).
        cursor = self._collection.find(
            {"reminders_replan_since": {"$gte": EARLIEST, "$lte": now}},
            projection={"_id": 1}).sort("reminders_replan_since", ASCENDING).limit(limit)
        return [doc["_id"] async for doc in cursor]

    async def finish_replan(self, actor_id: str, *, since: datetime) -> bool:
        result = await self._collection.update_one(
            {"_id": actor_id, "reminders_replan_since": since},
            {"$set": {"reminders_replan_since": None}})
        return result.modified_count > 0

    async def request_replan(self, actor_id: str, *, since: datetime) -> bool:
        # `None` matches a missing field too (preferences stored before the field existed).
        result = await self._collection.update_one(
            {"_id": actor_id, "reminders_replan_since": None},
            {"$set": {"reminders_replan_since": since}})
        return result.modified_count > 0


class MongoNotifications:
    def __init__(self, db: AsyncDatabase):
        self._collection, self._closings = db.notifications, db.window_closings

    @staticmethod
    def _model(doc: dict[str, Any]) -> Notification:
        return Notification.model_validate(_from_doc(doc, "id"))

    async def insert_many(self, notifications: list[Notification]) -> set[str]:
        return await _insert_new(self._collection, [self._doc(n) for n in notifications])

    @staticmethod
    def _doc(notification: Notification) -> dict[str, Any]:
        doc = _to_doc(notification, "id")
        for field in WINDOW_FIELDS:  # absent, not null: the sparse indexes skip the document
            if doc[field] is None:
                del doc[field]
        return doc

    async def by_keys(self, dedupe_keys: list[str]) -> dict[str, Notification]:
        return {doc["dedupe_key"]: self._model(doc)
                async for doc in _find_in(self._collection, "dedupe_key", dedupe_keys)}

    async def get_many(self, ids: list[str]) -> list[Notification]:
        found = {doc["_id"]: self._model(doc)
                 async for doc in _find_in(self._collection, "_id", ids)}
        return [found[identifier] for identifier in ids if identifier in found]

    async def page(self, actor_ids: list[str], *, unread_only: bool, limit: int,
                   after: Position | None) -> list[Notification]:
        # One query per actor with the range (index (actor_id, in_inbox, created_at, _id));
        # the unread filter rides the same index's actor prefix.
        extra: dict[str, Any] = {"in_inbox": True, **({"read": False} if unread_only else {})}
        found = await _merged_page(self._collection, actor_ids, extra, after=after, limit=limit)
        return [self._model(doc) for doc in found]

    async def mark_read(self, notification_id: str, actor_ids: list[str]) -> Notification | None:
        doc = await self._collection.find_one_and_update(
            {"_id": notification_id, "actor_id": {"$in": actor_ids}, "in_inbox": True},
            {"$set": {"read": True}}, return_document=ReturnDocument.AFTER)
        return self._model(doc) if doc else None

    async def mark_all_read(self, actor_ids: list[str]) -> int:
        result = await self._collection.update_many(
            {"actor_id": {"$in": actor_ids}, "in_inbox": True, "read": False},
            {"$set": {"read": True}})
        return result.modified_count

    async def mark_withdrawn(self, pair: str, before: datetime) -> list[str]:
        query = {"pair": pair, "event_at": {"$lt": before}, "withdrawn": False}
        ids = [doc["_id"] async for doc in self._collection.find(query, projection={"_id": 1})]
        if ids:
            await _update_in(self._collection, "_id", ids, {"$set": {"withdrawn": True}})
        return ids

    async def for_actors(self, actor_ids: list[str]) -> list[Notification]:
        cursor = self._collection.find({"actor_id": {"$in": actor_ids}}).sort(NEWEST_FIRST)
        return [self._model(doc) async for doc in cursor]

    async def delete_actor(self, actor_id: str) -> None:
        await self._collection.delete_many({"actor_id": actor_id})

    async def mentioning(self, actor_id: str) -> list[Notification]:
        # One indexed equality per field rather than one `$or` (see `create_indexes`).
        found: dict[str, Notification] = {}
        for field in MENTION_FIELDS:
            async for doc in self._collection.find({field: actor_id}):
                found[doc["_id"]] = self._model(doc)
        return [found[key] for key in sorted(found)]

    async def rewrite(self, changes: list[tuple[str, Localized, Localized, dict]]) -> None:
        if changes:
            await self._collection.bulk_write([
                UpdateOne({"_id": identifier}, {"$set": {
                    "title": title.model_dump(), "body": body.model_dump(), "data": data}})
                for identifier, title, body, data in changes], ordered=False)

    async def update_many(self, ids: list[str], **fields) -> None:
        await _update_in(self._collection, "_id", ids, {"$set": fields})

    async def open_windows(self, windows: list[str], now: datetime) -> dict[str, Notification]:
        # One query for a whole batch, answered by the sparse `window` index (only open
        # leads carry `window`).
        newest: dict[str, Notification] = {}
        if windows:
            async for doc in self._collection.find(
                    {"window": {"$in": list(dict.fromkeys(windows))},
                     "closes_at": {"$gt": now}, "sealed": False}):
                lead = self._model(doc)
                if lead.window not in newest or lead.closes_at > newest[lead.window].closes_at:
                    newest[lead.window] = lead
        return newest

    async def join_windows(self, joins: dict[str, list[str]]) -> set[str]:
        # One round trip for the batch's windows; only when some lead refused (sealed since
        # it was looked up: rare) are the leads read to see which.
        if not joins:
            return set()
        result = await self._collection.bulk_write([
            UpdateOne({"_id": lead_id, "sealed": False, "member_ids": {"$nin": ids}},
                      {"$push": {"member_ids": {"$each": ids}}})
            for lead_id, ids in joins.items()], ordered=False)
        if result.modified_count == len(joins):
            return set(joins)
        return {lead.id for lead in await self.get_many(list(joins))
                if set(joins[lead.id]) <= set(lead.member_ids)}

    async def leave_window(self, lead_id: str, member_ids: list[str]) -> None:
        await self._collection.update_one({"_id": lead_id},
                                          {"$pull": {"member_ids": {"$in": member_ids}}})

    async def seal_windows(self, lead_ids: list[str]) -> list[Notification]:
        # One update by `_id` and a read, rather than find_one_and_update per lead (far slower
        # on the local stand-in); the pairs read after the seal are final. Removing the window
        # fields takes the lead out of both sparse indexes in the same write.
        await _update_in(self._collection, "_id", lead_ids, {
            "$set": {"sealed": True}, "$unset": {field: "" for field in WINDOW_FIELDS}})
        return await self.get_many(lead_ids)

    async def windows_due(self, *, now: datetime, limit: int) -> list[str]:
        # Oldest first; the windows of one batch share `closes_at`, their ids keep its order.
        # Both bounds: the local store scans the collection for a bare `$lte`.
        cursor = self._collection.find({"closes_at": {"$gte": EARLIEST, "$lte": now}},
                                       projection={"closes_at": 1}).sort(
            [("closes_at", ASCENDING), ("_id", ASCENDING)]).limit(limit)
        return [doc["_id"] async for doc in cursor]

    # The closings in progress (collection `window_closings`) are a handful at most, so they
    # are read without an index (one would cost both writes of every window task run).

    async def begin_closing(self, lead_ids: list[str], *, at: datetime) -> str:
        closing_id = uuid.uuid4().hex
        await self._closings.insert_one({"_id": closing_id, "lead_ids": lead_ids, "at": at})
        return closing_id

    async def end_closing(self, closing_id: str) -> None:
        await self._closings.delete_one({"_id": closing_id})

    async def stale_closings(self, *, before: datetime) -> list[tuple[str, list[str]]]:
        return [(doc["_id"], doc["lead_ids"])
                async for doc in self._closings.find({"at": {"$lt": before}})]


class MongoDeliveries:
    def __init__(self, db: AsyncDatabase):
        self._collection = db.deliveries

    @staticmethod
    def _model(doc: dict[str, Any]) -> Delivery:
        return Delivery.model_validate(_from_doc(doc, "id"))

    async def claim(self, delivery: Delivery) -> bool:
        try:
            await self._collection.insert_one(_to_doc(delivery, "id"))
        except DuplicateKeyError:
            return False
        return True

    async def claim_many(self, deliveries: list[Delivery]) -> set[str]:
        return await _insert_new(self._collection, [_to_doc(d, "id") for d in deliveries])

    async def release_waiting(self, *, actor_id: str, now: datetime) -> int:
        result = await self._collection.update_many(
            {"actor_id": actor_id, "status": "waiting"},
            {"$set": {"status": "retrying", "next_retry_at": now, "updated_at": now}})
        return result.modified_count

    async def waiting_actors(self) -> list[str]:
        return sorted(await self._collection.distinct("actor_id", {"status": "waiting"}))

    async def cancel_waiting(self, *, created_before: datetime, reason: str,
                             now: datetime) -> int:
        result = await self._collection.update_many(
            {"status": "waiting", "created_at": {"$lt": created_before}},
            {"$set": {"status": "cancelled", "last_error": reason, "updated_at": now}})
        return result.modified_count

    async def get(self, delivery_id: str) -> Delivery | None:
        doc = await self._collection.find_one({"_id": delivery_id})
        return self._model(doc) if doc else None

    async def update(self, delivery_id: str, **fields) -> None:
        await self._collection.update_one({"_id": delivery_id}, {"$set": fields})

    async def due(self, *, now: datetime, limit: int) -> list[tuple[str, datetime]]:
        # Once per run of the retry task, not once per delivery: a store that reads every
        # matching document before it sorts and limits (the local stand-in does) pays for all
        # due deliveries here, and one such query per delivery had cost (due deliveries)² per
        # run. One equality per status (not `$in`): each is a range scan of the
        # (status, next_retry_at) index, also where the planner cannot combine `$in` with a
        # range.
        due: list[tuple[datetime, str]] = []
        for status in ("pending", "retrying"):
            cursor = self._collection.find(
                {"status": status, "next_retry_at": {"$lte": now}},
                projection={"next_retry_at": 1}).sort("next_retry_at", ASCENDING).limit(limit)
            due += [(doc["next_retry_at"], doc["_id"]) async for doc in cursor]
        return [(identifier, due_at) for due_at, identifier in sorted(due)[:limit]]

    async def claim_due(self, *, delivery_id: str, due_at: datetime,
                        lease_until: datetime) -> Delivery | None:
        # A conditional update by `_id` (a point lookup) and a read, rather than one
        # find_one_and_update: on the local stand-in that costs 20-30 times as much.
        result = await self._collection.update_one(
            {"_id": delivery_id, "next_retry_at": due_at},
            {"$set": {"next_retry_at": lease_until}})
        if result.modified_count == 0:
            return None
        return await self.get(delivery_id)

    async def page(self, actor_ids: list[str], *, limit: int,
                   after: Position | None) -> list[Delivery]:
        found = await _merged_page(self._collection, actor_ids, {}, after=after, limit=limit)
        return [self._model(doc) for doc in found]

    async def deferred_actors(self) -> list[str]:
        return sorted(await self._collection.distinct("actor_id", {"status": "deferred"}))

    async def deferred(self, actor_id: str) -> list[Delivery]:
        cursor = self._collection.find({"actor_id": actor_id, "status": "deferred"}).sort(
            [("created_at", ASCENDING), ("_id", ASCENDING)])
        return [self._model(doc) async for doc in cursor]

    async def update_many(self, delivery_ids: list[str], **fields) -> None:
        await _update_in(self._collection, "_id", delivery_ids, {"$set": fields})

    async def cancel_deferred(self, notification_ids: list[str], *, reason: str,
                              now: datetime) -> None:
        await _update_in(self._collection, "notification_ids", notification_ids,
                         {"$set": {"status": "cancelled", "last_error": reason, "updated_at": now}},
                         extra={"status": "deferred"})

    async def for_actors(self, actor_ids: list[str]) -> list[Delivery]:
        cursor = self._collection.find({"actor_id": {"$in": actor_ids}}).sort(NEWEST_FIRST)
        return [self._model(doc) async for doc in cursor]

    async def delete_actor(self, actor_id: str) -> None:
        await self._collection.delete_many({"actor_id": actor_id})


class MongoMatchHistory:
    def __init__(self, db: AsyncDatabase):
        self._collection = db.match_withdrawals

    async def record_withdrawal(self, *, event_id: str, pair: str, at: datetime) -> None:
        with suppress(DuplicateKeyError):  # the same withdrawal event again: once is enough
            await self._collection.insert_one({"_id": event_id, "pair": pair, "at": at})

    async def withdrawals_of(self, pairs: list[str]) -> dict[str, list[datetime]]:
        found: dict[str, list[datetime]] = {}
        async for doc in _find_in(self._collection, "pair", pairs):
            found.setdefault(doc["pair"], []).append(doc["at"])
        return found


async def _apply_newer(collection, doc: dict[str, Any]) -> bool:
    """Upsert unless the stored version is the same or newer (the upsert then collides)."""
    try:
        result = await collection.update_one(
            {"_id": doc["_id"], "version": {"$lt": doc["version"]}}, {"$set": doc}, upsert=True)
    except DuplicateKeyError:
        return False
    return result.modified_count > 0 or result.upserted_id is not None


class MongoEngagements:
    def __init__(self, db: AsyncDatabase):
        self._shifts, self._signups = db.shifts, db.signups

    async def apply_shift(self, shift: ShiftRow) -> bool:
        return await _apply_newer(self._shifts, _to_doc(shift, "shift_id"))

    async def get_shift(self, shift_id: str) -> ShiftRow | None:
        doc = await self._shifts.find_one({"_id": shift_id})
        return ShiftRow.model_validate(_from_doc(doc, "shift_id")) if doc else None

    async def apply_signup(self, signup: SignupRow) -> bool:
        return await _apply_newer(self._signups, _to_doc(signup, "signup_id"))

    async def get_signup(self, signup_id: str) -> SignupRow | None:
        doc = await self._signups.find_one({"_id": signup_id})
        return SignupRow.model_validate(_from_doc(doc, "signup_id")) if doc else None

    async def signups_of_shift(self, shift_id: str) -> list[SignupRow]:
        cursor = self._signups.find({"shift_id": shift_id}).sort("_id", ASCENDING)
        return [SignupRow.model_validate(_from_doc(doc, "signup_id")) async for doc in cursor]

    async def move_signups(self, shift_id: str, *, start: datetime, end: datetime) -> None:
        await self._signups.update_many({"shift_id": shift_id},
                                        {"$set": {"shift_start": start, "shift_end": end}})

    async def signups_of_actor(self, actor_id: str, *,
                               starting_after: datetime) -> list[SignupRow]:
        # The (actor_id) index narrows it to the person's sign-ups; few per person.
        cursor = self._signups.find(
            {"actor_id": actor_id, "shift_start": {"$gt": starting_after}}).sort("_id", ASCENDING)
        return [SignupRow.model_validate(_from_doc(doc, "signup_id")) async for doc in cursor]

    async def delete_actor(self, actor_id: str) -> None:
        await self._signups.delete_many({"actor_id": actor_id})


class MongoReminders:
    def __init__(self, db: AsyncDatabase):
        self._collection = db.reminders

    @staticmethod
    def _model(doc: dict[str, Any]) -> Reminder:
        return Reminder.model_validate(_from_doc(doc, "id"))

    async def schedule(self, reminders: list[Reminder]) -> set[str]:
        return await _insert_new(self._collection, [_to_doc(r, "id") for r in reminders])

    async def get_many(self, ids: list[str]) -> list[Reminder]:
        found = {doc["_id"]: self._model(doc)
                 async for doc in _find_in(self._collection, "_id", ids)}
        return [found[identifier] for identifier in ids if identifier in found]

    async def of_signup(self, signup_id: str) -> list[Reminder]:
        cursor = self._collection.find({"signup_id": signup_id}).sort("_id", ASCENDING)
        return [self._model(doc) async for doc in cursor]

    async def of_shift(self, shift_id: str) -> list[Reminder]:
        cursor = self._collection.find({"shift_id": shift_id}).sort("_id", ASCENDING)
        return [self._model(doc) async for doc in cursor]

    async def update(self, reminder_id: str, **fields) -> None:
        await self._collection.update_one({"_id": reminder_id}, {"$set": fields})

    async def finish(self, reminder_id: str, *, due_at: datetime, status: str,
                     now: datetime) -> bool:
        fields: dict[str, Any] = {"status": status, "updated_at": now}
        if status == "sent":
            fields["sent_at"] = now
        result = await self._collection.update_one(
            {"_id": reminder_id, "due_at": due_at, "status": "scheduled"}, {"$set": fields})
        return result.modified_count > 0

    async def cancel(self, *, signup_id: str | None = None, shift_id: str | None = None,
                     now: datetime) -> int:
        query = {"signup_id": signup_id} if signup_id is not None else {"shift_id": shift_id}
        result = await self._collection.update_many(
            {**query, "status": "scheduled"},
            {"$set": {"status": "cancelled", "updated_at": now}})
        return result.modified_count

    async def cancel_many(self, ids: list[str], *, now: datetime) -> int:
        cancelled = 0
        for chunk in in_chunks(ids):
            result = await self._collection.update_many(
                {"_id": {"$in": chunk}, "status": "scheduled"},
                {"$set": {"status": "cancelled", "updated_at": now}})
            cancelled += result.modified_count
        return cancelled

    async def reschedule(self, reminder_id: str, *, shift_start: datetime, due_at: datetime,
                         now: datetime) -> bool:
        result = await self._collection.update_one(
            {"_id": reminder_id, "status": {"$in": ["cancelled", "skipped"]}},
            {"$set": {"status": "scheduled", "shift_start": shift_start, "due_at": due_at,
                      "sent_at": None, "updated_at": now}})
        return result.modified_count > 0

    async def due(self, *, now: datetime, limit: int) -> list[Reminder]:
        # Equality and a range with both bounds: answered from the (status, due_at) index on
        # the local store too.
        cursor = self._collection.find(
            {"status": "scheduled", "due_at": {"$gte": EARLIEST, "$lte": now}}).sort(
            [("due_at", ASCENDING), ("_id", ASCENDING)]).limit(limit)
        return [self._model(doc) async for doc in cursor]

    async def for_actors(self, actor_ids: list[str]) -> list[Reminder]:
        found = [self._model(doc)
                 async for doc in _find_in(self._collection, "actor_id", actor_ids)]
        return sorted(found, key=lambda r: (r.due_at, r.id))

    async def delete_actor(self, actor_id: str) -> None:
        await self._collection.delete_many({"actor_id": actor_id})
