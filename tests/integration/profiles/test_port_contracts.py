"""The MongoDB adapters keep the ports' contracts: the suites the in-memory fakes pass
(tests/unit/profiles/test_port_contracts.py) against the local document store.

Each test has a database of its own, dropped afterwards, so lists start empty."""
from __future__ import annotations

import uuid

import pytest

from platform_common.events import Envelope
from platform_common.stores import mongo_client
from services.profiles.adapters.mongo import MongoOutbox, MongoProfileStore
from services.profiles.adapters.mongo_stats import MongoStats
from services.profiles.adapters.mongo_suggestions import MongoSuggestions
from tests.contract.ports.profiles_outbox import OutboxContract
from tests.contract.ports.profiles_stats import StatsStoreContract
from tests.contract.ports.profiles_store import ProfileStoreContract
from tests.contract.ports.profiles_suggestions import SuggestionStoreContract

pytestmark = pytest.mark.integration


@pytest.fixture
async def database(engines):
    client = mongo_client(engines.mongo_uri)
    name = f"contract-{uuid.uuid4().hex[:10]}"
    try:
        yield client, name
    finally:
        await client.drop_database(name)
        await client.close()


class TestMongoProfileStore(ProfileStoreContract):
    @pytest.fixture
    async def store(self, database):
        client, name = database
        store = MongoProfileStore(client, name, transaction_attempts=5)
        await store.ensure_indexes()
        return store

    async def outbox_events(self, store) -> list[tuple]:
        cursor = store._db.outbox.find({}).sort("sequence", 1)
        return [(doc["topic"], doc["key"], Envelope.model_validate_json(doc["envelope"]))
                async for doc in cursor]


class TestMongoSuggestions(SuggestionStoreContract):
    @pytest.fixture
    async def suggestions(self, database):
        client, name = database
        suggestions = MongoSuggestions(client[name])
        await suggestions.ensure_indexes()
        return suggestions


class TestMongoOutbox(OutboxContract):
    @pytest.fixture
    async def outbox(self, database):
        client, name = database
        store = MongoProfileStore(client, name, transaction_attempts=5)
        await store.ensure_indexes()
        return store, MongoOutbox(client, name)


class TestMongoStats(StatsStoreContract):
    @pytest.fixture
    async def stores(self, database):
        client, name = database
        store = MongoProfileStore(client, name, transaction_attempts=5)
        await store.ensure_indexes()  # the statistics' indexes too
        return store, MongoStats(client[name])
