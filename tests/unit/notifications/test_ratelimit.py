"""The hourly limit of instant mails per recipient, driven by a fake clock and counter."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from services.notifications.domain.ratelimit import RateLimit


class FakeClock:
    def __init__(self, start: datetime):
        self.now = start

    def advance(self, **delta) -> None:
        self.now += timedelta(**delta)


class FakeCounter:
    """Like Redis INCR with an expiry."""

    def __init__(self, clock: FakeClock):
        self.clock, self.values = clock, {}

    def increment(self, key: str, ttl_s: int) -> int:
        count, expires = self.values.get(key, (0, None))
        if expires is not None and self.clock.now >= expires:
            count, expires = 0, None
        expires = expires or self.clock.now + timedelta(seconds=ttl_s)
        self.values[key] = (count + 1, expires)
        return count + 1


def send_instant(limit: RateLimit, counter: FakeCounter, clock: FakeClock, actor: str) -> bool:
    key, ttl = limit.window(actor, clock.now)
    return limit.allows(counter.increment(key, ttl))


def test_twenty_mails_an_hour_then_the_rest_waits_for_the_digest():
    clock = FakeClock(datetime(2026, 5, 4, 10, 0, 5, tzinfo=timezone.utc))
    counter, limit = FakeCounter(clock), RateLimit(limit=20)
    allowed = []
    for _ in range(25):
        allowed.append(send_instant(limit, counter, clock, "a1"))
        clock.advance(seconds=30)
    assert allowed == [True] * 20 + [False] * 5
    assert send_instant(limit, counter, clock, "a2")  # other recipients have their own budget


def test_the_budget_is_back_in_the_next_hour():
    clock = FakeClock(datetime(2026, 5, 4, 10, 59, 0, tzinfo=timezone.utc))
    counter, limit = FakeCounter(clock), RateLimit(limit=2)
    assert [send_instant(limit, counter, clock, "a1") for _ in range(3)] == [True, True, False]
    clock.advance(minutes=1)  # 11:00: a new window
    assert [send_instant(limit, counter, clock, "a1") for _ in range(3)] == [True, True, False]


def test_window_key_and_lifetime():
    limit = RateLimit(limit=20)
    key, ttl = limit.window("a1", datetime(2026, 5, 4, 10, 59, 30, tzinfo=timezone.utc))
    later_key, _ = limit.window("a1", datetime(2026, 5, 4, 10, 0, 0, tzinfo=timezone.utc))
    assert key == later_key and key.startswith("ratelimit:instant_mail:a1:")
    assert ttl == 31  # until the end of the hour, plus a second of slack
