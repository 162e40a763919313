"""Sending claimed deliveries in the background, so the event consumer waits only for storage.

A delivery is stored as "pending" with a lease before it is queued here. If the process dies
with jobs still queued or in flight, the retry task sends them once their lease has ended:
nothing accepted is lost. The queue is bounded, so a slow mail server slows the consumer down
(back-pressure) instead of filling the memory.
"""
from __future__ import annotations

import asyncio

from platform_common.observability import get_logger
from services.notifications.service import Deps, SendJob, send_jobs

log = get_logger(__name__)


class Dispatcher:
    def __init__(self, deps: Deps, *, senders: int, queue_size: int, batch_size: int = 50):
        self._deps, self._senders, self._batch_size = deps, senders, batch_size
        self._queue: asyncio.Queue[SendJob] = asyncio.Queue(maxsize=queue_size)
        self._tasks: list[asyncio.Task] = []

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._send_forever(), name=f"dispatcher-{number}")
                       for number in range(self._senders)]

    async def submit(self, job: SendJob) -> None:
        await self._queue.put(job)

    @property
    def queued(self) -> int:
        return self._queue.qsize()

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
                await send_jobs(deps=self._deps, jobs=jobs)
            except Exception as exc:  # the deliveries stay pending; the retry task takes them
                log.warning("dispatch_failed", deliveries=len(jobs), error=repr(exc))
            finally:
                for _ in jobs:
                    self._queue.task_done()
