"""The one way events leave a service: acks from all replicas, trace context in the headers."""
from __future__ import annotations

import asyncio

from aiokafka import AIOKafkaProducer
from opentelemetry import trace

from platform_common.events import Envelope, event_type
from platform_common.observability.metrics import EVENTS_PUBLISHED
from platform_common.observability.tracing import (
    context_from_kafka_headers, current_traceparent, kafka_headers_from_context, tracer,
)
from platform_common.kafka.security import kafka_client_options
from platform_common.settings import CommonSettings


class EventProducer:
    def __init__(self, settings: CommonSettings, *, client_id: str | None = None):
        self._settings = settings
        self._producer = AIOKafkaProducer(
            bootstrap_servers=settings.kafka_bootstrap_servers,
            client_id=client_id or f"{settings.kafka_client_prefix}-{settings.service_name}",
            acks="all",
            enable_idempotence=settings.kafka_enable_idempotence,
            linger_ms=2,
            request_timeout_ms=15000,
            retry_backoff_ms=200,
            **kafka_client_options(settings),
        )

    async def start(self) -> None:
        await self._producer.start()

    async def stop(self) -> None:
        await self._producer.stop()

    async def publish(self, envelope: Envelope, *, topic: str | None = None,
                      key: str | None = None) -> None:
        """Send and wait for the broker's acknowledgement; raises when it is not acknowledged.

        An envelope that already carries a traceparent (an event written to an outbox during a
        request) is published in that trace, so consumers continue the request's trace rather
        than the relay's.
        """
        topic = topic or event_type(envelope.type).topic
        await (await self._enqueue(envelope, topic, key))
        EVENTS_PUBLISHED.labels(self._settings.service_name, topic, envelope.type).inc()

    async def publish_many(self, batch: list[tuple[Envelope, str | None, str | None]]
                           ) -> list[BaseException | None]:
        """Publish (envelope, topic, key) triples: queued in order, then all acks awaited
        together. Per triple: None when acknowledged, else the error. Records of one
        partition keep their order; when one fails, the later ones of its partition fail too
        (they travel in the same request), so a caller that stops at the first failure and
        retries from there keeps the order per key."""
        topics = [topic or event_type(envelope.type).topic for envelope, topic, _ in batch]
        futures = [await self._enqueue(envelope, topic, key)
                   for (envelope, _, key), topic in zip(batch, topics)]
        results = await asyncio.gather(*futures, return_exceptions=True)
        errors: list[BaseException | None] = []
        for (envelope, _, _), topic, result in zip(batch, topics, results):
            if isinstance(result, BaseException):
                errors.append(result)
                continue
            errors.append(None)
            EVENTS_PUBLISHED.labels(self._settings.service_name, topic, envelope.type).inc()
        return errors

    async def _enqueue(self, envelope: Envelope, topic: str, key: str | None) -> asyncio.Future:
        """Hand the event to the client (in the envelope's trace); the future is its ack."""
        parent = context_from_kafka_headers([], envelope.traceparent) if envelope.traceparent else None
        with tracer().start_as_current_span(f"publish {envelope.type}", context=parent,
                                            kind=trace.SpanKind.PRODUCER) as span:
            span.set_attribute("messaging.destination.name", topic)
            span.set_attribute("messaging.message.id", str(envelope.id))
            if envelope.traceparent is None:
                envelope = envelope.model_copy(update={"traceparent": current_traceparent()})
            return await self._producer.send(
                topic, value=envelope.to_bytes(), key=(key or envelope.subject).encode(),
                headers=[("event_type", envelope.type.encode()),
                         ("event_id", str(envelope.id).encode()),
                         *kafka_headers_from_context()])

    async def send_raw(self, topic: str, value: bytes, *, key: str | None = None,
                       headers: list[tuple[str, bytes]] | None = None) -> None:
        await self._producer.send_and_wait(
            topic, value=value, key=key.encode() if key else None, headers=headers or [],
        )
