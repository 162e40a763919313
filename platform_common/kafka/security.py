"""How every Kafka client of the platform connects: the security settings, in one place.

Locally the broker speaks PLAINTEXT (Tansu has no TLS) and nothing here adds anything. In
production (deploy/k8s) each service authenticates as its own Kafka user (SCRAM-SHA-512 over
TLS, Strimzi `KafkaUser`) and verifies the brokers against the cluster CA (KAFKA_SSL_CAFILE).
"""
from __future__ import annotations

import ssl
from typing import Any

from platform_common.settings import CommonSettings


def kafka_ssl_context(settings: CommonSettings) -> ssl.SSLContext | None:
    """A verifying TLS context for SSL / SASL_SSL (None for the plain protocols)."""
    if settings.kafka_security_protocol not in ("SSL", "SASL_SSL"):
        return None
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=settings.kafka_ssl_cafile)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if settings.kafka_ssl_certfile:
        context.load_cert_chain(settings.kafka_ssl_certfile, settings.kafka_ssl_keyfile)
    return context


def _sasl_credentials(settings: CommonSettings) -> tuple[str, str]:
    if not settings.kafka_sasl_username or settings.kafka_sasl_password is None:
        raise ValueError(
            f"{settings.kafka_security_protocol} needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD")
    return settings.kafka_sasl_username, settings.kafka_sasl_password.get_secret_value()


def kafka_client_options(settings: CommonSettings) -> dict[str, Any]:
    """Keyword arguments for AIOKafkaProducer / AIOKafkaConsumer / AIOKafkaAdminClient."""
    protocol = settings.kafka_security_protocol
    options: dict[str, Any] = {"security_protocol": protocol}
    context = kafka_ssl_context(settings)
    if context is not None:
        options["ssl_context"] = context
    if protocol.startswith("SASL_"):
        username, password = _sasl_credentials(settings)
        options.update(sasl_mechanism=settings.kafka_sasl_mechanism,
                       sasl_plain_username=username, sasl_plain_password=password)
    return options


def faust_broker_credentials(settings: CommonSettings):
    """`broker_credentials` for a faust App (None: PLAINTEXT)."""
    import faust

    protocol = settings.kafka_security_protocol
    if protocol == "PLAINTEXT":
        return None
    context = kafka_ssl_context(settings)
    if protocol == "SSL":
        return faust.SSLCredentials(context)
    username, password = _sasl_credentials(settings)
    return faust.SASLCredentials(username=username, password=password,
                                 mechanism=settings.kafka_sasl_mechanism, ssl_context=context)
