"""The secret address of a person's calendar feed, derived so that it can be shown again.

Calendar apps cannot sign in, so the feed's URL carries a secret token. People subscribe on
several devices and expect to see the link again, yet a stolen copy of the database must not
reveal it. So the token is derived: urlsafe base64 (unpadded) of
HMAC-SHA256(server secret, "<sub>:<generation>"). The store keeps the generation and the
token's SHA-256 (the feed is looked up by it), never the token. Renewing bumps the generation:
the new token's hash replaces the old one, so the old URL answers 404.

A stored token without a generation is one of the random tokens made before (shown once); the
person gets generation 1 on their next look at the link (`current`), which retires the old URL.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass


@dataclass(frozen=True)
class CalendarToken:
    """What the store keeps about a person's feed token."""

    generation: int | None  # None: a random token from before tokens were derived
    token_hash: str


def token_for(secret: bytes, sub: str, generation: int) -> str:
    # The generation is an int (no ':'), so "<sub>:<generation>" names one pair only.
    digest = hmac.new(secret, f"{sub}:{generation}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def current(stored: CalendarToken | None, *, secret: bytes, sub: str) -> tuple[str, CalendarToken]:
    """The person's token and what to store for it: the stored generation (1 when there is
    none). Differs from `stored` the first time, for a token of the old kind and after the
    server secret changed; then the caller stores it."""
    generation = stored.generation if stored is not None and stored.generation else 1
    token = token_for(secret, sub, generation)
    return token, CalendarToken(generation, hash_token(token))


def renewed(stored: CalendarToken | None, *, secret: bytes, sub: str) -> tuple[str, CalendarToken]:
    """A new token: the next generation (the old token no longer resolves once stored)."""
    generation = (stored.generation or 0) + 1 if stored is not None else 1
    token = token_for(secret, sub, generation)
    return token, CalendarToken(generation, hash_token(token))
