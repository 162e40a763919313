"""Settings shared by every service, read from environment variables and validated at start.

A service calls `load_settings(TheSettingsClass)`; a missing or wrong setting ends the
process with a readable message instead of a traceback, and unsafe dev defaults are
refused outside dev/test.
"""
from __future__ import annotations

import sys
from typing import Literal, TypeVar

from pydantic import Field, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

Environment = Literal["dev", "test", "production"]


class CommonSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=None, extra="ignore", case_sensitive=False)

    environment: Environment = "dev"
    service_name: str = "unknown"
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    kafka_bootstrap_servers: str = "127.0.0.1:19092"
    # Real Kafka supports idempotent producers; the local broker does not (STACK.md).
    kafka_enable_idempotence: bool = False
    kafka_session_timeout_ms: int = Field(6000, ge=1000)
    kafka_client_prefix: str = "engage"
    # Partition count used when a service creates its topics at start.
    kafka_partitions: int = Field(6, ge=1, le=256)
    kafka_replication_factor: int = Field(1, ge=1, le=5)
    consumer_max_attempts: int = Field(5, ge=1, le=50)
    consumer_backoff_initial_s: float = Field(0.2, gt=0)
    consumer_backoff_max_s: float = Field(5.0, gt=0)

    otel_exporter_otlp_endpoint: str | None = None

    @model_validator(mode="after")
    def _production_needs_idempotence(self) -> "CommonSettings":
        if self.environment == "production" and not self.kafka_enable_idempotence:
            raise ValueError(
                "KAFKA_ENABLE_IDEMPOTENCE must be true in production (real Kafka supports it)"
            )
        return self


class MongoSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore")
    mongo_uri: str = "mongodb://127.0.0.1:27017/?directConnection=true"
    mongo_db: str = "engage"


class ElasticsearchSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore")
    elasticsearch_url: str = "http://127.0.0.1:19200"
    elasticsearch_index_prefix: str = "engage"


class RedisSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore")
    redis_url: str = "redis://127.0.0.1:16379/0"


S = TypeVar("S", bound=BaseSettings)


def describe_errors(error: ValidationError) -> str:
    lines = []
    for item in error.errors():
        name = "_".join(str(part) for part in item["loc"]).upper() or "(settings)"
        lines.append(f"  {name}: {item['msg']}")
    return "\n".join(lines)


def load_settings(cls: type[S], **overrides) -> S:
    """Build settings from the environment or exit with a clear message."""
    try:
        return cls(**overrides)
    except ValidationError as error:
        sys.stderr.write(
            f"Refusing to start: invalid configuration for {cls.__name__}:\n"
            f"{describe_errors(error)}\n"
        )
        raise SystemExit(2) from None
