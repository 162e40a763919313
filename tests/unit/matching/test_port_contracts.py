"""Matching's in-memory fakes keep the contracts of the ports they stand in for (and the
directory snapshot store, which needs no server, keeps its contract here too)."""
from __future__ import annotations

import pytest

from services.matching.adapters import snapshots as snapshot_adapters
from services.matching.adapters.snapshots import DirectorySnapshotStore
from tests.contract.ports.matching_directory import DirectoryContract
from tests.contract.ports.matching_match_store import MatchStoreContract
from tests.contract.ports.matching_snapshots import SnapshotStoreContract, snapshot
from tests.unit.matching.fakes import MemoryDirectory, MemoryMatchStore, MemorySnapshotStore


class TestMemoryMatchStore(MatchStoreContract):
    @pytest.fixture
    def store(self):
        return MemoryMatchStore()


class TestMemoryDirectory(DirectoryContract):
    @pytest.fixture
    def directory(self):
        return MemoryDirectory()


class TestMemorySnapshotStore(SnapshotStoreContract):
    @pytest.fixture
    def snapshots(self):
        return MemorySnapshotStore()

    async def kept(self, snapshots) -> int:
        return len(snapshots.saved)


class TestDirectorySnapshotStore(SnapshotStoreContract):
    @pytest.fixture
    def snapshots(self, tmp_path):
        return DirectorySnapshotStore(tmp_path / "snapshots")

    async def kept(self, snapshots) -> int:
        return len(list(snapshots.directory.glob("snapshot-*.bin")))

    async def test_a_write_that_fails_midway_leaves_the_previous_snapshot_the_latest(
            self, snapshots, monkeypatch):
        await snapshots.save(snapshot(1))

        def full_disk(descriptor):
            raise OSError(28, "No space left on device")

        monkeypatch.setattr(snapshot_adapters.os, "fsync", full_disk)
        with pytest.raises(OSError):
            await snapshots.save(snapshot(2))
        monkeypatch.undo()
        assert (await snapshots.latest()).meta["n"] == 1
        assert list(snapshots.directory.iterdir()) == list(snapshots.directory.glob("snapshot-*.bin"))
