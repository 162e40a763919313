"""The MongoDB adapters keep the ports' contracts: the same suites run against the in-memory
fakes in tests/unit/matching/test_port_contracts.py. Each test gets a database of its own on
matching's document store, with the adapter's indexes."""
from __future__ import annotations

import uuid

import pytest

from platform_common.stores import mongo_client
from services.matching.adapters.directory import MongoDirectory
from services.matching.adapters.match_store import MongoMatchStore
from tests.contract.ports.matching_directory import DirectoryContract
from tests.contract.ports.matching_match_store import MatchStoreContract

pytestmark = pytest.mark.integration


@pytest.fixture(scope="session")
async def contract_mongo(engines):
    client = mongo_client(engines.mongo_uri_for("matching"))
    yield client
    await client.close()


@pytest.fixture
async def db(contract_mongo):
    name = f"matching_contract_{uuid.uuid4().hex[:10]}"
    yield contract_mongo[name]
    await contract_mongo.drop_database(name)


class TestMongoMatchStore(MatchStoreContract):
    @pytest.fixture
    async def store(self, db):
        store = MongoMatchStore(db)
        await store.ensure_indexes()
        return store


class TestMongoDirectory(DirectoryContract):
    @pytest.fixture
    async def directory(self, db):
        directory = MongoDirectory(db)
        await directory.ensure_indexes()
        return directory
