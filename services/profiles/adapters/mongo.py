"""MongoDB adapter: the records, the transactional outbox and the relay lease.

Every query path has an index (the local MongoDB-protocol server scans without one).
Lists ask the store one equality-plus-range query per value of a list filter (an actor, a
status, a visibility) and merge the pages by id (`_fan_out`): a `$in` next to a range is a full
scan on the local MongoDB-protocol server, while `{actor_id: a, kind: k, _id: {$gt: c}}` walks a
compound index. MongoDB itself gives the same answers either way.

The outbox sequence is the write time in nanoseconds, taken inside the transaction. Writers do
not share a counter, so concurrent changes do not conflict. A record that commits after a
later-numbered one is still unpublished, so the relay (which reads unpublished records, oldest
first) picks it up on its next pass: nothing is skipped. Two changes of one entity are ordered
by its version check (the second transaction conflicts and retries with a fresh time), and
consumers apply snapshots by version anyway.
"""
from __future__ import annotations

import asyncio
import heapq
import random
import time
from datetime import datetime, timedelta
from typing import Awaitable, Callable, TypeVar

from pymongo import ASCENDING, AsyncMongoClient
from pymongo.errors import DuplicateKeyError, PyMongoError

from platform_common.events import Envelope, utcnow
from services.profiles.adapters.mongo_stats import MongoStats
from services.profiles.domain.calendar_links import CalendarToken
from services.profiles.domain.contacts import ACTIVE_STATUSES, Contact, ContactRole
from services.profiles.domain.engagements import MAX_SHIFT_LENGTH, Shift, Signup, SignupTally
from platform_common.errors import Busy, Conflict
from services.profiles.domain.records import Actor, Item, Tenant
from services.profiles.domain import rules
from services.profiles.domain.rules import ALL_STATUSES, ALL_VISIBILITIES, ONGOING_LIFETIME
from services.profiles.ports import ExportCollection, OutboxRecord

T = TypeVar("T")
# Shifts with the same start come in id order (the sort and its index end with the id).
BY_START = [("start", ASCENDING), ("_id", ASCENDING)]
LEASE_ID = "outbox-relay"
# More combinations than this are asked as one `$in` query (answered right, if slowly, by the
# local server): one query per combination would cost more round trips than the scan.
MAX_FAN_OUT = 32


def _to_doc(record: Tenant | Actor | Item | Contact) -> dict:
    doc = record.model_dump()
    doc["_id"] = doc.pop("id")
    if isinstance(record, Contact):
        # Both actors in one indexed field: "the requests of an actor" is one query.
        doc["parties"] = [record.requester_actor_id, record.recipient_actor_id]
    return doc


def _from_doc(model, doc: dict | None):
    if doc is None:
        return None
    return model.model_validate({**doc, "id": doc["_id"]})


class MongoRepository:
    def __init__(self, db, session=None):
        self._db, self._s = db, session
        self._tenants, self._actors, self._items = db.tenants, db.actors, db.items
        self._contacts = db.contacts
        self._shifts, self._signups = db.shifts, db.signups

    # ---- tenants ---------------------------------------------------------------------------
    async def get_tenant(self, tenant_id: str) -> Tenant | None:
        return _from_doc(Tenant, await self._tenants.find_one({"_id": tenant_id}, session=self._s))

    async def list_tenants(self) -> list[Tenant]:
        cursor = self._tenants.find({}, session=self._s).sort("_id", ASCENDING)
        return [_from_doc(Tenant, doc) async for doc in cursor]

    async def insert_tenant(self, tenant: Tenant) -> None:
        await self._insert(self._tenants, tenant, "tenant")

    async def save_tenant(self, tenant: Tenant, *, expected_version: int) -> None:
        await self._save(self._tenants, tenant, expected_version)

    # ---- actors ----------------------------------------------------------------------------
    async def get_actor(self, actor_id: str) -> Actor | None:
        return _from_doc(Actor, await self._actors.find_one({"_id": actor_id}, session=self._s))

    async def actors_owned_by(self, sub: str) -> list[Actor]:
        cursor = self._actors.find({"owners": sub}, session=self._s).sort("_id", ASCENDING)
        return [_from_doc(Actor, doc) async for doc in cursor]

    async def insert_actor(self, actor: Actor) -> None:
        await self._insert(self._actors, actor, "actor")

    async def save_actor(self, actor: Actor, *, expected_version: int) -> None:
        await self._save(self._actors, actor, expected_version)

    async def delete_actor(self, actor_id: str) -> None:
        await self._actors.delete_one({"_id": actor_id}, session=self._s)

    # ---- items -----------------------------------------------------------------------------
    async def get_item(self, item_id: str) -> Item | None:
        return _from_doc(Item, await self._items.find_one({"_id": item_id}, session=self._s))

    async def list_items(self, *, kind: str | None, actor_ids: list[str] | None = None,
                         tenant: str | None = None, statuses: list[str] | None = None,
                         visibilities: list[str] | None = None, after: str | None = None,
                         limit: int | None = None) -> list[Item]:
        # Every status or every visibility is no filter (and one query fewer per value).
        if statuses is not None and set(ALL_STATUSES) <= set(statuses):
            statuses = None
        if visibilities is not None and set(ALL_VISIBILITIES) <= set(visibilities):
            visibilities = None
        fixed = {name: value for name, value in (("tenant", tenant), ("kind", kind))
                 if value is not None}
        docs = await _fan_out(self._items, fixed, {"actor_id": actor_ids, "status": statuses,
                                                   "visibility": visibilities},
                              after=after, limit=limit, session=self._s)
        return [_from_doc(Item, doc) for doc in docs]

    async def items_due_to_expire(self, *, now: datetime, limit: int) -> list[Item]:
        """Published items past `expires_at`, and items stored before ongoing items had an end
        (`expires_at` null) that nobody changed for ONGOING_LIFETIME; earliest end first."""
        ended = await self._items.find(
            {"status": "published", "expires_at": {"$lte": now}},
            session=self._s).sort("expires_at", ASCENDING).limit(limit).to_list(None)
        lapsed = await self._items.find(
            {"status": "published", "expires_at": None,
             "updated_at": {"$lte": now - ONGOING_LIFETIME}},
            session=self._s).sort("updated_at", ASCENDING).limit(limit).to_list(None)
        due = [_from_doc(Item, doc) for doc in ended + lapsed]
        # A legacy one-off item (expires_at null, dates only) never lapses.
        due = [item for item in due if rules.due_at(item) is not None]
        return sorted(due, key=rules.due_at)[:limit]

    async def insert_item(self, item: Item) -> None:
        await self._insert(self._items, item, "item")

    async def save_item(self, item: Item, *, expected_version: int) -> None:
        await self._save(self._items, item, expected_version)

    # ---- export ----------------------------------------------------------------------------
    async def export_page(self, collection: ExportCollection, *, after: str | None,
                          limit: int) -> list[Tenant | Actor | Item]:
        query: dict = {} if after is None else {"_id": {"$gt": after}}
        if collection in ("offers", "needs"):
            source, model = self._items, Item
            query["kind"] = collection[:-1]
        else:
            source, model = (self._tenants, Tenant) if collection == "tenants" else (self._actors, Actor)
        cursor = source.find(query, session=self._s).sort("_id", ASCENDING).limit(limit)
        return [_from_doc(model, doc) async for doc in cursor]

    # ---- contact requests ------------------------------------------------------------------
    async def get_contact(self, contact_id: str) -> Contact | None:
        return _from_doc(Contact, await self._contacts.find_one({"_id": contact_id},
                                                                session=self._s))

    async def active_contact_for_pair(self, offer_id: str, need_id: str) -> Contact | None:
        for status in sorted(ACTIVE_STATUSES):  # at most one is active; one indexed query each
            doc = await self._contacts.find_one({"offer_id": offer_id, "need_id": need_id,
                                                 "status": status}, session=self._s)
            if doc is not None:
                return _from_doc(Contact, doc)
        return None

    async def list_contacts(self, *, actor_ids: list[str], role: ContactRole | None = None,
                            statuses: list[str] | None = None, after: str | None = None,
                            limit: int | None = None) -> list[Contact]:
        field = {"sent": "requester_actor_id", "received": "recipient_actor_id",
                 None: "parties"}[role]
        # A request between two of the actors is in both their pages: _fan_out keeps it once.
        docs = await _fan_out(self._contacts, {}, {field: actor_ids, "status": statuses},
                              after=after, limit=limit, session=self._s)
        return [_from_doc(Contact, doc) for doc in docs]

    async def insert_contact(self, contact: Contact) -> None:
        await self._insert(self._contacts, contact, "contact")

    async def save_contact(self, contact: Contact, *, expected_version: int) -> None:
        await self._save(self._contacts, contact, expected_version)

    async def delete_contacts_of(self, actor_id: str) -> int:
        result = await self._contacts.delete_many({"parties": actor_id}, session=self._s)
        return result.deleted_count

    # ---- shifts and sign-ups ----------------------------------------------------------------
    async def get_shift(self, shift_id: str) -> Shift | None:
        return _from_doc(Shift, await self._shifts.find_one({"_id": shift_id}, session=self._s))

    async def insert_shift(self, shift: Shift) -> None:
        await self._insert(self._shifts, shift, "shift")

    async def save_shift(self, shift: Shift, *, expected_version: int) -> None:
        await self._save(self._shifts, shift, expected_version)

    async def shifts_of_item(self, item_id: str) -> list[Shift]:
        cursor = self._shifts.find({"item_id": item_id}, session=self._s).sort(BY_START)
        return [_from_doc(Shift, doc) async for doc in cursor]

    async def upcoming_shifts(self, tenant: str, *, since: datetime,
                              limit: int) -> list[Shift]:
        # A lower bound on the indexed start (a shift lasts at most MAX_SHIFT_LENGTH).
        cursor = self._shifts.find(
            {"tenant": tenant, "status": "scheduled", "start": {"$gte": since - MAX_SHIFT_LENGTH}},
            session=self._s).sort(BY_START)
        found = []
        async for doc in cursor:
            shift = _from_doc(Shift, doc)
            if shift.end > since:
                found.append(shift)
                if len(found) == limit:
                    break
        return found

    async def count_shifts(self, tenant: str) -> int:
        return await self._shifts.count_documents({"tenant": tenant}, session=self._s)

    async def get_signup(self, signup_id: str) -> Signup | None:
        return _from_doc(Signup, await self._signups.find_one({"_id": signup_id},
                                                              session=self._s))

    async def insert_signup(self, signup: Signup) -> None:
        await self._insert(self._signups, signup, "signup")

    async def save_signup(self, signup: Signup, *, expected_version: int) -> None:
        await self._save(self._signups, signup, expected_version)

    async def delete_signup(self, signup_id: str) -> None:
        await self._signups.delete_one({"_id": signup_id}, session=self._s)

    async def signups_of_shift(self, shift_id: str, *,
                               statuses: list[str] | None = None) -> list[Signup]:
        queries = [{"shift_id": shift_id}] if statuses is None else \
            [{"shift_id": shift_id, "status": status} for status in dict.fromkeys(statuses)]
        found = []
        for query in queries:  # one indexed query per status
            found += [_from_doc(Signup, doc) async for doc in
                      self._signups.find(query, session=self._s)]
        return sorted(found, key=lambda s: s.number)

    async def active_signup(self, shift_id: str, actor_id: str) -> Signup | None:
        for status in ("confirmed", "waitlisted"):
            doc = await self._signups.find_one({"shift_id": shift_id,
                                                "volunteer_actor_id": actor_id,
                                                "status": status}, session=self._s)
            if doc is not None:
                return _from_doc(Signup, doc)
        return None

    async def signups_of_actor(self, actor_id: str) -> list[Signup]:
        cursor = self._signups.find({"volunteer_actor_id": actor_id},
                                    session=self._s).sort("_id", ASCENDING)
        return [_from_doc(Signup, doc) async for doc in cursor]

    async def signup_tallies(self, tenant: str) -> list[SignupTally]:
        # Counted in the store: one row per combination, not one per sign-up.
        cursor = await self._signups.aggregate([
            {"$match": {"tenant": tenant}},
            {"$group": {"_id": {"status": "$status", "hours_status": "$hours_status",
                                "attended": "$attended"},
                        "count": {"$sum": 1}, "hours": {"$sum": "$hours"}}},
        ], session=self._s)
        return [SignupTally(status=row["_id"]["status"],
                            hours_status=row["_id"].get("hours_status"),
                            attended=row["_id"].get("attended"), count=row["count"],
                            hours=float(row["hours"] or 0))
                async for row in cursor]

    # ---- calendar tokens (only their hashes are stored) ----------------------------------------
    async def calendar_token_of(self, sub: str) -> CalendarToken | None:
        doc = await self._db.calendar_tokens.find_one({"_id": sub}, session=self._s)
        # Tokens stored before they were derived have no generation.
        return CalendarToken(doc.get("generation"), doc["token_hash"]) if doc else None

    async def set_calendar_token(self, sub: str, token: CalendarToken) -> None:
        await self._db.calendar_tokens.update_one(
            {"_id": sub}, {"$set": {"generation": token.generation, "token_hash": token.token_hash,
                                    "updated_at": utcnow()}},
            upsert=True, session=self._s)

    async def calendar_owner(self, token_hash: str) -> str | None:
        doc = await self._db.calendar_tokens.find_one({"token_hash": token_hash}, session=self._s)
        return doc["_id"] if doc else None

    async def delete_calendar_token(self, sub: str) -> None:
        await self._db.calendar_tokens.delete_one({"_id": sub}, session=self._s)

    # ---- outbox ----------------------------------------------------------------------------
    async def add_event(self, envelope: Envelope, *, topic: str, key: str) -> None:
        await self._db.outbox.insert_one({
            "sequence": time.time_ns(), "event_id": str(envelope.id), "type": envelope.type,
            "topic": topic, "key": key, "envelope": envelope.model_dump_json(),
            "published": False, "created_at": utcnow(),
        }, session=self._s)

    # ---- helpers ---------------------------------------------------------------------------
    async def _insert(self, collection, record, what: str) -> None:
        try:
            await collection.insert_one(_to_doc(record), session=self._s)
        except DuplicateKeyError:
            raise Conflict(f"The {what} {record.id!r} exists already.",
                           code=f"{what}_exists") from None

    async def _save(self, collection, record, expected_version: int) -> None:
        result = await collection.replace_one({"_id": record.id, "version": expected_version},
                                              _to_doc(record), session=self._s)
        if result.matched_count != 1:
            raise Conflict("The entity was changed meanwhile; reload and retry.",
                           code="concurrent_change")


async def _fan_out(collection, fixed: dict, choices: dict[str, list | None], *,
                   after: str | None, limit: int | None, session) -> list[dict]:
    """The documents matching `fixed` and, per field of `choices` (None: no filter), one of its
    values, after `after` by id, at most `limit`: one query per combination of values (each
    equalities plus the id range, which a compound index `(fields..., _id)` answers), the pages
    merged by id. Same results and order as the single `$in` query."""
    queries = [dict(fixed)]
    for field, values in choices.items():
        if values is not None:
            queries = [{**query, field: value} for query in queries
                       for value in dict.fromkeys(values)]
    if not queries:
        return []  # an empty list of values matches nothing
    if after is not None:
        queries = [{**query, "_id": {"$gt": after}} for query in queries]
    if len(queries) > MAX_FAN_OUT:
        queries = [{**dict(fixed), **{field: {"$in": list(values)} for field, values
                                      in choices.items() if values is not None},
                    **({"_id": {"$gt": after}} if after is not None else {})}]

    async def page(query: dict) -> list[dict]:
        cursor = collection.find(query, session=session).sort("_id", ASCENDING)
        return await (cursor.limit(limit) if limit is not None else cursor).to_list(None)

    # One session runs one operation at a time; without one, the queries overlap.
    pages = [await page(query) for query in queries] if session is not None else \
        await asyncio.gather(*(page(query) for query in queries))
    merged: list[dict] = []
    for doc in heapq.merge(*pages, key=lambda doc: doc["_id"]):
        if merged and merged[-1]["_id"] == doc["_id"]:
            continue  # found by two of the queries (a multikey field such as `parties`)
        merged.append(doc)
        if limit is not None and len(merged) == limit:
            break
    return merged


class MongoProfileStore:
    def __init__(self, client: AsyncMongoClient, db_name: str, *, transaction_attempts: int = 20):
        self._client, self._db = client, client[db_name]
        self._attempts = transaction_attempts
        self.read = MongoRepository(self._db)

    async def run_in_transaction(self, work: Callable[[MongoRepository], Awaitable[T]]) -> T:
        # Two changes of the same entity conflict; the loser retries with jitter.
        for attempt in range(1, self._attempts + 1):
            try:
                async with self._client.start_session() as session:
                    async with await session.start_transaction():
                        return await work(MongoRepository(self._db, session))
            except PyMongoError as exc:
                if not exc.has_error_label("TransientTransactionError"):
                    raise
                await asyncio.sleep(random.uniform(0, min(0.25, 0.005 * 2 ** attempt)))
        raise Busy("The database is busy with conflicting changes; please retry.")

    async def ensure_indexes(self) -> None:
        db = self._db
        await db.actors.create_index([("owners", ASCENDING)])
        # The lists: each query is equalities plus an id range (adapters: _fan_out), and each
        # shape the use cases ask has its compound index, the id last.
        await db.items.create_index([("kind", ASCENDING), ("_id", ASCENDING)])
        await db.items.create_index([("actor_id", ASCENDING), ("kind", ASCENDING), ("_id", ASCENDING)])
        await db.items.create_index([("actor_id", ASCENDING), ("kind", ASCENDING),
                                     ("status", ASCENDING), ("_id", ASCENDING)])
        await db.items.create_index([("actor_id", ASCENDING), ("kind", ASCENDING),
                                     ("status", ASCENDING), ("visibility", ASCENDING),
                                     ("_id", ASCENDING)])
        await db.items.create_index([("tenant", ASCENDING), ("kind", ASCENDING), ("_id", ASCENDING)])
        await db.items.create_index([("tenant", ASCENDING), ("kind", ASCENDING), ("status", ASCENDING),
                                     ("_id", ASCENDING)])
        await db.items.create_index([("tenant", ASCENDING), ("kind", ASCENDING), ("status", ASCENDING),
                                     ("visibility", ASCENDING), ("_id", ASCENDING)])
        # Moderation across all tenants (operators): one status of one kind, by id.
        await db.items.create_index([("kind", ASCENDING), ("status", ASCENDING), ("_id", ASCENDING)])
        # Expiry: past their end; and items stored before ongoing ones had an end, by last
        # change. Two indexes: the local server misses `$lte` bounds equal to a stored value on
        # a field that is not the last of the index (it picks the shortest index that fits).
        await db.items.create_index([("status", ASCENDING), ("expires_at", ASCENDING)])
        await db.items.create_index([("status", ASCENDING), ("expires_at", ASCENDING),
                                     ("updated_at", ASCENDING)])
        await db.contacts.create_index([("parties", ASCENDING), ("_id", ASCENDING)])
        await db.contacts.create_index([("requester_actor_id", ASCENDING), ("_id", ASCENDING)])
        await db.contacts.create_index([("recipient_actor_id", ASCENDING), ("_id", ASCENDING)])
        for side in ("parties", "requester_actor_id", "recipient_actor_id"):
            await db.contacts.create_index([(side, ASCENDING), ("status", ASCENDING),
                                            ("_id", ASCENDING)])
        await db.contacts.create_index([("offer_id", ASCENDING), ("need_id", ASCENDING),
                                        ("status", ASCENDING)])
        await db.shifts.create_index([("item_id", ASCENDING), *BY_START])
        await db.shifts.create_index([("tenant", ASCENDING), ("status", ASCENDING), *BY_START])
        await db.signups.create_index([("shift_id", ASCENDING), ("status", ASCENDING),
                                       ("number", ASCENDING)])
        await db.signups.create_index([("shift_id", ASCENDING), ("volunteer_actor_id", ASCENDING),
                                       ("status", ASCENDING)])
        await db.signups.create_index([("volunteer_actor_id", ASCENDING), ("_id", ASCENDING)])
        await db.signups.create_index([("tenant", ASCENDING), ("_id", ASCENDING)])
        await db.calendar_tokens.create_index([("token_hash", ASCENDING)], unique=True)
        await db.outbox.create_index([("published", ASCENDING), ("sequence", ASCENDING)])
        await MongoStats(db).ensure_indexes()


class MongoOutbox:
    """The relay's side of the outbox, and the lease that lets one relay publish at a time."""

    def __init__(self, client: AsyncMongoClient, db_name: str):
        self._db = client[db_name]

    async def next_unpublished(self, *, limit: int) -> list[OutboxRecord]:
        cursor = self._db.outbox.find({"published": False}).sort("sequence", ASCENDING).limit(limit)
        return [OutboxRecord(id=doc["_id"], sequence=doc["sequence"], topic=doc["topic"],
                             key=doc["key"], envelope=Envelope.model_validate_json(doc["envelope"]))
                async for doc in cursor]

    async def remove_published(self, records: list[OutboxRecord]) -> None:
        # Deleted once the broker has them: Kafka is the log, and a delete costs the document
        # store less than marking a record and purging it later.
        await self._db.outbox.delete_many({"_id": {"$in": [record.id for record in records]}})

    async def backlog(self) -> int:
        return await self._db.outbox.count_documents({"published": False})

    async def acquire_lease(self, owner: str, *, now: datetime, ttl_s: float) -> bool:
        until = now + timedelta(seconds=ttl_s)
        try:
            await self._db.leases.find_one_and_update(
                {"_id": LEASE_ID, "$or": [{"owner": owner}, {"until": {"$lt": now}}]},
                {"$set": {"owner": owner, "until": until}}, upsert=True)
        except DuplicateKeyError:
            return False  # held by another relay whose lease has not run out
        return True

    async def release_lease(self, owner: str) -> None:
        await self._db.leases.delete_one({"_id": LEASE_ID, "owner": owner})
