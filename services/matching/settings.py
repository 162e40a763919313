"""Configuration of the matching API and worker (environment variables, validated at start)."""
from __future__ import annotations

from pydantic import Field

from platform_common.settings import CommonSettings, MongoSettings


class MatchingSettings(CommonSettings, MongoSettings):
    """The suggestions API (`python -m services.matching`)."""

    service_name: str = "matching"
    port: int = Field(8083, ge=1, le=65535)
    mongo_db: str = "matching"
    # The consumer group that feeds the API's directory (who owns and who sees which item).
    matching_directory_group: str = "matching-directory"
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
