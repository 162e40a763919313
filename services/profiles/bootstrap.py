"""The composition root of both profiles processes: each class builds every adapter it uses
in __init__ (inside the running event loop: create_process_app calls the build function there),
starts and stops them, and names its readiness checks."""
from __future__ import annotations

import asyncio
import contextlib
import socket

from pymongo.errors import PyMongoError
from tenacity import AsyncRetrying, stop_after_delay, wait_exponential

from platform_common.events import (
    TOPIC_ACTORS, TOPIC_ENGAGEMENTS, TOPIC_ITEMS, TOPIC_MATCHES, TOPIC_TENANTS,
)
from platform_common.kafka import ConsumedEvent, EventConsumer, EventProducer, ensure_topics
from platform_common.lifecycle import ReadinessCheck
from platform_common.stores import kafka_ping, mongo_client, mongo_ping
from services.profiles import service
from services.profiles.adapters.kafka import KafkaEventPublisher
from services.profiles.adapters.mongo import MongoOutbox, MongoProfileStore
from services.profiles.adapters.mongo_stats import MongoStats
from services.profiles.adapters.mongo_suggestions import MongoSuggestions
from services.profiles.ports import ProfileStore
from services.profiles.relay.loop import OutboxRelay
from services.profiles.settings import ProfilesSettings, RelaySettings


async def prepare_database(store: ProfileStore) -> None:
    """Create the indexes, waiting a while for the database to come up."""
    async for attempt in AsyncRetrying(stop=stop_after_delay(60), wait=wait_exponential(0.2, max=3),
                                       reraise=True):
        with attempt:
            await store.ensure_indexes()


async def close_mongo(client) -> None:
    # Closing ends server sessions; when the database is already gone (the whole stack
    # stopping) that would wait for server selection, so give it a second at most.
    with contextlib.suppress(asyncio.TimeoutError, PyMongoError):
        await asyncio.wait_for(client.close(), timeout=1)


class ProfilesApi:
    """The profiles API process: the routes' use cases over MongoDB. It never talks to Kafka
    (its events go into the outbox, which the relay publishes) nor to another service."""

    def __init__(self, settings: ProfilesSettings):
        self.settings = settings
        self.mongo = mongo_client(settings.mongo_uri)
        database = self.mongo[settings.mongo_db]
        self.store = MongoProfileStore(self.mongo, settings.mongo_db,
                                       transaction_attempts=settings.transaction_attempts)
        self.stats = MongoStats(database)
        # Read by contact requests (CONTACTS_REQUIRE_MATCH); the relay keeps it up to date.
        self.suggestions = MongoSuggestions(database) if settings.contacts_require_match else None
        self.readiness_checks: dict[str, ReadinessCheck] = {"mongo": mongo_ping(self.mongo)}

    async def start(self) -> None:
        await prepare_database(self.store)

    async def stop(self) -> None:
        await close_mongo(self.mongo)


class ProfilesRelay:
    """The relay process: publishes the outbox (one lease holder at a time), expires items,
    and reads the `matches` topic into the statistics and the current suggestions."""

    def __init__(self, settings: RelaySettings):
        self.settings = settings
        self.mongo = mongo_client(settings.mongo_uri)
        database = self.mongo[settings.mongo_db]
        self.store = MongoProfileStore(self.mongo, settings.mongo_db,
                                       transaction_attempts=settings.transaction_attempts)
        self.stats = MongoStats(database)
        self.suggestions = MongoSuggestions(database)
        self.outbox = MongoOutbox(self.mongo, settings.mongo_db)
        self.publisher = KafkaEventPublisher(settings)
        # Stable across restarts of the same instance, so a restarted relay resumes at once
        # instead of waiting for the lease of its previous life to run out.
        owner = settings.relay_instance_id or f"{socket.gethostname()}:{settings.port}"
        self.relay = OutboxRelay(outbox=self.outbox, publisher=self.publisher, store=self.store,
                                 settings=settings, owner=owner)
        self.dead_letters = EventProducer(settings)
        self.matches_consumer = EventConsumer(
            settings, group_id=settings.stats_consumer_group, topics=[TOPIC_MATCHES],
            handler=self.on_match_event, batch_handler=self.on_match_events,
            producer=self.dead_letters, linger_s=settings.stats_consumer_linger_s)
        self.readiness_checks: dict[str, ReadinessCheck] = {
            "mongo": mongo_ping(self.mongo), "kafka": kafka_ping(settings),
            "relay": self.relay.check_running(), "stats_consumer": self.matches_consumer_running}

    async def on_match_events(self, events: list[ConsumedEvent]) -> None:
        await service.record_match_events(
            stats=self.stats, suggestions=self.suggestions,
            events=[(event.envelope.type, event.data, event.envelope.occurred_at)
                    for event in events])

    async def on_match_event(self, event: ConsumedEvent) -> None:
        await self.on_match_events([event])

    async def matches_consumer_running(self) -> None:
        if not self.matches_consumer.running:
            raise RuntimeError("the matches consumer (statistics, suggestions) is not running")

    async def start(self) -> None:
        await prepare_database(self.store)
        await ensure_topics(self.settings, [TOPIC_TENANTS, TOPIC_ACTORS, TOPIC_ITEMS,
                                            TOPIC_MATCHES, TOPIC_ENGAGEMENTS])
        await self.publisher.start()
        await self.relay.start()
        await self.dead_letters.start()
        await self.matches_consumer.start()

    async def stop(self) -> None:
        await self.matches_consumer.stop()
        await self.dead_letters.stop()
        await self.relay.stop()
        await self.publisher.stop()
        await close_mongo(self.mongo)


def build_api(settings: ProfilesSettings) -> ProfilesApi:
    return ProfilesApi(settings)


def build_relay(settings: RelaySettings) -> ProfilesRelay:
    return ProfilesRelay(settings)
