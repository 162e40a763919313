"""The contract of the rate-limit counter store (gateway/ports.py: CounterStore).

What the rate limiter relies on: a counter counts up from 1, counters are independent, a counter
lives `expire_s` from its first increment and later increments do not extend it (a fixed
window), and a store that does not answer raises CounterStoreUnavailable (the limiter then
fails open).

A concrete subclass provides the fixtures `store` (a working store) and `unreachable_store`, and
`pass_time(store, seconds)`, which lets that much time go by for the store.
"""
from __future__ import annotations

import asyncio
import uuid

import pytest

from gateway.ports import CounterStoreUnavailable


def fresh_key() -> str:
    return f"contract:{uuid.uuid4().hex}"


class CounterStoreContract:
    async def pass_time(self, store, seconds: float) -> None:
        await asyncio.sleep(seconds)

    async def test_a_counter_counts_up_from_one(self, store):
        key = fresh_key()
        assert [await store.increment(key, 60) for _ in range(3)] == [1, 2, 3]

    async def test_counters_are_independent(self, store):
        first, second = fresh_key(), fresh_key()
        await store.increment(first, 60)
        await store.increment(first, 60)
        assert await store.increment(second, 60) == 1
        assert await store.increment(first, 60) == 3

    async def test_a_counter_expires_from_its_first_increment_on(self, store):
        key = fresh_key()
        assert await store.increment(key, 1) == 1
        await self.pass_time(store, 0.6)
        assert await store.increment(key, 1) == 2, "not expired yet"
        await self.pass_time(store, 0.6)
        # 1.2 s after the first increment: the second one did not extend the expiry.
        assert await store.increment(key, 1) == 1

    async def test_a_working_store_answers_a_ping(self, store):
        await store.ping()

    async def test_an_unreachable_store_is_unavailable(self, unreachable_store):
        with pytest.raises(CounterStoreUnavailable):
            await unreachable_store.increment(fresh_key(), 60)
        with pytest.raises(Exception):
            await unreachable_store.ping()
