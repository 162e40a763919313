"""The worker process: the matcher loop plus /healthz, /readyz and /metrics on its PORT."""
from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import FastAPI

from platform_common.events import TOPIC_ACTORS, TOPIC_ITEMS, TOPIC_MATCHES, TOPIC_TENANTS
from platform_common.http import create_service_app
from platform_common.kafka import ensure_topics
from platform_common.stores import kafka_ping, mongo_ping
from services.matching.bootstrap import WorkerComponents, build_worker
from services.matching.settings import WorkerSettings


def create_app(settings: WorkerSettings) -> FastAPI:
    # Kafka clients need the running loop: the components are built in the lifespan.
    holder: dict[str, WorkerComponents] = {}

    async def mongo_ready():
        await mongo_ping(holder["components"].mongo)()

    async def matcher_ready():
        components = holder["components"]
        if not components.worker.ready:
            raise RuntimeError(f"matcher is {components.worker.phase}")
        if not components.group.running or components.group.crashed:
            raise RuntimeError("not a member of the consumer group")

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        partitions = settings.matching_partitions
        await ensure_topics(settings, {topic: partitions for topic in (
            TOPIC_TENANTS, TOPIC_ACTORS, TOPIC_ITEMS, TOPIC_MATCHES)})
        components = holder["components"] = app.state.components = build_worker(settings)
        await components.store.ensure_indexes()
        await components.producer.start()
        await components.feed.start()
        await components.worker.start()
        try:
            yield
        finally:
            await components.worker.stop()
            await components.group.stop()
            await components.feed.stop()
            await components.producer.stop()
            if components.profiles is not None:
                await components.profiles.close()
            await components.mongo.close()

    return create_service_app(
        settings=settings, title="Matching worker", lifespan=lifespan,
        readiness_checks={"mongodb": mongo_ready,
                          "kafka": kafka_ping(settings),
                          "matcher": matcher_ready})
