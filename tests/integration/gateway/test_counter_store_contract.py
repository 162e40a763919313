"""The Redis counter store keeps the counter store contract, on the local stack's Redis."""
from __future__ import annotations

import pytest

from deploy.local.engines import free_port
from gateway.adapters.redis_counters import RedisCounterStore, rate_limit_redis
from tests.contract.ports.gateway_counter_store import CounterStoreContract

pytestmark = pytest.mark.integration


class TestRedisCounterStore(CounterStoreContract):
    @pytest.fixture
    async def store(self, engines):
        store = RedisCounterStore(rate_limit_redis(engines.redis_url, 2.0))
        try:
            yield store
        finally:
            await store.close()

    @pytest.fixture
    async def unreachable_store(self):
        store = RedisCounterStore(rate_limit_redis(f"redis://127.0.0.1:{free_port()}/0", 0.5))
        try:
            yield store
        finally:
            await store.close()
