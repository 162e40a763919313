"""In-memory stand-ins for the gateway's ports; tests/contract/ports/gateway_*.py holds them to
the same contracts as the real adapters."""
from __future__ import annotations

import time
from typing import Callable

from gateway.ports import CounterStoreUnavailable


class MemoryCounterStore:
    """Counters in a dict, each expiring `expire_s` after its first increment (like Redis
    INCR + EXPIRE NX). `down` makes every call fail as an unreachable store does; `calls`
    counts the increments asked for."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic):
        self.clock = clock
        self._counters: dict[str, tuple[int, float]] = {}  # key -> (count, expires at)
        self.down = False
        self.calls = 0

    async def increment(self, key: str, expire_s: int) -> int:
        self.calls += 1
        self._check_up()
        now = self.clock()
        count, expires_at = self._counters.get(key, (0, now + expire_s))
        if expires_at <= now:
            count, expires_at = 0, now + expire_s
        self._counters[key] = (count + 1, expires_at)
        return count + 1

    async def ping(self) -> None:
        self._check_up()

    async def close(self) -> None:
        """Nothing to close."""

    def _check_up(self) -> None:
        if self.down:
            raise CounterStoreUnavailable("connection refused")
