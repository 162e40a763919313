"""The contract of the notifications service's RecipientStore: versioned snapshots of actors,
found by owner, and erasure that keeps a tombstone so that late events bring nothing back."""
from __future__ import annotations

import pytest

from services.notifications.ports import RecipientStore
from tests.contract.ports.notifications_builders import new_id, recipient


class RecipientStoreContract:
    @pytest.fixture
    def recipients(self) -> RecipientStore:
        raise NotImplementedError("a concrete suite gives the store under test")

    async def test_a_new_actor_is_stored_and_read_back(self, recipients):
        actor = recipient(new_id("actor"))
        assert await recipients.apply(actor) is True
        assert await recipients.get(actor.actor_id) == actor
        assert await recipients.get(new_id("unknown")) is None

    async def test_only_a_newer_version_replaces_the_snapshot(self, recipients):
        actor_id = new_id("actor")
        await recipients.apply(recipient(actor_id, version=3, name="Drei"))
        assert await recipients.apply(recipient(actor_id, version=3, name="Wieder drei")) is False
        assert await recipients.apply(recipient(actor_id, version=2, name="Zwei")) is False
        assert (await recipients.get(actor_id)).name == "Drei"
        assert await recipients.apply(recipient(actor_id, version=4, name="Vier")) is True
        assert (await recipients.get(actor_id)).name == "Vier"

    async def test_get_many_answers_the_known_ones_by_id(self, recipients):
        first, second = recipient(new_id("actor")), recipient(new_id("actor"))
        for actor in (first, second):
            await recipients.apply(actor)
        found = await recipients.get_many([first.actor_id, new_id("unknown"), second.actor_id])
        assert found == {first.actor_id: first, second.actor_id: second}
        assert await recipients.get_many([]) == {}

    async def test_owned_by_lists_the_owners_actors_by_id(self, recipients):
        owner = new_id("user")
        ids = sorted(new_id("actor") for _ in range(3))
        for actor_id in reversed(ids):
            await recipients.apply(recipient(actor_id, owners=["someone-else", owner]))
        await recipients.apply(recipient(new_id("actor")))
        assert [r.actor_id for r in await recipients.owned_by(owner)] == ids
        assert await recipients.owned_by(new_id("nobody")) == []

    async def test_an_erased_actor_is_forgotten_and_never_comes_back(self, recipients):
        actor_id, other = new_id("actor"), new_id("actor")
        await recipients.apply(recipient(actor_id, owners=["owner"]))
        await recipients.apply(recipient(other))
        await recipients.erase(actor_id, 2)
        assert await recipients.get(actor_id) is None
        assert await recipients.get_many([actor_id]) == {}
        assert await recipients.owned_by("owner") == []
        # A late snapshot, even of a newer version, is ignored.
        assert await recipients.apply(recipient(actor_id, version=9)) is False
        assert await recipients.get(actor_id) is None
        assert await recipients.erased_among([actor_id, other, new_id("unknown")]) == {actor_id}

    async def test_an_actor_never_seen_can_be_erased(self, recipients):
        actor_id = new_id("actor")
        await recipients.erase(actor_id, 1)
        await recipients.erase(actor_id, 1)  # the erasure event again
        assert await recipients.erased_among([actor_id]) == {actor_id}
        assert await recipients.apply(recipient(actor_id, version=2)) is False
        assert await recipients.erased_among([]) == set()
