"""The contract of profiles' read model of the current suggestions (services/profiles/ports.py:
SuggestionStore), fed by the `matches` topic at least once and possibly out of order.

A pair is current when its latest event is `match.found`; a change applies only over an older
one, so a redelivered or replayed event (same or older time) changes nothing, and a withdrawal
is not undone by a late `match.found` from before it. A concrete subclass provides the
`suggestions` fixture: an empty store.
"""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

from services.profiles.domain.suggestions import SuggestionChange

T0 = datetime(2030, 3, 1, 12, 0, tzinfo=timezone.utc)


def pair() -> tuple[str, str]:
    return f"o-{uuid.uuid4().hex[:10]}", f"n-{uuid.uuid4().hex[:10]}"


def found(offer_id: str, need_id: str, seconds: float = 0) -> SuggestionChange:
    return SuggestionChange(offer_id, need_id, current=True, at=T0 + timedelta(seconds=seconds))


def withdrawn(offer_id: str, need_id: str, seconds: float = 0) -> SuggestionChange:
    return SuggestionChange(offer_id, need_id, current=False, at=T0 + timedelta(seconds=seconds))


class SuggestionStoreContract:
    async def test_an_unknown_pair_is_not_current(self, suggestions):
        offer, need = pair()
        assert not await suggestions.is_current(offer_id=offer, need_id=need)

    async def test_a_found_pair_is_current_until_withdrawn(self, suggestions):
        offer, need = pair()
        await suggestions.apply([found(offer, need)])
        assert await suggestions.is_current(offer_id=offer, need_id=need)
        # Direction matters: the offer of one pair is not the need of another.
        assert not await suggestions.is_current(offer_id=need, need_id=offer)
        await suggestions.apply([withdrawn(offer, need, 1)])
        assert not await suggestions.is_current(offer_id=offer, need_id=need)
        await suggestions.apply([found(offer, need, 2)])  # found again later
        assert await suggestions.is_current(offer_id=offer, need_id=need)

    async def test_redelivered_and_late_events_change_nothing(self, suggestions):
        offer, need = pair()
        await suggestions.apply([found(offer, need, 0), withdrawn(offer, need, 5)])
        await suggestions.apply([found(offer, need, 0)])  # redelivered, older
        await suggestions.apply([found(offer, need, 3)])  # late: before the withdrawal
        assert not await suggestions.is_current(offer_id=offer, need_id=need)
        other = pair()
        await suggestions.apply([found(*other, 4)])
        await suggestions.apply([withdrawn(*other, 1)])  # replayed from before
        await suggestions.apply([found(*other, 4)])  # the same event again
        assert await suggestions.is_current(offer_id=other[0], need_id=other[1])

    async def test_a_batch_applies_the_latest_change_of_each_pair(self, suggestions):
        first, second, third = pair(), pair(), pair()
        await suggestions.apply([withdrawn(*first, 2), found(*first, 1),   # out of order
                                 found(*second, 1), withdrawn(*second, 2), found(*second, 3),
                                 found(*third, 1)])
        assert not await suggestions.is_current(offer_id=first[0], need_id=first[1])
        assert await suggestions.is_current(offer_id=second[0], need_id=second[1])
        assert await suggestions.is_current(offer_id=third[0], need_id=third[1])
        await suggestions.apply([])  # nothing to do

    async def test_a_batch_mixing_new_and_stale_changes_applies_the_new_ones(self, suggestions):
        stale, fresh = pair(), pair()
        await suggestions.apply([found(*stale, 10)])
        await suggestions.apply([withdrawn(*stale, 5), found(*fresh, 5)])
        assert await suggestions.is_current(offer_id=stale[0], need_id=stale[1])
        assert await suggestions.is_current(offer_id=fresh[0], need_id=fresh[1])
