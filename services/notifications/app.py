"""The notifications app: HTTP API, the event consumer and the periodic retry and digest tasks."""
from __future__ import annotations

import asyncio
from contextlib import suppress
from contextlib import asynccontextmanager
from typing import Awaitable, Callable

from fastapi import FastAPI

from platform_common.http import create_service_app
from platform_common.kafka import ensure_topics
from platform_common.observability import get_logger
from platform_common.stores import kafka_ping, mongo_ping, redis_ping
from services.notifications import service
from services.notifications.adapters.mongo import create_indexes
from services.notifications.api import router
from services.notifications.bootstrap import CONSUMED_TOPICS, build_runtime
from services.notifications.settings import NotificationsSettings

log = get_logger(__name__)


async def _every(interval_s: float, name: str, job: Callable[[], Awaitable[object]],
                 wakeup: asyncio.Event | None = None) -> None:
    """Run `job` every `interval_s`, or at once when `wakeup` is set."""
    while True:
        if wakeup is None:
            await asyncio.sleep(interval_s)
        else:
            with suppress(asyncio.TimeoutError):
                await asyncio.wait_for(wakeup.wait(), timeout=interval_s)
            wakeup.clear()
        try:
            outcome = await job()
            if outcome and any(outcome.values()):
                log.info("periodic_task_done", task=name, outcome=outcome)
        except Exception as exc:  # a failed round must not end the task; the next one retries
            log.warning("periodic_task_failed", task=name, error=repr(exc))


def create_app(settings: NotificationsSettings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI):
        runtime = build_runtime(settings)
        app.state.runtime = runtime
        await create_indexes(runtime.db)
        await ensure_topics(settings, CONSUMED_TOPICS)
        await runtime.producer.start()
        runtime.dispatcher.start()
        await runtime.consumer.start()
        deps = runtime.deps
        tasks = [
            asyncio.create_task(_every(settings.retry_interval_s, "retry_deliveries",
                                       lambda: service.retry_due_deliveries(deps=deps),
                                       wakeup=deps.retry_wakeup)),
            asyncio.create_task(_every(settings.digest_check_interval_s, "daily_digests",
                                       lambda: service.run_digests(deps=deps))),
            asyncio.create_task(_every(settings.pending_lease_s, "waiting_deliveries",
                                       lambda: service.check_waiting_deliveries(deps=deps))),
        ]

        async def consumer_running() -> None:
            if not runtime.consumer.running:
                raise RuntimeError("the event consumer stopped")

        # SMTP and webhook receivers are deliberately not readiness checks: when they are down,
        # deliveries are recorded and retried, and the inbox API must stay available.
        app.state.readiness_checks.update({
            "mongo": mongo_ping(runtime.mongo), "redis": redis_ping(runtime.redis),
            "kafka": kafka_ping(settings), "consumer": consumer_running,
        })
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await runtime.consumer.stop()
            await runtime.dispatcher.stop()
            await runtime.producer.stop()
            await runtime.close()

    app = create_service_app(settings=settings, title="Notifications", lifespan=lifespan,
                             readiness_checks={})
    app.include_router(router)
    return app
