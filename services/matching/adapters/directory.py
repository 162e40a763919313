"""The Directory port (services/matching/ports.py) in MongoDB (database "matching").

`directory_tenants`, `directory_actors`, `directory_items`: one document per entity, `_id` =
its id, with the entity's `version`. A write changes a document only when its version is
newer: the filter asks for an older version, and when the stored one is as new or newer the
upsert's insert fails on the duplicate `_id`, which is the "ignore" answer.
"""
from __future__ import annotations

from dataclasses import asdict
from typing import Any, Sequence

from pymongo import ASCENDING, UpdateOne
from pymongo.errors import BulkWriteError

from services.matching.domain.directory import DirectoryActor, DirectoryItem, DirectoryTenant

DUPLICATE_KEY = 11000
WRITE_CHUNK = 1000


class MongoDirectory:
    def __init__(self, database):
        self._tenants = database["directory_tenants"]
        self._actors = database["directory_actors"]
        self._items = database["directory_items"]

    async def ensure_indexes(self) -> None:
        await self._actors.create_index([("owners", ASCENDING)], name="owners")
        await self._items.create_index([("actor_id", ASCENDING), ("_id", ASCENDING)],
                                       name="actor_items")

    # ---- writes -------------------------------------------------------------------------------
    async def save_tenants(self, tenants: Sequence[DirectoryTenant]) -> None:
        await _save_newer(self._tenants, [
            (t.id, t.version, {"neighbours": list(t.neighbours)}) for t in tenants])

    async def save_actors(self, actors: Sequence[DirectoryActor]) -> None:
        rows = []
        for actor in actors:
            fields: dict[str, Any] = {"tenant": actor.tenant, "owners": list(actor.owners),
                                      "erased": actor.erased}
            if actor.type is not None:  # an erasure names no type: keep the known one
                fields["type"] = actor.type
            rows.append((actor.id, actor.version, fields))
        await _save_newer(self._actors, rows)

    async def save_items(self, items: Sequence[DirectoryItem]) -> None:
        await _save_newer(self._items, [
            (i.id, i.version, {k: v for k, v in asdict(i).items() if k not in ("id", "version")})
            for i in items])

    # ---- reads --------------------------------------------------------------------------------
    async def tenant(self, tenant_id: str) -> DirectoryTenant | None:
        doc = await self._tenants.find_one({"_id": tenant_id})
        return _tenant(doc) if doc else None

    async def actor(self, actor_id: str) -> DirectoryActor | None:
        doc = await self._actors.find_one({"_id": actor_id})
        return _actor(doc) if doc else None

    async def item(self, item_id: str) -> DirectoryItem | None:
        doc = await self._items.find_one({"_id": item_id})
        return _item(doc) if doc else None

    async def actors_owned_by(self, sub: str) -> list[DirectoryActor]:
        cursor = self._actors.find({"owners": sub}).sort("_id", ASCENDING)
        return [_actor(doc) async for doc in cursor]

    async def items_of_actors(self, actor_ids: Sequence[str]) -> list[DirectoryItem]:
        found: list[DirectoryItem] = []
        ids = list(actor_ids)
        for start in range(0, len(ids), WRITE_CHUNK):
            cursor = self._items.find({"actor_id": {"$in": ids[start:start + WRITE_CHUNK]}})
            found += [_item(doc) async for doc in cursor]
        return sorted(found, key=lambda item: item.id)


async def _save_newer(collection, rows: list[tuple[str, int, dict[str, Any]]]) -> None:
    """Upsert (id, version, fields) unless the stored version is as new or newer."""
    newest: dict[str, tuple[str, int, dict[str, Any]]] = {}
    for row in rows:  # one operation per document: an unordered bulk may reorder them
        if row[0] not in newest or row[1] > newest[row[0]][1]:
            newest[row[0]] = row
    operations = [UpdateOne({"_id": entity_id, "version": {"$lt": version}},
                            {"$set": {**fields, "version": version}}, upsert=True)
                  for entity_id, version, fields in newest.values()]
    for start in range(0, len(operations), WRITE_CHUNK):
        try:
            await collection.bulk_write(operations[start:start + WRITE_CHUNK], ordered=False)
        except BulkWriteError as exc:
            if any(error["code"] != DUPLICATE_KEY for error in exc.details["writeErrors"]):
                raise


def _tenant(doc: dict[str, Any]) -> DirectoryTenant:
    return DirectoryTenant(id=doc["_id"], neighbours=tuple(doc.get("neighbours", ())),
                           version=doc["version"])


def _actor(doc: dict[str, Any]) -> DirectoryActor:
    return DirectoryActor(id=doc["_id"], tenant=doc["tenant"], type=doc.get("type"),
                          owners=tuple(doc.get("owners", ())), version=doc["version"],
                          erased=doc.get("erased", False))


def _item(doc: dict[str, Any]) -> DirectoryItem:
    return DirectoryItem(id=doc["_id"], kind=doc["kind"], tenant=doc["tenant"],
                         actor_id=doc["actor_id"], status=doc["status"],
                         visibility=doc["visibility"], version=doc["version"])
