"""The facts behind a tenant's statistics, in MongoDB (database "profiles").

Items and contact requests are the service's own records. Matches live in the matching
service; the relay consumes the `matches` topic and keeps here what the statistics need:
- `match_stats`: one document per pair ever found (`_id` "<offer_id>:<need_id>"), written once
  with the time it was first found, both tenants and the categories of both items;
- `first_matches`: per item, its tenant, publishing time, categories and the time of its first
  match (the earliest is kept, so a redelivered or late event changes nothing; an item's first
  match is inserted, later ones update only an earlier time: `platform_common.stores.save_newer`).
Both writes are idempotent, so at-least-once delivery needs no event-id bookkeeping.
Every query below has its index (see ensure_indexes).
"""
from __future__ import annotations

from datetime import datetime

from pymongo import ASCENDING
from pymongo.errors import BulkWriteError

from platform_common.events.models import MatchData
from platform_common.stores import save_newer
from services.profiles.domain.stats import Fact, FirstMatch


# Items whose first-match time this process wrote (or found older): later matches of the same
# item need no write. Bounded; an evicted item costs one idempotent write more.
FIRST_MATCH_CACHE = 100_000


class MongoStats:
    def __init__(self, database):
        self._db = database
        self._first_known: dict[str, datetime] = {}

    async def ensure_indexes(self) -> None:
        db = self._db
        await db.items.create_index([("tenant", ASCENDING), ("created_at", ASCENDING)])
        await db.contacts.create_index([("requester_tenant", ASCENDING), ("_id", ASCENDING)])
        await db.contacts.create_index([("recipient_tenant", ASCENDING), ("_id", ASCENDING)])
        await db.match_stats.create_index([("tenants", ASCENDING), ("found_at", ASCENDING)])
        await db.first_matches.create_index([("tenant", ASCENDING), ("published_at", ASCENDING)])

    # ---- from the matches topic ----------------------------------------------------------
    async def record_matches_found(self, found: list[tuple[MatchData, datetime]]) -> None:
        """A batch in three round trips: the items' categories, the new pairs, the items'
        first-match times (skipped for items whose first match is known to be earlier; an
        item seen again costs a fourth)."""
        ids = list(dict.fromkeys(i for match, _ in found for i in (match.offer.id, match.need.id)))
        items = {doc["_id"]: doc async for doc in self._db.items.find(
            {"_id": {"$in": ids}}, projection={"categories": 1, "tenant": 1, "created_at": 1})}
        pairs: dict[str, dict] = {}
        first: dict[str, datetime] = {}
        for match, at in found:
            item_ids = [match.offer.id, match.need.id]
            pair = f"{match.offer.id}:{match.need.id}"
            if pair not in pairs or at < pairs[pair]["found_at"]:
                pairs[pair] = {
                    "_id": pair, "offer_id": match.offer.id, "need_id": match.need.id,
                    "tenants": list(dict.fromkeys([match.offer.tenant, match.need.tenant])),
                    "categories": list(dict.fromkeys(
                        c for i in item_ids for c in items.get(i, {}).get("categories", []))),
                    "found_at": at}
            for item_id in item_ids:
                if item_id in items and (item_id not in first or at < first[item_id]):
                    first[item_id] = at
        try:
            await self._db.match_stats.insert_many(list(pairs.values()), ordered=False)
        except BulkWriteError as exc:  # pairs found before: the first time counts
            if any(error.get("code") != 11000 for error in exc.details.get("writeErrors", [])):
                raise
        await save_newer(self._db.first_matches, [
            (item_id, at, {"tenant": items[item_id]["tenant"],
                           "published_at": items[item_id]["created_at"],
                           "categories": items[item_id].get("categories", [])})
            for item_id, at in first.items()
            if item_id not in self._first_known or at < self._first_known[item_id]],
            order_field="matched_at", keep="earliest")
        for item_id, at in first.items():
            self._first_known[item_id] = min(at, self._first_known.get(item_id, at))
        while len(self._first_known) > FIRST_MATCH_CACHE:
            self._first_known.pop(next(iter(self._first_known)))

    # ---- for the statistics ----------------------------------------------------------------
    async def facts(self, tenant: str) -> tuple[list[Fact], list[FirstMatch]]:
        db = self._db
        facts: list[Fact] = []
        async for doc in db.items.find({"tenant": tenant},
                                       projection={"created_at": 1, "categories": 1}):
            facts.append(Fact("items_published", doc["created_at"],
                              tuple(doc.get("categories", []))))
        async for doc in db.match_stats.find({"tenants": tenant},
                                             projection={"found_at": 1, "categories": 1}):
            facts.append(Fact("matches_found", doc["found_at"], tuple(doc.get("categories", []))))
        contacts: dict[str, dict] = {}
        for field in ("requester_tenant", "recipient_tenant"):
            async for doc in db.contacts.find(
                    {field: tenant}, projection={"offer_id": 1, "need_id": 1, "status": 1,
                                                 "created_at": 1, "decided_at": 1}):
                contacts[doc["_id"]] = doc
        item_ids = list({i for c in contacts.values() for i in (c["offer_id"], c["need_id"])})
        categories: dict[str, list[str]] = {}
        for start in range(0, len(item_ids), 1000):
            async for doc in db.items.find({"_id": {"$in": item_ids[start:start + 1000]}},
                                           projection={"categories": 1}):
                categories[doc["_id"]] = doc.get("categories", [])
        for contact in contacts.values():
            cats = tuple(dict.fromkeys([*categories.get(contact["offer_id"], []),
                                        *categories.get(contact["need_id"], [])]))
            facts.append(Fact("contacts_requested", contact["created_at"], cats))
            if contact["status"] == "accepted" and contact.get("decided_at"):
                facts.append(Fact("contacts_accepted", contact["decided_at"], cats))
        firsts = [FirstMatch(doc["published_at"], doc["matched_at"],
                             tuple(doc.get("categories", [])))
                  async for doc in db.first_matches.find({"tenant": tenant})]
        return facts, firsts
