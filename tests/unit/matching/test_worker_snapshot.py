"""The worker over fakes: it snapshots its state once live, a new worker restores the snapshot,
replays only the tail of the feed, takes over checking only what changed since, and ends with
the same stored pairs as a full replay; a snapshot that does not fit (other parameters,
records gone by retention) means a full replay."""
from __future__ import annotations

import asyncio

from services.matching.domain.pairs import owner_partition
from services.matching.engine import MatchingEngine
from services.matching.ports import FeedRecord
from services.matching.settings import WorkerSettings
from services.matching.worker.processor import MatchingWorker
from tests.integration.matching.streams import build_stream, tenant_event
from tests.unit.matching.fakes import MemoryMatchStore, MemorySnapshotStore, pair_doc
from tests.unit.matching.test_worker import Group, ListFeed, RecordingPublisher, no_process_kill  # noqa: F401

PARTITIONS = 6
TOPICS = ("tenants", "items")


class OffsetFeed(ListFeed):
    """Records spread over partitions, each with its offset; `seek` skips what lies before."""

    def __init__(self, records: list[FeedRecord], earliest: int = 0):
        super().__init__(records)
        self.earliest = earliest
        self.sought: dict | None = None

    async def beginning_offsets(self) -> dict[tuple[str, int], int]:
        return {(topic, p): self.earliest for topic in TOPICS for p in range(PARTITIONS)}

    async def seek(self, offsets: dict[tuple[str, int], int]) -> None:
        self.sought = dict(offsets)
        self.records = [r for r in self.records
                        if r.offset >= offsets.get((r.topic, r.partition), 0)]


def records_of(events) -> list[FeedRecord]:
    """Items keyed by id onto the partitions (offsets per partition), tenants on partition 0."""
    next_offset: dict[tuple[str, int], int] = {}
    records = []
    for envelope in events:
        topic = "tenants" if envelope.type.startswith("tenant.") else "items"
        partition = 0 if topic == "tenants" else owner_partition(envelope.subject, PARTITIONS)
        offset = next_offset.get((topic, partition), 0)
        next_offset[(topic, partition)] = offset + 1
        records.append(FeedRecord(topic, partition, offset, envelope.subject.encode(),
                                  envelope.to_bytes(), ()))
    return records


def settings(**overrides) -> WorkerSettings:
    return WorkerSettings(matching_partitions=PARTITIONS, matching_snapshot_interval_s=0,
                          **overrides)


async def until(condition, timeout: float = 20) -> None:
    async def check():
        while not condition():
            await asyncio.sleep(0.01)
    await asyncio.wait_for(check(), timeout=timeout)


async def run_worker(feed, store, snapshots, *, k: int = 4, **overrides) -> MatchingWorker:
    worker = MatchingWorker(settings=settings(**overrides), engine=MatchingEngine(k=k), feed=feed,
                            store=store, producer=RecordingPublisher(), group=Group(),
                            items_topic="items", snapshots=snapshots)
    await worker.start()
    await until(lambda: worker.ready)
    return worker


async def idle(worker: MatchingWorker, feed: OffsetFeed) -> None:
    """Every record read, and the step that applied the last ones over."""
    polls = feed.polls
    await until(lambda: not feed.records and feed.polls >= polls + 2)


def found(store: MemoryMatchStore) -> dict[str, str]:
    return {key: doc["fingerprint"] for key, doc in store.matches.items() if doc["state"] == "found"}


def count_full_loads(store: MemoryMatchStore) -> list[int]:
    """The partitions whose stored found pairs are read in full from now on (a list that
    grows as the store is asked)."""
    loaded: list[int] = []
    read = store.found_fingerprints

    async def found_fingerprints(partitions):
        loaded.extend(sorted(partitions))
        return await read(partitions)
    store.found_fingerprints = found_fingerprints
    return loaded


def stream_records(count: int, seed: int) -> list[FeedRecord]:
    stream = build_stream(count, seed=seed, close_share=0.1)
    return records_of([tenant_event(t) for t in stream.tenants] + stream.events)


async def test_a_restored_worker_replays_only_the_tail_and_stores_what_a_full_replay_stores(
        no_process_kill):
    records = stream_records(700, seed=41)
    first, crash = len(records) // 2, len(records) * 3 // 4
    store, kept = MemoryMatchStore(), MemorySnapshotStore()

    # The first worker replays in full, snapshots once live, goes on beyond the snapshot
    # (announcing more pairs) and dies.
    feed = OffsetFeed(records[:first])
    worker = await run_worker(feed, store, kept, matching_snapshot_every_events=10**6)
    await until(lambda: kept.saved)
    assert worker.startup["from_snapshot"] is False
    feed.records += records[first:crash]
    await idle(worker, feed)
    await worker.stop()
    snapshot = await kept.latest()

    # The next one restores the snapshot and reads from its offsets on.
    loaded_in_full = count_full_loads(store)
    restarted_feed = OffsetFeed(list(records))
    restarted = await run_worker(restarted_feed, store, kept)
    await idle(restarted, restarted_feed)
    assert restarted.startup["from_snapshot"] is True
    assert restarted.startup["replayed_events"] == len(records) - first
    assert restarted_feed.sought == {(t, p): o for t, p, o in snapshot.meta["offsets"]}
    # Nobody took a partition since the snapshot: the take-over read no partition's stored
    # pairs in full and looked only at the pairs changed since.
    assert loaded_in_full == []
    assert sorted(restarted.last_reconcile["from_snapshot"]) == list(range(PARTITIONS))
    await restarted.stop()

    # The oracle: one worker that replayed everything, on a store of its own.
    full_store = MemoryMatchStore()
    full_feed = OffsetFeed(list(records))
    full = await run_worker(full_feed, full_store, None)
    await idle(full, full_feed)
    await full.stop()
    assert full.startup == {"from_snapshot": False, "restored_items": 0,
                            "replayed_events": len(records), "seconds": full.startup["seconds"]}
    assert found(store) == found(full_store)
    assert len(found(store)) > 100
    for item_id in restarted.items:
        assert restarted.engine.matches_for(item_id) == full.engine.matches_for(item_id)


async def test_a_snapshot_of_other_engine_parameters_means_a_full_replay(no_process_kill):
    records = stream_records(80, seed=42)
    store, kept = MemoryMatchStore(), MemorySnapshotStore()
    feed = OffsetFeed(list(records))
    worker = await run_worker(feed, store, kept, k=4)
    await until(lambda: kept.saved)
    await worker.stop()

    other = await run_worker(OffsetFeed(list(records)), store, kept, k=5)
    assert other.startup["from_snapshot"] is False
    assert other.startup["replayed_events"] == len(records)
    await other.stop()


async def test_records_gone_by_retention_after_the_snapshot_mean_a_full_replay(no_process_kill):
    records = stream_records(80, seed=43)
    store, kept = MemoryMatchStore(), MemorySnapshotStore()
    worker = await run_worker(OffsetFeed(records[:40]), store, kept)
    await until(lambda: kept.saved)
    await worker.stop()

    # Retention removed records the snapshot did not cover: its tail is incomplete.
    later = OffsetFeed([r for r in records if r.offset >= 30], earliest=30)
    restarted = await run_worker(later, store, kept)
    assert restarted.startup["from_snapshot"] is False
    assert later.sought is None
    await restarted.stop()


def need_in(partition: int, name: str) -> str:
    return next(f"{name}-{n}" for n in range(1000)
                if owner_partition(f"{name}-{n}", PARTITIONS) == partition)


async def test_pairs_stored_after_the_snapshot_and_partitions_taken_by_others_are_checked(
        no_process_kill):
    """The take-over after a restore relies on the snapshot only where the snapshot's instance
    kept the partition: pairs it stored later are looked at, and a partition someone else took
    meanwhile is reconciled in full. (Stored pairs no event supports stand for writes the
    snapshot does not know: each must be withdrawn.)"""
    records = stream_records(120, seed=44)
    store, kept = MemoryMatchStore(), MemorySnapshotStore()
    worker = await run_worker(OffsetFeed(list(records)), store, kept)
    await until(lambda: kept.saved)
    await worker.stop()
    later = pair_doc("ghost-offer", need_in(1, "ghost-need"), partition=1,
                     batch=(worker.instance, worker.batch_no + 1))
    await store.write([later], new_keys={later["_id"]})
    await store.commit(worker.instance, worker.batch_no + 1)
    await store.register_instance("someone-else")
    await store.take_ownership("someone-else", [2])
    theirs = pair_doc("their-offer", need_in(2, "their-need"), partition=2, batch=("someone-else", 1))
    await store.write([theirs], new_keys={theirs["_id"]})
    await store.commit("someone-else", 1)

    loaded_in_full = count_full_loads(store)
    restarted_feed = OffsetFeed(list(records))
    restarted = await run_worker(restarted_feed, store, kept)
    await idle(restarted, restarted_feed)
    await restarted.stop()
    assert restarted.startup["from_snapshot"] is True
    assert loaded_in_full == [2]
    assert sorted(restarted.last_reconcile["from_snapshot"]) == [0, 1, 3, 4, 5]
    assert store.matches[later["_id"]]["state"] == "withdrawn"
    assert store.matches[theirs["_id"]]["state"] == "withdrawn"

    full_store = MemoryMatchStore()
    full_feed = OffsetFeed(list(records))
    full = await run_worker(full_feed, full_store, None)
    await idle(full, full_feed)
    await full.stop()
    assert found(store) == found(full_store) and found(store)
