"""Settings shared by every service, read from environment variables and validated at start.

A service calls `load_settings(TheSettingsClass)`; a missing or wrong setting ends the
process with a readable message instead of a traceback, and unsafe dev defaults are
refused outside dev/test.
"""
from __future__ import annotations

import ipaddress
import sys
from typing import ClassVar, Literal, TypeVar

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from platform_common import service_identity

Environment = Literal["dev", "test", "production"]


class CommonSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=None, extra="ignore", case_sensitive=False)

    environment: Environment = "dev"
    service_name: str = "unknown"
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # /metrics is served only on this port (on HOST), never on PORT: the ingress routes PORT,
    # so the metrics stay inside the cluster. 0 serves no metrics (extra test processes).
    metrics_port: int = Field(9464, ge=0, le=65535)
    # Peers whose X-Forwarded-For / X-Forwarded-Proto are believed (comma-separated IPs or
    # CIDRs, e.g. the ingress controller's pod network). Empty: the peer address is the client,
    # so nobody can pick their own address (and rate-limit bucket) by sending the header.
    trusted_proxies: str = ""

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
    # How clients reach the brokers: PLAINTEXT locally (Tansu has no TLS); production needs
    # TLS (SSL, or SASL_SSL with a SCRAM user per service: deploy/k8s, Strimzi KafkaUser).
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    kafka_sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] | None = None
    kafka_sasl_username: str | None = None
    kafka_sasl_password: SecretStr | None = None
    # The CA that signs the brokers' certificates (Strimzi's cluster CA) and, for TLS client
    # authentication, the client's certificate and key (PEM files).
    kafka_ssl_cafile: str | None = None
    kafka_ssl_certfile: str | None = None
    kafka_ssl_keyfile: str | None = None

    otel_exporter_otlp_endpoint: str | None = None

    # Signed identities between services (platform_common/service_identity.py): this process's
    # own Ed25519 key (base64 of 32 bytes) and every service's public key
    # ("gateway:KEY,profiles:KEY,..."). Dev falls back to well-known dev keys; every other
    # environment must set them.
    service_signing_key: SecretStr | None = None
    service_public_keys: str = ""
    # Processes that call other services sign their calls, so they need their own key.
    signs_service_calls: ClassVar[bool] = False

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies_are_networks(cls, value: str) -> str:
        for entry in value.split(","):
            if not entry.strip():
                continue
            try:
                network = ipaddress.ip_network(entry.strip(), strict=False)
            except ValueError:
                raise ValueError(f"{entry.strip()!r} is not an IP address or CIDR") from None
            if network.prefixlen == 0:
                raise ValueError("must not trust every address (0.0.0.0/0, ::/0)")
        return value

    @field_validator("kafka_sasl_mechanism", "kafka_sasl_username", "kafka_sasl_password",
                     "kafka_ssl_cafile", "kafka_ssl_certfile", "kafka_ssl_keyfile", mode="before")
    @classmethod
    def _blank_kafka_is_unset(cls, value):
        return None if isinstance(value, str) and not value.strip() else value

    @property
    def trusted_proxy_list(self) -> list[str]:
        return [entry.strip() for entry in self.trusted_proxies.split(",") if entry.strip()]

    @model_validator(mode="after")
    def _production_needs_idempotence(self) -> "CommonSettings":
        if self.environment == "production" and not self.kafka_enable_idempotence:
            raise ValueError(
                "KAFKA_ENABLE_IDEMPOTENCE must be true in production (real Kafka supports it)"
            )
        if self.environment == "production" and self.kafka_security_protocol in (
                "PLAINTEXT", "SASL_PLAINTEXT"):
            raise ValueError(
                "KAFKA_SECURITY_PROTOCOL must be SSL or SASL_SSL in production (events carry "
                "personal data)")
        if self.kafka_security_protocol.startswith("SASL_") and self.kafka_sasl_mechanism is None:
            raise ValueError("KAFKA_SASL_MECHANISM is required with a SASL_* security protocol")
        if (self.kafka_ssl_certfile is None) != (self.kafka_ssl_keyfile is None):
            raise ValueError("KAFKA_SSL_CERTFILE and KAFKA_SSL_KEYFILE go together")
        if self.metrics_port and self.metrics_port == self.port:
            raise ValueError("METRICS_PORT must differ from PORT (the ingress routes PORT)")
        return self

    @model_validator(mode="after")
    def _service_keys(self) -> "CommonSettings":
        if self.environment == "dev":
            if self.service_signing_key is None:
                self.service_signing_key = SecretStr(
                    service_identity.dev_private_key(self.service_name))
            if not self.service_public_keys.strip():
                self.service_public_keys = service_identity.dev_public_keys()
        keys = service_identity.parse_public_keys(self.service_public_keys)
        signing = self.service_signing_key.get_secret_value() if self.service_signing_key else None
        if signing:
            service_identity.load_private_key(signing)  # a clear error for a malformed key
        if self.environment != "dev":
            if service_identity.GATEWAY not in keys:
                raise ValueError("SERVICE_PUBLIC_KEYS must name the gateway's public key "
                                 "('gateway:BASE64,...') outside dev")
            if any(service_identity.is_dev_key(key) for key in keys.values()) or (
                    signing and service_identity.is_dev_key(service_identity.public_key_of(signing))):
                raise ValueError("the well-known dev service keys are refused outside dev: "
                                 "make new ones with `python -m platform_common.service_identity`")
            if self.signs_service_calls and not signing:
                raise ValueError(f"SERVICE_SIGNING_KEY is required outside dev: "
                                 f"{self.service_name} calls other services")
        return self


class MongoSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore")
    mongo_uri: str = "mongodb://127.0.0.1:27017/?directConnection=true"
    mongo_db: str = "engage"


class ElasticsearchSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore")
    elasticsearch_url: str = "http://127.0.0.1:19200"
    elasticsearch_index_prefix: str = "engage"
    # The CA that signs the cluster's HTTP certificate (ECK's default is self-signed), PEM.
    elasticsearch_ca_file: str | None = None

    @field_validator("elasticsearch_ca_file", mode="before")
    @classmethod
    def _blank_ca_is_unset(cls, value):
        return None if isinstance(value, str) and not value.strip() else value


class RedisSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore")
    # rediss:// for TLS. The password comes separately (a Secret), never inside the URL.
    redis_url: str = "redis://127.0.0.1:16379/0"
    redis_password: SecretStr | None = None
    # The CA that signs the server's certificate (PEM), for a private CA.
    redis_ca_file: str | None = None

    @field_validator("redis_password", "redis_ca_file", mode="before")
    @classmethod
    def _blank_redis_is_unset(cls, value):
        return None if isinstance(value, str) and not value.strip() else value


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
