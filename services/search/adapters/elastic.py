"""The search index on Elasticsearch: idempotent writes by entity version, and the searches.

Writes use external versioning (`version_type="external"` with the entity version), so an event
older than (or as old as) the stored document is rejected by the engine itself (409) and
ignored here. Closed, expired and hidden items stay in the index with their status, because a
deleted document forgets its version and a late, older event could bring it back; searches only
return `status=published`. An erased actor leaves a tombstone (id, version, no personal data) for
the same reason, and its items are deleted.
"""
from __future__ import annotations

import time
from contextlib import suppress
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from elasticsearch import (
    ApiError, AsyncElasticsearch, BadRequestError, ConflictError, NotFoundError, TransportError,
)
from elasticsearch.helpers import async_bulk

from platform_common.events.models import ActorData, ActorErasedData, ItemData, TenantData
from platform_common.observability.logging import get_logger
from services.search.adapters.mappings import (
    COLLECTION_OF_KIND, COLLECTIONS, MAPPINGS, TEXT_ANALYZER, IndexNames, index_settings,
    version_stamp,
)
from services.search.domain.documents import (
    ERASED_STATUS, actor_document, erased_actor_document, item_document, tenant_document,
    with_neighbours,
)
from services.search.ports import IndexUnavailable, QueryRejected

log = get_logger(__name__)
ITEM_COLLECTIONS = ("offers", "needs")
SCAN_PAGE = 500


class BulkWriteFailed(RuntimeError):
    """The search engine refused part of a bulk write."""


async def alias_targets(client: AsyncElasticsearch, alias: str) -> list[str]:
    """The concrete indexes behind an alias (empty when the alias does not exist)."""
    try:
        response = await client.indices.get_alias(name=alias)
    except NotFoundError:
        return []
    return sorted(response.body.keys())


async def scan(client: AsyncElasticsearch, index: str, query: dict,
               page: int = SCAN_PAGE) -> AsyncIterator[list[dict]]:
    """Every matching hit in pages, ordered by id (search_after, no scroll context to leak)."""
    after = None
    while True:
        extra = {"search_after": after} if after is not None else {}
        response = await client.search(index=index, query=query, sort=[{"id": "asc"}],
                                       size=page, **extra)
        hits = response["hits"]["hits"]
        if not hits:
            return
        yield hits
        if len(hits) < page:
            return
        after = hits[-1]["sort"]


async def bulk_write(client: AsyncElasticsearch, actions: list[dict]) -> tuple[int, int]:
    """(applied, stale): stale means the index already held a newer or equal version."""
    if not actions:
        return 0, 0
    applied, errors = await async_bulk(client, actions, raise_on_error=False,
                                       raise_on_exception=True, chunk_size=500)
    stale, failures = 0, []
    for error in errors:
        result = next(iter(error.values()))
        if result.get("status") == 409:
            stale += 1
        else:
            failures.append(result)
    if failures:
        raise BulkWriteFailed(f"{len(failures)} documents failed, first: {failures[0]}")
    return applied, stale


async def recompute_region_visibility(client: AsyncElasticsearch, index: str, tenant_id: str,
                                      neighbours: list[str]) -> int:
    """Give the tenant's region items in `index` the new `visible_to`; returns how many changed.

    Each changed document is re-indexed at its own version (`external_gte`): a newer version
    written meanwhile rejects it, and that one already carries the new neighbours. (An
    update_by_query would bump the engine's version and make the next real version look stale.)
    """
    query = {"bool": {"filter": [{"term": {"tenant": tenant_id}},
                                 {"term": {"visibility": "region"}}]}}
    await client.indices.refresh(index=index)
    changed = 0
    async for hits in scan(client, index, query):
        actions = []
        for hit in hits:
            document = with_neighbours(hit["_source"], neighbours)
            if document["visible_to"] != hit["_source"].get("visible_to"):
                actions.append({"_op_type": "index", "_index": index, "_id": hit["_id"],
                                "version": document["version"], "version_type": "external_gte",
                                "_source": document})
        applied, _ = await bulk_write(client, actions)
        changed += applied
    return changed


@asynccontextmanager
async def answering():
    """Reads for the API: an engine that is down or failing is `IndexUnavailable`."""
    try:
        yield
    except TransportError as exc:
        raise IndexUnavailable(str(exc)) from exc
    except ApiError as exc:
        if exc.meta.status >= 500:
            raise IndexUnavailable(str(exc)) from exc
        raise


class ElasticSearchIndex:
    def __init__(self, client: AsyncElasticsearch, *, names: IndexNames, replicas: int = 0,
                 write_alias_cache_s: float = 1.0):
        self.client, self.names, self._replicas = client, names, replicas
        self._cache_s = write_alias_cache_s
        self._targets: dict[str, tuple[float, list[str]]] = {}

    # ---- set-up ------------------------------------------------------------------------------
    async def ensure_indexes(self) -> None:
        """Create a concrete index behind both aliases for each collection that has none."""
        for collection in COLLECTIONS:
            read, write = self.names.read_alias(collection), self.names.write_alias(collection)
            current = await alias_targets(self.client, read)
            if not current:
                index = self.names.concrete(collection, version_stamp())
                await self.client.indices.create(index=index, mappings=MAPPINGS[collection],
                                                 settings=index_settings(self._replicas))
                await self.client.indices.update_aliases(actions=[
                    {"add": {"index": index, "alias": read}},
                    {"add": {"index": index, "alias": write}}])
                log.info("index_created", index=index, alias=read)
                current = await alias_targets(self.client, read)
                if len(current) > 1:
                    await self._keep_oldest(collection, current)
                continue
            writes = await alias_targets(self.client, write)
            missing = [index for index in current if index not in writes]
            if missing:
                await self.client.indices.update_aliases(actions=[
                    {"add": {"index": index, "alias": write}} for index in missing])

    async def _keep_oldest(self, collection: str, current: list[str]) -> None:
        # Two replicas started at once and both created an index: all converge on the oldest.
        keep, drop = current[0], current[1:]
        actions = []
        for index in drop:
            actions += [{"remove": {"index": index, "alias": self.names.read_alias(collection)}},
                        {"remove": {"index": index, "alias": self.names.write_alias(collection)}}]
        try:
            await self.client.indices.update_aliases(actions=actions)
            await self.client.indices.delete(index=",".join(drop), ignore_unavailable=True)
        except NotFoundError:
            pass  # the other replica cleaned up first
        log.info("index_duplicates_dropped", kept=keep, dropped=drop)

    async def ping(self) -> None:
        if not await self.client.ping():
            raise ConnectionError("search engine did not answer")
        for collection in COLLECTIONS:
            if not await alias_targets(self.client, self.names.read_alias(collection)):
                raise LookupError(f"alias {self.names.read_alias(collection)} is missing")

    # ---- write helpers -----------------------------------------------------------------------
    async def write_targets(self, collection: str) -> list[str]:
        cached = self._targets.get(collection)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        targets = await alias_targets(self.client, self.names.write_alias(collection))
        if not targets:
            raise LookupError(f"write alias {self.names.write_alias(collection)} is missing")
        self._targets[collection] = (time.monotonic() + self._cache_s, targets)
        return targets

    def forget_targets(self) -> None:
        self._targets.clear()

    async def _put(self, collection: str, doc_id: str, document: dict, *, version: int,
                   version_type: str = "external") -> int:
        """Write into every live index of the collection; returns how many took the version."""
        applied = 0
        for index in await self.write_targets(collection):
            try:
                await self.client.index(index=index, id=doc_id, document=document,
                                        version=version, version_type=version_type)
                applied += 1
            except ConflictError:
                pass  # that index already holds this or a newer version
            except NotFoundError:
                # A rebuild dropped this index after swapping: forget it; the retry writes anew.
                self.forget_targets()
                raise
        return applied

    async def _source(self, index: str, doc_id: str,
                      fields: list[str] | None = None) -> dict | None:
        try:
            response = await self.client.get(index=index, id=doc_id, source_includes=fields)
        except NotFoundError:
            return None
        return response["_source"]

    # ---- tenants -----------------------------------------------------------------------------
    async def put_tenant(self, tenant: TenantData) -> None:
        await self._put("tenants", tenant.id, tenant_document(tenant), version=tenant.version)
        current = await self._source(self.names.read_alias("tenants"), tenant.id)
        if current is not None and current.get("version") == tenant.version:
            await self.refresh_region_visibility(tenant.id, current.get("neighbours", []))

    async def refresh_region_visibility(self, tenant_id: str, neighbours: list[str]) -> int:
        """Recompute `visible_to` of the tenant's region items in every live index."""
        changed = 0
        for collection in ITEM_COLLECTIONS:
            for index in await self.write_targets(collection):
                changed += await recompute_region_visibility(self.client, index, tenant_id,
                                                             neighbours)
        if changed:
            log.info("region_visibility_recomputed", tenant=tenant_id, documents=changed)
        return changed

    # ---- actors ------------------------------------------------------------------------------
    async def put_actor(self, actor: ActorData, *, changed_at) -> None:
        if await self._actor_erased(actor.id):
            return
        await self._put("actors", actor.id, actor_document(actor, changed_at=changed_at),
                        version=actor.version)

    async def _actor_erased(self, actor_id: str) -> bool:
        actor = await self._source(self.names.read_alias("actors"), actor_id, ["status"])
        return actor is not None and actor.get("status") == ERASED_STATUS

    async def erase_actor(self, erased: ActorErasedData) -> None:
        # Erasure wins over any version: the tombstone takes at least the stored version.
        for index in await self.write_targets("actors"):
            try:
                stored = (await self.client.get(index=index, id=erased.id,
                                                source=False))["_version"]
            except NotFoundError:
                stored = 0
            version = max(stored, erased.version)
            await self.client.index(index=index, id=erased.id, version=version,
                                    version_type="external_gte",
                                    document=erased_actor_document(erased, version=version))
        await self._delete_items_of(erased.id, erased.item_ids)
        log.info("actor_erased", actor=erased.id, items=len(erased.item_ids))

    async def _delete_items_of(self, actor_id: str, item_ids: list[str]) -> None:
        should: list[dict] = [{"term": {"actor_id": actor_id}}]
        if item_ids:
            should.append({"ids": {"values": list(item_ids)}})
        query = {"bool": {"should": should, "minimum_should_match": 1}}
        for collection in ITEM_COLLECTIONS:
            targets = ",".join(await self.write_targets(collection))
            # Make documents written a moment ago visible to the delete.
            await self.client.indices.refresh(index=targets)
            await self.client.delete_by_query(index=targets, query=query, conflicts="proceed",
                                              refresh=True)

    # ---- items -------------------------------------------------------------------------------
    async def put_item(self, item: ItemData, *, event_type: str | None) -> None:
        await self.put_items([(item, event_type)])

    async def put_items(self, items: list[tuple[ItemData, str | None]]) -> None:
        """`put_item` for a batch, with three requests for all of it: the tenants' neighbours,
        one bulk write (a stale version is refused per document), and the erasure check."""
        if not items:
            return
        neighbours = await self._neighbours_of(sorted({item.tenant for item, _ in items}))
        actions = []
        for item, event_type in items:
            collection = COLLECTION_OF_KIND[item.kind]
            document = item_document(item, neighbours=neighbours.get(item.tenant, []),
                                     event_type=event_type)
            for index in await self.write_targets(collection):
                actions.append({"_op_type": "index", "_index": index, "_id": item.id,
                                "version": item.version, "version_type": "external",
                                "_source": document})
        try:
            await bulk_write(self.client, actions)
        except BulkWriteFailed:
            self.forget_targets()  # e.g. a rebuild dropped an index; the retry writes anew
            raise
        # Checked after writing: an erasure handled concurrently elsewhere either sees these
        # documents in its delete, or has left its tombstone for this check to see.
        erased = await self._erased_among(sorted({item.actor_id for item, _ in items}))
        for item, _ in items:
            if item.actor_id in erased:
                for index in await self.write_targets(COLLECTION_OF_KIND[item.kind]):
                    with suppress(NotFoundError):
                        await self.client.delete(index=index, id=item.id)

    async def _neighbours_of(self, tenant_ids: list[str]) -> dict[str, list[str]]:
        response = await self.client.mget(index=self.names.read_alias("tenants"), ids=tenant_ids,
                                          source_includes=["neighbours"])
        return {doc["_id"]: list(doc["_source"].get("neighbours", []))
                for doc in response["docs"] if doc.get("found")}

    async def _erased_among(self, actor_ids: list[str]) -> set[str]:
        response = await self.client.mget(index=self.names.read_alias("actors"), ids=actor_ids,
                                          source_includes=["status"])
        return {doc["_id"] for doc in response["docs"]
                if doc.get("found") and doc["_source"].get("status") == ERASED_STATUS}

    # ---- reads -------------------------------------------------------------------------------
    async def analyze(self, text: str) -> list[str]:
        async with answering():
            response = await self.client.indices.analyze(analyzer=TEXT_ANALYZER, text=text)
        return [token["token"] for token in response["tokens"]]

    async def search(self, *, kinds: tuple[str, ...], body: dict) -> dict:
        arguments = {("source" if key == "_source" else key): value for key, value in body.items()}
        try:
            async with answering():
                response = await self.client.search(
                    index=",".join(self.names.read_aliases(kinds)), **arguments)
        except BadRequestError as exc:
            raise QueryRejected(str(exc)) from exc
        return response.body

    async def tenant_names(self, tenant_ids: list[str]) -> dict[str, str]:
        if not tenant_ids:
            return {}
        async with answering():
            response = await self.client.mget(index=self.names.read_alias("tenants"),
                                              ids=tenant_ids, source_includes=["name"])
        return {doc["_id"]: doc["_source"].get("name", doc["_id"])
                for doc in response["docs"] if doc.get("found")}
