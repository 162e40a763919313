"""The contract of the notifications service's WindowCounter (the instant-mail rate limit):
counters that add up within their window and start again once it has expired. The expiry is
set when a key is new; counting on does not extend it."""
from __future__ import annotations

import asyncio

import pytest

from services.notifications.ports import WindowCounter
from tests.contract.ports.notifications_builders import new_id


class WindowCounterContract:
    @pytest.fixture
    def counter(self) -> WindowCounter:
        raise NotImplementedError("a concrete suite gives the counter under test")

    async def test_counts_add_up_per_key(self, counter):
        first, second = new_id("window"), new_id("window")
        assert await counter.increment_many({first: (2, 60), second: (1, 60)}) == \
            {first: 2, second: 1}
        assert await counter.increment_many({first: (3, 60)}) == {first: 5}
        assert await counter.increment_many({second: (1, 60)}) == {second: 2}

    async def test_nothing_to_count_answers_nothing(self, counter):
        assert await counter.increment_many({}) == {}

    async def test_a_window_expires_after_its_ttl_and_counting_starts_again(self, counter):
        key = new_id("window")
        assert await counter.increment_many({key: (1, 1)}) == {key: 1}
        await asyncio.sleep(0.4)
        # A later increment in the same window keeps the window's end.
        assert await counter.increment_many({key: (1, 60)}) == {key: 2}
        await asyncio.sleep(0.9)
        assert await counter.increment_many({key: (1, 60)}) == {key: 1}
