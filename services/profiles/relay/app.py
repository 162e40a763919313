"""The relay process: a small FastAPI app (/healthz, /readyz, /metrics) around the relay loops."""
from __future__ import annotations

import socket
from contextlib import asynccontextmanager

from fastapi import FastAPI

from platform_common.events import TOPIC_ACTORS, TOPIC_ITEMS, TOPIC_MATCHES, TOPIC_TENANTS
from platform_common.http import create_service_app
from platform_common.kafka import ConsumedEvent, EventConsumer, EventProducer, ensure_topics
from platform_common.stores import kafka_ping, mongo_ping
from services.profiles import service
from services.profiles.app import prepare_database
from services.profiles.bootstrap import build_relay_components
from services.profiles.relay.loop import OutboxRelay
from services.profiles.settings import RelaySettings


def create_relay_app(settings: RelaySettings) -> FastAPI:
    components = build_relay_components(settings)
    # Stable across restarts of the same instance, so a restarted relay resumes at once
    # instead of waiting for the lease of its previous life to run out.
    owner = settings.relay_instance_id or f"{socket.gethostname()}:{settings.port}"
    relay = OutboxRelay(outbox=components.outbox, publisher=components.publisher,
                        store=components.store, settings=settings, owner=owner)

    running: dict = {}

    async def on_match_events(events: list[ConsumedEvent]) -> None:
        await service.record_matches_found(stats=components.stats, found=[
            (event.data, event.envelope.occurred_at) for event in events
            if event.envelope.type == "match.found"])

    async def on_match_event(event: ConsumedEvent) -> None:
        await on_match_events([event])

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        await prepare_database(components.store)
        await ensure_topics(settings, [TOPIC_TENANTS, TOPIC_ACTORS, TOPIC_ITEMS, TOPIC_MATCHES])
        await components.publisher.start()
        await relay.start()
        # The statistics remember when pairs and items were first matched (topic `matches`).
        dlq_producer = EventProducer(settings)
        await dlq_producer.start()
        stats_consumer = EventConsumer(settings, group_id=settings.stats_consumer_group,
                                       topics=[TOPIC_MATCHES], handler=on_match_event,
                                       batch_handler=on_match_events, producer=dlq_producer)
        await stats_consumer.start()
        running["stats_consumer"] = stats_consumer
        try:
            yield
        finally:
            await stats_consumer.stop()
            await dlq_producer.stop()
            await relay.stop()
            await components.publisher.stop()
            await components.close()

    async def stats_consumer_running() -> None:
        consumer = running.get("stats_consumer")
        if consumer is None or not consumer.running:
            raise RuntimeError("the matches consumer (statistics) is not running")

    app = create_service_app(
        settings=settings, title="Profiles outbox relay", lifespan=lifespan,
        readiness_checks={"mongo": mongo_ping(components.mongo),
                          "kafka": kafka_ping(settings),
                          "relay": relay.check_running(),
                          "stats_consumer": stats_consumer_running})
    app.state.relay = relay
    return app
