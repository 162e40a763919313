"""Poll until a condition holds: eventual consistency without fixed sleeps."""
from __future__ import annotations

import asyncio
import time
from typing import Awaitable, Callable, TypeVar

T = TypeVar("T")


async def eventually(probe: Callable[[], Awaitable[T]], *, timeout_s: float = 15,
                     interval_s: float = 0.1, message: str = "condition") -> T:
    """Return the first truthy result of `probe`, or fail after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    last: T | None = None
    while time.monotonic() < deadline:
        last = await probe()
        if last:
            return last
        await asyncio.sleep(interval_s)
    raise AssertionError(f"{message} did not happen within {timeout_s} s (last: {last!r})")


def eventually_sync(probe: Callable[[], T], *, timeout_s: float = 15, interval_s: float = 0.1,
                    message: str = "condition") -> T:
    deadline = time.monotonic() + timeout_s
    last: T | None = None
    while time.monotonic() < deadline:
        last = probe()
        if last:
            return last
        time.sleep(interval_s)
    raise AssertionError(f"{message} did not happen within {timeout_s} s (last: {last!r})")
