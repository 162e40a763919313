"""Rebuild the search indexes from the system of record without downtime.

    python -m services.search.reindex --profiles-url http://127.0.0.1:8081

Loads every tenant, actor, offer and need from the profiles service's export API into new
concrete indexes while the old ones keep serving, then swaps the aliases atomically and deletes
the old indexes. The live consumer keeps writing during the rebuild (into old and new indexes,
see adapters/rebuild.py); entity versions make every write idempotent, so nothing is lost and
nothing older overwrites anything newer. Search settings come from the environment
(ELASTICSEARCH_URL, ELASTICSEARCH_INDEX_PREFIX, ...).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime

from elasticsearch import AsyncElasticsearch

from platform_common.service_identity import ServiceKeys
from platform_common.settings import load_settings
from platform_common.stores import elasticsearch_client
from services.search.adapters.mappings import IndexNames
from services.search.adapters.profiles_export import ExportRefused, ProfilesExport
from services.search.adapters.rebuild import ElasticRebuild
from services.search.bootstrap import build_index
from services.search.domain.documents import (
    InvalidDocument, actor_document, item_document, tenant_document,
)
from services.search.ports import ExportSource, RebuildState, RebuildTarget
from services.search.settings import SearchSettings

Progress = Callable[[str], None]

KEYS_HINT = ("It signs as the search service: it needs search's SERVICE_SIGNING_KEY and the "
             "running stack's SERVICE_PUBLIC_KEYS. `make run` leaves them in .data/reindex.env "
             "(new at every start), which `make reindex` reads.")


def keys_problem(refused: Exception) -> str:
    """The two lines an operator sees when profiles refuses the reindex's credential."""
    dev_key = ("SERVICE_SIGNING_KEY" not in os.environ
               and os.environ.get("ENVIRONMENT", "dev").lower() == "dev")
    missing = " (SERVICE_SIGNING_KEY is not set: the well-known dev key stood in)" if dev_key else ""
    return f"reindex failed: {refused}{missing}.\n{KEYS_HINT}"


@dataclass
class CollectionCount:
    read: int = 0
    written: int = 0
    # Already present in a newer version, written by the live consumer during the rebuild.
    stale: int = 0
    # Not indexable (e.g. coordinates outside the globe); the live consumer rejects them too.
    rejected: int = 0
    seconds: float = 0.0

    @property
    def per_second(self) -> float:
        return self.read / self.seconds if self.seconds > 0 else 0.0


@dataclass
class ReindexReport:
    new_indexes: dict[str, str]
    dropped_indexes: list[str]
    counts: dict[str, CollectionCount] = field(default_factory=dict)
    tombstones_copied: int = 0
    erased_items_swept: int = 0
    region_items_fixed: int = 0
    seconds: float = 0.0

    def as_dict(self) -> dict:
        data = asdict(self)
        for name, count in self.counts.items():
            data["counts"][name]["per_second"] = round(count.per_second, 1)
        return data


def settle_seconds(settings: SearchSettings) -> float:
    # Several cache lifetimes, so a consumer in the middle of a write has certainly re-read.
    return max(2.0, 3 * settings.write_alias_cache_s)


async def _load(rebuild: RebuildTarget, state: RebuildState, collection: str,
                pages: AsyncIterator[list], to_document: Callable, count: CollectionCount,
                progress: Progress, prepare: Callable | None = None) -> None:
    started = time.monotonic()
    async for page in pages:
        extra = await prepare(page) if prepare is not None else None
        documents = []
        for entity in page:
            try:
                documents.append(to_document(entity, extra))
            except InvalidDocument as exc:
                count.rejected += 1
                progress(f"  {collection}: skipped {getattr(entity, 'id', '?')}: {exc}")
        written, stale = await rebuild.load(state, collection, documents)
        count.read += len(page)
        count.written += written
        count.stale += stale
        count.seconds = time.monotonic() - started
        progress(f"  {collection}: {count.read} read, {count.written} written, "
                 f"{count.stale} newer already, {count.per_second:.0f}/s")
    count.seconds = time.monotonic() - started


async def reindex(*, settings: SearchSettings, source: ExportSource,
                  progress: Progress = print, client: AsyncElasticsearch | None = None,
                  abandon_previous: bool = False) -> ReindexReport:
    """Rebuild every index from `source`, swap the aliases, drop the old indexes."""
    own_client = client is None
    client = client or elasticsearch_client(settings.elasticsearch_url,
                                             ca_file=settings.elasticsearch_ca_file)
    try:
        # A fresh cluster has no aliases yet: create them, so the swap has something to replace.
        await build_index(settings, client).ensure_indexes()
        rebuild = ElasticRebuild(client, names=IndexNames(settings.elasticsearch_index_prefix),
                                 replicas=settings.index_replicas,
                                 settle_s=settle_seconds(settings))
        return await rebuild_from(source=source, rebuild=rebuild, progress=progress,
                                  abandon_previous=abandon_previous)
    finally:
        if own_client:
            await client.close()


async def rebuild_from(*, source: ExportSource, rebuild: RebuildTarget,
                       progress: Progress = print, abandon_previous: bool = False) -> ReindexReport:
    """The rebuild itself, over the two ports: where entities come from and where they go."""
    started = time.monotonic()
    state = await rebuild.begin(abandon_previous=abandon_previous)
    progress(f"new indexes: {', '.join(state.new.values())}")
    report = ReindexReport(new_indexes=dict(state.new), dropped_indexes=[])
    try:
        progress(f"waiting {rebuild.settle_s:.1f} s until live consumers write into them too")
        await rebuild.settle()
        report.tombstones_copied = await rebuild.copy_tombstones(state)

        neighbours: dict[str, list[str]] = {}

        def tenant_to_document(tenant, _extra):
            document = tenant_document(tenant)
            neighbours[tenant.id] = document["neighbours"]
            return document

        async def actor_change_times(page):
            previous = await rebuild.previous_values(state, "actors", [a.id for a in page],
                                                     "updated_at")
            return {key: datetime.fromisoformat(value) for key, value in previous.items()
                    if isinstance(value, str)}

        def actor_to_document(actor, change_times):
            # The export has no change time for actors: keep the one the index knew.
            return actor_document(actor, changed_at=change_times.get(actor.id))

        def item_to_document(item, _extra):
            return item_document(item, neighbours=neighbours.get(item.tenant, []))

        plan = [("tenants", source.tenants(), tenant_to_document, None),
                ("actors", source.actors(), actor_to_document, actor_change_times),
                ("offers", source.items("offer"), item_to_document, None),
                ("needs", source.items("need"), item_to_document, None)]
        for collection, pages, to_document, prepare in plan:
            progress(f"loading {collection}")
            report.counts[collection] = CollectionCount()
            await _load(rebuild, state, collection, pages, to_document,
                        report.counts[collection], progress, prepare)

        report.erased_items_swept = await rebuild.sweep_erased(state)
        report.region_items_fixed = await rebuild.fix_region_visibility(state, neighbours)
        await rebuild.swap(state)
        progress("aliases swapped to the new indexes")
    except BaseException:
        progress("rebuild failed: dropping the new indexes, the old ones keep serving")
        await rebuild.abort(state)
        raise
    await rebuild.settle()
    report.dropped_indexes = await rebuild.drop_old(state)
    progress(f"dropped old indexes: {', '.join(report.dropped_indexes) or '-'}")
    report.seconds = time.monotonic() - started
    return report


def summary(report: ReindexReport) -> str:
    lines = [f"reindex finished in {report.seconds:.1f} s"]
    for collection, count in report.counts.items():
        lines.append(f"  {collection:8} {count.read:>9} read {count.written:>9} written "
                     f"{count.stale:>7} newer already {count.rejected:>5} rejected "
                     f"{count.per_second:>8.0f}/s")
    lines.append(f"  erased actors carried over: {report.tombstones_copied}, "
                 f"items of erased actors swept: {report.erased_items_swept}, "
                 f"region items fixed: {report.region_items_fixed}")
    return "\n".join(lines)


async def _main(args: argparse.Namespace) -> int:
    settings = load_settings(SearchSettings)
    source = ProfilesExport(args.profiles_url or settings.profiles_url,
                            keys=ServiceKeys.from_settings(settings),
                            page_size=args.page_size or settings.export_page_size)
    try:
        # Before any index is made: refused keys end here, with nothing to clean up.
        await source.check_access()
        report = await reindex(settings=settings, source=source,
                               progress=lambda line: print(line, flush=True),
                               abandon_previous=args.abandon_previous)
    finally:
        await source.close()
    print(summary(report))
    if args.json:
        print(json.dumps(report.as_dict(), indent=2))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m services.search.reindex",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--profiles-url", help="base URL of the profiles service "
                                               "(default: PROFILES_URL)")
    parser.add_argument("--page-size", type=int, help="export page size (default 1000)")
    parser.add_argument("--abandon-previous", action="store_true",
                        help="discard the indexes of an earlier rebuild that did not finish")
    parser.add_argument("--json", action="store_true", help="also print the report as JSON")
    args = parser.parse_args(argv)
    try:
        return asyncio.run(_main(args))
    except KeyboardInterrupt:
        return 130
    except ExportRefused as refused:  # missing or wrong keys: say which, without a traceback
        print(keys_problem(refused), file=sys.stderr)
        return 1
    except Exception as exc:  # a readable line for the operator; details are in the traceback
        print(f"reindex failed: {exc.__class__.__name__}: {exc}", file=sys.stderr)
        raise


if __name__ == "__main__":
    sys.exit(main())
