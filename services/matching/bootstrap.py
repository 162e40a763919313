"""The composition root: every adapter of the matching API and worker is built here."""
from __future__ import annotations

from dataclasses import dataclass

from pymongo import AsyncMongoClient

from platform_common.events import TOPIC_ACTORS, TOPIC_ITEMS, TOPIC_TENANTS
from platform_common.kafka import EventProducer
from platform_common.service_identity import ServiceKeys
from platform_common.stores import mongo_client
from services.matching.adapters.feed import KafkaFeed
from services.matching.adapters.match_store import MongoMatchStore
from services.matching.adapters.ownership import GroupOwnership
from services.matching.adapters.profiles import ProfilesClient
from services.matching.engine import MatchingEngine
from services.matching.settings import MatchingSettings, WorkerSettings
from services.matching.worker.processor import MatchingWorker


@dataclass
class ApiComponents:
    mongo: AsyncMongoClient
    store: MongoMatchStore
    profiles: ProfilesClient

    async def close(self) -> None:
        await self.profiles.close()
        await self.mongo.close()


@dataclass
class WorkerComponents:
    mongo: AsyncMongoClient
    store: MongoMatchStore
    producer: EventProducer
    feed: KafkaFeed
    group: GroupOwnership
    worker: MatchingWorker
    profiles: ProfilesClient | None


def build_api(settings: MatchingSettings) -> ApiComponents:
    mongo = mongo_client(settings.mongo_uri)
    return ApiComponents(mongo=mongo, store=MongoMatchStore(mongo[settings.mongo_db]),
                         profiles=ProfilesClient(settings.profiles_url,
                                                 keys=ServiceKeys.from_settings(settings),
                                                 timeout_s=settings.profiles_timeout_s))


def build_worker(settings: WorkerSettings) -> WorkerComponents:
    mongo = mongo_client(settings.mongo_uri)
    store = MongoMatchStore(mongo[settings.mongo_db])
    producer = EventProducer(settings)
    feed = KafkaFeed(settings, topics=[TOPIC_TENANTS, TOPIC_ACTORS, TOPIC_ITEMS],
                     client_id=f"{settings.kafka_client_prefix}-{settings.service_name}")
    profiles = (ProfilesClient(settings.profiles_url, keys=ServiceKeys.from_settings(settings),
                               timeout_s=settings.profiles_timeout_s)
                if settings.matching_load_from_profiles else None)
    worker = MatchingWorker(settings=settings, engine=MatchingEngine(k=settings.matching_top_k),
                            feed=feed, store=store, producer=producer, system_of_record=profiles,
                            items_topic=TOPIC_ITEMS)
    group = GroupOwnership(settings, topic=TOPIC_ITEMS, on_assigned=worker.on_assigned,
                           on_revoked=worker.on_revoked)
    worker.group = group
    return WorkerComponents(mongo=mongo, store=store, producer=producer, feed=feed, group=group,
                            worker=worker, profiles=profiles)
