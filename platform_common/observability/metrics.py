"""Prometheus metrics every service exposes under the same names."""
from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

HTTP_REQUEST_SECONDS = Histogram(
    "http_request_duration_seconds", "HTTP request latency by route",
    ["service", "method", "route", "status"],
)
# 1 when the dependency answered the service's last check (a store, another service), else 0.
DEPENDENCY_UP = Gauge("service_dependency_up", "Whether a dependency answered the last check",
                      ["service", "dependency"])
EVENTS_PUBLISHED = Counter("events_published_total", "Events produced", ["service", "topic", "type"])
EVENTS_PROCESSED = Counter("events_processed_total", "Events handled successfully",
                           ["service", "topic", "type"])
EVENTS_FAILED = Counter("events_failed_total", "Handler attempts that raised", ["service", "topic"])
EVENTS_DUPLICATE = Counter("events_duplicate_total", "Redelivered events skipped by deduplication",
                           ["service", "topic"])
EVENTS_DEAD_LETTERED = Counter("events_dead_lettered_total", "Events moved to the DLQ",
                               ["service", "topic"])
CONSUMER_LAG = Gauge("consumer_lag_messages", "Messages between the committed position and the "
                     "partition end (approximate on the local broker)", ["service", "topic", "partition"])
EVENT_AGE_SECONDS = Histogram(
    "event_processing_delay_seconds", "Time from event occurrence to its processing",
    ["service", "topic"], buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
