"""The contract of profiles' record store (services/profiles/ports.py: ProfileStore, Repository).

What the use cases rely on: records come back as written; an insert of a taken id and a save
over a version that is no longer stored are conflicts; lists are in id order and page with
`after` and `limit`; the filters of lists, expiry, export and contact requests; deletes; and a
transaction keeps its records and outbox events together (all or nothing).

A concrete subclass provides the `store` fixture (an empty store) and `outbox_events(store)`:
the (topic, key, envelope) of the events its transactions committed, oldest first.
"""
from __future__ import annotations

from datetime import timedelta

import pytest

from platform_common.errors import Conflict
from platform_common.events import make_event
from services.profiles.domain import contacts, records, rules
from services.profiles.domain.contacts import ContactCreate
from tests.unit.profiles.factories import NOW, actor, item, tenant


def contact(contact_id: str, requester, recipient, *, offer_id: str = "offer-1",
            need_id: str = "need-1", status: str = "requested") -> contacts.Contact:
    made = contacts.new_contact(ContactCreate(offer_id=offer_id, need_id=need_id),
                                contact_id=contact_id, requester=requester, recipient=recipient,
                                now=NOW)
    return made.model_copy(update={"status": status})


def event(subject: str):
    return make_event("tenant.updated", tenant=subject, subject=subject, source="profiles",
                      data={"id": subject, "name": "T", "center": {"lat": 1, "lon": 2},
                            "version": 1})


class ProfileStoreContract:
    async def outbox_events(self, store) -> list[tuple]:
        raise NotImplementedError

    async def write(self, store, *work):
        """Run the given repository calls (functions of the repository) in one transaction."""
        async def run(repo):
            for call in work:
                await call(repo)
        await store.run_in_transaction(run)

    # ---- records come back as written ---------------------------------------------------------
    async def test_records_come_back_as_written(self, store):
        town, club = tenant("coesfeld", neighbours=["duelmen"]), actor()
        need = item("need", club)
        asked = contact("c-1", actor(owner="anna", actor_id="helper", actor_type="person"), club)
        await self.write(store, lambda r: r.insert_tenant(town), lambda r: r.insert_actor(club),
                         lambda r: r.insert_item(need), lambda r: r.insert_contact(asked))
        assert await store.read.get_tenant("coesfeld") == town
        assert await store.read.get_actor(club.id) == club
        assert await store.read.get_item(need.id) == need
        assert await store.read.get_contact("c-1") == asked
        for missing in ("get_tenant", "get_actor", "get_item", "get_contact"):
            assert await getattr(store.read, missing)("nope") is None

    @pytest.mark.parametrize("what", ["tenant", "actor", "item", "contact"])
    async def test_an_insert_of_a_taken_id_is_a_conflict(self, store, what):
        record = {"tenant": tenant(), "actor": actor(), "item": item(),
                  "contact": contact("c-1", actor(actor_id="a"), actor(actor_id="b"))}[what]
        insert = lambda repo: getattr(repo, f"insert_{what}")(record)  # noqa: E731
        await self.write(store, insert)
        with pytest.raises(Conflict) as refused:
            await self.write(store, insert)
        assert refused.value.code == f"{what}_exists"

    @pytest.mark.parametrize("what", ["tenant", "actor", "item"])
    async def test_a_save_over_a_stale_version_is_a_conflict(self, store, what):
        first = {"tenant": tenant(), "actor": actor(), "item": item()}[what]
        change = {"tenant": {"name": "Neu"}, "actor": {"name": "Neu"}, "item": {"title": "Neu"}}
        patch = getattr(records, f"patched_{what}")
        second = patch(first, change[what], now=NOW + timedelta(seconds=1))
        await self.write(store, lambda r: getattr(r, f"insert_{what}")(first))
        save = lambda r: getattr(r, f"save_{what}")(second, expected_version=1)  # noqa: E731
        await self.write(store, save)
        with pytest.raises(Conflict) as refused:
            await self.write(store, save)
        assert refused.value.code == "concurrent_change"
        stored = await getattr(store.read, f"get_{what}")(first.id)
        assert stored == second and stored.version == 2

    async def test_a_contact_saved_over_a_stale_version_is_a_conflict(self, store):
        asked = contact("c-1", actor(actor_id="a"), actor(actor_id="b"))
        accepted = asked.model_copy(update={"status": "accepted", "version": 2,
                                            "decided_at": NOW})
        await self.write(store, lambda r: r.insert_contact(asked))
        await self.write(store, lambda r: r.save_contact(accepted, expected_version=1))
        with pytest.raises(Conflict):
            await self.write(store, lambda r: r.save_contact(accepted, expected_version=1))
        assert await store.read.get_contact("c-1") == accepted

    # ---- lists: order, filters, paging --------------------------------------------------------
    async def test_tenants_and_owned_actors_are_listed_by_id(self, store):
        await self.write(store, *[lambda r, t=t: r.insert_tenant(tenant(t))
                                  for t in ("nottuln", "coesfeld", "duelmen")])
        assert [t.id for t in await store.read.list_tenants()] == ["coesfeld", "duelmen", "nottuln"]
        shared = actor(owner="anna", actor_id="b-shared").model_copy(
            update={"owners": ["anna", "bernd"]})
        await self.write(store, lambda r: r.insert_actor(actor(owner="anna", actor_id="c-own")),
                         lambda r: r.insert_actor(shared),
                         lambda r: r.insert_actor(actor(owner="bernd", actor_id="a-other")))
        assert [a.id for a in await store.read.actors_owned_by("anna")] == ["b-shared", "c-own"]
        assert [a.id for a in await store.read.actors_owned_by("bernd")] == ["a-other", "b-shared"]
        assert await store.read.actors_owned_by("nobody") == []

    async def test_items_are_filtered_and_paged_by_id(self, store):
        club, other = actor(actor_id="club"), actor(actor_id="other", tenant_id="duelmen")
        made = [item("need", club, item_id="i-3", actor_id="club"),
                item("offer", club, item_id="i-1", actor_id="club"),
                item("need", club, item_id="i-2", actor_id="club", visibility="state"),
                item("need", other, item_id="i-4", actor_id="other"),
                records.with_status(item("need", club, item_id="i-5", actor_id="club"),
                                    "hidden", now=NOW, reason="Spam")]
        await self.write(store, *[lambda r, i=i: r.insert_item(i) for i in made])
        ids = lambda found: [i.id for i in found]  # noqa: E731
        read = store.read
        assert ids(await read.list_items(kind=None)) == ["i-1", "i-2", "i-3", "i-4", "i-5"]
        assert ids(await read.list_items(kind="need")) == ["i-2", "i-3", "i-4", "i-5"]
        assert ids(await read.list_items(kind="need", actor_ids=["club"])) == ["i-2", "i-3", "i-5"]
        assert ids(await read.list_items(kind="need", tenant="duelmen")) == ["i-4"]
        assert ids(await read.list_items(kind="need", statuses=["hidden"])) == ["i-5"]
        assert ids(await read.list_items(kind="need", visibilities=["state"])) == ["i-2"]
        assert ids(await read.list_items(kind="need", actor_ids=[])) == []
        first = await read.list_items(kind="need", limit=2)
        assert ids(first) == ["i-2", "i-3"]
        assert ids(await read.list_items(kind="need", after=first[-1].id, limit=2)) == ["i-4", "i-5"]
        assert ids(await read.list_items(kind="need", after="i-5", limit=2)) == []

    async def test_lists_over_several_actors_statuses_and_visibilities_page_by_id(self, store):
        # The store may ask one query per actor, status and visibility: the pages still come
        # in id order, each item once, the same as one query over all of them.
        actors = [actor(actor_id=f"a-{n}") for n in range(3)]
        made = []
        for n in range(18):
            owner = actors[n % 3]
            made.append(item("need", owner, item_id=f"i-{(n * 7) % 18:02d}", actor_id=owner.id,
                             visibility=("tenant", "region", "state")[n // 3 % 3]))
            if n % 4 == 0:
                made[-1] = records.with_status(made[-1], "paused", now=NOW)
        await self.write(store, *[lambda r, i=i: r.insert_item(i) for i in made])
        wanted = dict(kind="need", actor_ids=["a-2", "a-0", "a-2"], statuses=["paused", "published"],
                      visibilities=["state", "tenant"])
        expected = sorted(i.id for i in made if i.actor_id in ("a-0", "a-2")
                          and i.visibility in ("state", "tenant"))
        assert [i.id for i in await store.read.list_items(**wanted)] == expected
        paged, after = [], None
        while True:
            page = await store.read.list_items(**wanted, after=after, limit=2)
            paged += [i.id for i in page]
            if len(page) < 2:
                break
            after = page[-1].id
        assert paged == expected
        # Many actors at once (more values than the store may ask one by one).
        many = [f"unknown-{n}" for n in range(40)] + ["a-1"]
        assert [i.id for i in await store.read.list_items(kind="need", actor_ids=many,
                                                           after="i-03", limit=3)] == \
            sorted(i.id for i in made if i.actor_id == "a-1" and i.id > "i-03")[:3]

    async def test_contact_requests_of_several_actors_page_by_id_each_once(self, store):
        anna, bernd, carla = (actor(actor_id=a) for a in ("anna", "bernd", "carla"))
        pairs = [(anna, bernd), (bernd, carla), (carla, anna), (bernd, anna), (anna, carla)]
        made = [contact(f"c-{n}", *pairs[n % 5], offer_id=f"o-{n}") for n in range(10)]
        await self.write(store, *[lambda r, c=c: r.insert_contact(c) for c in made])
        paged, after = [], None
        while True:
            page = await store.read.list_contacts(actor_ids=["anna", "bernd"], after=after,
                                                  limit=3)
            paged += [c.id for c in page]
            if len(page) < 3:
                break
            after = page[-1].id
        assert paged == sorted(c.id for c in made)

    async def test_due_items_are_published_ones_past_their_end_earliest_first(self, store):
        def ending(item_id: str, days: int, status: str = "published"):
            made = item("need", item_id=item_id).model_copy(
                update={"expires_at": NOW + timedelta(days=days)})
            return made if status == "published" else made.model_copy(update={"status": status})

        made = [ending("a", 2), ending("b", -1), ending("c", -3), ending("d", -5, "closed"),
                item("need", item_id="e")]  # weekly: runs for ONGOING_LIFETIME from NOW
        await self.write(store, *[lambda r, i=i: r.insert_item(i) for i in made])
        due = await store.read.items_due_to_expire(now=NOW, limit=10)
        assert [i.id for i in due] == ["c", "b"]
        assert [i.id for i in await store.read.items_due_to_expire(now=NOW, limit=1)] == ["c"]
        lapse = NOW + rules.ONGOING_LIFETIME
        assert [i.id for i in await store.read.items_due_to_expire(now=lapse, limit=10)] == \
            ["c", "b", "a", "e"]

    async def test_items_stored_without_an_end_are_due_a_lifetime_after_their_last_change(self, store):
        def stored(item_id: str, days_ago: int, **overrides):
            return item("need", item_id=item_id, **overrides).model_copy(update={
                "expires_at": None, "updated_at": NOW - timedelta(days=days_ago)})

        one_off = {"dates": [{"start": NOW, "end": NOW + timedelta(hours=1)}], "weekly": []}
        made = [stored("old-weekly", 200), stored("older-weekly", 300),
                stored("recent-weekly", 10), stored("old-one-off", 300, schedule=one_off),
                stored("old-closed", 300).model_copy(update={"status": "closed"})]
        await self.write(store, *[lambda r, i=i: r.insert_item(i) for i in made])
        due = await store.read.items_due_to_expire(now=NOW, limit=10)
        assert [i.id for i in due] == ["older-weekly", "old-weekly"]

    async def test_the_export_pages_each_collection_by_id(self, store):
        await self.write(store, lambda r: r.insert_tenant(tenant("coesfeld")),
                         lambda r: r.insert_actor(actor(actor_id="a-1")),
                         *[lambda r, n=n: r.insert_item(item("offer", item_id=f"o-{n}"))
                           for n in range(3)],
                         lambda r: r.insert_item(item("need", item_id="n-1")))
        read = store.read
        assert [t.id for t in await read.export_page("tenants", after=None, limit=10)] == ["coesfeld"]
        assert [a.id for a in await read.export_page("actors", after=None, limit=10)] == ["a-1"]
        first = await read.export_page("offers", after=None, limit=2)
        assert [o.id for o in first] == ["o-0", "o-1"]
        assert [o.id for o in await read.export_page("offers", after="o-1", limit=2)] == ["o-2"]
        assert [n.id for n in await read.export_page("needs", after=None, limit=10)] == ["n-1"]

    async def test_contact_requests_by_pair_party_role_and_status(self, store):
        anna, bernd, carla = (actor(actor_id=a) for a in ("anna", "bernd", "carla"))
        made = [contact("c-1", anna, bernd, status="declined"),
                contact("c-2", anna, bernd, status="accepted"),
                contact("c-3", bernd, carla, offer_id="o-2"),
                contact("c-4", carla, anna, need_id="n-2")]
        await self.write(store, *[lambda r, c=c: r.insert_contact(c) for c in made])
        read = store.read
        assert (await read.active_contact_for_pair("offer-1", "need-1")).id == "c-2"
        assert await read.active_contact_for_pair("offer-1", "n-3") is None
        ids = lambda found: [c.id for c in found]  # noqa: E731
        assert ids(await read.list_contacts(actor_ids=["anna"])) == ["c-1", "c-2", "c-4"]
        assert ids(await read.list_contacts(actor_ids=["anna"], role="sent")) == ["c-1", "c-2"]
        assert ids(await read.list_contacts(actor_ids=["anna"], role="received")) == ["c-4"]
        assert ids(await read.list_contacts(actor_ids=["anna", "carla"], role="sent")) == \
            ["c-1", "c-2", "c-4"]
        assert ids(await read.list_contacts(actor_ids=["bernd"], statuses=["accepted"])) == ["c-2"]
        assert ids(await read.list_contacts(actor_ids=["anna"], after="c-1", limit=1)) == ["c-2"]

    # ---- deletes -------------------------------------------------------------------------------
    async def test_deleting_an_actor_and_its_contact_requests(self, store):
        anna, bernd, carla = (actor(actor_id=a) for a in ("anna", "bernd", "carla"))
        await self.write(store, lambda r: r.insert_actor(anna),
                         lambda r: r.insert_contact(contact("c-1", anna, bernd)),
                         lambda r: r.insert_contact(contact("c-2", carla, anna, offer_id="o-2")),
                         lambda r: r.insert_contact(contact("c-3", bernd, carla, offer_id="o-3")))
        removed: list[int] = []

        async def erase(repo):
            removed.append(await repo.delete_contacts_of("anna"))
            await repo.delete_actor("anna")

        await store.run_in_transaction(erase)
        assert removed == [2]
        assert await store.read.get_actor("anna") is None
        assert [c.id for c in await store.read.list_contacts(actor_ids=["bernd", "carla"])] == ["c-3"]

    # ---- transactions and the outbox ----------------------------------------------------------
    async def test_a_transaction_keeps_its_records_and_events_together(self, store):
        await self.write(store, lambda r: r.insert_tenant(tenant("coesfeld")),
                         lambda r: r.add_event(event("coesfeld"), topic="tenants", key="coesfeld"))

        async def failing(repo):
            await repo.insert_tenant(tenant("duelmen"))
            await repo.add_event(event("duelmen"), topic="tenants", key="duelmen")
            raise RuntimeError("the use case refused half way")

        with pytest.raises(RuntimeError):
            await store.run_in_transaction(failing)
        assert await store.read.get_tenant("duelmen") is None
        assert await store.read.get_tenant("coesfeld") is not None
        events = await self.outbox_events(store)
        assert [(topic, key, envelope.subject) for topic, key, envelope in events] == \
            [("tenants", "coesfeld", "coesfeld")]

    async def test_a_transaction_answers_what_its_work_returns(self, store):
        async def work(repo):
            await repo.insert_tenant(tenant("coesfeld"))
            return await repo.get_tenant("coesfeld")  # its own write, inside the transaction

        assert (await store.run_in_transaction(work)).id == "coesfeld"
