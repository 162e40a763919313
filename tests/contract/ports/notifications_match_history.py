"""The contract of the notifications service's MatchHistory: when each pair was withdrawn,
each withdrawal event counted once (the rounds of a pair's match keys follow from it)."""
from __future__ import annotations

import pytest

from services.notifications.ports import MatchHistory
from tests.contract.ports.notifications_builders import at, new_id


class MatchHistoryContract:
    @pytest.fixture
    def match_history(self) -> MatchHistory:
        raise NotImplementedError("a concrete suite gives the store under test")

    async def test_withdrawals_are_listed_per_pair(self, match_history):
        pair, other = new_id("o") + ":" + new_id("n"), new_id("o") + ":" + new_id("n")
        await match_history.record_withdrawal(event_id=new_id("e"), pair=pair, at=at(1))
        await match_history.record_withdrawal(event_id=new_id("e"), pair=pair, at=at(5))
        await match_history.record_withdrawal(event_id=new_id("e"), pair=other, at=at(3))
        found = await match_history.withdrawals_of([pair, other])
        assert sorted(found[pair]) == [at(1), at(5)] and found[other] == [at(3)]

    async def test_the_same_withdrawal_event_counts_once(self, match_history):
        pair, event_id = new_id("o") + ":" + new_id("n"), new_id("e")
        for _ in range(2):
            await match_history.record_withdrawal(event_id=event_id, pair=pair, at=at(1))
        assert await match_history.withdrawals_of([pair]) == {pair: [at(1)]}

    async def test_pairs_never_withdrawn_are_left_out(self, match_history):
        assert await match_history.withdrawals_of([new_id("o") + ":" + new_id("n")]) == {}
        assert await match_history.withdrawals_of([]) == {}
