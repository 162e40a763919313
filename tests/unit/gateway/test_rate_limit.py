import pytest

from gateway.domain.rate_limit import (
    Decision, caller_key, limits_for, rate_limit_headers, window_of,
)
from gateway.service import RateLimiter
from tests.unit.gateway.fakes import MemoryCounterStore


class FakeClock:
    def __init__(self, now: float):
        self.now = now

    def __call__(self) -> float:
        return self.now


def reads(limit=3, writes=2):
    return limits_for("GET", per_minute=limit, writes_per_minute=writes)


def writes(limit=3, writes=2):
    return limits_for("POST", per_minute=limit, writes_per_minute=writes)


@pytest.fixture
def clock():
    return FakeClock(1_000_040.0)  # 20 s into a minute window


@pytest.fixture
def counters():
    return MemoryCounterStore()


async def test_requests_up_to_the_limit_pass_then_429_until_the_window_ends(clock, counters):
    limiter = RateLimiter(counters, clock=clock)
    results = [await limiter.check("ip:1.2.3.4", reads()) for _ in range(4)]
    assert [r.allowed for r in results] == [True, True, True, False]
    assert [r.remaining for r in results[:3]] == [2, 1, 0]
    assert results[3].retry_after_s == 40 and results[3].bucket == "all"
    clock.now += 39.5
    assert not (await limiter.check("ip:1.2.3.4", reads())).allowed
    clock.now += 0.5  # the next window
    assert (await limiter.check("ip:1.2.3.4", reads())).allowed


async def test_callers_have_their_own_budget(clock, counters):
    limiter = RateLimiter(counters, clock=clock)
    for _ in range(3):
        await limiter.check(caller_key(sub="anna", tenant="koeln", client_ip="10.0.0.1"), reads())
    assert not (await limiter.check("sub:koeln:anna", reads())).allowed
    assert (await limiter.check(caller_key(sub="ben", tenant="koeln", client_ip="10.0.0.1"),
                                reads())).allowed
    assert (await limiter.check(caller_key(sub=None, tenant=None, client_ip="10.0.0.1"),
                                reads())).allowed


async def test_writes_have_a_stricter_budget_that_reads_do_not_use(clock, counters):
    limiter = RateLimiter(counters, clock=clock)
    assert [(await limiter.check("c", writes())).allowed for _ in range(3)] == [True, True, False]
    denied = await limiter.check("c", writes(limit=10))
    assert denied.bucket == "writes" and denied.limit == 2
    assert (await limiter.check("c", reads(limit=10))).allowed


async def test_a_dead_store_lets_requests_through_and_is_skipped_for_the_backoff(clock, counters):
    limiter = RateLimiter(counters, clock=clock, store_backoff_s=5)
    counters.down = True
    first = await limiter.check("c", reads(limit=1))
    assert first.allowed and first.degraded and first.store_error
    calls = counters.calls
    for _ in range(10):
        decision = await limiter.check("c", reads(limit=1))
        assert decision.allowed and decision.degraded and decision.store_error is None
    assert counters.calls == calls, "the store must not be asked during the back-off"
    counters.down = False
    clock.now += 5
    assert (await limiter.check("c", reads(limit=1))).allowed
    assert not (await limiter.check("c", reads(limit=1))).allowed


def test_windows_and_limits():
    assert window_of(120.0) == (2, 60)
    assert window_of(179.2) == (2, 1)
    assert [l.bucket for l in limits_for("delete", per_minute=5, writes_per_minute=1)] == \
        ["all", "writes"]
    assert [l.bucket for l in limits_for("GET", per_minute=5, writes_per_minute=1)] == ["all"]
    assert caller_key(sub=None, tenant=None, client_ip=None) == "ip:unknown"


async def test_every_counted_answer_carries_the_ratelimit_headers(clock, counters):
    limiter = RateLimiter(counters, clock=clock)
    first = await limiter.check("ip:1.2.3.4", writes(limit=5, writes=2))
    assert rate_limit_headers(first) == {"RateLimit-Limit": "2", "RateLimit-Remaining": "1",
                                         "RateLimit-Reset": "40"}, "the tightest limit"
    await limiter.check("ip:1.2.3.4", writes(limit=5, writes=2))
    refused = await limiter.check("ip:1.2.3.4", writes(limit=5, writes=2))
    assert rate_limit_headers(refused) == {"RateLimit-Limit": "2", "RateLimit-Remaining": "0",
                                           "RateLimit-Reset": "40"}
    assert rate_limit_headers(Decision(True, degraded=True)) == {}, "not counted: no headers"
