"""Checking and signing JWTs with PyJWT: dev tokens (a shared secret) and the identity
provider's RS256 tokens (its key comes from gateway/adapters/jwks.py)."""
from __future__ import annotations

import time
from typing import Any, Iterable

import jwt

from gateway.domain.auth import (
    DEV_ISSUER, InvalidToken, check_dev_lifetime, dev_claims, identity_from_claims,
)
from platform_common.identity import Identity

DEV_ALGORITHM = "HS256"
JWKS_ALGORITHMS = ("RS256",)


def decode(token: str, key: Any, algorithms: Iterable[str], *, leeway_s: int,
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


def issue_dev_token(*, secret: str, sub: str, tenant: str, roles: Iterable[str],
                    ttl_s: int, now: float | None = None) -> str:
    issued = int(time.time() if now is None else now)
    return jwt.encode(dev_claims(sub=sub, tenant=tenant, roles=roles, ttl_s=ttl_s,
                                 issued_at=issued), secret, algorithm=DEV_ALGORITHM)


def verify_dev_token(token: str, *, secret: str, leeway_s: int = 0) -> Identity:
    """A dev token: our issuer, signed with the dev secret, living at most a day."""
    claims = decode(token, secret, [DEV_ALGORITHM], leeway_s=leeway_s, issuer=DEV_ISSUER,
                    required_claims=["iat"])
    check_dev_lifetime(claims)
    return identity_from_claims(claims)


def verify_signed_token(token: str, *, key: Any, issuer: str, audience: str,
                        leeway_s: int = 0) -> Identity:
    """An identity provider's RS256 token, checked against its public key, issuer and audience."""
    return identity_from_claims(decode(token, key, JWKS_ALGORITHMS, leeway_s=leeway_s,
                                       issuer=issuer, audience=audience))


class DevTokens:
    """Dev mode: tokens signed with the shared dev secret, verified and issued (never in
    production)."""

    def __init__(self, *, secret: str, leeway_s: int = 0):
        self._secret, self._leeway_s = secret, leeway_s

    async def verify(self, token: str) -> Identity:
        return verify_dev_token(token, secret=self._secret, leeway_s=self._leeway_s)

    def issue(self, *, sub: str, tenant: str, roles: Iterable[str], ttl_s: int) -> str:
        return issue_dev_token(secret=self._secret, sub=sub, tenant=tenant, roles=roles,
                               ttl_s=ttl_s)
