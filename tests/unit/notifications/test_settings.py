"""The service refuses unsafe configuration in production."""
from __future__ import annotations

import pytest
from pydantic import ValidationError

from services.notifications.settings import NotificationsSettings
from tests.support.identity import production_keys

PRODUCTION = {"environment": "production", "kafka_enable_idempotence": True}
# Kafka over TLS with a SCRAM user (production refuses PLAINTEXT).
PRODUCTION.update(kafka_security_protocol="SASL_SSL", kafka_sasl_mechanism="SCRAM-SHA-512")
PRODUCTION.update(production_keys("notifications"))  # signed identities between services


def test_production_refuses_the_dev_secret():
    with pytest.raises(ValidationError, match="NOTIFICATIONS_SECRET"):
        NotificationsSettings(**PRODUCTION)
    with pytest.raises(ValidationError, match="NOTIFICATIONS_SECRET"):
        NotificationsSettings(**PRODUCTION, notifications_secret="short")
    NotificationsSettings(**PRODUCTION, notifications_secret="x" * 40)


def test_dev_defaults():
    settings = NotificationsSettings()
    assert settings.service_name == "notifications" and settings.mongo_db == "notifications"
    # Internal webhook targets are refused in every environment unless named.
    assert not settings.allowed_webhook_targets.allows_address("127.0.0.1")


def test_webhook_allow_list_is_parsed_and_the_old_switch_refused():
    allowed = NotificationsSettings(
        webhook_allowed_targets="127.0.0.2, 10.1.0.0/16, Hooks.LAN").allowed_webhook_targets
    assert allowed.allows_address("10.1.2.3") and allowed.allows_host("hooks.lan")
    assert not allowed.allows_address("10.2.0.1")
    with pytest.raises(ValidationError, match="not a host name"):
        NotificationsSettings(webhook_allowed_targets="bad host!")
    with pytest.raises(ValidationError, match="WEBHOOK_ALLOWED_TARGETS"):
        NotificationsSettings(webhook_allow_private_targets=True)
