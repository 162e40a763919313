"""HMAC signatures: webhook bodies and unsubscribe links."""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets

UNSUBSCRIBE_PURPOSE = b"unsubscribe:email:"


def _hmac(secret: str, message: bytes) -> bytes:
    return hmac.new(secret.encode(), message, hashlib.sha256).digest()


def webhook_signature(secret: str, body: bytes) -> str:
    """The `X-Signature` header value: `sha256=<hex HMAC-SHA256 of the body>`."""
    return "sha256=" + _hmac(secret, body).hex()


def webhook_signature_valid(secret: str, body: bytes, header: str | None) -> bool:
    return header is not None and hmac.compare_digest(webhook_signature(secret, body), header)


def new_webhook_secret() -> str:
    return secrets.token_urlsafe(32)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def unsubscribe_token(secret: str, actor_id: str) -> str:
    """`<actor id>.<signature>`, both base64url; valid as long as the secret is."""
    return f"{_b64(actor_id.encode())}.{_b64(_hmac(secret, UNSUBSCRIBE_PURPOSE + actor_id.encode()))}"


def read_unsubscribe_token(secret: str, token: str) -> str | None:
    """The actor id of a valid token, None for anything forged, altered or malformed."""
    encoded_actor, _, encoded_signature = token.partition(".")
    if not encoded_actor or not encoded_signature or len(token) > 1000:
        return None
    try:
        actor_id = _unb64(encoded_actor).decode()
        signature = _unb64(encoded_signature)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    expected = _hmac(secret, UNSUBSCRIBE_PURPOSE + actor_id.encode())
    return actor_id if hmac.compare_digest(expected, signature) else None
