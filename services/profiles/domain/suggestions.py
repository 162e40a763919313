"""Which offer/need pairs are current suggestions, as profiles learns from the `matches` topic.

A contact request needs its pair among them. Matching announces `match.found` (again when a
pair's score changes) and `match.withdrawn`, keyed by the pair; the consumer is at least once
and a rebalance may replay older events, so each change carries the time of its event and the
store applies it only over an older one (a withdrawal is kept as "not current", so a late
`match.found` cannot bring the pair back).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

FOUND, WITHDRAWN = "match.found", "match.withdrawn"


@dataclass(frozen=True)
class SuggestionChange:
    offer_id: str
    need_id: str
    current: bool
    at: datetime

    @property
    def pair(self) -> str:
        """The pair's id, as matching keys its events: "<offer_id>:<need_id>"."""
        return f"{self.offer_id}:{self.need_id}"


def change_of(event_type: str, *, offer_id: str, need_id: str,
              at: datetime) -> SuggestionChange | None:
    """The change a `matches` event makes; None for event types that change nothing here."""
    if event_type not in (FOUND, WITHDRAWN):
        return None
    return SuggestionChange(offer_id, need_id, current=event_type == FOUND, at=at)


def latest_per_pair(changes: list[SuggestionChange]) -> list[SuggestionChange]:
    """One change per pair: the latest (the last of equal times, as delivered)."""
    latest: dict[str, SuggestionChange] = {}
    for change in changes:
        known = latest.get(change.pair)
        if known is None or change.at >= known.at:
            latest[change.pair] = change
    return list(latest.values())
