"""The contract of the notifications service's PreferenceStore: one document per actor,
replaced whole, read as a snapshot."""
from __future__ import annotations

import pytest

from services.notifications.domain.models import Channels, Preferences
from services.notifications.ports import PreferenceStore
from tests.contract.ports.notifications_builders import at, new_id


class PreferenceStoreContract:
    @pytest.fixture
    def preferences(self) -> PreferenceStore:
        raise NotImplementedError("a concrete suite gives the store under test")

    async def test_nothing_is_stored_for_a_new_actor(self, preferences):
        assert await preferences.get(new_id("actor")) is None
        assert await preferences.get_many([new_id("actor")]) == {}

    async def test_saved_preferences_are_read_back_and_replaced_whole(self, preferences):
        actor_id = new_id("actor")
        first = Preferences(actor_id=actor_id, channels=Channels(webhook=True),
                            frequency="daily", webhook_url="https://hooks.example/x",
                            webhook_secret="s3cret")
        await preferences.save(first)
        assert await preferences.get(actor_id) == first
        second = Preferences(actor_id=actor_id, channels=Channels(email=False))
        await preferences.save(second)
        assert await preferences.get(actor_id) == second

    async def test_a_read_is_a_snapshot(self, preferences):
        actor_id = new_id("actor")
        await preferences.save(Preferences(actor_id=actor_id))
        read = await preferences.get(actor_id)
        read.channels.email = False  # the unsubscribe use case changes what it read
        assert (await preferences.get(actor_id)).channels.email is True
        saved = Preferences(actor_id=actor_id, frequency="daily")
        await preferences.save(saved)
        saved.frequency = "off"
        assert (await preferences.get(actor_id)).frequency == "daily"

    async def test_get_many_answers_the_stored_ones_by_actor(self, preferences):
        first, second = Preferences(actor_id=new_id("actor")), Preferences(
            actor_id=new_id("actor"), frequency="off")
        for stored in (first, second):
            await preferences.save(stored)
        found = await preferences.get_many([first.actor_id, second.actor_id, new_id("actor")])
        assert found == {first.actor_id: first, second.actor_id: second}

    async def test_delete_actor_removes_only_that_actor(self, preferences):
        gone, kept = new_id("actor"), new_id("actor")
        await preferences.save(Preferences(actor_id=gone))
        await preferences.save(Preferences(actor_id=kept))
        await preferences.delete_actor(gone)
        await preferences.delete_actor(new_id("never-stored"))
        assert await preferences.get(gone) is None
        assert await preferences.get(kept) == Preferences(actor_id=kept)

    async def test_a_replan_is_requested_listed_and_finished_once(self, preferences):
        waiting, sooner, idle = new_id("actor"), new_id("actor"), new_id("actor")
        await preferences.save(Preferences(actor_id=waiting, reminder_hours=[5],
                                           reminders_replan_since=at(20)))
        await preferences.save(Preferences(actor_id=sooner, reminders_replan_since=at(10)))
        await preferences.save(Preferences(actor_id=idle))
        due = await preferences.replans_due(now=at(30), limit=100)
        assert [a for a in due if a in {waiting, sooner, idle}] == [sooner, waiting]
        assert waiting not in await preferences.replans_due(now=at(15), limit=100)

        assert not await preferences.finish_replan(waiting, since=at(19))  # another change's
        assert await preferences.finish_replan(waiting, since=at(20))
        assert not await preferences.finish_replan(waiting, since=at(20))
        stored = await preferences.get(waiting)
        assert (stored.reminders_replan_since, stored.reminder_hours) == (None, [5])
        assert waiting not in await preferences.replans_due(now=at(30), limit=100)

        assert await preferences.request_replan(idle, since=at(25))
        assert not await preferences.request_replan(idle, since=at(26))  # one is waiting
        assert not await preferences.request_replan(new_id("never-stored"), since=at(25))
        assert (await preferences.get(idle)).reminders_replan_since == at(25)
