"""Who is calling a service, checked in its HTTP layer: the signed user identity and the calling
service's credential (platform_common/service_identity.py explains both).

Routes declare what they need: `CurrentIdentity` / `MaybeIdentity` for the user, and
`internal_caller("search", ...)` for routes only other services may call.
"""
from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from platform_common.http.errors import ApiError
from platform_common.identity import Identity
from platform_common.service_identity import (
    CALLER_HEADER, IDENTITY_HEADER, InvalidServiceToken, ServiceKeys,
)

# What services trusted before identities were signed: refused loudly, so that a caller still
# sending them learns why instead of silently becoming anonymous.
UNSIGNED_HEADERS = ("x-auth-sub", "x-auth-tenant", "x-auth-roles")


def service_keys(request: Request) -> ServiceKeys:
    return request.app.state.service_keys


def calling_service(request: Request) -> str | None:
    """The service whose credential came with the request (None: no credential sent)."""
    token = request.headers.get(CALLER_HEADER)
    if token is None:
        return None
    try:
        return service_keys(request).verify_caller(token)
    except InvalidServiceToken as problem:
        raise ApiError(401, "invalid_token",
                       f"The service credential ({CALLER_HEADER}) was refused: {problem}") from None


def optional_identity(request: Request) -> Identity | None:
    if any(name in request.headers for name in UNSIGNED_HEADERS):
        raise ApiError(401, "unsigned_identity",
                       f"X-Auth-* headers are not trusted: the identity must come signed by the "
                       f"gateway in {IDENTITY_HEADER}.")
    token = request.headers.get(IDENTITY_HEADER)
    if token is None:
        return None
    try:
        return service_keys(request).verify_identity(token)
    except InvalidServiceToken as problem:
        raise ApiError(401, "invalid_token",
                       f"The signed identity ({IDENTITY_HEADER}) was refused: {problem}") from None


def required_identity(request: Request) -> Identity:
    identity = optional_identity(request)
    if identity is None:
        raise ApiError(401, "unauthorized", "Authentication is required.")
    return identity


def internal_caller(*allowed: str):
    """A dependency for internal routes: a valid credential of a service (of one of `allowed`
    when given); answers the caller's name."""

    def check(request: Request) -> str:
        caller = calling_service(request)
        if caller is None:
            raise ApiError(401, "unauthorized",
                           f"This route is for the platform's services only: send a service "
                           f"credential ({CALLER_HEADER}).")
        if allowed and caller not in allowed:
            raise ApiError(403, "forbidden", f"The service {caller!r} may not call this route.")
        return caller

    return Depends(check)


CurrentIdentity = Annotated[Identity, Depends(required_identity)]
MaybeIdentity = Annotated[Identity | None, Depends(optional_identity)]
