"""The matcher over fakes: it replays the feed, joins the group only once caught up (handing
the group its rebalance callbacks then), and announces the pairs of the partitions it was
assigned: stored first, then published."""
from __future__ import annotations

import asyncio
from datetime import datetime, timezone

import pytest

from platform_common.events import make_event
from platform_common.events.models import ItemData, TenantData
from services.matching.engine import MatchingEngine
from services.matching.ports import FeedRecord
from services.matching.settings import WorkerSettings
from services.matching.worker.processor import MatchingWorker
from tests.unit.matching.fakes import MemoryMatchStore

NOW = datetime(2026, 5, 4, 12, 0, tzinfo=timezone.utc)
PARTITIONS = 6


class ListFeed:
    """The records given, then nothing; caught up once every record was read."""

    def __init__(self, records: list[FeedRecord]):
        self.records = records
        self.polls = 0  # next_batch calls: one more after a batch means it was applied

    def partition_count(self, topic: str) -> int:
        return PARTITIONS

    async def next_batch(self, *, max_records: int, timeout_ms: int = 200) -> list[FeedRecord]:
        self.polls += 1
        batch, self.records = self.records[:max_records], self.records[max_records:]
        if not batch:
            await asyncio.sleep(timeout_ms / 1000)
        return batch

    def request_catch_up(self) -> None:
        return None

    @property
    def caught_up(self) -> bool:
        return not self.records

    def lag_by_partition(self) -> dict:
        return {}


class RecordingPublisher:
    def __init__(self):
        self.published = []

    async def publish(self, envelope, *, key=None) -> None:
        self.published.append((envelope, key))

    async def send_raw(self, topic, value, *, key=None, headers=None) -> None:
        raise AssertionError(f"nothing is dead-lettered here ({topic})")


class Group:
    """A consumer group of one: every partition goes to the member once it joined."""

    def __init__(self):
        self.joined_with: int | None = None
        self.callbacks = None
        self.running, self.crashed = False, False

    async def start(self, partitions: int, *, on_assigned, on_revoked) -> None:
        self.joined_with, self.callbacks, self.running = partitions, (on_assigned, on_revoked), True
        await on_assigned(set(range(partitions)))

    async def stop(self) -> None:
        self.running = False


def record(offset: int, envelope) -> FeedRecord:
    topic = "tenants" if envelope.type.startswith("tenant.") else "items"
    return FeedRecord(topic, 0, offset, envelope.subject.encode(), envelope.to_bytes(), ())


def item(item_id: str, kind: str) -> ItemData:
    return ItemData(id=item_id, kind=kind, tenant="koeln", actor_id=f"actor-{item_id}",
                    actor_type="person", title=f"{kind} {item_id}", categories=["sport"],
                    engagement="regular", location={"lat": 50.94, "lon": 6.96}, radius_km=10,
                    created_at=NOW, updated_at=NOW, version=1)


@pytest.fixture
def no_process_kill(monkeypatch):
    """A failing matcher ends its process; here the test should fail instead."""
    def refuse(pid, sig):
        raise AssertionError("the matcher failed")
    monkeypatch.setattr("services.matching.worker.processor.os.kill", refuse)


async def test_the_worker_joins_after_catching_up_and_announces_its_partitions_pairs(
        no_process_kill):
    tenant = TenantData(id="koeln", name="Köln", center={"lat": 50.94, "lon": 6.96}, version=1)
    events = [make_event("tenant.created", tenant="koeln", subject="koeln", source="t", data=tenant)]
    for data in (item("o1", "offer"), item("n1", "need")):
        events.append(make_event(f"{data.kind}.published", tenant="koeln", subject=data.id,
                                 source="t", data=data))
    store, publisher, group = MemoryMatchStore(), RecordingPublisher(), Group()
    worker = MatchingWorker(settings=WorkerSettings(matching_partitions=PARTITIONS),
                            engine=MatchingEngine(k=10),
                            feed=ListFeed([record(i, e) for i, e in enumerate(events)]),
                            store=store, producer=publisher, group=group, items_topic="items")
    assert group.joined_with is None
    await worker.start()
    try:
        async def ready():
            while not worker.ready:
                await asyncio.sleep(0.01)
        await asyncio.wait_for(ready(), timeout=10)
        assert group.joined_with == PARTITIONS
        assert group.callbacks == (worker.on_assigned, worker.on_revoked)
        assert [(e.type, key) for e, key in publisher.published] == [("match.found", "o1:n1")]
        stored, = await store.get_many(["o1:n1"])
        assert stored["state"] == "found" and stored["need"]["title"] == "need n1"
        assert await store.owners(range(PARTITIONS)) == {p: worker.instance
                                                         for p in range(PARTITIONS)}
    finally:
        await worker.stop()


async def test_an_item_closed_while_loading_stays_closed_and_no_version_map_grows(
        no_process_kill):
    """The worker keeps no version of every item it ever saw: closed items live on as the
    engine's tombstones (bounded and pruned), which still keep a redelivered older version
    from reopening them."""
    tenant = TenantData(id="koeln", name="Köln", center={"lat": 50.94, "lon": 6.96}, version=1)
    offer, need = item("o1", "offer"), item("n1", "need")
    closed = offer.model_copy(update={"status": "closed", "version": 2})
    events = [make_event("tenant.created", tenant="koeln", subject="koeln", source="t", data=tenant),
              make_event("offer.published", tenant="koeln", subject="o1", source="t", data=offer),
              make_event("need.published", tenant="koeln", subject="n1", source="t", data=need),
              make_event("offer.closed", tenant="koeln", subject="o1", source="t", data=closed)]
    feed = ListFeed([record(i, e) for i, e in enumerate(events)])
    store, publisher, group = MemoryMatchStore(), RecordingPublisher(), Group()
    engine = MatchingEngine(k=10)
    worker = MatchingWorker(settings=WorkerSettings(matching_partitions=PARTITIONS),
                            engine=engine, feed=feed, store=store, producer=publisher,
                            group=group, items_topic="items")
    await worker.start()
    try:
        async def ready():
            while not worker.ready:
                await asyncio.sleep(0.01)
        await asyncio.wait_for(ready(), timeout=10)
        assert publisher.published == []  # o1 closed before the engine was loaded
        assert "o1" not in engine and engine.version_of("o1") == 2
        assert not hasattr(worker, "versions")
        # The first version again (a redelivery): it does not reopen the offer.
        feed.records = [record(len(events), events[1])]
        polls = feed.polls

        async def applied():  # read, then the next poll: the step that applied it is over
            while feed.records or feed.polls < polls + 2:
                await asyncio.sleep(0.01)
        await asyncio.wait_for(applied(), timeout=10)
        assert "o1" not in engine and publisher.published == []
        # A newer version does reopen it.
        reopened = offer.model_copy(update={"version": 3})
        feed.records = [record(len(events) + 1, make_event(
            "offer.updated", tenant="koeln", subject="o1", source="t", data=reopened))]

        async def announced():
            while not publisher.published:
                await asyncio.sleep(0.01)
        await asyncio.wait_for(announced(), timeout=10)
        assert [(e.type, key) for e, key in publisher.published] == [("match.found", "o1:n1")]
    finally:
        await worker.stop()


class DeadLetters(RecordingPublisher):
    def __init__(self):
        super().__init__()
        self.dead = []

    async def send_raw(self, topic, value, *, key=None, headers=None) -> None:
        self.dead.append((topic, value, dict(headers or ())))


class GroupOfOthers(Group):
    """Every partition goes to other members."""

    async def start(self, partitions: int, *, on_assigned, on_revoked) -> None:
        self.joined_with, self.callbacks, self.running = partitions, (on_assigned, on_revoked), True
        await on_assigned(set())


async def test_only_the_owner_of_a_records_partition_dead_letters_it(no_process_kill):
    tenant = TenantData(id="koeln", name="Köln", center={"lat": 50.94, "lon": 6.96}, version=1)
    start = [record(0, make_event("tenant.created", tenant="koeln", subject="koeln", source="t",
                                  data=tenant))]
    workers = []
    for group in (Group(), GroupOfOthers()):
        feed = ListFeed(list(start))
        worker = MatchingWorker(settings=WorkerSettings(matching_partitions=PARTITIONS),
                                engine=MatchingEngine(k=10), feed=feed, store=MemoryMatchStore(),
                                producer=DeadLetters(), group=group, items_topic="items")
        await worker.start()
        workers.append((worker, feed))
    try:
        async def ready():
            while not all(worker.ready for worker, _ in workers):
                await asyncio.sleep(0.01)
        await asyncio.wait_for(ready(), timeout=10)
        garbage = FeedRecord("items", 0, 1, b"o9", b"not an event", (("traceparent", b"x"),))
        polls = []
        for _worker, feed in workers:
            feed.records = [garbage]
            polls.append(feed.polls)

        async def applied():  # read, then the next poll: the step that applied it is over
            while any(feed.records or feed.polls < before + 2
                      for (_, feed), before in zip(workers, polls)):
                await asyncio.sleep(0.01)
        await asyncio.wait_for(applied(), timeout=10)
        (owner, _), (other, _) = workers
        (topic, value, headers), = owner.producer.dead
        assert (topic, value) == ("items.dlq", b"not an event")
        assert headers["traceparent"] == b"x" and headers["dlq.offset"] == b"1"
        assert headers["dlq.consumer_group"] == b"matching-worker"
        assert headers["dlq.error_type"]
        assert other.producer.dead == []
    finally:
        for worker, _ in workers:
            await worker.stop()
