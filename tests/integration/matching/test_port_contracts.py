"""The MongoDB adapters keep the ports' contracts: the same suites run against the in-memory
fakes in tests/unit/matching/test_port_contracts.py. Each test gets a database of its own on
matching's document store, with the adapter's indexes."""
from __future__ import annotations

import uuid

import pytest

from platform_common.stores import mongo_client
from services.matching.adapters.directory import MongoDirectory
from services.matching.adapters import snapshots as snapshot_adapters
from services.matching.adapters import match_store
from services.matching.adapters.match_store import MongoMatchStore
from services.matching.adapters.snapshots import MongoSnapshotStore
from tests.contract.ports.matching_directory import DirectoryContract
from tests.contract.ports.matching_match_store import MatchStoreContract, unique
from tests.contract.ports.matching_snapshots import SnapshotStoreContract, snapshot
from tests.unit.matching.fakes import pair_doc

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

    async def test_found_fingerprints_are_read_in_pages_each_answered_from_an_index(
            self, store, monkeypatch):
        """A take-over's read of many stored pairs is split into ranges of pair keys (one
        query for all kept the local store too busy to answer the driver's heartbeat)."""
        monkeypatch.setattr(match_store, "PAGE_PAIRS", 20)
        pages = []
        page_filter = match_store.found_page_filter

        def recorded(partition, start, end):
            pages.append((start, end))
            return page_filter(partition, start, end)
        monkeypatch.setattr(match_store, "found_page_filter", recorded)
        partition = 7000 + uuid.uuid4().int % 100000
        offers = [str(uuid.uuid4()) for _ in range(150)]
        offers += ["-before-every-uuid", "offer-after-every-uuid"]  # keys outside the hex range
        docs = [pair_doc(offer, unique("n"), partition=partition) for offer in offers]
        others = [pair_doc(str(uuid.uuid4()), unique("n"), partition=partition, state="withdrawn"),
                  pair_doc(str(uuid.uuid4()), unique("n"), partition=partition + 1)]
        await store.write(docs + others, new_keys={d["_id"] for d in docs + others})

        found = await store.found_fingerprints([partition])
        assert found == {partition: {d["_id"]: d["fingerprint"] for d in docs}}
        assert len(pages) > len(docs) // 20
        plan = await store._matches.find(page_filter(partition, 4096, 8192)).explain()
        assert "IXSCAN" in str(plan) and "partition_found" in str(plan)


class TestMongoDirectory(DirectoryContract):
    @pytest.fixture
    async def directory(self, db):
        directory = MongoDirectory(db)
        await directory.ensure_indexes()
        return directory


class TestMongoSnapshotStore(SnapshotStoreContract):
    @pytest.fixture
    def snapshots(self, db, monkeypatch):
        # Small chunks: sections span chunk boundaries, as the large ones of a real snapshot do.
        monkeypatch.setattr(snapshot_adapters, "CHUNK_BYTES", 100_000)
        return MongoSnapshotStore(db)

    async def kept(self, snapshots) -> int:
        return await snapshots._manifests.count_documents({"state": "complete"})

    async def test_a_write_that_crashed_midway_is_never_the_latest_and_is_cleared_later(
            self, snapshots, monkeypatch):
        await snapshots.save(snapshot(1))
        written = []
        real_write = snapshots._write_chunk

        async def crash_after_two_chunks(snapshot_id, n, data):
            if len(written) == 2:
                raise ConnectionError("the worker died here")
            written.append(snapshot_id)
            await real_write(snapshot_id, n, data)

        monkeypatch.setattr(snapshots, "_write_chunk", crash_after_two_chunks)
        with pytest.raises(ConnectionError):
            await snapshots.save(snapshot(2, big=500_000))
        monkeypatch.undo()
        assert (await snapshots.latest()).meta["n"] == 1
        # Once two newer snapshots exist, what the crashed writer left is gone.
        await snapshots.save(snapshot(3))
        await snapshots.save(snapshot(4))
        assert await snapshots._manifests.count_documents({}) == 2
        crashed = written[0]
        assert await snapshots._chunks.count_documents(
            {"_id": {"$gte": f"{crashed}:", "$lt": f"{crashed};"}}) == 0
