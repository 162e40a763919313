"""The contract of the notifications service's DeliveryStore: each delivery claimed once by its
key, the retry task's due query and leases, the mails waiting for their recipient, the
deferred mails of the digest, paging newest first, and the erasure of an actor."""
from __future__ import annotations

import pytest

from services.notifications.ports import DeliveryStore
from tests.contract.ports.notifications_builders import at, delivery, new_id


def ids(deliveries) -> list[str]:
    return [d.id for d in deliveries]


class DeliveryStoreContract:
    @pytest.fixture
    def deliveries(self) -> DeliveryStore:
        raise NotImplementedError("a concrete suite gives the store under test")

    # ---- claiming ------------------------------------------------------------------------------

    async def test_a_key_is_claimed_once(self, deliveries):
        first = delivery(new_id("actor"))
        again = first.model_copy(update={"status": "deferred"})  # another instance, same key
        assert await deliveries.claim(first) is True
        assert await deliveries.claim(again) is False
        assert await deliveries.get(first.id) == first
        assert await deliveries.get(new_id("missing")) is None

    async def test_claim_many_answers_the_ones_it_inserted(self, deliveries):
        actor = new_id("actor")
        taken, new, repeat = delivery(actor), delivery(actor), delivery(actor)
        await deliveries.claim(taken)
        assert await deliveries.claim_many([taken, new, repeat, repeat]) == {new.id, repeat.id}
        assert await deliveries.claim_many([]) == set()
        assert (await deliveries.get(repeat.id)) == repeat

    async def test_update_sets_the_given_fields(self, deliveries):
        first, second = delivery(new_id("actor")), delivery(new_id("actor"))
        await deliveries.claim_many([first, second])
        await deliveries.update(first.id, status="retrying", attempts=2, rounds=1,
                                last_error="smtp is down", next_retry_at=at(60))
        await deliveries.update(new_id("missing"), status="sent")  # nothing to update
        updated = await deliveries.get(first.id)
        assert (updated.status, updated.attempts, updated.rounds, updated.last_error,
                updated.next_retry_at) == ("retrying", 2, 1, "smtp is down", at(60))
        assert updated.key == first.key and updated.created_at == first.created_at
        await deliveries.update_many([first.id, second.id], status="sent", sent_at=at(70),
                                     next_retry_at=None)
        await deliveries.update_many([], status="failed")
        for identifier in (first.id, second.id):
            found = await deliveries.get(identifier)
            assert (found.status, found.sent_at, found.next_retry_at) == ("sent", at(70), None)

    # ---- the retry task: due deliveries and leases --------------------------------------------

    async def test_due_lists_pending_and_retrying_whose_time_has_come_oldest_first(
            self, deliveries):
        actor = new_id("actor")
        retrying = delivery(actor, status="retrying", next_retry_at=at(10))
        pending = delivery(actor, status="pending", next_retry_at=at(5))
        not_yet = delivery(actor, status="retrying", next_retry_at=at(101))
        waiting = delivery(actor, status="waiting")
        deferred = delivery(actor, status="deferred")
        sent = delivery(actor, status="sent", next_retry_at=at(1))
        failed = delivery(actor, status="failed", next_retry_at=at(1))
        exactly_now = delivery(actor, status="retrying", next_retry_at=at(100))
        await deliveries.claim_many([retrying, pending, not_yet, waiting, deferred, sent,
                                     failed, exactly_now])
        due = await deliveries.due(now=at(100), limit=10)
        assert due == [(pending.id, at(5)), (retrying.id, at(10)), (exactly_now.id, at(100))]
        assert await deliveries.due(now=at(100), limit=2) == due[:2]

    async def test_a_lease_lets_one_instance_take_a_due_delivery(self, deliveries):
        due = delivery(new_id("actor"), status="retrying", next_retry_at=at(10))
        await deliveries.claim(due)
        taken = await deliveries.claim_due(delivery_id=due.id, due_at=at(10),
                                           lease_until=at(310))
        assert taken is not None and taken.id == due.id and taken.next_retry_at == at(310)
        # A second instance that saw the same due time finds it taken.
        assert await deliveries.claim_due(delivery_id=due.id, due_at=at(10),
                                          lease_until=at(320)) is None
        assert await deliveries.due(now=at(300), limit=10) == []
        # The lease ends: due again, and takeable under its new time.
        assert await deliveries.due(now=at(310), limit=10) == [(due.id, at(310))]
        assert await deliveries.claim_due(delivery_id=due.id, due_at=at(310),
                                          lease_until=at(610)) is not None
        assert await deliveries.claim_due(delivery_id=new_id("missing"), due_at=at(10),
                                          lease_until=at(20)) is None

    # ---- mails waiting for their recipient --------------------------------------------------------

    async def test_waiting_mails_are_released_per_actor(self, deliveries):
        actor, other = new_id("actor"), new_id("actor")
        waiting = [delivery(actor, status="waiting"), delivery(actor, status="waiting")]
        others = delivery(other, status="waiting")
        sent = delivery(actor, status="sent")
        await deliveries.claim_many([*waiting, others, sent])
        assert await deliveries.waiting_actors() == sorted([actor, other])
        assert await deliveries.release_waiting(actor_id=actor, now=at(50)) == 2
        assert await deliveries.release_waiting(actor_id=actor, now=at(50)) == 0
        for released in waiting:
            found = await deliveries.get(released.id)
            assert (found.status, found.next_retry_at, found.updated_at) == \
                ("retrying", at(50), at(50))
        assert (await deliveries.get(sent.id)).status == "sent"
        assert await deliveries.waiting_actors() == [other]
        assert sorted(identifier for identifier, _ in await deliveries.due(now=at(50), limit=10)) == \
            sorted(ids(waiting))

    async def test_waiting_mails_older_than_the_retention_are_given_up(self, deliveries):
        actor = new_id("actor")
        old = delivery(actor, status="waiting", created_at=at(0))
        young = delivery(actor, status="waiting", created_at=at(100))
        old_but_sent = delivery(actor, status="sent", created_at=at(0))
        await deliveries.claim_many([old, young, old_but_sent])
        assert await deliveries.cancel_waiting(created_before=at(100), reason="never known",
                                               now=at(200)) == 1
        found = await deliveries.get(old.id)
        assert (found.status, found.last_error, found.updated_at) == \
            ("cancelled", "never known", at(200))
        assert (await deliveries.get(young.id)).status == "waiting"
        assert (await deliveries.get(old_but_sent.id)).status == "sent"

    # ---- the digest --------------------------------------------------------------------------------

    async def test_deferred_mails_per_actor_oldest_first(self, deliveries):
        actor, other = new_id("actor"), new_id("actor")
        later = delivery(actor, status="deferred", created_at=at(20))
        earlier = delivery(actor, status="deferred", created_at=at(10))
        sent = delivery(actor, status="sent", created_at=at(5))
        await deliveries.claim_many([later, earlier, sent,
                                     delivery(other, status="deferred")])
        assert await deliveries.deferred_actors() == sorted([actor, other])
        assert ids(await deliveries.deferred(actor)) == [earlier.id, later.id]
        await deliveries.update_many([earlier.id, later.id], status="digested", digest_id="d1")
        assert await deliveries.deferred(actor) == []
        assert await deliveries.deferred_actors() == [other]

    async def test_a_withdrawn_match_leaves_the_deferred_mails(self, deliveries):
        actor = new_id("actor")
        withdrawn, kept = new_id("n"), new_id("n")
        deferred = delivery(actor, status="deferred", notification_ids=[withdrawn])
        already_sent = delivery(actor, status="sent", notification_ids=[withdrawn])
        other = delivery(actor, status="deferred", notification_ids=[kept])
        await deliveries.claim_many([deferred, already_sent, other])
        await deliveries.cancel_deferred([withdrawn], reason="withdrawn", now=at(30))
        await deliveries.cancel_deferred([], reason="nothing", now=at(30))
        found = await deliveries.get(deferred.id)
        assert (found.status, found.last_error, found.updated_at) == \
            ("cancelled", "withdrawn", at(30))
        assert (await deliveries.get(already_sent.id)).status == "sent"
        assert (await deliveries.get(other.id)).status == "deferred"

    # ---- the owners' view and erasure -----------------------------------------------------------

    async def test_pages_newest_first_without_gaps_or_repeats(self, deliveries):
        actor, other = new_id("actor"), new_id("actor")
        stored = [delivery(actor, created_at=at(seconds)) for seconds in (1, 2, 2, 2, 3)]
        await deliveries.claim_many(stored + [delivery(other, created_at=at(2))])
        newest_first = sorted(stored, key=lambda d: (d.created_at, d.id), reverse=True)
        pages, after = [], None
        while page := await deliveries.page([actor], limit=2, after=after):
            pages.append(ids(page))
            after = (page[-1].created_at, page[-1].id)
        assert pages == [ids(newest_first[:2]), ids(newest_first[2:4]), ids(newest_first[4:])]
        assert len(await deliveries.page([actor, other], limit=10, after=None)) == 6
        assert ids(await deliveries.for_actors([actor])) == ids(newest_first)

    async def test_delete_actor_removes_only_its_deliveries(self, deliveries):
        gone, kept = new_id("actor"), new_id("actor")
        removed, remaining = delivery(gone), delivery(kept)
        await deliveries.claim_many([removed, remaining])
        await deliveries.delete_actor(gone)
        assert await deliveries.get(removed.id) is None
        assert await deliveries.for_actors([gone]) == []
        assert ids(await deliveries.for_actors([kept])) == [remaining.id]
