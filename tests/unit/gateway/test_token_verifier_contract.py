"""Dev tokens keep the token verifier contract."""
from __future__ import annotations

import time

import jwt
import pytest

from gateway.adapters.tokens import DEV_ALGORITHM, DevTokens
from gateway.domain.auth import DEV_ISSUER
from tests.contract.ports.gateway_token_verifier import TokenVerifierContract

SECRET = "a-test-secret-that-is-long-enough-for-hs256"


class TestDevTokens(TokenVerifierContract):
    @pytest.fixture
    def verifier(self):
        return DevTokens(secret=SECRET)

    def token(self, claims, *, foreign_key=False):
        issued = int(time.time())
        payload = {"iss": DEV_ISSUER, "iat": min(issued, claims["exp"] - 60), **claims}
        return jwt.encode(payload, SECRET + ("-other" if foreign_key else ""),
                          algorithm=DEV_ALGORITHM)
