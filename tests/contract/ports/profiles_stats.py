"""The contract of the statistics' store (services/profiles/ports.py: StatsStore).

What the statistics rely on: a tenant's facts are its items (published when made), the pairs
found that involve it (once each, at the time first recorded, with the categories of both
items) and the contact requests either side of which is in it (asked, and accepted); each of
its matched items has one first match, the earliest recorded. Recording is idempotent, so a
redelivered `match.found` changes nothing.

A concrete subclass provides the `stores` fixture: (ProfileStore, StatsStore) over the same,
empty records.
"""
from __future__ import annotations

from collections import Counter
from datetime import timedelta

from platform_common.events.models import MatchData
from services.profiles.domain.stats import Fact, FirstMatch
from tests.contract.ports.profiles_store import contact
from tests.unit.profiles.factories import NOW, actor, item

HOUR = timedelta(hours=1)


def match(offer, need) -> MatchData:
    return MatchData.model_validate({
        kind: {"id": side.id, "actor_id": side.actor_id, "tenant": side.tenant,
               "title": side.title} for kind, side in (("offer", offer), ("need", need))
    } | {"score": 0.8})


class StatsStoreContract:
    async def test_a_tenants_facts_are_its_items_matches_and_contact_requests(self, stores):
        store, stats = stores
        club, far = actor(actor_id="club"), actor(actor_id="far", tenant_id="duelmen")
        offer = item("offer", club, item_id="o-1", actor_id="club", categories=["social"])
        need = item("need", far, item_id="n-1", actor_id="far", categories=["elderly", "social"])
        quiet = item("need", club, item_id="n-2", actor_id="club", categories=["sport"])
        asked = contact("c-1", club, far, offer_id="o-1", need_id="n-1").model_copy(
            update={"status": "accepted", "decided_at": NOW + 2 * HOUR})
        elsewhere = contact("c-2", far, actor(actor_id="x", tenant_id="duelmen"),
                            offer_id="o-9", need_id="n-1")

        async def write(repo):
            for made in (offer, need, quiet):
                await repo.insert_item(made)
            await repo.insert_contact(asked)
            await repo.insert_contact(elsewhere)

        await store.run_in_transaction(write)
        await stats.record_matches_found([(match(offer, need), NOW + HOUR)])
        # Redelivered, and found again later: the pair counts once, when first found.
        await stats.record_matches_found([(match(offer, need), NOW + HOUR),
                                          (match(offer, need), NOW + 5 * HOUR)])

        facts, firsts = await stats.facts("coesfeld")
        both = ("social", "elderly")
        assert Counter(facts) == Counter([
            Fact("items_published", NOW, ("social",)), Fact("items_published", NOW, ("sport",)),
            Fact("matches_found", NOW + HOUR, both),
            Fact("contacts_requested", NOW, both), Fact("contacts_accepted", NOW + 2 * HOUR, both)])
        assert firsts == [FirstMatch(NOW, NOW + HOUR, ("social",))]
        facts, firsts = await stats.facts("duelmen")
        assert Counter(f.measure for f in facts) == {"items_published": 1, "matches_found": 1,
                                                     "contacts_requested": 2,
                                                     "contacts_accepted": 1}
        assert firsts == [FirstMatch(NOW, NOW + HOUR, ("elderly", "social"))]
        assert await stats.facts("nowhere") == ([], [])

    async def test_an_items_first_match_is_the_earliest_recorded(self, stores):
        store, stats = stores
        club = actor(actor_id="club")
        offer = item("offer", club, item_id="o-1", actor_id="club", categories=["social"])
        late, early = (item("need", club, item_id=i, actor_id="club") for i in ("n-1", "n-2"))

        async def write(repo):
            for made in (offer, late, early):
                await repo.insert_item(made)

        await store.run_in_transaction(write)
        await stats.record_matches_found([(match(offer, late), NOW + 3 * HOUR)])
        await stats.record_matches_found([(match(offer, early), NOW + HOUR)])
        await stats.record_matches_found([(match(offer, late), NOW + 3 * HOUR)])
        _facts, firsts = await stats.facts("coesfeld")
        assert sorted(firsts, key=lambda f: f.matched_at) == [
            FirstMatch(NOW, NOW + HOUR, ("social",)),  # the offer, by its earlier pair
            FirstMatch(NOW, NOW + HOUR, ("social",)),  # n-2
            FirstMatch(NOW, NOW + 3 * HOUR, ("social",))]  # n-1
