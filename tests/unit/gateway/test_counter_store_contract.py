"""The in-memory counter store keeps the counter store contract (on a clock of its own)."""
from __future__ import annotations

import pytest

from tests.contract.ports.gateway_counter_store import CounterStoreContract
from tests.unit.gateway.fakes import MemoryCounterStore


class ManualClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class TestMemoryCounterStore(CounterStoreContract):
    @pytest.fixture
    def store(self):
        return MemoryCounterStore(clock=ManualClock())

    @pytest.fixture
    def unreachable_store(self):
        store = MemoryCounterStore()
        store.down = True
        return store

    async def pass_time(self, store, seconds: float) -> None:
        store.clock.now += seconds
