"""Bearer tokens: the header's token, and turning verified claims into an Identity (pure).

Checking signatures is the verifiers' work (gateway/adapters/tokens.py: the dev secret, the
identity provider's JWKS); they call `identity_from_claims` on what they verified.
"""
from __future__ import annotations

import re
from typing import Any, Iterable

from platform_common.identity import ROLES, Identity

# Both travel on to the services (in the identity the gateway signs) and into logs and URLs:
# no spaces, commas or control characters.
SUB_PATTERN = re.compile(r"^[A-Za-z0-9._:@|+\-]{1,256}$")
TENANT_PATTERN = re.compile(r"^[A-Za-z0-9._\-]{1,100}$")
DEV_ISSUER = "engage-dev"
# A dev token that lives longer is refused, whoever signed it (a leaked one expires soon).
MAX_DEV_TOKEN_LIFETIME_S = 24 * 3600


class InvalidToken(Exception):
    """The token is malformed, expired, badly signed or lacks the claims we need."""


def roles_from_claim(value: Any) -> frozenset[str]:
    """Known roles from a list or a space/comma separated string; unknown roles are dropped."""
    if isinstance(value, str):
        candidates: Iterable[Any] = re.split(r"[\s,]+", value)
    elif isinstance(value, (list, tuple)):
        candidates = value
    else:
        candidates = ()
    return frozenset(role for role in candidates if isinstance(role, str) and role in ROLES)


def identity_from_claims(claims: dict[str, Any]) -> Identity:
    sub, tenant = claims.get("sub"), claims.get("tenant")
    if not isinstance(sub, str) or not SUB_PATTERN.match(sub):
        raise InvalidToken("the token has no usable 'sub' claim")
    if not isinstance(tenant, str) or not TENANT_PATTERN.match(tenant):
        raise InvalidToken("the token has no usable 'tenant' claim")
    return Identity(sub=sub, tenant=tenant, roles=roles_from_claim(claims.get("roles")))


def dev_claims(*, sub: str, tenant: str, roles: Iterable[str], ttl_s: int,
               issued_at: int) -> dict[str, Any]:
    """What a dev token says (signed by gateway/adapters/tokens.py)."""
    return {"sub": sub, "tenant": tenant, "roles": sorted(set(roles)),
            "iat": issued_at, "exp": issued_at + ttl_s, "iss": DEV_ISSUER}


def check_dev_lifetime(claims: dict[str, Any]) -> None:
    """A dev token lives at most a day."""
    issued, expires = claims["iat"], claims["exp"]
    if not isinstance(issued, (int, float)) or expires - issued > MAX_DEV_TOKEN_LIFETIME_S:
        raise InvalidToken("the token lives longer than a day")


def bearer_token(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer ...` header; None when the header is absent.

    A header that is present but not a bearer token is an invalid token, not an absent one.
    """
    if authorization is None:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or " " in token:
        raise InvalidToken("the Authorization header must be 'Bearer <token>'")
    return token
