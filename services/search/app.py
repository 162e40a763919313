"""The search service application: the API plus the event consumer feeding the index."""
from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import FastAPI
from tenacity import AsyncRetrying, stop_after_delay, wait_exponential

from platform_common.http import create_service_app
from platform_common.kafka import ensure_topics
from platform_common.observability.logging import get_logger
from platform_common.stores import kafka_ping
from services.search.api import router
from services.search.bootstrap import CONSUMED_TOPICS, build
from services.search.settings import SearchSettings

log = get_logger(__name__)


def create_app(settings: SearchSettings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI):
        components = build(settings)
        app.state.components = components
        await ensure_topics(settings, CONSUMED_TOPICS)
        # The search engine may still be starting next to us.
        async for attempt in AsyncRetrying(stop=stop_after_delay(60),
                                           wait=wait_exponential(0.2, max=3), reraise=True):
            with attempt:
                await components.index.ensure_indexes()
        await components.producer.start()
        await components.consumer.start()
        log.info("search_started", prefix=settings.elasticsearch_index_prefix)
        try:
            yield
        finally:
            await components.consumer.stop()
            await components.producer.stop()
            await components.elasticsearch.close()

    async def elasticsearch_ready():
        await app.state.components.index.ping()

    async def consumer_running():
        if not app.state.components.consumer.running:
            raise RuntimeError("the event consumer is not running")

    app = create_service_app(
        settings=settings, title="engage search", lifespan=lifespan,
        readiness_checks={"elasticsearch": elasticsearch_ready,
                          "kafka": kafka_ping(settings),
                          "consumer": consumer_running})
    app.include_router(router)
    return app
