import pytest
from pydantic import ValidationError

from gateway.settings import DEFAULT_DEV_JWT_SECRET, GatewaySettings
from tests.support.identity import production_keys

PRODUCTION = {"environment": "production", "kafka_enable_idempotence": True}
# Kafka over TLS with a SCRAM user (production refuses PLAINTEXT).
PRODUCTION.update(kafka_security_protocol="SASL_SSL", kafka_sasl_mechanism="SCRAM-SHA-512")
PRODUCTION.update(production_keys("gateway"))  # signed identities between services
JWKS = {"auth_mode": "jwks", "jwt_jwks_url": "https://idp.example/jwks",
        "jwt_issuer": "https://idp.example", "jwt_audience": "engage"}


def test_defaults_are_a_working_dev_gateway():
    settings = GatewaySettings()
    assert settings.service_name == "gateway" and settings.port == 8080
    assert settings.auth_mode == "dev"
    assert settings.rate_limit_per_minute == 600 and settings.rate_limit_writes_per_minute == 120
    assert set(settings.upstream_urls) == {"profiles", "search", "matching", "notifications"}


def test_environment_variables_configure_it(monkeypatch):
    monkeypatch.setenv("PROFILES_URL", "http://profiles:8080")
    monkeypatch.setenv("RATE_LIMIT_PER_MINUTE", "7")
    monkeypatch.setenv("CORS_ORIGINS", "https://a.example, https://b.example")
    settings = GatewaySettings()
    assert settings.profiles_url == "http://profiles:8080"
    assert settings.rate_limit_per_minute == 7
    assert settings.cors_origin_list == ["https://a.example", "https://b.example"]


def test_production_refuses_dev_auth():
    with pytest.raises(ValidationError, match="AUTH_MODE=dev"):
        GatewaySettings(**PRODUCTION, jwt_dev_secret="x" * 40)


def test_production_in_jwks_mode_needs_no_dev_secret():
    # jwks mode never reads the dev secret, so production must not require one.
    settings = GatewaySettings(**PRODUCTION, **JWKS)
    assert settings.auth_mode == "jwks"
    assert settings.jwt_dev_secret.get_secret_value() == DEFAULT_DEV_JWT_SECRET


def test_jwks_mode_needs_url_issuer_and_audience():
    with pytest.raises(ValidationError, match="JWT_JWKS_URL, JWT_ISSUER, JWT_AUDIENCE"):
        GatewaySettings(auth_mode="jwks")


def test_short_dev_secret_is_refused():
    with pytest.raises(ValidationError, match="32 characters"):
        GatewaySettings(jwt_dev_secret="short")


def test_dev_tokens_may_live_a_day_at_most():
    assert GatewaySettings(jwt_dev_token_ttl_s=24 * 3600).jwt_dev_token_ttl_s == 24 * 3600
    with pytest.raises(ValidationError, match="jwt_dev_token_ttl_s"):
        GatewaySettings(jwt_dev_token_ttl_s=24 * 3600 + 1)
