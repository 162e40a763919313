"""OpenTelemetry setup and W3C trace-context propagation through Kafka headers."""
from __future__ import annotations

import functools
from typing import Iterable

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SimpleSpanProcessor

_configured = False


def configure_tracing(service_name: str, otlp_endpoint: str | None = None,
                      extra_exporter: SpanExporter | None = None) -> None:
    """Install the tracer provider once per process; export over OTLP when an endpoint is set."""
    global _configured
    if _configured:
        return
    provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
    if otlp_endpoint:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(
            BatchSpanProcessor(OTLPSpanExporter(endpoint=otlp_endpoint.rstrip("/") + "/v1/traces"))
        )
    if extra_exporter is not None:
        provider.add_span_processor(SimpleSpanProcessor(extra_exporter))
    trace.set_tracer_provider(provider)
    _configured = True


@functools.cache
def tracer(name: str = "engage") -> trace.Tracer:
    # Cached: the SDK compares instrumentation scopes on every get_tracer call, which cost a
    # batch consumer more than its spans. (Before the provider is set this is a proxy that
    # follows the provider once it is.)
    return trace.get_tracer(name)


def current_traceparent() -> str | None:
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier.get("traceparent")


def kafka_headers_from_context() -> list[tuple[str, bytes]]:
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return [(key, value.encode()) for key, value in carrier.items()]


def context_from_kafka_headers(headers: Iterable[tuple[str, bytes]] | None,
                               fallback_traceparent: str | None = None) -> otel_context.Context:
    carrier = {key: value.decode(errors="replace") for key, value in (headers or []) if value is not None}
    if "traceparent" not in carrier and fallback_traceparent:
        carrier["traceparent"] = fallback_traceparent
    return propagate.extract(carrier)


def current_trace_ids() -> tuple[str | None, str | None]:
    span_context = trace.get_current_span().get_span_context()
    if not span_context.is_valid:
        return None, None
    return format(span_context.trace_id, "032x"), format(span_context.span_id, "016x")
