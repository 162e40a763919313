"""Opaque pagination cursors: the sort values of the last hit, as URL-safe base64 JSON.

A cursor remembers which ordering produced it, so it cannot be replayed against another one.
"""
from __future__ import annotations

import base64
import binascii
import json

CURSOR_FORMAT = 1
MAX_CURSOR_LENGTH = 2000


class InvalidCursor(ValueError):
    """The cursor is not one this service issued (or was issued for another sort)."""


def encode_cursor(*, sort: str, after: list) -> str:
    raw = json.dumps({"v": CURSOR_FORMAT, "s": sort, "a": after}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, *, sort: str) -> list:
    """The `search_after` values for `sort`; raises InvalidCursor for anything else."""
    if not cursor or len(cursor) > MAX_CURSOR_LENGTH:
        raise InvalidCursor("the cursor is empty or too long")
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        payload = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")).decode())
    except (binascii.Error, ValueError, UnicodeError) as exc:
        raise InvalidCursor("the cursor is not one this service issued") from exc
    if not isinstance(payload, dict) or payload.get("v") != CURSOR_FORMAT:
        raise InvalidCursor("the cursor is not one this service issued")
    if payload.get("s") != sort:
        raise InvalidCursor(f"the cursor belongs to sort={payload.get('s')!r}, not sort={sort!r}")
    after = payload.get("a")
    if not isinstance(after, list) or len(after) != 2:
        raise InvalidCursor("the cursor is not one this service issued")
    primary, tie_breaker = after
    if isinstance(primary, bool) or not isinstance(primary, (int, float)) \
            or not isinstance(tie_breaker, str):
        raise InvalidCursor("the cursor is not one this service issued")
    return after
