"""The Directory port (services/matching/ports.py) in MongoDB (database "matching").

`directory_tenants`, `directory_actors`, `directory_items`: one document per entity, `_id` =
its id, with the entity's `version`. A write changes a document only when its version is
newer: a new entity is inserted; one already stored (the insert fails on the duplicate `_id`)
is updated on a filter that asks for an older version, so a stored version as new or newer
is left alone.
"""
from __future__ import annotations

from dataclasses import asdict
from typing import Any, Sequence

from pymongo import ASCENDING

from platform_common.stores import in_chunks, save_newer
from services.matching.domain.directory import DirectoryActor, DirectoryItem, DirectoryTenant


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
        await save_newer(self._tenants, [
            (t.id, t.version, {"neighbours": list(t.neighbours)}) for t in tenants],
            order_field="version")

    async def save_actors(self, actors: Sequence[DirectoryActor]) -> None:
        rows = []
        for actor in actors:
            fields: dict[str, Any] = {"tenant": actor.tenant, "owners": list(actor.owners),
                                      "erased": actor.erased}
            if actor.type is not None:  # an erasure names no type: keep the known one
                fields["type"] = actor.type
            rows.append((actor.id, actor.version, fields))
        await save_newer(self._actors, rows, order_field="version")

    async def save_items(self, items: Sequence[DirectoryItem]) -> None:
        await save_newer(self._items, [
            (i.id, i.version, {k: v for k, v in asdict(i).items() if k not in ("id", "version")})
            for i in items], order_field="version")

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
        for chunk in in_chunks(list(actor_ids)):
            cursor = self._items.find({"actor_id": {"$in": chunk}})
            found += [_item(doc) async for doc in cursor]
        return sorted(found, key=lambda item: item.id)


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
