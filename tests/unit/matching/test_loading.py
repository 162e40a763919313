"""Start-up over fakes: a full replay stages the newest version of every item and bulk-loads
the open ones (closed ones leave a tombstone that keeps older versions out); without a
snapshot the replica stays untouched and the feed where it is. Restoring a fitting snapshot,
and refusing one that does not fit: tests/unit/matching/test_worker_snapshot.py."""
from __future__ import annotations

from services.matching.engine import MatchingEngine
from services.matching.worker.loading import Staging, restore
from services.matching.worker.replica import Cause, Replica
from tests.unit.matching.fakes import MemorySnapshotStore
from tests.unit.matching.test_worker import NOW, item

PARTITIONS = 6


async def test_a_full_replay_loads_the_newest_version_of_each_item_and_only_open_ones():
    staging = Staging()
    offer, need, gone = item("o1", "offer"), item("n1", "need"), item("o2", "offer")
    newer_need = need.model_copy(update={"title": "need n1, edited", "version": 2})
    closed = gone.model_copy(update={"status": "closed", "version": 2})
    for data in (offer, newer_need, gone, closed):
        assert staging.stage(data, NOW) is True
    assert staging.stage(need, NOW) is False  # older than the staged version 2
    assert staging.version_of("n1") == 2 and staging.version_of("unknown") == 0

    replica = Replica(MatchingEngine(k=10), partitions=PARTITIONS)
    await staging.load_into(replica)
    assert set(replica.items) == {"o1", "n1"}
    assert replica.items["n1"].side.title == "need n1, edited"
    assert [m.pair for m in replica.engine.matches_for("n1")] == [("o1", "n1")]
    assert replica.needs_by_partition[replica.partition_of("n1")] == {"n1"}
    # The closed offer is remembered by its tombstone: its first version does not reopen it.
    assert replica.version_of("o2") == 2
    assert replica.apply_item(gone, Cause(NOW, None), lambda *_change: None) is False
    assert "o2" not in replica.items


class Feed:
    def __init__(self):
        self.sought = None

    async def beginning_offsets(self):
        return {("items", p): 0 for p in range(PARTITIONS)} | {("tenants", 0): 0}

    async def seek(self, offsets):
        self.sought = offsets


async def test_without_a_snapshot_nothing_is_restored_and_the_partition_counts_are_known():
    replica, feed = Replica(MatchingEngine(k=10), partitions=PARTITIONS), Feed()
    partitions, restored = await restore(replica, feed=feed, store=MemorySnapshotStore())
    assert restored is None and feed.sought is None
    assert partitions == {"items": PARTITIONS, "tenants": 1}
    assert replica.items == {}
