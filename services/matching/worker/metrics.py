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
SNAPSHOT_AGE = Gauge("matching_snapshot_age_seconds",
                     "Seconds since the last snapshot of the worker's state was saved (NaN: none yet)")
SNAPSHOT_BYTES = Gauge("matching_snapshot_bytes", "Size of the last saved snapshot")
SNAPSHOT_SECONDS = Gauge(
    "matching_snapshot_duration_seconds",
    "The last snapshot's stages: pause (state copied, the matcher waits), encode, save", ["stage"])
SNAPSHOTS = Counter("matching_snapshots_total", "Snapshots taken, by outcome", ["outcome"])
STARTUP_SECONDS = Gauge("matching_startup_seconds",
                        "From the worker's start to its engine holding every event (restore + replay)")
STARTUP_REPLAYED = Gauge("matching_startup_replayed_events",
                         "Feed records applied at start: the tail after a snapshot, or everything")
STARTUP_RESTORED_ITEMS = Gauge("matching_startup_restored_items",
                               "Open items restored from a snapshot at start (0: full replay)")
