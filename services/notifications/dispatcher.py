"""Sending claimed deliveries in the background, so the event consumer waits only for storage.

A delivery is stored as "pending" with a lease before it is queued here. If the process dies
with jobs still queued or in flight, the retry task sends them once their lease has ended:
nothing accepted is lost. The queue is bounded, so a slow mail server slows the consumer down
(back-pressure) instead of filling the memory.

The use cases put jobs into the queue (the `SendQueue` port); the dispatcher takes them out
and hands them to `send` (the sending use case), so neither knows the other.
"""
from __future__ import annotations

import asyncio
from typing import Awaitable, Callable

from platform_common.observability import get_logger
from services.notifications.domain.models import SendJob

log = get_logger(__name__)

SendJobs = Callable[[list[SendJob]], Awaitable[object]]


class Dispatcher:
    def __init__(self, queue: asyncio.Queue[SendJob], *, send: SendJobs, senders: int,
                 batch_size: int = 50):
        self._queue, self._send = queue, send
        self._senders, self._batch_size = senders, batch_size
        self._tasks: list[asyncio.Task] = []

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._send_forever(), name=f"dispatcher-{number}")
                       for number in range(self._senders)]

    async def stop(self, *, drain_timeout_s: float = 10) -> None:
        """Send what is queued (for a while), then stop; leftovers wait for their lease."""
        try:
            await asyncio.wait_for(self._queue.join(), timeout=drain_timeout_s)
        except asyncio.TimeoutError:
            log.warning("dispatcher_stopped_with_queued_deliveries", queued=self._queue.qsize())
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _send_forever(self) -> None:
        while True:
            jobs = [await self._queue.get()]
            while len(jobs) < self._batch_size and not self._queue.empty():
                jobs.append(self._queue.get_nowait())
            try:
                await self._send(jobs)
            except Exception as exc:  # the deliveries stay pending; the retry task takes them
                log.warning("dispatch_failed", deliveries=len(jobs), error=repr(exc))
            finally:
                for _ in jobs:
                    self._queue.task_done()
