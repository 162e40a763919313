"""The identity provider's tokens, checked against its JWKS over real HTTP, keep the token
verifier contract."""
from __future__ import annotations

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from gateway.adapters.jwks import JwksTokenVerifier
from tests.contract.ports.gateway_token_verifier import TokenVerifierContract
from tests.integration.gateway.jwks_provider import KeySet, serving

pytestmark = pytest.mark.integration
ISSUER, AUDIENCE, KID = "https://login.example.nrw/realms/engage", "engage-api", "key-1"


@pytest.fixture(scope="module")
def key_set():
    keys = KeySet()
    keys.add(KID)
    return keys


@pytest.fixture(scope="module")
def jwks_url(key_set):
    with serving(key_set) as url:
        yield url


@pytest.fixture(scope="module")
def stranger():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


class TestJwksTokenVerifier(TokenVerifierContract):
    @pytest.fixture(autouse=True)
    def keys(self, key_set, stranger):
        self.trusted, self.stranger = key_set.keys[0][1], stranger

    @pytest.fixture
    def verifier(self, jwks_url):
        return JwksTokenVerifier(jwks_url=jwks_url, issuer=ISSUER, audience=AUDIENCE,
                                 refresh_cooldown_s=0)

    def token(self, claims, *, foreign_key=False):
        payload = {"iss": ISSUER, "aud": AUDIENCE, **claims}
        return jwt.encode(payload, self.stranger if foreign_key else self.trusted,
                          algorithm="RS256", headers={"kid": KID})
