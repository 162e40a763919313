"""A service refuses to start with a clear message when a setting is missing or wrong."""
from __future__ import annotations

import subprocess
import sys

import pytest

from platform_common.settings import CommonSettings, load_settings


def test_defaults_are_fine_in_dev(monkeypatch):
    monkeypatch.delenv("ENVIRONMENT", raising=False)
    settings = load_settings(CommonSettings)
    assert settings.environment == "dev" and settings.kafka_enable_idempotence is False


def test_wrong_value_exits_with_a_message_naming_the_variable(monkeypatch, capsys):
    monkeypatch.setenv("PORT", "not-a-port")
    with pytest.raises(SystemExit) as stop:
        load_settings(CommonSettings)
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert "Refusing to start" in err and "PORT" in err


def test_production_refuses_the_local_broker_setting(monkeypatch, capsys):
    monkeypatch.setenv("ENVIRONMENT", "production")
    monkeypatch.setenv("KAFKA_ENABLE_IDEMPOTENCE", "false")
    with pytest.raises(SystemExit):
        load_settings(CommonSettings)
    assert "KAFKA_ENABLE_IDEMPOTENCE" in capsys.readouterr().err


def test_a_service_process_refuses_to_start_with_a_bad_setting():
    result = subprocess.run(
        [sys.executable, "-c", "from platform_common.settings import *; load_settings(CommonSettings)"],
        env={"PATH": "/usr/bin:/bin", "LOG_LEVEL": "LOUD"}, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "LOG_LEVEL" in result.stderr and "Traceback" not in result.stderr
