"""Configuration of the search service (environment variables, validated at start)."""
from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from platform_common.settings import CommonSettings, ElasticsearchSettings


class SearchSettings(CommonSettings, ElasticsearchSettings):
    service_name: str = "search"
    signs_service_calls: ClassVar[bool] = True  # the rebuild reads profiles' internal export
    port: int = Field(8082, ge=1, le=65535)
    consumer_group: str = "search"
    # Replicas per index: 0 on a single local node, at least 1 on a production cluster.
    index_replicas: int = Field(0, ge=0, le=5)
    # How long the consumer trusts its list of indexes behind a write alias. A rebuild waits
    # several times this long after adding its new indexes, so no live write misses them.
    write_alias_cache_s: float = Field(1.0, gt=0, le=30)
    # The system of record, for rebuilding the indexes (`python -m services.search.reindex`).
    profiles_url: str = "http://127.0.0.1:8081"
    export_page_size: int = Field(1000, ge=1, le=10000)
