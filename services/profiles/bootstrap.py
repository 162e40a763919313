"""The one composition root: builds the adapters from settings."""
from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass

from pymongo import AsyncMongoClient
from pymongo.errors import PyMongoError

from platform_common.service_identity import ServiceKeys
from platform_common.stores import mongo_client
from services.profiles.adapters.kafka import KafkaEventPublisher
from services.profiles.adapters.matching import MatchingClient
from services.profiles.adapters.mongo import MongoOutbox, MongoProfileStore
from services.profiles.adapters.mongo_stats import MongoStats
from services.profiles.settings import ProfilesSettings, RelaySettings


@dataclass
class ProfilesComponents:
    mongo: AsyncMongoClient
    store: MongoProfileStore
    # Asked before a contact request when a MATCHING_URL is configured; None: not asked.
    matches: MatchingClient | None
    stats: MongoStats

    async def close(self) -> None:
        if self.matches is not None:
            await self.matches.close()
        # Closing ends server sessions; when the database is already gone (the whole stack
        # stopping) that would wait for server selection, so give it a second at most.
        with contextlib.suppress(asyncio.TimeoutError, PyMongoError):
            await asyncio.wait_for(self.mongo.close(), timeout=1)


@dataclass
class RelayComponents(ProfilesComponents):
    outbox: MongoOutbox
    publisher: KafkaEventPublisher


def build_components(settings: ProfilesSettings) -> ProfilesComponents:
    client = mongo_client(settings.mongo_uri)
    matches = None
    if settings.matching_url and settings.contacts_require_match:
        matches = MatchingClient(settings.matching_url, keys=ServiceKeys.from_settings(settings),
                                 timeout_s=settings.matching_timeout_s)
    return ProfilesComponents(
        mongo=client,
        store=MongoProfileStore(client, settings.mongo_db,
                                transaction_attempts=settings.transaction_attempts),
        matches=matches, stats=MongoStats(client[settings.mongo_db]))


def build_relay_components(settings: RelaySettings) -> RelayComponents:
    # The relay never handles contact requests, so it does not talk to matching.
    client = mongo_client(settings.mongo_uri)
    return RelayComponents(
        mongo=client,
        store=MongoProfileStore(client, settings.mongo_db,
                                transaction_attempts=settings.transaction_attempts),
        matches=None, stats=MongoStats(client[settings.mongo_db]),
        outbox=MongoOutbox(client, settings.mongo_db),
        publisher=KafkaEventPublisher(settings))
