"""Prometheus metrics of the matcher (the shared ones live in platform_common)."""
from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

MATCH_LATENCY = Histogram(
    "match_latency_seconds", "From the item event's occurrence to its match event acknowledged",
    ["type"], buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120),
)
TRANSITIONS = Counter("matching_transitions_total", "Match events announced", ["type"])
ENGINE_ITEMS = Gauge("matching_engine_items", "Open offers and needs held by the matcher")
OWNED_PARTITIONS = Gauge("matching_owned_partitions",
                         "Partitions of `items` this instance announces matches for")
FEED_LAG = Gauge("matching_feed_lag_messages",
                 "Item and tenant events known to exist but not applied yet")
REPUBLISHED = Counter("matching_republished_events_total",
                      "Events of interrupted batches published again (same ids) on takeover")
