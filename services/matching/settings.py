"""Configuration of the matching API and worker (environment variables, validated at start)."""
from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from platform_common.settings import CommonSettings, MongoSettings


class MatchingSettings(CommonSettings, MongoSettings):
    """The suggestions API (`python -m services.matching`)."""

    service_name: str = "matching"
    signs_service_calls: ClassVar[bool] = True  # asks profiles (items, owners, the export)
    port: int = Field(8083, ge=1, le=65535)
    mongo_db: str = "matching"
    # The system of record: item visibility for the API, the start-up load for the worker.
    profiles_url: str = "http://127.0.0.1:8081"
    profiles_timeout_s: float = Field(10.0, gt=0)
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
    # Load tenants, offers and needs from profiles' export API before replaying the topics.
    matching_load_from_profiles: bool = True
    matching_export_page_size: int = Field(1000, ge=1, le=1000)
    # At most this many events are applied and written per batch.
    matching_batch_size: int = Field(500, ge=1, le=10000)
