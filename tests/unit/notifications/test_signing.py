"""HMAC signatures of webhook bodies and unsubscribe links."""
from __future__ import annotations

import hashlib
import hmac

from services.notifications.domain.signing import (
    new_webhook_secret, read_unsubscribe_token, unsubscribe_token, webhook_signature,
    webhook_signature_valid,
)


def test_webhook_signature_is_hex_hmac_sha256_of_the_body():
    body = b'{"notification":{"id":"n1"}}'
    expected = hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    assert webhook_signature("s3cret", body) == f"sha256={expected}"
    # A known vector (RFC 4231 style check with a fixed key and message).
    assert webhook_signature("key", b"The quick brown fox jumps over the lazy dog") == (
        "sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8")


def test_webhook_signature_check():
    body = b"{}"
    header = webhook_signature("a", body)
    assert webhook_signature_valid("a", body, header)
    assert not webhook_signature_valid("b", body, header)
    assert not webhook_signature_valid("a", b"{ }", header)
    assert not webhook_signature_valid("a", body, None)


def test_webhook_secrets_are_long_and_random():
    first, second = new_webhook_secret(), new_webhook_secret()
    assert first != second and len(first) >= 40


def test_unsubscribe_token_round_trip():
    token = unsubscribe_token("secret", "actor-ä-1")
    assert read_unsubscribe_token("secret", token) == "actor-ä-1"
    assert "=" not in token  # fits in a URL without escaping


def test_unsubscribe_token_refuses_forgeries():
    token = unsubscribe_token("secret", "actor-1")
    encoded_actor, signature = token.split(".")
    other = unsubscribe_token("secret", "actor-2").split(".")[0]
    assert read_unsubscribe_token("other secret", token) is None
    assert read_unsubscribe_token("secret", f"{other}.{signature}") is None
    assert read_unsubscribe_token("secret", f"{encoded_actor}.{signature[:-2]}xx") is None
    for malformed in ["", ".", "abc", f"{encoded_actor}.", f".{signature}", "%%%.***",
                      "a" * 2000 + "." + signature, "/w==.AAAA"]:
        assert read_unsubscribe_token("secret", malformed) is None
