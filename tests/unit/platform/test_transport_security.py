"""Client-side transport security: Kafka (TLS + SASL per service), Redis (TLS + password),
Elasticsearch (the CA of its certificate), and the consumer-lag gauge's revoked partitions."""
from __future__ import annotations

import ssl
from pathlib import Path

import certifi
import pytest
from aiokafka import TopicPartition
from pydantic import ValidationError

from platform_common.kafka.consumer import report_lag
from platform_common.kafka.security import (
    faust_broker_credentials, kafka_client_options, kafka_ssl_context,
)
from platform_common.observability.metrics import CONSUMER_LAG
from platform_common.settings import CommonSettings
from platform_common.stores import elasticsearch_client, redis_client

CA = certifi.where()  # any PEM bundle will do as "the cluster CA"


def _production() -> dict:
    """What production needs besides Kafka's settings (the services' public keys)."""
    from platform_common.service_identity import format_public_keys, new_private_key, public_key_of

    keys = {"gateway": public_key_of(new_private_key())}
    return dict(environment="production", kafka_enable_idempotence=True,
                service_public_keys=format_public_keys(keys))


PRODUCTION = _production()


def sasl_settings(**overrides) -> CommonSettings:
    values = dict(kafka_security_protocol="SASL_SSL", kafka_sasl_mechanism="SCRAM-SHA-512",
                  kafka_sasl_username="engage-search", kafka_sasl_password="s3cret",
                  kafka_ssl_cafile=CA)
    values.update(overrides)
    return CommonSettings(**values)


def test_local_default_is_plaintext_and_adds_nothing_else():
    settings = CommonSettings()
    assert settings.kafka_security_protocol == "PLAINTEXT"
    assert kafka_client_options(settings) == {"security_protocol": "PLAINTEXT"}
    assert faust_broker_credentials(settings) is None


@pytest.mark.parametrize("protocol", ["PLAINTEXT", "SASL_PLAINTEXT"])
def test_production_refuses_kafka_without_tls(protocol):
    extra = {"kafka_sasl_mechanism": "SCRAM-SHA-512"} if protocol.startswith("SASL") else {}
    with pytest.raises(ValidationError, match="KAFKA_SECURITY_PROTOCOL"):
        CommonSettings(**PRODUCTION, kafka_security_protocol=protocol, **extra)
    CommonSettings(**PRODUCTION, kafka_security_protocol="SASL_SSL",
                   kafka_sasl_mechanism="SCRAM-SHA-512")  # accepted


def test_sasl_needs_a_mechanism_and_cert_needs_its_key():
    with pytest.raises(ValidationError, match="KAFKA_SASL_MECHANISM"):
        CommonSettings(kafka_security_protocol="SASL_SSL")
    with pytest.raises(ValidationError, match="KAFKA_SSL_KEYFILE"):
        CommonSettings(kafka_security_protocol="SSL", kafka_ssl_certfile="/x/user.crt")


def test_blank_environment_values_count_as_unset(monkeypatch):
    monkeypatch.setenv("KAFKA_SSL_CAFILE", "")
    monkeypatch.setenv("KAFKA_SASL_PASSWORD", "")
    settings = CommonSettings()
    assert settings.kafka_ssl_cafile is None and settings.kafka_sasl_password is None


def test_sasl_ssl_options_verify_the_broker_and_carry_the_users_credentials():
    options = kafka_client_options(sasl_settings())
    assert options["security_protocol"] == "SASL_SSL"
    assert options["sasl_mechanism"] == "SCRAM-SHA-512"
    assert (options["sasl_plain_username"], options["sasl_plain_password"]) == ("engage-search", "s3cret")
    context = options["ssl_context"]
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert context.minimum_version >= ssl.TLSVersion.TLSv1_2
    # The password is a secret: it does not show in the settings' repr.
    assert "s3cret" not in repr(sasl_settings())


def test_sasl_without_credentials_fails_when_a_client_is_built():
    with pytest.raises(ValueError, match="KAFKA_SASL_USERNAME"):
        kafka_client_options(sasl_settings(kafka_sasl_password=None))


def test_a_missing_ca_file_is_an_error_not_a_silent_fallback():
    with pytest.raises(FileNotFoundError):
        kafka_ssl_context(sasl_settings(kafka_ssl_cafile="/nonexistent/ca.crt"))


def test_faust_gets_the_same_credentials():
    credentials = faust_broker_credentials(sasl_settings())
    from faust.transport.drivers.aiokafka import credentials_to_aiokafka_auth

    auth = credentials_to_aiokafka_auth(credentials)
    assert auth["security_protocol"] == "SASL_SSL"
    assert auth["sasl_mechanism"] == "SCRAM-SHA-512"
    assert (auth["sasl_plain_username"], auth["sasl_plain_password"]) == ("engage-search", "s3cret")
    assert auth["ssl_context"].verify_mode == ssl.CERT_REQUIRED


def test_the_matching_workers_faust_app_is_built_with_the_credentials():
    from services.matching.adapters.ownership import GroupOwnership
    from services.matching.settings import WorkerSettings

    settings = WorkerSettings(kafka_security_protocol="SASL_SSL", kafka_sasl_mechanism="SCRAM-SHA-512",
                              kafka_sasl_username="engage-matching-worker",
                              kafka_sasl_password="pw", kafka_ssl_cafile=CA)
    app = GroupOwnership(settings, topic="items")._build(12)
    assert app.conf.broker_credentials.username == "engage-matching-worker"
    assert app.conf.broker_credentials.mechanism.value == "SCRAM-SHA-512"


def test_redis_client_uses_tls_ca_and_password():
    client = redis_client("rediss://redis.example:6379/0", password="pw", ca_file=CA)
    kwargs = client.connection_pool.connection_kwargs
    assert client.connection_pool.connection_class.__name__ == "SSLConnection"
    assert kwargs["password"] == "pw" and kwargs["ssl_ca_certs"] == CA
    with pytest.raises(ValueError, match="rediss://"):
        redis_client("redis://redis.example:6379/0", ca_file=CA)


def test_gateway_rate_limit_redis_uses_tls_ca_and_password():
    from gateway.adapters.redis_counters import rate_limit_redis

    client = rate_limit_redis("rediss://redis.example:6379/0", 0.5, password="pw", ca_file=CA)
    assert client.connection_pool.connection_kwargs["ssl_ca_certs"] == CA
    assert client.connection_pool.connection_kwargs["password"] == "pw"


def test_elasticsearch_client_verifies_against_the_given_ca():
    client = elasticsearch_client("https://engage-es-http:9200", ca_file=CA)
    node = next(iter(client.transport.node_pool.all()))
    assert node.config.ca_certs == CA and node.config.verify_certs


def _series(service: str) -> set[tuple[str, str]]:
    return {(s.labels["topic"], s.labels["partition"]) for metric in CONSUMER_LAG.collect()
            for s in metric.samples if s.labels["service"] == service}


def test_lag_series_of_revoked_partitions_are_removed():
    service = "lag-test"
    reported: set[TopicPartition] = set()
    report_lag(service, {TopicPartition("items", 0): 5, TopicPartition("items", 1): 0}, reported)
    assert _series(service) == {("items", "0"), ("items", "1")}
    # A rebalance moved partition 0 away and brought partition 2.
    report_lag(service, {TopicPartition("items", 1): 3, TopicPartition("items", 2): 1}, reported)
    assert _series(service) == {("items", "1"), ("items", "2")}
    # Stopped: nothing left behind that could keep an alert firing.
    report_lag(service, {}, reported)
    assert _series(service) == set()


def test_feed_reports_lag_per_partition():
    from services.matching.adapters.feed import KafkaFeed

    feed = KafkaFeed.__new__(KafkaFeed)
    high = {TopicPartition("items", 0): 10, TopicPartition("items", 1): None}

    class Consumer:
        def highwater(self, tp):
            return high[tp]

    feed._consumer = Consumer()
    feed._positions = {TopicPartition("items", 0): 4, TopicPartition("items", 1): 0}
    assert feed.lag_by_partition() == {TopicPartition("items", 0): 6}
    assert feed.lag() == 6


def test_settings_file_documents_every_new_variable():
    readme = (Path(__file__).resolve().parents[3] / "deploy" / "k8s" / "README.md").read_text()
    for name in ("KAFKA_SECURITY_PROTOCOL", "KAFKA_SASL_MECHANISM", "KAFKA_SASL_USERNAME",
                 "KAFKA_SASL_PASSWORD", "KAFKA_SSL_CAFILE", "REDIS_PASSWORD", "REDIS_CA_FILE",
                 "ELASTICSEARCH_CA_FILE"):
        assert f"`{name}`" in readme, name


async def test_matching_worker_reports_consumer_lag_per_partition_and_clears_it_on_stop():
    from services.matching.settings import WorkerSettings
    from services.matching.worker.processor import MatchingWorker

    lags = {TopicPartition("items", 0): 7, TopicPartition("tenants", 0): 0}

    class Feed:
        async def next_batch(self, *, max_records):
            return []

        def lag_by_partition(self):
            return dict(lags)

    worker = MatchingWorker.__new__(MatchingWorker)
    worker.settings = WorkerSettings(service_name="matching-worker-lag-test")
    worker.feed, worker._lag_partitions, worker._task, worker._snapshot_task = (
        Feed(), set(), None, None)
    await worker._step()
    assert _series("matching-worker-lag-test") == {("items", "0"), ("tenants", "0")}
    await worker.stop()
    assert _series("matching-worker-lag-test") == set()


async def test_event_consumer_drops_the_lag_of_partitions_a_rebalance_took_away():
    from platform_common.kafka.consumer import EventConsumer

    class Consumer:
        assigned = {TopicPartition("items", 0), TopicPartition("items", 1)}

        def assignment(self):
            return set(self.assigned)

        def highwater(self, tp):
            return 10

        async def position(self, tp):
            return 4

    consumer = EventConsumer.__new__(EventConsumer)
    consumer._settings = CommonSettings(service_name="consumer-lag-test")
    consumer._consumer, consumer._lag_partitions = Consumer(), set()
    await consumer._report_lag()
    assert _series("consumer-lag-test") == {("items", "0"), ("items", "1")}
    Consumer.assigned = {TopicPartition("items", 1)}  # partition 0 revoked
    await consumer._report_lag()
    assert _series("consumer-lag-test") == {("items", "1")}
