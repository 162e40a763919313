"""Opaque cursors for newest-first lists ordered by (created_at, id)."""
from __future__ import annotations

import base64
import json
from datetime import datetime

MAX_CURSOR_LENGTH = 500


def encode_cursor(created_at: datetime, identifier: str) -> str:
    raw = json.dumps([created_at.isoformat(), identifier]).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """Raises ValueError for anything that is not a cursor we issued."""
    if len(cursor) > MAX_CURSOR_LENGTH:
        raise ValueError("cursor too long")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        created_at, identifier = json.loads(raw)
        moment = datetime.fromisoformat(created_at)
    except Exception as exc:
        raise ValueError("invalid cursor") from exc
    if not isinstance(identifier, str) or moment.tzinfo is None:
        raise ValueError("invalid cursor")
    return moment, identifier
