"""In-memory fakes of profiles' storage ports for unit tests of the use cases (no database).

They pass the same contract suites as the MongoDB adapters (tests/contract/ports/profiles_*.py,
run by test_port_contracts.py here and in tests/integration/profiles/).

A transaction works on the live data and restores a copy when the work raises, so a failed
use case leaves neither records nor outbox events behind, like the MongoDB adapter.
"""
from __future__ import annotations

import copy
from datetime import datetime, timedelta, timezone

from platform_common.errors import Conflict
from services.profiles.domain import engagements, rules
from services.profiles.domain.stats import Fact, FirstMatch
from services.profiles.domain.suggestions import SuggestionChange, latest_per_pair
from services.profiles.ports import OutboxRecord

LONG_AGO = datetime(2000, 1, 1, tzinfo=timezone.utc)
WHAT = {"tenants": "tenant", "actors": "actor", "items": "item", "contacts": "contact",
        "shifts": "shift", "signups": "signup"}


class MemoryRepository:
    def __init__(self, data: dict):
        self._data = data

    def _get(self, table: str, key: str):
        record = self._data[table].get(key)
        return record.model_copy(deep=True) if record is not None else None

    def _insert(self, table: str, record) -> None:
        if record.id in self._data[table]:
            what = WHAT[table]
            raise Conflict(f"The {what} {record.id!r} exists already.", code=f"{what}_exists")
        self._data[table][record.id] = record

    def _save(self, table: str, record, expected_version: int) -> None:
        stored = self._data[table].get(record.id)
        if stored is None or stored.version != expected_version:
            raise Conflict("The entity was changed meanwhile; reload and retry.",
                           code="concurrent_change")
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
        due = [i for i in self._data["items"].values()
               if i.status == "published" and rules.due_at(i) is not None and rules.due_at(i) <= now]
        return sorted(due, key=rules.due_at)[:limit]

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

    async def get_shift(self, shift_id):
        return self._get("shifts", shift_id)

    async def insert_shift(self, shift):
        self._insert("shifts", shift)

    async def save_shift(self, shift, *, expected_version):
        self._save("shifts", shift, expected_version)

    async def shifts_of_item(self, item_id):
        return sorted((s.model_copy(deep=True) for s in self._data["shifts"].values()
                       if s.item_id == item_id), key=lambda s: (s.start, s.id))

    async def upcoming_shifts(self, tenant, *, since, limit):
        found = sorted((s.model_copy(deep=True) for s in self._data["shifts"].values()
                        if s.tenant == tenant and s.status == "scheduled" and s.end > since),
                       key=lambda s: (s.start, s.id))
        return found[:limit]

    async def count_shifts(self, tenant):
        return sum(1 for s in self._data["shifts"].values() if s.tenant == tenant)

    async def get_signup(self, signup_id):
        return self._get("signups", signup_id)

    async def insert_signup(self, signup):
        self._insert("signups", signup)

    async def save_signup(self, signup, *, expected_version):
        self._save("signups", signup, expected_version)

    async def delete_signup(self, signup_id):
        self._data["signups"].pop(signup_id, None)

    async def signups_of_shift(self, shift_id, *, statuses=None):
        return sorted((s.model_copy(deep=True) for s in self._data["signups"].values()
                       if s.shift_id == shift_id and (statuses is None or s.status in statuses)),
                      key=lambda s: s.number)

    async def active_signup(self, shift_id, actor_id):
        return next((s.model_copy(deep=True) for s in self._data["signups"].values()
                     if s.shift_id == shift_id and s.volunteer_actor_id == actor_id
                     and s.status in ("confirmed", "waitlisted")), None)

    async def signups_of_actor(self, actor_id):
        return [s.model_copy(deep=True) for _, s in sorted(self._data["signups"].items())
                if s.volunteer_actor_id == actor_id]

    async def signup_tallies(self, tenant):
        return engagements.tally_signups(s for s in self._data["signups"].values()
                                         if s.tenant == tenant)

    async def calendar_token_of(self, sub):
        return self._data["calendar_tokens"].get(sub)

    async def set_calendar_token(self, sub, token):
        self._data["calendar_tokens"][sub] = token

    async def calendar_owner(self, token_hash):
        return next((sub for sub, stored in self._data["calendar_tokens"].items()
                     if stored.token_hash == token_hash), None)

    async def delete_calendar_token(self, sub):
        self._data["calendar_tokens"].pop(sub, None)

    async def add_event(self, envelope, *, topic, key):
        self._data["outbox"].append((topic, key, envelope))


class MemoryStore:
    def __init__(self):
        self.data = {"tenants": {}, "actors": {}, "items": {}, "contacts": {}, "shifts": {},
                     "signups": {}, "calendar_tokens": {}, "outbox": []}

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


class MemoryStats:
    """The statistics' facts: items and contact requests from a MemoryStore, and what
    `record_matches_found` kept (like the MongoDB adapter: a pair's time is the one first
    recorded, an item's first match the earliest)."""

    def __init__(self, store: MemoryStore):
        self._store = store
        self.pairs: dict[str, tuple[list[str], Fact]] = {}  # pair -> (tenants, its fact)
        self.firsts: dict[str, tuple[str, FirstMatch]] = {}  # item id -> (tenant, first match)

    def _categories(self, *item_ids: str) -> tuple[str, ...]:
        items = self._store.data["items"]
        return tuple(dict.fromkeys(c for i in item_ids if i in items
                                   for c in items[i].categories))

    async def record_matches_found(self, found):
        batch: dict[str, tuple[list[str], Fact]] = {}
        for match_data, at in found:
            pair = f"{match_data.offer.id}:{match_data.need.id}"
            if pair not in batch or at < batch[pair][1].at:
                tenants = list(dict.fromkeys([match_data.offer.tenant, match_data.need.tenant]))
                batch[pair] = (tenants, Fact("matches_found", at, self._categories(
                    match_data.offer.id, match_data.need.id)))
            for item_id in (match_data.offer.id, match_data.need.id):
                made = self._store.data["items"].get(item_id)
                if made is None:
                    continue
                known = self.firsts.get(item_id)
                if known is None or at < known[1].matched_at:
                    self.firsts[item_id] = (made.tenant, FirstMatch(
                        made.created_at, at, tuple(made.categories)))
        for pair, recorded in batch.items():
            self.pairs.setdefault(pair, recorded)

    async def facts(self, tenant):
        data = self._store.data
        facts = [Fact("items_published", i.created_at, tuple(i.categories))
                 for i in data["items"].values() if i.tenant == tenant]
        facts += [fact for tenants, fact in self.pairs.values() if tenant in tenants]
        for c in data["contacts"].values():
            if tenant not in (c.requester_tenant, c.recipient_tenant):
                continue
            categories = self._categories(c.offer_id, c.need_id)
            facts.append(Fact("contacts_requested", c.created_at, categories))
            if c.status == "accepted" and c.decided_at:
                facts.append(Fact("contacts_accepted", c.decided_at, categories))
        return facts, [first for owner, first in self.firsts.values() if owner == tenant]


class MemorySuggestions:
    """The current suggestions: per pair the latest change, applied only over an older one."""

    def __init__(self, *current: tuple[str, str]):
        """`current`: (offer_id, need_id) pairs found long ago."""
        self.pairs: dict[str, SuggestionChange] = {}
        for offer_id, need_id in current:
            self.pairs[f"{offer_id}:{need_id}"] = SuggestionChange(
                offer_id, need_id, current=True, at=LONG_AGO)
        self.asked: list[tuple[str, str]] = []

    async def apply(self, changes: list[SuggestionChange]) -> None:
        for change in latest_per_pair(changes):
            known = self.pairs.get(change.pair)
            if known is None or known.at < change.at:
                self.pairs[change.pair] = change

    async def is_current(self, *, offer_id: str, need_id: str) -> bool:
        self.asked.append((offer_id, need_id))
        known = self.pairs.get(f"{offer_id}:{need_id}")
        return known is not None and known.current

    async def ensure_indexes(self) -> None:
        return None



class MemoryOutbox:
    """The relay's side of a MemoryStore's outbox (records in commit order) and the lease."""

    def __init__(self, store: MemoryStore):
        self._store = store
        self._removed: set[int] = set()
        self._lease: tuple[str, datetime] | None = None  # (owner, until)

    async def next_unpublished(self, *, limit: int) -> list[OutboxRecord]:
        pending = [OutboxRecord(id=index, sequence=index, topic=topic, key=key, envelope=envelope)
                   for index, (topic, key, envelope) in enumerate(self._store.data["outbox"])
                   if index not in self._removed]
        return pending[:limit]

    async def remove_published(self, records: list[OutboxRecord]) -> None:
        self._removed.update(record.id for record in records)

    async def backlog(self) -> int:
        return len(self._store.data["outbox"]) - len(self._removed)

    async def acquire_lease(self, owner: str, *, now: datetime, ttl_s: float) -> bool:
        if self._lease is not None and self._lease[0] != owner and self._lease[1] >= now:
            return False
        self._lease = (owner, now + timedelta(seconds=ttl_s))
        return True

    async def release_lease(self, owner: str) -> None:
        if self._lease is not None and self._lease[0] == owner:
            self._lease = None
