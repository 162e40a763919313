"""Taking partitions over, with fakes: a new partition is reconciled only once the feed has
caught up (events of interrupted batches published again with their ids, the engine's
pairs announced, stored pairs it no longer holds withdrawn); a partition that stays with
this instance, unclaimed by anyone else meanwhile, is kept without reading its pairs."""
from __future__ import annotations

from services.matching.domain.pairs import owner_partition
from services.matching.engine import MatchingEngine
from services.matching.worker.announcer import Announcer
from services.matching.worker.replica import Cause, Replica
from services.matching.worker.takeover import TakeOver
from tests.unit.matching.fakes import MemoryMatchStore, pair_doc
from tests.unit.matching.test_worker import NOW, RecordingPublisher, item
from tests.unit.matching.test_worker_snapshot import count_full_loads

PARTITIONS = 6


class Feed:
    def __init__(self, *, caught_up: bool = True):
        self.caught_up = caught_up
        self.catch_up_requests = 0

    def request_catch_up(self) -> None:
        self.catch_up_requests += 1


def matcher(store: MemoryMatchStore, feed: Feed, *item_ids: str) -> TakeOver:
    """A take-over whose engine holds these open items (ids starting with "o" are offers)."""
    replica = Replica(MatchingEngine(k=10), partitions=PARTITIONS)
    for item_id in item_ids:
        replica.apply_item(item(item_id, "offer" if item_id.startswith("o") else "need"),
                           Cause(NOW, None), lambda *_change: None)
    return TakeOver(instance="worker-b", store=store, feed=feed, replica=replica,
                    announcer=Announcer(instance="worker-b", store=store,
                                        producer=RecordingPublisher()))


def always() -> bool:
    return True


async def test_new_partitions_are_reconciled_with_the_engine_once_the_feed_caught_up():
    store, feed = MemoryMatchStore(), Feed(caught_up=False)
    takeover = matcher(store, feed, "o1", "n1")
    mine = owner_partition("n1", PARTITIONS)
    # Left by a crashed owner: a pair the engine no longer holds, and a batch it never
    # committed (its event may be missing from the topic).
    stale = pair_doc("o-old", "n1", partition=mine)
    unfinished = pair_doc("o-x", "n1", partition=mine, batch=("worker-a", 3))
    await store.write([stale, unfinished], new_keys=set())
    await store.register_instance("worker-a")
    await store.commit("worker-a", 2)

    takeover.assigned = set(range(PARTITIONS))
    await takeover.run(always)
    assert feed.catch_up_requests == 1
    assert takeover.owned == set() and not takeover.took_over_once
    assert takeover.announcer.producer.published == []

    feed.caught_up = True
    await takeover.run(always)
    assert takeover.owned == set(range(PARTITIONS)) and takeover.took_over_once
    assert await store.owners(range(PARTITIONS)) == {p: "worker-b" for p in range(PARTITIONS)}
    published = [(envelope.type, key) for envelope, key in takeover.announcer.producer.published]
    assert published[0] == ("match.found", "o-x:n1")
    assert str(takeover.announcer.producer.published[0][0].id) == unfinished["event"]["id"]
    assert sorted(published[1:]) == [("match.found", "o1:n1"), ("match.withdrawn", "o-old:n1"),
                                     ("match.withdrawn", "o-x:n1")]
    assert {key: doc["state"] for key, doc in store.matches.items()} == {
        "o1:n1": "found", "o-old:n1": "withdrawn", "o-x:n1": "withdrawn"}
    assert set(takeover.announcer.stored[mine]) == {"o1:n1"}


async def test_a_partition_kept_across_a_rebalance_is_reconciled_only_if_someone_took_it():
    store, feed = MemoryMatchStore(), Feed()
    takeover = matcher(store, feed, "o1", "n1")
    takeover.assigned = set(range(PARTITIONS))
    await takeover.run(always)
    loaded = count_full_loads(store)
    await store.take_ownership("worker-c", [2])  # it held partition 2 for a while
    takeover.assigned = set(range(PARTITIONS))
    await takeover.run(always)
    assert loaded == [2]
    assert takeover.last_reconcile["partitions"] == [2]
    assert takeover.owned == set(range(PARTITIONS))
    assert feed.catch_up_requests == 2  # only partition 2 needed the feed read up to its end

    takeover.assigned = {0, 1}  # the others went elsewhere: no longer announced for
    await takeover.run(always)
    assert loaded == [2] and takeover.owned == {0, 1}
    assert set(takeover.announcer.stored) <= {0, 1}
