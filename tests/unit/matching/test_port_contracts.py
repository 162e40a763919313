"""Matching's in-memory fakes keep the contracts of the ports they stand in for."""
from __future__ import annotations

import pytest

from tests.contract.ports.matching_directory import DirectoryContract
from tests.contract.ports.matching_match_store import MatchStoreContract
from tests.unit.matching.fakes import MemoryDirectory, MemoryMatchStore


class TestMemoryMatchStore(MatchStoreContract):
    @pytest.fixture
    def store(self):
        return MemoryMatchStore()


class TestMemoryDirectory(DirectoryContract):
    @pytest.fixture
    def directory(self):
        return MemoryDirectory()
