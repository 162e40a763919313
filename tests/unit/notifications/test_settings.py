"""The service refuses unsafe configuration in production."""
from __future__ import annotations

import pytest
from pydantic import ValidationError

from services.notifications.settings import NotificationsSettings

PRODUCTION = {"environment": "production", "kafka_enable_idempotence": True}


def test_production_refuses_the_dev_secret():
    with pytest.raises(ValidationError, match="NOTIFICATIONS_SECRET"):
        NotificationsSettings(**PRODUCTION)
    with pytest.raises(ValidationError, match="NOTIFICATIONS_SECRET"):
        NotificationsSettings(**PRODUCTION, notifications_secret="short")
    settings = NotificationsSettings(**PRODUCTION, notifications_secret="x" * 40)
    assert settings.private_webhook_targets_allowed is False


def test_dev_defaults():
    settings = NotificationsSettings()
    assert settings.service_name == "notifications" and settings.mongo_db == "notifications"
    assert settings.private_webhook_targets_allowed is True
