"""What must not be given up is tried again with a growing wait until it succeeds (a cancel
still ends it); a message that cannot be handled goes to `<topic>.dlq` unchanged, with its
headers and what went wrong, even when the broker refuses it at first."""
from __future__ import annotations

import asyncio

import pytest

from platform_common import retry
from platform_common.kafka.dead_letter import dead_letter
from platform_common.retry import retry_forever
from services.matching.ports import FeedRecord


@pytest.fixture
def waits(monkeypatch) -> list[float]:
    """The waits between attempts, recorded instead of slept."""
    recorded: list[float] = []

    async def sleep(seconds: float) -> None:
        recorded.append(seconds)

    monkeypatch.setattr(retry.asyncio, "sleep", sleep)
    return recorded


async def test_an_operation_is_tried_until_it_succeeds_waiting_longer_each_time(waits):
    attempts = []

    async def flaky() -> str:
        attempts.append(len(attempts))
        if len(attempts) < 7:
            raise ConnectionError("store away")
        return "done"

    assert await retry_forever("write", flaky) == "done"
    assert len(attempts) == 7
    assert waits == [0.2, 0.4, 0.8, 1.6, 3.2, 5.0]


async def test_cancelling_ends_the_retries():
    started = asyncio.Event()

    async def never() -> None:
        started.set()
        raise ConnectionError("store away")

    task = asyncio.create_task(retry_forever("write", never))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


class Broker:
    def __init__(self, refusals: int):
        self.refusals, self.sent = refusals, []

    async def send_raw(self, topic, value, *, key=None, headers=None) -> None:
        if self.refusals:
            self.refusals -= 1
            raise ConnectionError("not leader")
        self.sent.append((topic, value, key, dict(headers or ())))


async def test_a_dead_letter_keeps_the_message_and_says_what_went_wrong(waits):
    broker = Broker(refusals=2)
    record = FeedRecord("items", 3, 41, b"item-7", b"{broken", (("traceparent", b"00-abc"),))
    await dead_letter(broker, record, ValueError("not an event"), service="matching-worker",
                      consumer_group="matching-worker", attempts=0)
    (topic, value, key, headers), = broker.sent
    assert (topic, value, key) == ("items.dlq", b"{broken", "item-7")
    assert headers["traceparent"] == b"00-abc"
    assert headers["dlq.error"] == b"not an event"
    assert headers["dlq.error_type"] == b"ValueError"
    assert (headers["dlq.topic"], headers["dlq.partition"], headers["dlq.offset"]) == (
        b"items", b"3", b"41")
    assert headers["dlq.attempts"] == b"0" and headers["dlq.consumer_group"] == b"matching-worker"
    assert len(waits) == 2
