"""In-memory fakes of matching's ports (services/matching/ports.py). Each passes the same
contract suite as the real adapter (tests/contract/ports/matching_*.py)."""
from __future__ import annotations

import copy
import json
from dataclasses import replace
from typing import Any, Iterable, Sequence

from platform_common.events import utcnow
from services.matching.domain.directory import DirectoryActor, DirectoryItem, DirectoryTenant
from services.matching.ports import Snapshot


class MemoryMatchStore:
    def __init__(self):
        self.matches: dict[str, dict[str, Any]] = {}
        self.instances: dict[str, int] = {}     # instance -> last committed batch
        self.owner_of: dict[int, str] = {}
        self.owner_since: dict[int, str] = {}
        self.takes = 0

    async def ensure_indexes(self) -> None:
        return None

    async def register_instance(self, instance: str) -> None:
        self.instances[instance] = 0

    async def write(self, docs: list[dict[str, Any]], *, new_keys: set[str]) -> None:
        for doc in docs:
            self.matches[doc["_id"]] = copy.deepcopy(doc)

    async def commit(self, instance: str, batch: int) -> None:
        self.instances[instance] = batch

    async def take_ownership(self, instance: str, partitions: Iterable[int]) -> None:
        self.takes += 1
        for partition in partitions:
            self.owner_of[partition] = instance
            self.owner_since[partition] = f"take-{self.takes}"

    async def owners(self, partitions: Iterable[int]) -> dict[int, str]:
        return {p: self.owner_of[p] for p in partitions if p in self.owner_of}

    async def owner_records(self, partitions: Iterable[int]) -> dict[int, tuple[str, str]]:
        return {p: (self.owner_of[p], self.owner_since[p]) for p in partitions if p in self.owner_of}

    async def written_after(self, partition: int, instance: str, batch: int) -> list[dict[str, Any]]:
        return [copy.deepcopy(doc) for doc in self.matches.values()
                if doc["need_partition"] == partition and "batch" in doc
                and doc["batch"]["instance"] == instance and doc["batch"]["n"] > batch]

    async def found_fingerprints(self, partitions: Iterable[int]) -> dict[int, dict[str, str]]:
        result: dict[int, dict[str, str]] = {p: {} for p in partitions}
        for doc in self.matches.values():
            if doc["need_partition"] in result and doc["state"] == "found":
                result[doc["need_partition"]][doc["_id"]] = doc["fingerprint"]
        return result

    async def uncommitted(self, partitions: Iterable[int], *,
                          partition_count: int) -> list[dict[str, Any]]:
        wanted = set(partitions)
        return [copy.deepcopy(doc) for doc in self.matches.values()
                if doc["need_partition"] in wanted and "batch" in doc
                and doc["batch"]["instance"] in self.instances
                and doc["batch"]["n"] > self.instances[doc["batch"]["instance"]]]

    async def get_many(self, keys: list[str]) -> list[dict[str, Any]]:
        return [copy.deepcopy(self.matches[key]) for key in keys if key in self.matches]

    async def forget_titles(self, item_ids: list[str]) -> None:
        for doc in self.matches.values():
            for side in ("offer", "need"):
                if doc[f"{side}_id"] in item_ids:
                    doc[side]["title"] = ""

    async def matches_of(self, *, kind: str, item_id: str, limit: int) -> list[dict[str, Any]]:
        found = [doc for doc in self.matches.values()
                 if doc[f"{kind}_id"] == item_id and doc["state"] == "found"]
        found.sort(key=lambda doc: (-doc["score"], doc["_id"]))
        return copy.deepcopy(found[:limit])

    async def pairs_of(self, *, offer_ids: list[str], need_ids: list[str]) -> list[dict[str, Any]]:
        offers, needs = set(offer_ids), set(need_ids)
        return [copy.deepcopy(self.matches[key]) for key in sorted(self.matches)
                if self.matches[key]["offer_id"] in offers or self.matches[key]["need_id"] in needs]


class MemorySnapshotStore:
    """Keeps the two newest snapshots; meta goes through JSON as in the real stores."""

    def __init__(self):
        self.saved: list[Snapshot] = []

    async def save(self, snapshot: Snapshot) -> None:
        kept = Snapshot(meta=json.loads(json.dumps(snapshot.meta)), sections=dict(snapshot.sections))
        self.saved = (self.saved + [kept])[-2:]

    async def latest(self) -> Snapshot | None:
        if not self.saved:
            return None
        newest = self.saved[-1]  # a copy, as a real store reads it anew
        return Snapshot(meta=copy.deepcopy(newest.meta), sections=dict(newest.sections))


class MemoryDirectory:
    def __init__(self):
        self.tenants: dict[str, DirectoryTenant] = {}
        self.actors: dict[str, DirectoryActor] = {}
        self.items: dict[str, DirectoryItem] = {}

    async def ensure_indexes(self) -> None:
        return None

    async def save_tenants(self, tenants: Sequence[DirectoryTenant]) -> None:
        for tenant in tenants:
            _keep_newer(self.tenants, tenant)

    async def save_actors(self, actors: Sequence[DirectoryActor]) -> None:
        for actor in actors:
            known = self.actors.get(actor.id)
            if actor.type is None and known is not None:
                actor = replace(actor, type=known.type)  # an erasure names no type
            _keep_newer(self.actors, actor)

    async def save_items(self, items: Sequence[DirectoryItem]) -> None:
        for item in items:
            _keep_newer(self.items, item)

    async def tenant(self, tenant_id: str) -> DirectoryTenant | None:
        return self.tenants.get(tenant_id)

    async def actor(self, actor_id: str) -> DirectoryActor | None:
        return self.actors.get(actor_id)

    async def item(self, item_id: str) -> DirectoryItem | None:
        return self.items.get(item_id)

    async def actors_owned_by(self, sub: str) -> list[DirectoryActor]:
        return sorted((a for a in self.actors.values() if sub in a.owners), key=lambda a: a.id)

    async def items_of_actors(self, actor_ids: Sequence[str]) -> list[DirectoryItem]:
        wanted = set(actor_ids)
        return sorted((i for i in self.items.values() if i.actor_id in wanted), key=lambda i: i.id)


def _keep_newer(entries: dict, entry) -> None:
    known = entries.get(entry.id)
    if known is None or entry.version > known.version:
        entries[entry.id] = entry


def pair_doc(offer_id: str, need_id: str, *, score: float = 0.5, state: str = "found",
             partition: int = 0, batch: tuple[str, int] | None = None,
             offer_actor: str = "a-offer", need_actor: str = "a-need",
             offer_tenant: str = "t", need_tenant: str = "t") -> dict[str, Any]:
    """A stored pair as the worker writes it (services/matching/worker/announcer.py)."""
    doc = {
        "_id": f"{offer_id}:{need_id}", "offer_id": offer_id, "need_id": need_id,
        "need_partition": partition, "state": state, "score": score,
        "reasons": [{"factor": "distance", "value": 1.0, "weight": 1.0, "contribution": score,
                     "label": {"de": "nah", "en": "near"}}],
        "offer": {"id": offer_id, "actor_id": offer_actor, "tenant": offer_tenant,
                  "title": f"Angebot {offer_id}"},
        "need": {"id": need_id, "actor_id": need_actor, "tenant": need_tenant,
                 "title": f"Gesuch {need_id}"},
        "fingerprint": f"fp-{score}" if state == "found" else None,
        "caused_by_event_at": None,
        "event": {"id": "00000000-0000-4000-8000-000000000000", "type": f"match.{state}",
                  "tenant": need_tenant, "occurred_at": utcnow(), "traceparent": None},
        "updated_at": utcnow(),
    }
    if batch is not None:
        doc["batch"] = {"instance": batch[0], "n": batch[1]}
    return doc
