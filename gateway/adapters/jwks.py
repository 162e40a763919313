"""Verifying the identity provider's RS256 tokens with keys from its JWKS endpoint."""
from __future__ import annotations

import asyncio

import jwt

from gateway.adapters.tokens import verify_signed_token
from gateway.domain.auth import InvalidToken
from gateway.ports import KeysUnavailable
from platform_common.identity import Identity


class JwksTokenVerifier:
    def __init__(self, *, jwks_url: str, issuer: str, audience: str, leeway_s: int = 0,
                 cache_s: int = 300, refresh_cooldown_s: float = 30.0,
                 timeout_s: float = 5.0):
        # PyJWKClient caches the key set and refetches it when a token names an unknown key id
        # (key rotation), at most once per cooldown.
        self._client = jwt.PyJWKClient(jwks_url, cache_jwk_set=True, lifespan=cache_s,
                                       cooldown_duration=refresh_cooldown_s, timeout=timeout_s)
        self._issuer, self._audience, self._leeway_s = issuer, audience, leeway_s

    async def verify(self, token: str) -> Identity:
        try:
            # PyJWKClient fetches synchronously: keep the event loop free.
            signing_key = await asyncio.to_thread(self._client.get_signing_key_from_jwt, token)
        except jwt.PyJWKClientConnectionError as error:
            raise KeysUnavailable(str(error)) from error
        except jwt.PyJWTError as error:
            raise InvalidToken(f"the token is not valid: {error}") from None
        return verify_signed_token(token, key=signing_key.key, issuer=self._issuer,
                                   audience=self._audience, leeway_s=self._leeway_s)
