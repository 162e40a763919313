"""Configuration of the matching API and worker (environment variables, validated at start)."""
from __future__ import annotations

from typing import Literal

from pydantic import Field

from platform_common.settings import CommonSettings, MongoSettings


class MatchingSettings(CommonSettings, MongoSettings):
    """The suggestions API (`python -m services.matching`)."""

    service_name: str = "matching"
    port: int = Field(8083, ge=1, le=65535)
    mongo_db: str = "matching"
    # The consumer group that feeds the API's directory (who owns and who sees which item).
    matching_directory_group: str = "matching-directory"
    # The directory may lag this much behind the events: a trickle of them is written in one
    # round trip per linger instead of one per event (platform_common/kafka/consumer.py).
    matching_directory_linger_s: float = Field(0.5, ge=0, le=5)
    # The matcher keeps this many best counterparts per item.
    matching_top_k: int = Field(10, ge=1, le=100)
    # Partitions of the `items` topic (created with this count when missing); emitting
    # responsibility is split along them.
    matching_partitions: int = Field(6, ge=1, le=256)


class WorkerSettings(MatchingSettings):
    """The incremental matcher (`python -m services.matching.worker`)."""

    service_name: str = "matching-worker"
    port: int = Field(8093, ge=1, le=65535)
    # The faust app id, which is also the consumer group that splits emitting responsibility.
    matching_group_id: str = "matching-worker"
    # At most this many events are applied and written per batch.
    matching_batch_size: int = Field(500, ge=1, le=10000)
    # Snapshots of the worker's state, to restart from them plus the tail of the topics
    # instead of a full replay (README.md, "Restart from a snapshot"). "none": always replay.
    matching_snapshot_store: Literal["none", "directory", "mongo"] = "none"
    # Where the "directory" store keeps its files (a volume that outlives the process).
    matching_snapshot_dir: str = "/var/lib/engage/matching-snapshots"
    # A snapshot is taken (while live, when events were applied since the last one) this
    # often, and/or after this many applied events; 0 switches either rule off.
    matching_snapshot_interval_s: float = Field(300.0, ge=0)
    matching_snapshot_every_events: int = Field(0, ge=0)
