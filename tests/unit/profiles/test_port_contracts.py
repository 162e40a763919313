"""The in-memory fakes keep the ports' contracts: the same suites run against the MongoDB
adapters in tests/integration/profiles/test_port_contracts.py."""
from __future__ import annotations

import pytest

from tests.contract.ports.profiles_outbox import OutboxContract
from tests.contract.ports.profiles_stats import StatsStoreContract
from tests.contract.ports.profiles_store import ProfileStoreContract
from tests.contract.ports.profiles_suggestions import SuggestionStoreContract
from tests.unit.profiles.memory_store import (
    MemoryOutbox, MemoryStats, MemoryStore, MemorySuggestions,
)


class TestMemoryProfileStore(ProfileStoreContract):
    @pytest.fixture
    def store(self):
        return MemoryStore()

    async def outbox_events(self, store) -> list[tuple]:
        return list(store.data["outbox"])


class TestMemorySuggestions(SuggestionStoreContract):
    @pytest.fixture
    def suggestions(self):
        return MemorySuggestions()


class TestMemoryOutbox(OutboxContract):
    @pytest.fixture
    def outbox(self):
        store = MemoryStore()
        return store, MemoryOutbox(store)


class TestMemoryStats(StatsStoreContract):
    @pytest.fixture
    def stores(self):
        store = MemoryStore()
        return store, MemoryStats(store)
