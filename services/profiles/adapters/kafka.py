"""Kafka adapter: publishes outbox events through the shared EventProducer (acks=all)."""
from __future__ import annotations

from opentelemetry import context as otel_context

from platform_common.events import Envelope
from platform_common.kafka import EventProducer
from platform_common.observability.tracing import context_from_kafka_headers
from platform_common.settings import CommonSettings


class KafkaEventPublisher:
    def __init__(self, settings: CommonSettings):
        self._settings = settings
        self._producer: EventProducer | None = None

    async def start(self) -> None:
        # The Kafka client binds to the running event loop, so it is built here.
        self._producer = EventProducer(self._settings)
        await self._producer.start()

    async def stop(self) -> None:
        if self._producer is not None:
            await self._producer.stop()

    async def publish(self, envelope: Envelope, *, topic: str, key: str) -> None:
        # Continue the trace of the request that made the change, not the relay's own.
        token = otel_context.attach(context_from_kafka_headers(None, envelope.traceparent))
        try:
            if self._producer is None:
                raise RuntimeError("the publisher was not started")
            await self._producer.publish(envelope, topic=topic, key=key)
        finally:
            otel_context.detach(token)
