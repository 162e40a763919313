"""An in-memory ProfileStore for unit tests of the service functions (no database).

A transaction works on the live data and restores a copy when the work raises, so a failed
use case leaves neither records nor outbox events behind, like the MongoDB adapter.
"""
from __future__ import annotations

import copy
from datetime import datetime

from services.profiles.domain.errors import Conflict


class MemoryRepository:
    def __init__(self, data: dict):
        self._data = data

    def _get(self, table: str, key: str):
        record = self._data[table].get(key)
        return record.model_copy(deep=True) if record is not None else None

    def _insert(self, table: str, record) -> None:
        if record.id in self._data[table]:
            raise Conflict("exists", code="exists")
        self._data[table][record.id] = record

    def _save(self, table: str, record, expected_version: int) -> None:
        if self._data[table][record.id].version != expected_version:
            raise Conflict("changed", code="concurrent_change")
        self._data[table][record.id] = record

    async def get_tenant(self, tenant_id):
        return self._get("tenants", tenant_id)

    async def list_tenants(self):
        return [self._data["tenants"][k] for k in sorted(self._data["tenants"])]

    async def insert_tenant(self, tenant):
        self._insert("tenants", tenant)

    async def save_tenant(self, tenant, *, expected_version):
        self._save("tenants", tenant, expected_version)

    async def get_actor(self, actor_id):
        return self._get("actors", actor_id)

    async def actors_owned_by(self, sub):
        return [a for _, a in sorted(self._data["actors"].items()) if sub in a.owners]

    async def insert_actor(self, actor):
        self._insert("actors", actor)

    async def save_actor(self, actor, *, expected_version):
        self._save("actors", actor, expected_version)

    async def delete_actor(self, actor_id):
        self._data["actors"].pop(actor_id, None)

    async def get_item(self, item_id):
        return self._get("items", item_id)

    async def list_items(self, *, kind, actor_ids=None, tenant=None, statuses=None,
                         visibilities=None, after=None, limit=None):
        found = [i for _, i in sorted(self._data["items"].items())
                 if (kind is None or i.kind == kind)
                 and (actor_ids is None or i.actor_id in actor_ids)
                 and (tenant is None or i.tenant == tenant)
                 and (statuses is None or i.status in statuses)
                 and (visibilities is None or i.visibility in visibilities)
                 and (after is None or i.id > after)]
        return found[:limit] if limit is not None else found

    async def items_due_to_expire(self, *, now: datetime, limit: int):
        return [i for i in self._data["items"].values()
                if i.status == "published" and i.expires_at is not None and i.expires_at <= now][:limit]

    async def insert_item(self, item):
        self._insert("items", item)

    async def save_item(self, item, *, expected_version):
        self._save("items", item, expected_version)

    async def export_page(self, collection, *, after, limit):
        if collection in ("offers", "needs"):
            rows = [i for i in self._data["items"].values() if i.kind == collection[:-1]]
        else:
            rows = list(self._data[collection].values())
        return sorted((r for r in rows if after is None or r.id > after), key=lambda r: r.id)[:limit]

    async def get_contact(self, contact_id):
        return self._get("contacts", contact_id)

    async def active_contact_for_pair(self, offer_id, need_id):
        return next((c for c in self._data["contacts"].values()
                     if c.offer_id == offer_id and c.need_id == need_id
                     and c.status in ("requested", "accepted")), None)

    async def list_contacts(self, *, actor_ids, role=None, statuses=None, after=None, limit=None):
        def sides(c):
            return {"sent": [c.requester_actor_id], "received": [c.recipient_actor_id],
                    None: [c.requester_actor_id, c.recipient_actor_id]}[role]
        found = [c for _, c in sorted(self._data["contacts"].items())
                 if set(sides(c)) & set(actor_ids)
                 and (statuses is None or c.status in statuses)
                 and (after is None or c.id > after)]
        return found[:limit] if limit is not None else found

    async def insert_contact(self, contact):
        self._insert("contacts", contact)

    async def save_contact(self, contact, *, expected_version):
        self._save("contacts", contact, expected_version)

    async def delete_contacts_of(self, actor_id):
        gone = [k for k, c in self._data["contacts"].items()
                if actor_id in (c.requester_actor_id, c.recipient_actor_id)]
        for key in gone:
            del self._data["contacts"][key]
        return len(gone)

    async def add_event(self, envelope, *, topic, key):
        self._data["outbox"].append((topic, key, envelope))


class MemoryStore:
    def __init__(self):
        self.data = {"tenants": {}, "actors": {}, "items": {}, "contacts": {}, "outbox": []}

    @property
    def read(self) -> MemoryRepository:
        return MemoryRepository(self.data)

    @property
    def events(self) -> list:
        return [envelope for _topic, _key, envelope in self.data["outbox"]]

    async def run_in_transaction(self, work):
        before = copy.deepcopy(self.data)
        try:
            return await work(MemoryRepository(self.data))
        except BaseException:
            self.data.clear()
            self.data.update(before)
            raise

    async def ensure_indexes(self) -> None:
        return None
