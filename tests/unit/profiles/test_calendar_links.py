"""The secret address of a person's calendar feed: derived from the server secret (so it can
be shown again), renewed by a new generation, and the secret a setting refused when unsafe."""
from __future__ import annotations

import re

import pytest
from pydantic import ValidationError

from services.profiles.domain import calendar_links
from services.profiles.domain.calendar_links import CalendarToken
from services.profiles.settings import DEV_CALENDAR_SECRET, ProfilesSettings, RelaySettings
from tests.support.identity import production_keys

SECRET = b"a-test-secret-of-more-than-32-characters"


def test_a_token_is_the_same_for_the_same_person_and_generation_only():
    token = calendar_links.token_for(SECRET, "anna", 1)
    assert token == calendar_links.token_for(SECRET, "anna", 1)
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", token)  # 32 bytes, URL-safe, no padding
    others = {calendar_links.token_for(SECRET, "anna", 2),
              calendar_links.token_for(SECRET, "bernd", 1),
              calendar_links.token_for(b"another-secret-of-more-than-32-chars", "anna", 1)}
    assert token not in others and len(others) == 3


def test_the_current_token_keeps_the_generation_and_renewing_bumps_it():
    token, first = calendar_links.current(None, secret=SECRET, sub="anna")
    assert first == CalendarToken(1, calendar_links.hash_token(token))
    assert calendar_links.current(first, secret=SECRET, sub="anna") == (token, first)
    renewed_token, renewed = calendar_links.renewed(first, secret=SECRET, sub="anna")
    assert renewed.generation == 2 and renewed_token != token
    assert calendar_links.current(renewed, secret=SECRET, sub="anna") == (renewed_token, renewed)
    # A random token of the old kind (no generation) gives way to generation 1.
    legacy = CalendarToken(None, calendar_links.hash_token("random"))
    assert calendar_links.current(legacy, secret=SECRET, sub="anna") == (token, first)
    assert calendar_links.renewed(legacy, secret=SECRET, sub="anna") == (token, first)


# ---- the setting -------------------------------------------------------------------------------
PRODUCTION = {"environment": "production", "kafka_enable_idempotence": True,
              "kafka_security_protocol": "SASL_SSL", "kafka_sasl_mechanism": "SCRAM-SHA-512"}


@pytest.fixture(autouse=True)
def no_secret_from_the_runner(monkeypatch):
    monkeypatch.delenv("CALENDAR_SECRET", raising=False)
    monkeypatch.delenv("ENVIRONMENT", raising=False)


def test_dev_falls_back_to_the_dev_secret():
    assert ProfilesSettings().calendar_key == DEV_CALENDAR_SECRET.encode()
    assert ProfilesSettings(calendar_secret="  ").calendar_key == DEV_CALENDAR_SECRET.encode()


@pytest.mark.parametrize("secret", [None, "", DEV_CALENDAR_SECRET, "x" * 31])
def test_outside_dev_a_random_secret_is_required(secret):
    for environment in ("production", "test"):
        with pytest.raises(ValidationError, match="CALENDAR_SECRET must be set outside dev"):
            ProfilesSettings(**{**PRODUCTION, "environment": environment},
                             **production_keys("profiles"), calendar_secret=secret)


def test_outside_dev_the_secret_is_taken_and_the_relay_needs_none():
    settings = ProfilesSettings(**PRODUCTION, **production_keys("profiles"),
                                calendar_secret="y" * 32)
    assert settings.calendar_key == b"y" * 32
    assert "y" * 32 not in repr(settings)  # a secret, never logged
    RelaySettings(**PRODUCTION, **production_keys("profiles-relay"))
