"""The MongoDB and Redis adapters keep the ports' contracts: the same suites run against the
in-memory fakes in tests/unit/notifications/test_port_contracts.py. Each test gets a database
of its own on the notifications document store, with the service's indexes (the unique keys
are part of the contract)."""
from __future__ import annotations

import uuid

import pytest

from platform_common.stores import mongo_client, redis_client
from services.notifications.adapters.mongo import (
    MongoDeliveries, MongoEngagements, MongoMatchHistory, MongoNotifications, MongoPreferences,
    MongoRecipients, MongoReminders, create_indexes,
)
from services.notifications.adapters.redis_counter import RedisWindowCounter
from tests.contract.ports.notifications_deliveries import DeliveryStoreContract
from tests.contract.ports.notifications_builders import at, new_id, notification
from tests.contract.ports.notifications_engagements import EngagementStoreContract
from tests.contract.ports.notifications_match_history import MatchHistoryContract
from tests.contract.ports.notifications_notifications import NotificationStoreContract
from tests.contract.ports.notifications_preferences import PreferenceStoreContract
from tests.contract.ports.notifications_recipients import RecipientStoreContract
from tests.contract.ports.notifications_reminders import ReminderStoreContract
from tests.contract.ports.notifications_window_counter import WindowCounterContract


@pytest.fixture(scope="session")
async def contract_mongo(engines):
    client = mongo_client(engines.mongo_uri_for("notifications"))
    yield client
    await client.close()


@pytest.fixture
async def db(contract_mongo):
    name = f"notifications_contract_{uuid.uuid4().hex[:10]}"
    database = contract_mongo[name]
    await create_indexes(database)
    yield database
    await contract_mongo.drop_database(name)


@pytest.fixture(scope="session")
async def contract_redis(engines):
    client = redis_client(engines.redis_url)
    yield client
    await client.aclose()


class TestMongoRecipients(RecipientStoreContract):
    @pytest.fixture
    def recipients(self, db):
        return MongoRecipients(db)


class TestMongoPreferences(PreferenceStoreContract):
    @pytest.fixture
    def preferences(self, db):
        return MongoPreferences(db)


class TestMongoNotifications(NotificationStoreContract):
    @pytest.fixture
    def notifications(self, db):
        return MongoNotifications(db)


class TestMongoDeliveries(DeliveryStoreContract):
    @pytest.fixture
    def deliveries(self, db):
        return MongoDeliveries(db)


class TestMongoMatchHistory(MatchHistoryContract):
    @pytest.fixture
    def match_history(self, db):
        return MongoMatchHistory(db)


class TestMongoEngagements(EngagementStoreContract):
    @pytest.fixture
    def engagements(self, db):
        return MongoEngagements(db)


class TestMongoReminders(ReminderStoreContract):
    @pytest.fixture
    def reminders(self, db):
        return MongoReminders(db)


class TestRedisWindowCounter(WindowCounterContract):
    @pytest.fixture
    def counter(self, contract_redis):
        return RedisWindowCounter(contract_redis)


async def test_indexes_of_earlier_versions_go_and_only_open_leads_are_in_the_window_indexes(
        contract_mongo):
    # Each index costs every write of the hottest collection (README, "What a window costs").
    database = contract_mongo[f"notifications_contract_{uuid.uuid4().hex[:10]}"]
    collection = database.notifications
    try:
        await collection.create_index([("actor_id", 1), ("created_at", -1), ("_id", -1)])
        await collection.create_index([("window", 1), ("closes_at", 1)])
        await collection.create_index([("closes_at", 1)])
        await collection.create_index([("joining_since", 1)])
        await create_indexes(database)
        await create_indexes(database)  # at every start
        indexes = await collection.index_information()
        assert not {"actor_id_1_created_at_-1__id_-1", "window_1_closes_at_1",
                    "joining_since_1"} & set(indexes)
        assert indexes["window_1"].get("sparse") and indexes["closes_at_1"].get("sparse")

        store = MongoNotifications(database)
        plain, lead = notification(new_id("actor")), notification(new_id("actor"))
        lead.window, lead.closes_at, lead.member_ids = "a:item", at(2), [lead.id]
        await store.insert_many([plain, lead])
        stored = await collection.find_one({"_id": plain.id})
        assert "window" not in stored and "closes_at" not in stored
        assert await store.windows_due(now=at(5), limit=10) == [lead.id]
        await store.seal_windows([lead.id])
        sealed = await collection.find_one({"_id": lead.id})
        assert "window" not in sealed and "closes_at" not in sealed and sealed["sealed"] is True
    finally:
        await contract_mongo.drop_database(database.name)
