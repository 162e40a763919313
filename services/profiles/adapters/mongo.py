"""MongoDB adapter: the records, the transactional outbox and the relay lease.

Every query path has an index (the local MongoDB-protocol server scans without one).
The outbox sequence is the write time in nanoseconds, taken inside the transaction. Writers do
not share a counter, so concurrent changes do not conflict. A record that commits after a
later-numbered one is still unpublished, so the relay (which reads unpublished records, oldest
first) picks it up on its next pass: nothing is skipped. Two changes of one entity are ordered
by its version check (the second transaction conflicts and retries with a fresh time), and
consumers apply snapshots by version anyway.
"""
from __future__ import annotations

import asyncio
import random
import time
from datetime import datetime, timedelta
from typing import Awaitable, Callable, TypeVar

from pymongo import ASCENDING, AsyncMongoClient
from pymongo.errors import DuplicateKeyError, PyMongoError

from platform_common.events import Envelope, utcnow
from services.profiles.adapters.mongo_stats import MongoStats
from services.profiles.domain.contacts import ACTIVE_STATUSES, Contact, ContactRole
from platform_common.errors import Busy, Conflict
from services.profiles.domain.records import Actor, Item, Tenant
from services.profiles.ports import ExportCollection, OutboxRecord

T = TypeVar("T")
LEASE_ID = "outbox-relay"


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
        query: dict = {}
        if actor_ids is not None:
            query["actor_id"] = {"$in": list(actor_ids)}
        if tenant is not None:
            query["tenant"] = tenant
        if kind is not None:
            query["kind"] = kind
        if statuses is not None:
            query["status"] = {"$in": list(statuses)}
        if visibilities is not None:
            query["visibility"] = {"$in": list(visibilities)}
        if after is not None:
            query["_id"] = {"$gt": after}
        cursor = self._items.find(query, session=self._s).sort("_id", ASCENDING)
        if limit is not None:
            cursor = cursor.limit(limit)
        return [_from_doc(Item, doc) async for doc in cursor]

    async def items_due_to_expire(self, *, now: datetime, limit: int) -> list[Item]:
        cursor = self._items.find({"status": "published", "expires_at": {"$lte": now}},
                                  session=self._s).sort("expires_at", ASCENDING).limit(limit)
        return [_from_doc(Item, doc) async for doc in cursor]

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
        doc = await self._contacts.find_one({"offer_id": offer_id, "need_id": need_id,
                                             "status": {"$in": list(ACTIVE_STATUSES)}},
                                            session=self._s)
        return _from_doc(Contact, doc)

    async def list_contacts(self, *, actor_ids: list[str], role: ContactRole | None = None,
                            statuses: list[str] | None = None, after: str | None = None,
                            limit: int | None = None) -> list[Contact]:
        field = {"sent": "requester_actor_id", "received": "recipient_actor_id",
                 None: "parties"}[role]
        query: dict = {field: {"$in": list(actor_ids)}}
        if statuses is not None:
            query["status"] = {"$in": list(statuses)}
        if after is not None:
            query["_id"] = {"$gt": after}
        cursor = self._contacts.find(query, session=self._s).sort("_id", ASCENDING)
        if limit is not None:
            cursor = cursor.limit(limit)
        return [_from_doc(Contact, doc) async for doc in cursor]

    async def insert_contact(self, contact: Contact) -> None:
        await self._insert(self._contacts, contact, "contact")

    async def save_contact(self, contact: Contact, *, expected_version: int) -> None:
        await self._save(self._contacts, contact, expected_version)

    async def delete_contacts_of(self, actor_id: str) -> int:
        result = await self._contacts.delete_many({"parties": actor_id}, session=self._s)
        return result.deleted_count

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
        await db.items.create_index([("kind", ASCENDING), ("_id", ASCENDING)])
        await db.items.create_index([("actor_id", ASCENDING), ("kind", ASCENDING), ("_id", ASCENDING)])
        await db.items.create_index([("tenant", ASCENDING), ("kind", ASCENDING), ("status", ASCENDING),
                                     ("_id", ASCENDING)])
        await db.items.create_index([("status", ASCENDING), ("expires_at", ASCENDING)])
        # Moderation across all tenants (operators): one status of one kind, by id.
        await db.items.create_index([("kind", ASCENDING), ("status", ASCENDING), ("_id", ASCENDING)])
        await db.contacts.create_index([("parties", ASCENDING), ("_id", ASCENDING)])
        await db.contacts.create_index([("requester_actor_id", ASCENDING), ("_id", ASCENDING)])
        await db.contacts.create_index([("recipient_actor_id", ASCENDING), ("_id", ASCENDING)])
        await db.contacts.create_index([("offer_id", ASCENDING), ("need_id", ASCENDING),
                                        ("status", ASCENDING)])
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
