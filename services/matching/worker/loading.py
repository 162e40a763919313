"""Start-up: the worker's state from the latest usable snapshot (its tail replayed after), or
from a full replay of the topics whose items are bulk-loaded into the engine at the end.

README, "Restart from a snapshot": a snapshot is used only when it fits the running worker
(format, code, engine parameters, partition counts) and the topics still hold every record
after its offsets; otherwise the reason is logged and everything is replayed.
"""
from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from platform_common.events.models import ItemData
from platform_common.observability.logging import get_logger
from services.matching.domain.pairs import Side
from services.matching.ports import EventFeed, Snapshot, SnapshotStore
from services.matching.translate import is_open, to_item
from services.matching.worker import metrics
from services.matching.worker import snapshot as snapshots
from services.matching.worker.replica import OpenItem, Replica

log = get_logger(__name__)


@dataclass
class Restored:
    """What a restored snapshot gave besides the replica's state."""

    open_items: int
    offsets: dict[tuple[str, int], int]         # the next record to apply, per feed partition
    announced: snapshots.Announced | None       # what its instance announced for


class Staging:
    """During a full replay: the newest snapshot of every item and when it changed. No diffs
    are needed before the feed has caught up, so the items go into the engine in one bulk
    load at the end."""

    def __init__(self):
        self._items: dict[str, tuple[ItemData, datetime]] = {}

    def version_of(self, item_id: str) -> int:
        staged = self._items.get(item_id)
        return staged[0].version if staged is not None else 0

    def stage(self, data: ItemData, changed_at: datetime) -> bool:
        """False when `data` is not newer than the staged snapshot."""
        if data.version <= self.version_of(data.id):
            return False
        self._items[data.id] = (data, changed_at)
        return True

    async def load_into(self, replica: Replica) -> None:
        items, gone = [], []
        for data, changed_at in self._items.values():
            if not is_open(data):
                gone.append((data, changed_at))
                continue
            try:
                items.append(to_item(data))
            except (ValueError, TypeError) as exc:
                log.error("item_rejected", id=data.id, version=data.version, error=str(exc)[:300])
                gone.append((data, changed_at))
                continue
            replica.remember(data, changed_at)
        self._items = {}
        # The engine is not touched by anything else yet; a thread keeps /healthz answering.
        await asyncio.to_thread(replica.engine.bulk_load, items)
        # Closed items leave a tombstone, so a redelivered older version cannot reopen them.
        for data, changed_at in sorted(gone, key=lambda entry: entry[1]):
            replica.engine.remove(data.id, version=data.version, at=changed_at)
        metrics.ENGINE_ITEMS.set(len(replica.items))


async def restore(replica: Replica, *, feed: EventFeed,
                  store: SnapshotStore) -> tuple[dict[str, int], Restored | None]:
    """Restore the latest snapshot into `replica` and point the feed at the offsets it covers.
    Returns the partition count of every topic the feed reads (a snapshot records them) and
    what was restored: None (the replica untouched, a full replay follows) when there is no
    snapshot or it does not fit; the reason is logged."""
    started = time.monotonic()
    partitions: dict[str, int] = {}
    try:
        earliest = await feed.beginning_offsets()
        partitions = dict(Counter(topic for topic, _ in earliest))
        snapshot = await store.latest()
    except Exception as exc:
        log.warning("snapshot_ignored", reason=f"unreadable: {exc!r}")
        return partitions, None
    if snapshot is None:
        log.info("snapshot_none", detail="no snapshot yet: full replay")
        return partitions, None
    reason = snapshots.unusable(snapshot.meta, engine_parameters=replica.engine.parameters(),
                                partitions=partitions, owner_partitions=replica.partitions)
    if reason is None:
        gone = [f"{topic}[{partition}] {offset} < {earliest.get((topic, partition), 0)}"
                for topic, partition, offset in snapshot.meta["offsets"]
                if offset < earliest.get((topic, partition), 0)]
        if gone:
            reason = ("the topics no longer hold every record after the snapshot "
                      f"(retention): {', '.join(gone[:3])}")
    if reason is not None:
        log.warning("snapshot_ignored", reason=reason, taken_at=snapshot.meta.get("taken_at"))
        return partitions, None
    size = snapshot.size
    try:
        engine, state, items = await asyncio.to_thread(_decode, snapshot, type(replica.engine))
    except Exception as exc:
        log.error("snapshot_ignored", reason=f"cannot be restored: {exc!r}", exc_info=exc)
        return partitions, None
    replica.restore(engine, items, state.tenant_versions)
    await feed.seek(state.offsets)
    metrics.ENGINE_ITEMS.set(len(items))
    log.info("snapshot_restored", taken_at=snapshot.meta["taken_at"], bytes=size,
             open_items=len(items), seconds=round(time.monotonic() - started, 3))
    return partitions, Restored(open_items=len(items), offsets=dict(state.offsets),
                                announced=state.announced)


def _decode(snapshot: Snapshot, engine_type) -> tuple:
    """(in a thread) The engine, the worker's state and its open items, from a snapshot
    (whose bytes are released once read)."""
    state = snapshots.decode(snapshot)
    snapshot.sections.clear()
    engine = engine_type.from_state(state.engine)
    items = {row[0]: OpenItem(Side(*row[:4]), row[4], row[5], row[6]) for row in state.items}
    return engine, state, items
