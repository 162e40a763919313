"""Signed headers for tests that call a service directly, as the gateway or a service would.

Every test stack of a session is started with SESSION_KEYS (tests/support/backends.py), so
these helpers sign for whichever stack a test uses. Identities live an hour here (the gateway
signs for 60 s) because module fixtures keep their headers for minutes.
"""
from __future__ import annotations

import jwt

from platform_common.identity import Identity
from platform_common.service_identity import (
    IDENTITY_HEADER, SERVICE_NAMES, ServiceKeys, format_public_keys, new_private_key,
    public_key_of,
)

SESSION_KEYS = {name: new_private_key() for name in SERVICE_NAMES}
TEST_TTL_S = 3600


def keys_as(name: str, *, ttl_s: int = TEST_TTL_S) -> ServiceKeys:
    """Sign as the process `name` of the test stacks ("gateway" signs user identities)."""
    public = {caller: public_key_of(key) for caller, key in SESSION_KEYS.items()}
    return ServiceKeys(name=name, private_key=SESSION_KEYS[name], public_keys=public, ttl_s=ttl_s)


def session_public_keys() -> str:
    return format_public_keys({name: public_key_of(key) for name, key in SESSION_KEYS.items()})


def identity_headers(service: str | list[str], identity: Identity) -> dict[str, str]:
    """`identity` signed by the gateway for `service` ("profiles", "search", ...; a list: for
    each of them, for tests that call several services with the same headers)."""
    return keys_as("gateway").identity_headers(identity, audience=service)


def user_headers(service: str | list[str], sub: str, tenant: str, *roles: str) -> dict[str, str]:
    return identity_headers(service, Identity(sub=sub, tenant=tenant,
                                              roles=frozenset(roles or ("member",))))


def service_headers(service: str, *, caller: str) -> dict[str, str]:
    """The credential of the service `caller` for calling `service` (internal routes)."""
    return keys_as(caller).caller_headers(audience=service)


def sub_of(headers: dict[str, str]) -> str:
    """Whose identity these signed headers carry (read, not verified: the test made them)."""
    token = headers[IDENTITY_HEADER]
    return jwt.decode(token, options={"verify_signature": False})["sub"]


def received_identity(headers: dict[str, str], *, service: str) -> Identity | None:
    """The identity a service would accept from these (echoed) request headers, verified with
    the session's keys as `service`; None when none was sent."""
    token = {name.lower(): value for name, value in headers.items()}.get(IDENTITY_HEADER.lower())
    return keys_as(service).verify_identity(token) if token else None


def production_keys(name: str) -> dict[str, str]:
    """Settings values for the process `name` outside dev: its own key (not a dev key) and
    every service's public key."""
    return {"service_signing_key": SESSION_KEYS[name], "service_public_keys": session_public_keys()}
