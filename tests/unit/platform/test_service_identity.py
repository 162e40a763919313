"""Signed identities between services: the tokens, the keys and the settings that carry them."""
from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import ValidationError

from platform_common.http.auth import CurrentIdentity, internal_caller
from platform_common.http.errors import install_error_handlers
from platform_common.identity import Identity
from platform_common.service_identity import (
    CALLER_HEADER, IDENTITY_HEADER, InvalidServiceToken, ServiceKeys, dev_private_key,
    dev_public_keys, new_private_key, parse_public_keys, public_key_of,
)
from platform_common.settings import CommonSettings
from tests.support.identity import SESSION_KEYS, keys_as, session_public_keys

ANNA = Identity(sub="anna", tenant="koeln", roles=frozenset({"member", "org_admin"}))


def token(headers: dict[str, str]) -> str:
    return next(iter(headers.values()))


def test_an_identity_signed_by_the_gateway_round_trips_for_its_service():
    signed = token(keys_as("gateway").identity_headers(ANNA, audience="profiles"))
    identity = keys_as("profiles").verify_identity(signed)
    assert identity == ANNA


@pytest.mark.parametrize("signer,audience,ttl_s,problem", [
    ("gateway", "search", 60, "not addressed to profiles"),
    ("gateway", "profiles", -60, "expired"),
    ("matching", "profiles", 60, "not signed by the gateway"),
])
def test_identities_for_others_expired_or_not_from_the_gateway_are_refused(
        signer, audience, ttl_s, problem):
    signed = token(keys_as(signer, ttl_s=ttl_s).identity_headers(ANNA, audience=audience))
    with pytest.raises(InvalidServiceToken, match=problem):
        keys_as("profiles").verify_identity(signed)


def test_an_unknown_key_cannot_sign_anything():
    stranger = ServiceKeys(name="gateway", private_key=new_private_key(), public_keys={})
    with pytest.raises(InvalidServiceToken):
        keys_as("profiles").verify_identity(
            token(stranger.identity_headers(ANNA, audience="profiles")))
    with pytest.raises(InvalidServiceToken):
        keys_as("profiles").verify_caller(token(stranger.caller_headers(audience="profiles")))


def test_identity_and_service_tokens_cannot_stand_in_for_each_other():
    identity_token = token(keys_as("gateway").identity_headers(ANNA, audience="profiles"))
    credential = token(keys_as("gateway").caller_headers(audience="profiles"))
    with pytest.raises(InvalidServiceToken, match="not a 'service' token"):
        keys_as("profiles").verify_caller(identity_token)
    with pytest.raises(InvalidServiceToken, match="not a 'identity' token"):
        keys_as("profiles").verify_identity(credential)


def test_an_identity_counts_only_for_the_service_it_is_addressed_to():
    for_matching = token(keys_as("gateway").identity_headers(ANNA, audience="matching"))
    assert keys_as("matching").verify_identity(for_matching).sub == "anna"
    with pytest.raises(InvalidServiceToken, match="not addressed to profiles"):
        keys_as("profiles").verify_identity(for_matching)


def test_public_keys_parse_and_bad_ones_are_named():
    keys = parse_public_keys(session_public_keys())
    assert keys["gateway"] == public_key_of(SESSION_KEYS["gateway"])
    with pytest.raises(ValueError, match="name:base64key"):
        parse_public_keys("gateway")
    with pytest.raises(ValueError, match="'search'"):
        parse_public_keys("search:bm90LWEta2V5")


def test_dev_falls_back_to_the_well_known_dev_keys():
    settings = CommonSettings(service_name="search")
    assert settings.service_signing_key.get_secret_value() == dev_private_key("search")
    assert settings.service_public_keys == dev_public_keys()


def test_outside_dev_the_keys_are_required_and_dev_keys_refused():
    production = {"environment": "test", "service_name": "search"}
    with pytest.raises(ValidationError, match="SERVICE_PUBLIC_KEYS"):
        CommonSettings(**production)
    with pytest.raises(ValidationError, match="dev service keys are refused"):
        CommonSettings(**production, service_public_keys=dev_public_keys())
    with pytest.raises(ValidationError, match="dev service keys are refused"):
        CommonSettings(**production, service_public_keys=session_public_keys(),
                       service_signing_key=dev_private_key("search"))
    with pytest.raises(ValidationError, match="SERVICE_SIGNING_KEY"):
        CommonSettings(**production, service_public_keys=session_public_keys(),
                       service_signing_key="not-base64!")
    accepted = CommonSettings(**production, service_public_keys=session_public_keys())
    assert accepted.service_signing_key is None  # a process that calls no one needs none


def app_with_routes() -> TestClient:
    app = FastAPI()
    app.state.service_keys = keys_as("profiles")
    install_error_handlers(app)

    @app.get("/me")
    async def me(identity: CurrentIdentity):
        return {"sub": identity.sub}

    @app.get("/internal/thing", dependencies=[internal_caller("search")])
    async def thing():
        return {"ok": True}

    return TestClient(app)


def test_the_http_layer_answers_with_the_error_format():
    client = app_with_routes()
    signed = keys_as("gateway").identity_headers(ANNA, audience="profiles")
    assert client.get("/me", headers=signed).json() == {"sub": "anna"}
    cases = [("/me", {}, 401, "unauthorized"),
             ("/me", {"X-Auth-Sub": "anna", "X-Auth-Tenant": "koeln"}, 401, "unsigned_identity"),
             ("/me", {IDENTITY_HEADER: "garbage"}, 401, "invalid_token"),
             ("/internal/thing", {}, 401, "unauthorized"),
             ("/internal/thing", signed, 401, "unauthorized"),
             ("/internal/thing", keys_as("matching").caller_headers(audience="profiles"),
              403, "forbidden"),
             ("/internal/thing", {CALLER_HEADER: "garbage"}, 401, "invalid_token")]
    for path, headers, status, code in cases:
        response = client.get(path, headers=headers)
        assert response.status_code == status, (path, headers, response.text)
        assert response.json()["error"]["code"] == code
    search = keys_as("search").caller_headers(audience="profiles")
    ok = client.get("/internal/thing", headers=search)
    assert ok.json() == {"ok": True}
