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



class Stalled(AssertionError):
    """Asynchronous work stopped moving before it was complete."""


class _Watch:
    """Fails a wait when its amount of work done has not grown for `stall_s` seconds."""

    def __init__(self, stall_s: float, message: str):
        self.stall_s, self.message = stall_s, message
        self.started = self.moved_at = time.monotonic()
        self.best: float | None = None

    def saw(self, amount: float, detail: str) -> None:
        now = time.monotonic()
        if self.best is None or amount > self.best:
            self.best, self.moved_at = amount, now
        elif now - self.moved_at > self.stall_s:
            raise Stalled(f"{self.message}: no progress for {self.stall_s:.0f} s, stuck at "
                          f"{amount} after {now - self.started:.0f} s ({detail})")


async def until_complete(probe: Callable[[], Awaitable[tuple[bool, float, str]]], *,
                         stall_s: float = 90, interval_s: float = 1.0,
                         message: str = "work") -> float:
    """Wait for a long piece of asynchronous work by its progress, not by a fixed budget.

    `probe` returns `(done, amount, detail)`: whether the work is complete, how far it got
    (a number that grows while the work moves) and a few words for the failure message. This
    fails only when `amount` has not grown for `stall_s` seconds, so a slower machine takes
    longer but passes, while a stuck pipeline fails and says how far it got. Returns the
    seconds the work took."""
    watch = _Watch(stall_s, message)
    while True:
        done, amount, detail = await probe()
        if done:
            return time.monotonic() - watch.started
        watch.saw(amount, detail)
        await asyncio.sleep(interval_s)


def until_complete_sync(probe: Callable[[], tuple[bool, float, str]], *, stall_s: float = 90,
                        interval_s: float = 1.0, message: str = "work") -> float:
    """`until_complete` for code without an event loop."""
    watch = _Watch(stall_s, message)
    while True:
        done, amount, detail = probe()
        if done:
            return time.monotonic() - watch.started
        watch.saw(amount, detail)
        time.sleep(interval_s)
