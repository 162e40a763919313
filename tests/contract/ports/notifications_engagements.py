"""The contract of the notifications service's EngagementStore: our copies of shifts and
sign-ups, each applied only when its version is newer."""
from __future__ import annotations

import pytest

from services.notifications.domain.models import ShiftRow, SignupRow
from services.notifications.ports import EngagementStore
from tests.contract.ports.notifications_builders import at, new_id


def shift_row(shift_id: str, *, version: int = 1, start_s: float = 3600,
              title: str = "Lebensmittelausgabe") -> ShiftRow:
    return ShiftRow(shift_id=shift_id, tenant="koeln", item_id=new_id("offer"), item_kind="offer",
                    item_title=title, start=at(start_s), end=at(start_s + 7200),
                    place_name="Tafel Köln", version=version)


def signup_row(shift_id: str, *, signup_id: str | None = None, actor_id: str | None = None,
               status: str = "confirmed", version: int = 1) -> SignupRow:
    return SignupRow(signup_id=signup_id or new_id("signup"), shift_id=shift_id,
                     actor_id=actor_id or new_id("a"), tenant="koeln", item_id=new_id("offer"),
                     status=status, shift_start=at(3600), shift_end=at(10800), version=version)


class EngagementStoreContract:
    @pytest.fixture
    def engagements(self) -> EngagementStore:
        raise NotImplementedError("a concrete suite gives the store under test")

    async def test_a_shift_is_applied_only_when_newer(self, engagements):
        shift_id = new_id("shift")
        assert await engagements.apply_shift(shift_row(shift_id, version=2, title="Neu"))
        assert not await engagements.apply_shift(shift_row(shift_id, version=1, title="Alt"))
        assert not await engagements.apply_shift(shift_row(shift_id, version=2, title="Alt"))
        assert (await engagements.get_shift(shift_id)).item_title == "Neu"
        assert await engagements.get_shift(new_id("shift")) is None

    async def test_signups_are_applied_only_when_newer_and_listed_per_shift(self, engagements):
        shift_id = new_id("shift")
        first = signup_row(shift_id, version=1)
        assert await engagements.apply_signup(first)
        assert await engagements.apply_signup(first.model_copy(update={"status": "cancelled",
                                                                       "version": 2}))
        assert not await engagements.apply_signup(first)
        second = signup_row(shift_id, status="waitlisted")
        await engagements.apply_signup(second)
        await engagements.apply_signup(signup_row(new_id("shift")))
        found = {s.signup_id: s.status for s in await engagements.signups_of_shift(shift_id)}
        assert found == {first.signup_id: "cancelled", second.signup_id: "waitlisted"}
        assert (await engagements.get_signup(first.signup_id)).version == 2

    async def test_move_signups_and_delete_actor(self, engagements):
        shift_id, actor_id = new_id("shift"), new_id("a")
        mine, other = signup_row(shift_id, actor_id=actor_id), signup_row(shift_id)
        for row in (mine, other):
            await engagements.apply_signup(row)
        await engagements.move_signups(shift_id, start=at(7200), end=at(9000))
        moved = await engagements.signups_of_shift(shift_id)
        assert {(s.shift_start, s.shift_end) for s in moved} == {(at(7200), at(9000))}
        await engagements.delete_actor(actor_id)
        assert [s.signup_id for s in await engagements.signups_of_shift(shift_id)] == \
            [other.signup_id]

    async def test_signups_of_actor_are_those_of_shifts_starting_after_the_time(self, engagements):
        actor_id = new_id("a")
        sooner = signup_row(new_id("shift"), actor_id=actor_id)
        later = signup_row(new_id("shift"), actor_id=actor_id, status="cancelled").model_copy(
            update={"shift_start": at(7200), "shift_end": at(9000)})
        for row in (sooner, later, signup_row(new_id("shift"))):
            await engagements.apply_signup(row)
        assert {s.signup_id: s.status for s in await engagements.signups_of_actor(
            actor_id, starting_after=at(0))} == {sooner.signup_id: "confirmed",
                                                 later.signup_id: "cancelled"}
        assert [s.signup_id for s in await engagements.signups_of_actor(
            actor_id, starting_after=at(3600))] == [later.signup_id]  # strictly after
        assert await engagements.signups_of_actor(new_id("a"), starting_after=at(0)) == []
