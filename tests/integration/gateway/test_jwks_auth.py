"""AUTH_MODE=jwks: RS256 tokens checked against a JWKS served over real HTTP."""
from __future__ import annotations

import time

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from gateway.settings import DEFAULT_DEV_JWT_SECRET
from tests.integration.gateway.jwks_provider import KeySet, serving
from tests.integration.gateway.support import bearer, fake_service_urls, start_gateway
from tests.support.identity import received_identity

pytestmark = pytest.mark.integration
ISSUER, AUDIENCE = "https://login.example.nrw/realms/engage", "engage-api"


@pytest.fixture(scope="module")
def key_set():
    return KeySet()


@pytest.fixture(scope="module")
def jwks_server(key_set):
    with serving(key_set) as url:
        yield url


@pytest.fixture(scope="module")
def jwks_gateway(engines, fake_services, jwks_server):
    process = start_gateway(engines, "gateway-jwks", {
        **fake_service_urls(fake_services), "AUTH_MODE": "jwks", "JWT_JWKS_URL": jwks_server,
        "JWT_ISSUER": ISSUER, "JWT_AUDIENCE": AUDIENCE, "JWT_JWKS_REFRESH_COOLDOWN_S": "0"})
    yield process
    process.stop()


def provider_token(key, kid: str, **claims) -> str:
    payload = {"sub": "f3a1c2d4-anna", "tenant": "koeln", "roles": ["member", "org_admin"],
               "iss": ISSUER, "aud": AUDIENCE, "iat": int(time.time()),
               "exp": int(time.time()) + 300}
    payload.update(claims)
    return jwt.encode(payload, key, algorithm="RS256", headers={"kid": kid})


def test_provider_tokens_are_accepted_and_become_identity_headers(jwks_gateway, key_set):
    key = key_set.add("key-1")
    response = httpx.post(f"{jwks_gateway.url}/api/v1/offers", json={"title": "Hausaufgaben"},
                          headers=bearer(provider_token(key, "key-1")), timeout=10)
    assert response.status_code == 200, response.text
    identity = received_identity(response.json()["headers"], service="profiles")
    assert (identity.sub, identity.tenant, identity.roles) == \
        ("f3a1c2d4-anna", "koeln", {"member", "org_admin"})


def test_bad_provider_tokens_are_refused(jwks_gateway, key_set):
    key = key_set.keys[0][1] if key_set.keys else key_set.add("key-1")
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    dev = jwt.encode({"sub": "a", "tenant": "koeln", "exp": int(time.time()) + 60},
                     DEFAULT_DEV_JWT_SECRET, algorithm="HS256")
    for token in (provider_token(stranger, "key-1"),                 # forged signature
                  provider_token(stranger, "unknown-kid"),           # key not published
                  provider_token(key, "key-1", aud="other-app"),     # not for us
                  provider_token(key, "key-1", iss="https://evil.example"),
                  provider_token(key, "key-1", exp=int(time.time()) - 600),
                  dev):                                              # dev tokens mean nothing
        response = httpx.get(f"{jwks_gateway.url}/api/v1/contacts", headers=bearer(token),
                             timeout=10)
        assert response.status_code == 401, token
        assert response.json()["error"]["code"] == "invalid_token"


def test_rotated_keys_are_picked_up(jwks_gateway, key_set):
    new_key = key_set.add("key-2")
    response = httpx.get(f"{jwks_gateway.url}/api/v1/contacts",
                         headers=bearer(provider_token(new_key, "key-2")), timeout=10)
    assert response.status_code == 200, response.text


def test_dev_token_route_does_not_exist_in_jwks_mode(jwks_gateway):
    response = httpx.post(f"{jwks_gateway.url}/api/v1/auth/dev-token",
                          json={"sub": "a", "tenant": "koeln", "roles": ["operator"]}, timeout=5)
    assert response.status_code == 404
    assert httpx.get(f"{jwks_gateway.url}/api/v1/auth/personas", timeout=5).status_code == 404
    document = httpx.get(f"{jwks_gateway.url}/api/openapi.json", timeout=10).json()
    assert "/api/v1/auth/dev-token" not in document["paths"]
    assert "/api/v1/auth/personas" not in document["paths"]


def test_missing_token_is_still_401(jwks_gateway):
    response = httpx.get(f"{jwks_gateway.url}/api/v1/me/notifications", timeout=5)
    assert response.status_code == 401
