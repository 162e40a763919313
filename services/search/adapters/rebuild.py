"""Building fresh concrete indexes next to the live ones and swapping the read aliases.

Steps (driven by services/search/reindex.py):
1. `begin`: create a new concrete index per collection and add it to the write alias, so the
   live consumer writes every change into old and new indexes alike.
2. `settle`: wait until every consumer has re-read the write aliases (its cache lives
   `write_alias_cache_s`). Every change a consumer handles after that reaches the new indexes;
   every change handled before is already in the system of record, whose export starts later.
3. load the export with external versions (a newer live write always wins), carry over
   erasure tombstones, and repair what changed while loading (erasures, tenant neighbours).
4. `swap`: one atomic alias update points the read aliases at the new indexes and takes the old
   ones out of the write aliases; after another settle period `drop_old` deletes them.
"""
from __future__ import annotations

import asyncio
from contextlib import suppress
from dataclasses import dataclass, field

from elasticsearch import AsyncElasticsearch, NotFoundError

from platform_common.observability.logging import get_logger
from services.search.adapters.elastic import (
    ITEM_COLLECTIONS, alias_targets, bulk_write, recompute_region_visibility, scan,
)
from services.search.adapters.mappings import (
    COLLECTIONS, MAPPINGS, IndexNames, index_settings, version_stamp,
)
from services.search.domain.documents import ERASED_STATUS

log = get_logger(__name__)


class RebuildInProgress(RuntimeError):
    """Another rebuild holds the indexes; two at once are refused."""


@dataclass
class RebuildState:
    new: dict[str, str]                      # collection -> new concrete index
    old: dict[str, list[str]]                # collection -> indexes behind the read alias now
    loaded: dict[str, dict[str, int]] = field(default_factory=dict)


class ElasticRebuild:
    def __init__(self, client: AsyncElasticsearch, *, names: IndexNames, replicas: int = 0,
                 settle_s: float = 3.0):
        self.client, self.names, self._replicas, self.settle_s = client, names, replicas, settle_s

    async def begin(self, *, abandon_previous: bool = False) -> RebuildState:
        old, leftovers = {}, {}
        for collection in COLLECTIONS:
            old[collection] = await alias_targets(self.client, self.names.read_alias(collection))
            writes = await alias_targets(self.client, self.names.write_alias(collection))
            leftovers[collection] = [i for i in writes if i not in old[collection]]
        if any(leftovers.values()):
            if not abandon_previous:
                raise RebuildInProgress(
                    f"another rebuild is running or died half-way (indexes {leftovers}); "
                    "run again with --abandon-previous to discard its indexes")
            await self.abort(RebuildState(new={}, old={}), extra=leftovers)
        stamp = version_stamp()
        new = {collection: self.names.concrete(collection, stamp) for collection in COLLECTIONS}
        for collection, index in new.items():
            await self.client.indices.create(
                index=index, mappings=MAPPINGS[collection],
                settings={**index_settings(self._replicas), "refresh_interval": "-1"})
        await self.client.indices.update_aliases(actions=[
            {"add": {"index": index, "alias": self.names.write_alias(collection)}}
            for collection, index in new.items()])
        log.info("rebuild_started", new=new, old=old)
        return RebuildState(new=new, old=old)

    async def settle(self) -> None:
        await asyncio.sleep(self.settle_s)

    async def load(self, state: RebuildState, collection: str,
                   documents: list[dict]) -> tuple[int, int]:
        """(written, stale): stale ones were already there in a newer version (live writes)."""
        index = state.new[collection]
        actions = [{"_op_type": "index", "_index": index, "_id": doc["id"],
                    "version": doc["version"], "version_type": "external", "_source": doc}
                   for doc in documents]
        return await bulk_write(self.client, actions)

    async def previous_values(self, state: RebuildState, collection: str, ids: list[str],
                              field_name: str) -> dict[str, object]:
        """A field of documents in the old index (to keep what the export does not carry)."""
        if not ids or not state.old.get(collection):
            return {}
        response = await self.client.mget(index=state.old[collection][0], ids=ids,
                                          source_includes=[field_name])
        return {doc["_id"]: doc["_source"].get(field_name)
                for doc in response["docs"] if doc.get("found")}

    async def copy_tombstones(self, state: RebuildState) -> int:
        """Erased actors stay erased: their tombstones move to the new actors index."""
        copied = 0
        for index in state.old.get("actors", []):
            async for hits in scan(self.client, index, {"term": {"status": ERASED_STATUS}}):
                actions = [{"_op_type": "index", "_index": state.new["actors"], "_id": hit["_id"],
                            "version": hit["_source"]["version"], "version_type": "external_gte",
                            "_source": hit["_source"]} for hit in hits]
                written, _ = await bulk_write(self.client, actions)
                copied += written
        return copied

    async def refresh_new(self, state: RebuildState) -> None:
        await self.client.indices.refresh(index=",".join(state.new.values()))

    async def sweep_erased(self, state: RebuildState) -> int:
        """Delete items of actors erased while the export ran (the export may predate it)."""
        await self.refresh_new(state)
        deleted = 0
        item_indexes = ",".join(state.new[c] for c in ITEM_COLLECTIONS)
        erased = {"term": {"status": ERASED_STATUS}}
        async for hits in scan(self.client, state.new["actors"], erased):
            actor_ids = [hit["_id"] for hit in hits]
            response = await self.client.delete_by_query(
                index=item_indexes, query={"terms": {"actor_id": actor_ids}},
                conflicts="proceed", refresh=True)
            deleted += response.get("deleted", 0)
        return deleted

    async def fix_region_visibility(self, state: RebuildState,
                                    neighbours_used: dict[str, list[str]]) -> int:
        """Recompute region items of tenants whose neighbours changed while loading."""
        await self.refresh_new(state)
        changed = 0
        async for hits in scan(self.client, state.new["tenants"], {"match_all": {}}):
            for hit in hits:
                tenant_id, neighbours = hit["_id"], hit["_source"].get("neighbours", [])
                if sorted(neighbours_used.get(tenant_id, [])) != sorted(neighbours):
                    for collection in ITEM_COLLECTIONS:
                        changed += await recompute_region_visibility(
                            self.client, state.new[collection], tenant_id, neighbours)
        return changed

    async def swap(self, state: RebuildState) -> None:
        """Point every read alias at its new index in one atomic step."""
        await self.client.indices.put_settings(index=",".join(state.new.values()),
                                               settings={"index": {"refresh_interval": "1s"}})
        await self.refresh_new(state)
        actions = []
        for collection, index in state.new.items():
            read, write = self.names.read_alias(collection), self.names.write_alias(collection)
            for old_index in state.old.get(collection, []):
                actions += [{"remove": {"index": old_index, "alias": read}},
                            {"remove": {"index": old_index, "alias": write}}]
            actions.append({"add": {"index": index, "alias": read}})
        await self.client.indices.update_aliases(actions=actions)
        log.info("rebuild_swapped", new=state.new)

    async def drop_old(self, state: RebuildState) -> list[str]:
        dropped = [index for indexes in state.old.values() for index in indexes]
        if dropped:
            await self.client.indices.delete(index=",".join(dropped), ignore_unavailable=True)
        return dropped + await self.drop_orphans()

    async def drop_orphans(self) -> list[str]:
        """Concrete indexes of ours behind no alias (e.g. re-created by a very late write)."""
        orphans = []
        for collection in COLLECTIONS:
            try:
                response = await self.client.indices.get_alias(
                    index=self.names.concrete(collection, "*"))
            except NotFoundError:
                continue
            orphans += [index for index, info in response.body.items() if not info.get("aliases")]
        if orphans:
            await self.client.indices.delete(index=",".join(orphans), ignore_unavailable=True)
        return orphans

    async def abort(self, state: RebuildState, *,
                    extra: dict[str, list[str]] | None = None) -> None:
        """Take unfinished new indexes out of the write aliases and delete them."""
        doomed = {collection: [index] for collection, index in state.new.items()}
        for collection, indexes in (extra or {}).items():
            doomed.setdefault(collection, []).extend(indexes)
        actions = [{"remove": {"index": index, "alias": self.names.write_alias(collection)}}
                   for collection, indexes in doomed.items() for index in indexes]
        if not actions:
            return
        with suppress(NotFoundError):  # an index already gone needs no alias removed
            await self.client.indices.update_aliases(actions=actions)
        await self.client.indices.delete(
            index=",".join(i for indexes in doomed.values() for i in indexes),
            ignore_unavailable=True)
        log.warning("rebuild_aborted", dropped=doomed)
