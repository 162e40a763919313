import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from gateway.adapters.tokens import (
    DevTokens, issue_dev_token, verify_dev_token, verify_signed_token,
)
from gateway.domain.auth import InvalidToken, bearer_token, identity_from_claims, roles_from_claim

SECRET = "a-test-secret-that-is-long-enough-for-hs256"


@pytest.fixture(scope="module")
def rsa_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def signed(private_key, **claims):
    base = {"sub": "u-1", "tenant": "koeln", "roles": ["member"], "iss": "https://idp.example",
            "aud": "engage", "exp": int(time.time()) + 300}
    base.update(claims)
    return jwt.encode({k: v for k, v in base.items() if v is not None}, private_key,
                      algorithm="RS256", headers={"kid": "k1"})


def test_dev_token_round_trip_gives_the_identity():
    token = issue_dev_token(secret=SECRET, sub="anna", tenant="koeln",
                            roles=["member", "org_admin"], ttl_s=60)
    identity = verify_dev_token(token, secret=SECRET)
    assert (identity.sub, identity.tenant) == ("anna", "koeln")
    assert identity.roles == frozenset({"member", "org_admin"})


async def test_dev_verifier_checks_the_signature():
    token = issue_dev_token(secret=SECRET, sub="anna", tenant="koeln", roles=[], ttl_s=60)
    assert (await DevTokens(secret=SECRET).verify(token)).sub == "anna"
    with pytest.raises(InvalidToken):
        await DevTokens(secret=SECRET + "-other").verify(token)


def test_expired_dev_token_is_refused():
    token = issue_dev_token(secret=SECRET, sub="anna", tenant="koeln", roles=[], ttl_s=60,
                            now=time.time() - 3600)
    with pytest.raises(InvalidToken, match="expired"):
        verify_dev_token(token, secret=SECRET)


def test_unsigned_token_is_refused():
    token = jwt.encode({"sub": "x", "tenant": "koeln", "exp": int(time.time()) + 60}, None,
                       algorithm="none")
    with pytest.raises(InvalidToken):
        verify_dev_token(token, secret=SECRET)


def test_token_without_expiry_is_refused():
    token = jwt.encode({"sub": "x", "tenant": "koeln"}, SECRET, algorithm="HS256")
    with pytest.raises(InvalidToken):
        verify_dev_token(token, secret=SECRET)


def test_provider_token_verifies_with_the_public_key(rsa_key):
    identity = verify_signed_token(signed(rsa_key, roles=["operator"]),
                                   key=rsa_key.public_key(), issuer="https://idp.example",
                                   audience="engage")
    assert identity.sub == "u-1" and identity.is_operator


@pytest.mark.parametrize("claims", [{"aud": "another-app"}, {"iss": "https://evil.example"},
                                    {"exp": int(time.time()) - 3600}, {"aud": None},
                                    {"tenant": None}])
def test_provider_token_with_wrong_claims_is_refused(rsa_key, claims):
    with pytest.raises(InvalidToken):
        verify_signed_token(signed(rsa_key, **claims), key=rsa_key.public_key(),
                            issuer="https://idp.example", audience="engage")


def test_token_signed_by_another_key_is_refused(rsa_key):
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(InvalidToken):
        verify_signed_token(signed(other), key=rsa_key.public_key(),
                            issuer="https://idp.example", audience="engage")


def test_hs256_token_signed_with_the_public_key_is_refused(rsa_key):
    """Algorithm confusion: the public key must never work as an HMAC secret."""
    public_pem = rsa_key.public_key().public_bytes(serialization.Encoding.PEM,
                                                   serialization.PublicFormat.SubjectPublicKeyInfo)
    claims = {"sub": "x", "tenant": "koeln", "iss": "https://idp.example", "aud": "engage",
              "exp": int(time.time()) + 60}
    import hashlib
    import hmac
    import base64
    import json

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    header = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    payload = b64(json.dumps(claims).encode())
    signature = b64(hmac.new(public_pem, f"{header}.{payload}".encode(), hashlib.sha256).digest())
    with pytest.raises(InvalidToken):
        verify_signed_token(f"{header}.{payload}.{signature}", key=rsa_key.public_key(),
                            issuer="https://idp.example", audience="engage")


@pytest.mark.parametrize("claims", [{"tenant": "koeln"}, {"sub": "a", "tenant": ""},
                                    {"sub": "a b", "tenant": "koeln"},
                                    {"sub": "a", "tenant": "koeln\r\nX-Auth-Roles: operator"},
                                    {"sub": 5, "tenant": "koeln"}])
def test_claims_that_cannot_become_headers_are_refused(claims):
    with pytest.raises(InvalidToken):
        identity_from_claims(claims)


def test_roles_claim_accepts_lists_and_strings_and_drops_unknown_roles():
    assert roles_from_claim(["member", "admin", 3]) == frozenset({"member"})
    assert roles_from_claim("member operator") == frozenset({"member", "operator"})
    assert roles_from_claim("org_admin,tenant_admin") == frozenset({"org_admin", "tenant_admin"})
    assert roles_from_claim(None) == frozenset()


def test_bearer_header_parsing():
    assert bearer_token(None) is None
    assert bearer_token("Bearer abc.def.ghi") == "abc.def.ghi"
    assert bearer_token("bearer  abc") == "abc"
    for bad in ("Basic dXNlcjpwdw==", "Bearer", "Bearer ", "abc", "Bearer a b"):
        with pytest.raises(InvalidToken):
            bearer_token(bad)


def dev_claims(**claims):
    now = int(time.time())
    base = {"sub": "anna", "tenant": "koeln", "roles": ["member"], "iss": "engage-dev",
            "iat": now, "exp": now + 3600}
    base.update(claims)
    return {k: v for k, v in base.items() if v is not None}


def test_dev_tokens_of_another_issuer_or_without_one_are_refused():
    assert verify_dev_token(jwt.encode(dev_claims(), SECRET, algorithm="HS256"),
                            secret=SECRET).sub == "anna"
    for claims in (dev_claims(iss="https://elsewhere.example"), dev_claims(iss=None)):
        with pytest.raises(InvalidToken, match="iss"):
            verify_dev_token(jwt.encode(claims, SECRET, algorithm="HS256"), secret=SECRET)


def test_dev_tokens_living_longer_than_a_day_are_refused():
    now = int(time.time())
    a_day = jwt.encode(dev_claims(iat=now, exp=now + 24 * 3600), SECRET, algorithm="HS256")
    assert verify_dev_token(a_day, secret=SECRET).sub == "anna"
    for claims in (dev_claims(iat=now, exp=now + 24 * 3600 + 1),
                   dev_claims(iat=now - 400 * 24 * 3600, exp=now + 3600),
                   dev_claims(iat=None, exp=now + 3600)):
        with pytest.raises(InvalidToken):
            verify_dev_token(jwt.encode(claims, SECRET, algorithm="HS256"), secret=SECRET)
    with pytest.raises(InvalidToken, match="longer than a day"):
        verify_dev_token(jwt.encode(dev_claims(exp=now + 2 * 24 * 3600), SECRET,
                                    algorithm="HS256"), secret=SECRET)
