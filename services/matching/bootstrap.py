"""The composition root: the matching API process and the worker process, each built entirely
in its constructor from settings. Build them inside the running event loop (the Kafka clients
bind to it); `create_process_app` does."""
from __future__ import annotations

from platform_common.events import TOPIC_ACTORS, TOPIC_ITEMS, TOPIC_MATCHES, TOPIC_TENANTS
from platform_common.kafka import ConsumedEvent, EventConsumer, EventProducer, ensure_topics
from platform_common.lifecycle import ReadinessCheck
from platform_common.stores import kafka_ping, mongo_client, mongo_ping
from services.matching import service
from services.matching.adapters.directory import MongoDirectory
from services.matching.adapters.feed import KafkaFeed
from services.matching.adapters.match_store import MongoMatchStore
from services.matching.adapters.ownership import GroupOwnership
from services.matching.adapters.snapshots import DirectorySnapshotStore, MongoSnapshotStore
from services.matching.engine import MatchingEngine
from services.matching.ports import SnapshotStore
from services.matching.settings import MatchingSettings, WorkerSettings
from services.matching.worker.processor import MatchingWorker

# What both processes read: the API into its directory, the worker into its engine (the
# worker also writes `matches`).
CONSUMED_TOPICS = [TOPIC_TENANTS, TOPIC_ACTORS, TOPIC_ITEMS]


async def ensure_matching_topics(settings: MatchingSettings) -> None:
    """Both processes create the topics (with the partition count the worker's split of
    responsibility relies on) whichever starts first."""
    await ensure_topics(settings, {topic: settings.matching_partitions for topic in (
        TOPIC_TENANTS, TOPIC_ACTORS, TOPIC_ITEMS, TOPIC_MATCHES)})


class MatchingApi:
    """The suggestions API process: answers from the stored match set and the directory, and
    keeps the directory up to date by consuming the tenants, actors and items topics in its
    own consumer group (at least once; the writes are idempotent by entity version)."""

    def __init__(self, settings: MatchingSettings):
        self.settings = settings
        self.mongo = mongo_client(settings.mongo_uri)
        database = self.mongo[settings.mongo_db]
        self.store = MongoMatchStore(database)
        self.directory = MongoDirectory(database)
        # The producer only carries messages that keep failing to the dead-letter topics.
        self.producer = EventProducer(settings)
        self.consumer = EventConsumer(settings, group_id=settings.matching_directory_group,
                                      topics=CONSUMED_TOPICS, handler=self._apply_event,
                                      batch_handler=self._apply_events, producer=self.producer,
                                      linger_s=settings.matching_directory_linger_s)
        self.readiness_checks: dict[str, ReadinessCheck] = {
            "mongodb": mongo_ping(self.mongo), "kafka": kafka_ping(settings),
            "consumer": self._consumer_running}

    async def _apply_event(self, event: ConsumedEvent) -> None:
        await service.apply_to_directory(directory=self.directory, payloads=[event.data])

    async def _apply_events(self, events: list[ConsumedEvent]) -> None:
        await service.apply_to_directory(directory=self.directory,
                                         payloads=[event.data for event in events])

    async def _consumer_running(self) -> None:
        if not self.consumer.running:
            raise RuntimeError("the directory's event consumer is not running")

    async def start(self) -> None:
        await ensure_matching_topics(self.settings)
        await self.store.ensure_indexes()
        await self.directory.ensure_indexes()
        await self.producer.start()
        await self.consumer.start()

    async def stop(self) -> None:
        await self.consumer.stop()
        await self.producer.stop()
        await self.mongo.close()


def build_snapshot_store(settings: WorkerSettings, database) -> SnapshotStore | None:
    """The worker's snapshot store by MATCHING_SNAPSHOT_STORE (None: always a full replay)."""
    if settings.matching_snapshot_store == "directory":
        return DirectorySnapshotStore(settings.matching_snapshot_dir)
    if settings.matching_snapshot_store == "mongo":
        return MongoSnapshotStore(database)
    return None


class MatchingWorkerProcess:
    """The incremental matcher process: the feed of every item and tenant event, the engine,
    the persisted match set, the producer of match events and the consumer group membership
    that decides which pairs this instance announces."""

    def __init__(self, settings: WorkerSettings):
        self.settings = settings
        self.mongo = mongo_client(settings.mongo_uri)
        self.store = MongoMatchStore(self.mongo[settings.mongo_db])
        self.snapshots = build_snapshot_store(settings, self.mongo[settings.mongo_db])
        self.producer = EventProducer(settings)
        self.feed = KafkaFeed(settings, topics=CONSUMED_TOPICS,
                              client_id=f"{settings.kafka_client_prefix}-{settings.service_name}")
        # The worker joins the group once caught up and hands it its rebalance callbacks then.
        self.group = GroupOwnership(settings, topic=TOPIC_ITEMS)
        self.worker = MatchingWorker(settings=settings,
                                     engine=MatchingEngine(k=settings.matching_top_k),
                                     feed=self.feed, store=self.store, producer=self.producer,
                                     group=self.group, items_topic=TOPIC_ITEMS,
                                     snapshots=self.snapshots)
        self.readiness_checks: dict[str, ReadinessCheck] = {
            "mongodb": mongo_ping(self.mongo), "kafka": kafka_ping(settings),
            "matcher": self._matcher_ready}

    async def _matcher_ready(self) -> None:
        if not self.worker.ready:
            raise RuntimeError(f"matcher is {self.worker.phase}")
        if not self.group.running or self.group.crashed:
            raise RuntimeError("not a member of the consumer group")

    async def start(self) -> None:
        await ensure_matching_topics(self.settings)
        await self.store.ensure_indexes()
        await self.producer.start()
        await self.feed.start()
        await self.worker.start()

    async def stop(self) -> None:
        await self.worker.stop()
        await self.group.stop()
        await self.feed.stop()
        await self.producer.stop()
        await self.mongo.close()


def build_api(settings: MatchingSettings) -> MatchingApi:
    return MatchingApi(settings)


def build_worker(settings: WorkerSettings) -> MatchingWorkerProcess:
    return MatchingWorkerProcess(settings)
