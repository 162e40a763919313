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
