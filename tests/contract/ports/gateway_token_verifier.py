"""The contract of a token verifier (gateway/ports.py: TokenVerifier).

Both verifiers (dev tokens with the shared secret, the identity provider's tokens from its
JWKS) must answer alike, since the gateway's routes rely on it: a valid token becomes its
identity (unknown roles dropped), and every other token is InvalidToken - expired, signed with
another key, not a JWT, or without a usable `sub` or `tenant`.

A concrete subclass provides the `verifier` fixture and `token(claims, *, foreign_key=False)`,
which signs `claims` as the verifier expects (or with a key it does not trust); the
contract's claims leave out what the subclass adds (issuer, audience, issued-at).
"""
from __future__ import annotations

import time
from typing import Any

import pytest

from gateway.domain.auth import InvalidToken


def claims(**overrides: Any) -> dict[str, Any]:
    base = {"sub": "f3a1c2d4-anna", "tenant": "koeln", "roles": ["member", "org_admin"],
            "exp": int(time.time()) + 300}
    base.update(overrides)
    return {name: value for name, value in base.items() if value is not None}


class TokenVerifierContract:
    def token(self, claims: dict[str, Any], *, foreign_key: bool = False) -> str:
        raise NotImplementedError

    async def test_a_valid_token_becomes_its_identity(self, verifier):
        identity = await verifier.verify(self.token(claims(roles=["member", "wizard"])))
        assert (identity.sub, identity.tenant, identity.roles) == \
            ("f3a1c2d4-anna", "koeln", frozenset({"member"}))

    async def test_an_expired_token_is_invalid(self, verifier):
        with pytest.raises(InvalidToken, match="expired"):
            await verifier.verify(self.token(claims(exp=int(time.time()) - 600)))

    async def test_a_token_signed_with_another_key_is_invalid(self, verifier):
        with pytest.raises(InvalidToken):
            await verifier.verify(self.token(claims(), foreign_key=True))

    async def test_something_that_is_no_jwt_is_invalid(self, verifier):
        for garbage in ("not-a-token", "a.b.c", ""):
            with pytest.raises(InvalidToken):
                await verifier.verify(garbage)

    @pytest.mark.parametrize("unusable", [{"tenant": None}, {"tenant": "köln mitte"},
                                          {"sub": "anna smith"}, {"sub": 42}])
    async def test_a_token_without_usable_sub_or_tenant_is_invalid(self, verifier, unusable):
        with pytest.raises(InvalidToken):
            await verifier.verify(self.token(claims(**unusable)))
