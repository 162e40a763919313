"""The per-recipient limit of instant mails.

A fixed window per clock hour (UTC): the counter of the window is incremented for every
instant mail; a mail whose count exceeds the limit is not sent now but goes into the
recipient's next daily digest, so nothing is lost and nobody is flooded.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class RateLimit:
    limit: int
    window_s: int = 3600

    def window(self, actor_id: str, now: datetime) -> tuple[str, int]:
        """The counter key for `now` and how long it must live (seconds, until the window ends)."""
        seconds = int(now.timestamp())
        start = seconds - seconds % self.window_s
        return f"ratelimit:instant_mail:{actor_id}:{start}", start + self.window_s - seconds + 1

    def allows(self, count_including_this: int) -> bool:
        return count_including_this <= self.limit
