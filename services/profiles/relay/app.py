"""The relay process: a small FastAPI app (/healthz, /readyz, /metrics) around the relay loops."""
from __future__ import annotations

import socket
from contextlib import asynccontextmanager

from fastapi import FastAPI

from platform_common.events import TOPIC_ACTORS, TOPIC_ITEMS, TOPIC_TENANTS
from platform_common.http import create_service_app
from platform_common.kafka import ensure_topics
from platform_common.stores import kafka_ping, mongo_ping
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

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        await prepare_database(components.store)
        await ensure_topics(settings, [TOPIC_TENANTS, TOPIC_ACTORS, TOPIC_ITEMS])
        await components.publisher.start()
        await relay.start()
        try:
            yield
        finally:
            await relay.stop()
            await components.publisher.stop()
            await components.close()

    app = create_service_app(
        settings=settings, title="Profiles outbox relay", lifespan=lifespan,
        readiness_checks={"mongo": mongo_ping(components.mongo),
                          "kafka": kafka_ping(settings.kafka_bootstrap_servers),
                          "relay": relay.check_running()})
    app.state.relay = relay
    return app
