"""Issue 11, "between services": identities are signed by the gateway for one service, internal
routes answer only the platform's services, and dev tokens are checked for issuer and lifetime.

The attacker here sits inside the network (past the network policies) and calls the services
directly; the last tests go through the gateway as a client would.
"""
from __future__ import annotations

import time

import httpx
import jwt
import pytest

from gateway.settings import DEFAULT_DEV_JWT_SECRET
from platform_common.identity import Identity
from platform_common.service_identity import (
    CALLER_HEADER, IDENTITY_HEADER, ServiceKeys, dev_private_key, new_private_key,
)
from tests.support.api import unique
from tests.support.identity import identity_headers, keys_as, service_headers

OPERATOR = Identity(sub="land-operator", tenant="land", roles=frozenset({"operator"}))
SPOOFED = {"X-Auth-Sub": "mallory", "X-Auth-Tenant": "land", "X-Auth-Roles": "operator"}


@pytest.fixture(scope="module")
def call(platform):
    """`call("profiles", "GET", "/path", headers=...)`: straight to a service, no gateway."""
    clients: dict[str, httpx.Client] = {}

    def request(service: str, method: str, path: str, **kwargs) -> httpx.Response:
        if service not in clients:
            clients[service] = httpx.Client(base_url=platform.url(service), timeout=20)
        return clients[service].request(method, path, **kwargs)

    yield request
    for client in clients.values():
        client.close()


def refused(response: httpx.Response, status: int, code: str) -> str:
    """The response is the platform's error format with this status and code; its message."""
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code and error["message"], error
    return error["message"]


def tenant_body() -> dict:
    return {"id": unique("spoof"), "name": "Spoofhausen", "center": {"lat": 51.0, "lon": 7.0}}


# ---- user identities ---------------------------------------------------------------------------
def test_spoofed_identity_headers_are_refused_by_every_service(call):
    message = refused(call("profiles", "POST", "/tenants", json=tenant_body(), headers=SPOOFED),
                      401, "unsigned_identity")
    assert "signed" in message
    refused(call("profiles", "GET", "/me/export", headers=SPOOFED), 401, "unsigned_identity")
    refused(call("search", "GET", "/search", params={"kind": "actor", "q": "x"},
                 headers=SPOOFED), 401, "unsigned_identity")
    refused(call("matching", "GET", "/offers/o-1/matches", headers=SPOOFED),
            401, "unsigned_identity")
    refused(call("notifications", "GET", "/me/notifications", headers=SPOOFED),
            401, "unsigned_identity")
    # Not even next to a valid signed identity: nobody adds roles on the way.
    member = identity_headers("profiles", Identity(sub=unique("u"), tenant="land",
                                                   roles=frozenset({"member"})))
    refused(call("profiles", "POST", "/tenants", json=tenant_body(),
                 headers={**member, "X-Auth-Roles": "operator"}), 401, "unsigned_identity")


def test_a_signed_identity_is_what_the_service_believes(call):
    created = call("profiles", "POST", "/tenants", json=tenant_body(),
                   headers=identity_headers("profiles", OPERATOR))
    assert created.status_code == 201, created.text
    member = Identity(sub=unique("u"), tenant="land", roles=frozenset({"member"}))
    refused(call("profiles", "POST", "/tenants", json=tenant_body(),
                 headers=identity_headers("profiles", member)), 403, "forbidden")


def test_expired_identities_are_refused(call):
    expired = keys_as("gateway", ttl_s=-120).identity_headers(OPERATOR, audience="profiles")
    message = refused(call("profiles", "POST", "/tenants", json=tenant_body(), headers=expired),
                      401, "invalid_token")
    assert "expired" in message


def test_identities_signed_for_another_service_are_refused(call):
    for_search = identity_headers("search", OPERATOR)
    message = refused(call("profiles", "POST", "/tenants", json=tenant_body(),
                           headers=for_search), 401, "invalid_token")
    assert "profiles" in message  # "not addressed to profiles"
    refused(call("matching", "GET", "/offers/o-1/matches",
                 headers=identity_headers("profiles", OPERATOR)), 401, "invalid_token")


def test_only_the_gateway_signs_user_identities(call):
    # Matching can verify identities and sign its own calls, but cannot mint a user.
    minted = keys_as("matching").identity_headers(OPERATOR, audience="profiles")
    message = refused(call("profiles", "POST", "/tenants", json=tenant_body(), headers=minted),
                      401, "invalid_token")
    assert "gateway" in message
    # A key nobody knows, claiming to be the gateway.
    forged = ServiceKeys(name="gateway", private_key=new_private_key(),
                         public_keys={}).identity_headers(OPERATOR, audience="profiles")
    refused(call("profiles", "POST", "/tenants", json=tenant_body(), headers=forged),
            401, "invalid_token")
    # A service credential is not a user identity.
    credential = service_headers("profiles", caller="gateway")[CALLER_HEADER]
    refused(call("profiles", "GET", "/me/export", headers={IDENTITY_HEADER: credential}),
            401, "invalid_token")


def test_an_identity_signed_for_another_service_is_refused_even_with_its_credential(call):
    """No service calls another on a user's behalf: profiles accepts only an identity the
    gateway signed for profiles, not one signed for matching, with or without matching's
    credential (a compromised matching cannot act as its users at profiles)."""
    member = Identity(sub=unique("u"), tenant="land", roles=frozenset({"member"}))
    for_matching = identity_headers("matching", member)
    refused(call("profiles", "GET", "/me/export", headers=for_matching), 401, "invalid_token")
    forwarded = {**for_matching, **service_headers("profiles", caller="matching")}
    refused(call("profiles", "GET", "/me/export", headers=forwarded), 401, "invalid_token")
    answer = call("profiles", "GET", "/me/export", headers=identity_headers("profiles", member))
    assert answer.status_code == 200, answer.text
    assert answer.json()["sub"] == member.sub


# ---- internal routes -------------------------------------------------------------------------
INTERNAL = [("profiles", "GET", "/internal/export/actors"),
            ("profiles", "GET", "/internal/owned-actors?sub=someone"),
            ("notifications", "POST", "/internal/digests/run"),
            ("notifications", "POST", "/internal/deliveries/retry")]


@pytest.mark.parametrize("service,method,path", INTERNAL)
def test_unsigned_internal_calls_are_refused(call, service, method, path):
    message = refused(call(service, method, path), 401, "unauthorized")
    assert CALLER_HEADER in message
    # A user's identity, even an operator's, is no service credential.
    refused(call(service, method, path, headers=identity_headers(service, OPERATOR)),
            401, "unauthorized")
    refused(call(service, method, path, headers=SPOOFED), 401, "unauthorized")


def test_internal_export_answers_only_the_services_that_use_it(call):
    exported = call("profiles", "GET", "/internal/export/actors", params={"limit": 1},
                    headers=service_headers("profiles", caller="search"))
    assert exported.status_code == 200, exported.text
    assert "items" in exported.json()
    # Notifications is a known service, but it has no business reading every record.
    message = refused(call("profiles", "GET", "/internal/export/actors",
                           headers=service_headers("profiles", caller="notifications")),
                      403, "forbidden")
    assert "notifications" in message


def test_forged_expired_or_misaddressed_service_credentials_are_refused(call):
    path = "/internal/export/actors"
    impostor = ServiceKeys(name="search", private_key=new_private_key(), public_keys={})
    refused(call("profiles", "GET", path, headers=impostor.caller_headers(audience="profiles")),
            401, "invalid_token")
    expired = keys_as("search", ttl_s=-120).caller_headers(audience="profiles")
    assert "expired" in refused(call("profiles", "GET", path, headers=expired),
                                401, "invalid_token")
    refused(call("profiles", "GET", path, headers=service_headers("search", caller="search")),
            401, "invalid_token")
    # A user's identity token in the credential's place.
    identity_token = identity_headers("profiles", OPERATOR)[IDENTITY_HEADER]
    refused(call("profiles", "GET", path, headers={CALLER_HEADER: identity_token}),
            401, "invalid_token")


# ---- through the gateway ---------------------------------------------------------------------
def test_normal_traffic_through_the_gateway_still_works(api, platform):
    tenant = api.new_tenant("Signhausen", {"lat": 51.96, "lon": 7.62})
    member = api.login(unique("anna"), tenant)
    actor_id = api.new_actor(member, type="association", name="Signverein",
                             location={"lat": 51.96, "lon": 7.62})
    export = api.http.get("/me/export", headers=member)
    assert export.status_code == 200, export.text
    assert [a["id"] for a in export.json()["profiles"]["actors"]] == [actor_id]
    # The gateway's own internal call (dev personas name their actors) is signed too.
    personas = api.http.get("/auth/personas")
    assert personas.status_code == 200, personas.text


def test_the_gateway_does_not_pass_on_a_clients_identity_token(api):
    # Someone who captured a signed identity cannot replay it through the gateway.
    captured = identity_headers("profiles", OPERATOR)
    answer = api.http.post("/tenants", json=tenant_body(), headers=captured)
    refused(answer, 401, "unauthorized")


def dev_token(**claims) -> str:
    now = int(time.time())
    body = {"sub": "anna", "tenant": "koeln", "roles": ["member"], "iss": "engage-dev",
            "iat": now, "exp": now + 3600, **claims}
    return jwt.encode({k: v for k, v in body.items() if v is not None}, DEFAULT_DEV_JWT_SECRET,
                      algorithm="HS256")


def test_dev_tokens_need_our_issuer_and_at_most_a_day(api):
    def me(token: str) -> httpx.Response:
        return api.http.get("/me/actors", headers={"Authorization": f"Bearer {token}"})

    assert me(dev_token()).status_code == 200
    now = int(time.time())
    for token in (dev_token(iss="someone-else"), dev_token(iss=None),
                  dev_token(exp=now + 30 * 24 * 3600), dev_token(iat=None)):
        refused(me(token), 401, "invalid_token")
    assert "day" in refused(me(dev_token(iat=now - 3600, exp=now + 24 * 3600)),
                            401, "invalid_token")


def test_the_well_known_dev_keys_open_nothing_on_a_running_stack(call):
    # The stack (like `make run`) runs on keys generated at its start, passed by environment.
    dev_gateway = ServiceKeys(name="gateway", private_key=dev_private_key("gateway"),
                              public_keys={})
    refused(call("profiles", "POST", "/tenants", json=tenant_body(),
                 headers=dev_gateway.identity_headers(OPERATOR, audience="profiles")),
            401, "invalid_token")
    dev_search = ServiceKeys(name="search", private_key=dev_private_key("search"), public_keys={})
    refused(call("profiles", "GET", "/internal/export/actors",
                 headers=dev_search.caller_headers(audience="profiles")), 401, "invalid_token")
