"""Bearer tokens: turning verified JWT claims into an Identity, issuing and checking dev tokens.

Verification itself is computation (PyJWT); where the keys come from (a secret, or the identity
provider's JWKS over the network) is decided by the verifier that uses these functions.
"""
from __future__ import annotations

import re
import time
from typing import Any, Iterable, Protocol

import jwt

from platform_common.identity import ROLES, Identity

# Both travel on to the services (in the identity the gateway signs) and into logs and URLs:
# no spaces, commas or control characters.
SUB_PATTERN = re.compile(r"^[A-Za-z0-9._:@|+\-]{1,256}$")
TENANT_PATTERN = re.compile(r"^[A-Za-z0-9._\-]{1,100}$")
DEV_ALGORITHM = "HS256"
DEV_ISSUER = "engage-dev"
# A dev token that lives longer is refused, whoever signed it (a leaked one expires soon).
MAX_DEV_TOKEN_LIFETIME_S = 24 * 3600
JWKS_ALGORITHMS = ("RS256",)


class InvalidToken(Exception):
    """The token is malformed, expired, badly signed or lacks the claims we need."""


class TokenVerifier(Protocol):
    async def verify(self, token: str) -> Identity: ...


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


def issue_dev_token(*, secret: str, sub: str, tenant: str, roles: Iterable[str],
                    ttl_s: int, now: float | None = None) -> str:
    issued = int(time.time() if now is None else now)
    claims = {"sub": sub, "tenant": tenant, "roles": sorted(set(roles)),
              "iat": issued, "exp": issued + ttl_s, "iss": DEV_ISSUER}
    return jwt.encode(claims, secret, algorithm=DEV_ALGORITHM)


def _decode(token: str, key: Any, algorithms: Iterable[str], *, leeway_s: int,
            issuer: str | None = None, audience: str | None = None,
            required_claims: Iterable[str] = ()) -> dict[str, Any]:
    required = (["exp", "sub"] + (["iss"] if issuer else []) + (["aud"] if audience else [])
                + list(required_claims))
    try:
        return jwt.decode(token, key, algorithms=list(algorithms), leeway=leeway_s,
                          issuer=issuer, audience=audience, options={"require": required})
    except jwt.ExpiredSignatureError:
        raise InvalidToken("the token has expired") from None
    except jwt.PyJWTError as error:
        raise InvalidToken(f"the token is not valid: {error}") from None


def verify_dev_token(token: str, *, secret: str, leeway_s: int = 0) -> Identity:
    """A dev token: our issuer, signed with the dev secret, living at most a day."""
    claims = _decode(token, secret, [DEV_ALGORITHM], leeway_s=leeway_s, issuer=DEV_ISSUER,
                     required_claims=["iat"])
    issued, expires = claims["iat"], claims["exp"]
    if not isinstance(issued, (int, float)) or expires - issued > MAX_DEV_TOKEN_LIFETIME_S:
        raise InvalidToken("the token lives longer than a day")
    return identity_from_claims(claims)


def verify_signed_token(token: str, *, key: Any, issuer: str, audience: str,
                        leeway_s: int = 0) -> Identity:
    """An identity provider's RS256 token, checked against its public key, issuer and audience."""
    return identity_from_claims(_decode(token, key, JWKS_ALGORITHMS, leeway_s=leeway_s,
                                        issuer=issuer, audience=audience))


class DevTokenVerifier:
    """Dev mode: tokens signed with the shared dev secret (never in production)."""

    def __init__(self, *, secret: str, leeway_s: int = 0):
        self._secret, self._leeway_s = secret, leeway_s

    async def verify(self, token: str) -> Identity:
        return verify_dev_token(token, secret=self._secret, leeway_s=self._leeway_s)


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
