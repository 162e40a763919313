"""Fixed-window rate limits per caller: every request counts in the current minute's window.

A caller is the identity's subject when signed in, else the client IP. Writes (POST, PUT,
PATCH, DELETE) also count against a stricter budget. The rules here are pure; the counting
over the counter store (a port) is `RateLimiter` in gateway/service.py.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

WINDOW_S = 60
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass(frozen=True)
class Limit:
    bucket: str
    per_window: int


@dataclass(frozen=True)
class Decision:
    allowed: bool
    limit: int = 0
    remaining: int = 0
    retry_after_s: int = 0
    bucket: str = ""
    # Seconds until the current window ends (the RateLimit-Reset header).
    reset_s: int = 0
    # True when the request was let through unchecked because the store failed; store_error
    # is set only on the request that met the failure (once per back-off, for one log line).
    degraded: bool = False
    store_error: str | None = None


def limits_for(method: str, *, per_minute: int, writes_per_minute: int) -> list[Limit]:
    limits = [Limit("all", per_minute)]
    if method.upper() in WRITE_METHODS:
        limits.append(Limit("writes", writes_per_minute))
    return limits


def caller_key(*, sub: str | None, tenant: str | None, client_ip: str | None) -> str:
    if sub:
        return f"sub:{tenant or '-'}:{sub}"
    return f"ip:{client_ip or 'unknown'}"


def window_of(now: float) -> tuple[int, int]:
    """The window index and the whole seconds until it ends (at least 1)."""
    index = int(now // WINDOW_S)
    return index, max(1, math.ceil((index + 1) * WINDOW_S - now))


def counter_key(bucket: str, caller: str, window_index: int) -> str:
    return f"ratelimit:{bucket}:{caller}:{window_index}"


def decide(count: int, limit: Limit, seconds_left: int) -> Decision:
    if count > limit.per_window:
        return Decision(False, limit.per_window, 0, seconds_left, limit.bucket,
                        reset_s=seconds_left)
    return Decision(True, limit.per_window, limit.per_window - count, 0, limit.bucket,
                    reset_s=seconds_left)


def rate_limit_headers(decision: Decision) -> dict[str, str]:
    """RateLimit-Limit/-Remaining/-Reset (IETF draft names) of the tightest limit, on every
    answer the limiter counted; none when it was not checked (Redis down)."""
    if not decision.limit:
        return {}
    return {"RateLimit-Limit": str(decision.limit),
            "RateLimit-Remaining": str(decision.remaining),
            "RateLimit-Reset": str(decision.reset_s)}
