"""Retrying what must not be given up: a store write whose loss would lose work, a message
that must reach its dead-letter topic. Retries that may give up use tenacity directly."""
from __future__ import annotations

import asyncio
from typing import Awaitable, Callable, TypeVar

from platform_common.observability.logging import get_logger

log = get_logger(__name__)
T = TypeVar("T")
FIRST_DELAY_S = 0.2
MAX_DELAY_S = 5.0


async def retry_forever(what: str, operation: Callable[[], Awaitable[T]], *,
                        first_delay_s: float = FIRST_DELAY_S,
                        max_delay_s: float = MAX_DELAY_S) -> T:
    """`operation()` again and again until it succeeds. Each failure is logged
    (`operation_failed`, naming `what`); the wait before the next attempt starts at
    `first_delay_s` and doubles up to `max_delay_s`. Cancelling the caller ends it."""
    delay = first_delay_s
    while True:
        try:
            return await operation()
        except Exception as exc:  # CancelledError is no Exception: it ends the loop
            log.warning("operation_failed", operation=what, error=repr(exc), retry_in_s=delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, max_delay_s)
