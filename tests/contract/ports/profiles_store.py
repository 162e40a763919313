"""The contract of profiles' record store (services/profiles/ports.py: ProfileStore, Repository).

What the use cases rely on: records come back as written; an insert of a taken id and a save
over a version that is no longer stored are conflicts; lists are in id order and page with
`after` and `limit`; the filters of lists, expiry, export and contact requests; deletes; shifts
by start and sign-ups in the order they signed up, with their filters and counts; calendar
tokens found by their hash, a new one replacing the old; and a transaction keeps its records
and outbox events together (all or nothing).

A concrete subclass provides the `store` fixture (an empty store) and `outbox_events(store)`:
the (topic, key, envelope) of the events its transactions committed, oldest first.
"""
from __future__ import annotations

from datetime import timedelta

import pytest

from platform_common.errors import Conflict
from platform_common.events import make_event
from services.profiles.domain import contacts, engagements, records, rules
from services.profiles.domain.calendar_links import CalendarToken
from services.profiles.domain.contacts import ContactCreate
from services.profiles.domain.engagements import ShiftCreate, SignupTally
from tests.unit.profiles.factories import NOW, actor, item, tenant


def contact(contact_id: str, requester, recipient, *, offer_id: str = "offer-1",
            need_id: str = "need-1", status: str = "requested") -> contacts.Contact:
    made = contacts.new_contact(ContactCreate(offer_id=offer_id, need_id=need_id),
                                contact_id=contact_id, requester=requester, recipient=recipient,
                                now=NOW)
    return made.model_copy(update={"status": status})


def shift(shift_id: str = "s-1", *, item_id: str = "item-1", tenant_id: str = "coesfeld",
          start=None, hours: float = 3, status: str = "scheduled") -> engagements.Shift:
    """A shift of a need of `tenant_id`; `start` may be in the past (stored as if long made)."""
    start = start or NOW + timedelta(days=7)
    need = item("need", actor(tenant_id=tenant_id), item_id=item_id)
    made = engagements.new_shift(
        ShiftCreate(start=NOW + timedelta(days=1), end=NOW + timedelta(days=1, hours=1),
                    places=2, place_name="Tafel, Marktplatz 1", note="Bitte pünktlich"),
        shift_id=shift_id, item=need, now=NOW)
    return made.model_copy(update={"start": start, "end": start + timedelta(hours=hours),
                                   "status": status})


def signup(signup_id: str, of_shift: engagements.Shift, volunteer: str = "helper-1", *,
           number: int = 1, status: str = "confirmed", **extra) -> engagements.Signup:
    made, _counted = engagements.new_signup(of_shift, signup_id=signup_id,
                                            volunteer_actor_id=volunteer, now=NOW)
    return made.model_copy(update={"number": number, "status": status, **extra})


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

    @pytest.mark.parametrize("what", ["tenant", "actor", "item", "contact", "shift", "signup"])
    async def test_an_insert_of_a_taken_id_is_a_conflict(self, store, what):
        record = {"tenant": tenant(), "actor": actor(), "item": item(),
                  "contact": contact("c-1", actor(actor_id="a"), actor(actor_id="b")),
                  "shift": shift(), "signup": signup("su-1", shift())}[what]
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

    # ---- shifts and sign-ups -------------------------------------------------------------------
    async def test_shifts_and_signups_come_back_as_written(self, store):
        made = shift(status="cancelled")
        signed = signup("su-1", made, hours=2.5, attended=True, hours_status="proposed",
                        worked_on=made.start)
        await self.write(store, lambda r: r.insert_shift(made), lambda r: r.insert_signup(signed))
        assert await store.read.get_shift("s-1") == made
        assert await store.read.get_signup("su-1") == signed
        assert await store.read.get_shift("nope") is None
        assert await store.read.get_signup("nope") is None

    @pytest.mark.parametrize("what", ["shift", "signup"])
    async def test_a_shift_or_signup_saved_over_a_stale_version_is_a_conflict(self, store, what):
        first = shift() if what == "shift" else signup("su-1", shift())
        change = {"note": "Neu"} if what == "shift" else {"status": "cancelled"}
        second = first.model_copy(update={**change, "version": 2,
                                          "updated_at": NOW + timedelta(seconds=1)})
        await self.write(store, lambda r: getattr(r, f"insert_{what}")(first))
        save = lambda r: getattr(r, f"save_{what}")(second, expected_version=1)  # noqa: E731
        await self.write(store, save)
        with pytest.raises(Conflict) as refused:
            await self.write(store, save)
        assert refused.value.code == "concurrent_change"
        assert await getattr(store.read, f"get_{what}")(first.id) == second
        unknown = second.model_copy(update={"id": "unknown"})
        with pytest.raises(Conflict):
            await self.write(store, lambda r: getattr(r, f"save_{what}")(unknown,
                                                                         expected_version=1))
        assert await getattr(store.read, f"get_{what}")("unknown") is None

    async def test_the_shifts_of_an_item_by_start_then_id_cancelled_ones_too(self, store):
        day = NOW + timedelta(days=7)
        made = [shift("s-c", start=day + timedelta(days=2)), shift("s-b", start=day),
                shift("s-a", start=day, status="cancelled"),
                shift("s-0", item_id="other-item", start=day - timedelta(days=1))]
        await self.write(store, *[lambda r, s=s: r.insert_shift(s) for s in made])
        assert [s.id for s in await store.read.shifts_of_item("item-1")] == ["s-a", "s-b", "s-c"]
        assert await store.read.shifts_of_item("no-such-item") == []

    async def test_upcoming_shifts_are_scheduled_ones_of_the_tenant_ending_after_since(self, store):
        since = NOW + timedelta(days=7)
        made = [shift("ended", start=since - timedelta(hours=3), hours=3),  # ends at `since`
                shift("running", start=since - timedelta(hours=23), hours=24),
                shift("b-later", start=since + timedelta(days=1)),
                shift("a-later", start=since + timedelta(days=1)),
                shift("soon", start=since + timedelta(hours=1)),
                shift("cancelled", start=since + timedelta(hours=2), status="cancelled"),
                shift("elsewhere", start=since + timedelta(hours=2), tenant_id="duelmen")]
        await self.write(store, *[lambda r, s=s: r.insert_shift(s) for s in made])
        upcoming = lambda **kw: store.read.upcoming_shifts("coesfeld", **kw)  # noqa: E731
        assert [s.id for s in await upcoming(since=since, limit=10)] == \
            ["running", "soon", "a-later", "b-later"]
        assert [s.id for s in await upcoming(since=since, limit=2)] == ["running", "soon"]
        later = since + timedelta(hours=2)
        assert [s.id for s in await upcoming(since=later, limit=10)] == \
            ["soon", "a-later", "b-later"]
        assert [s.id for s in await store.read.upcoming_shifts(
            "duelmen", since=since, limit=10)] == ["elsewhere"]

    async def test_shifts_are_counted_per_tenant_cancelled_ones_too(self, store):
        made = [shift("s-1"), shift("s-2", status="cancelled"),
                shift("s-3", tenant_id="duelmen")]
        await self.write(store, *[lambda r, s=s: r.insert_shift(s) for s in made])
        assert await store.read.count_shifts("coesfeld") == 2
        assert await store.read.count_shifts("duelmen") == 1
        assert await store.read.count_shifts("nowhere") == 0

    async def test_the_signups_of_a_shift_in_the_order_they_signed_up(self, store):
        main, other = shift("s-1"), shift("s-2")
        made = [signup("su-a", main, "a", number=3, status="waitlisted"),
                signup("su-b", main, "b", number=2),
                signup("su-c", main, "c", number=1),
                signup("su-d", main, "d", number=4, status="cancelled"),
                signup("su-e", main, "e", number=5, status="waitlisted"),
                signup("su-0", other, "a", number=1)]
        await self.write(store, *[lambda r, s=s: r.insert_signup(s) for s in made])
        ids = lambda found: [s.id for s in found]  # noqa: E731
        of_shift = store.read.signups_of_shift
        assert ids(await of_shift("s-1")) == ["su-c", "su-b", "su-a", "su-d", "su-e"]
        assert ids(await of_shift("s-1", statuses=["waitlisted", "confirmed"])) == \
            ["su-c", "su-b", "su-a", "su-e"]
        assert ids(await of_shift("s-1", statuses=["waitlisted"])) == ["su-a", "su-e"]
        assert ids(await of_shift("s-1", statuses=["removed"])) == []
        assert ids(await of_shift("s-1", statuses=[])) == []
        assert ids(await of_shift("no-such-shift")) == []

    async def test_the_active_signup_is_the_confirmed_or_waitlisted_one(self, store):
        main, other = shift("s-1"), shift("s-2")
        made = [signup("su-1", main, "anna", number=1, status="cancelled"),
                signup("su-2", main, "anna", number=2),
                signup("su-3", main, "bernd", number=3, status="waitlisted"),
                signup("su-4", main, "carla", number=4, status="removed"),
                signup("su-5", other, "carla", number=1, status="cancelled")]
        await self.write(store, *[lambda r, s=s: r.insert_signup(s) for s in made])
        active = store.read.active_signup
        assert (await active("s-1", "anna")).id == "su-2"
        assert (await active("s-1", "bernd")).id == "su-3"
        assert await active("s-1", "carla") is None
        assert await active("s-2", "carla") is None
        assert await active("s-2", "anna") is None

    async def test_the_signups_of_a_volunteer_by_id_across_shifts_and_statuses(self, store):
        first, second = shift("s-1"), shift("s-2", tenant_id="duelmen")
        made = [signup("su-3", first, "anna", status="cancelled"),
                signup("su-1", second, "anna", status="waitlisted"),
                signup("su-2", first, "bernd", number=2),
                signup("su-4", first, "anna", number=3)]
        await self.write(store, *[lambda r, s=s: r.insert_signup(s) for s in made])
        assert [s.id for s in await store.read.signups_of_actor("anna")] == \
            ["su-1", "su-3", "su-4"]
        assert await store.read.signups_of_actor("nobody") == []

    async def test_deleting_a_signup_leaves_the_others(self, store):
        made = shift()
        await self.write(store, lambda r: r.insert_signup(signup("su-1", made, "anna")),
                         lambda r: r.insert_signup(signup("su-2", made, "bernd", number=2)))
        await self.write(store, lambda r: r.delete_signup("su-1"),
                         lambda r: r.delete_signup("no-such-signup"))
        assert await store.read.get_signup("su-1") is None
        assert [s.id for s in await store.read.signups_of_shift("s-1")] == ["su-2"]

    async def test_signups_are_tallied_per_tenant_status_and_hours(self, store):
        here, there = shift("s-1"), shift("s-2", tenant_id="duelmen")
        came = dict(hours_status="confirmed", attended=True)
        made = [signup("su-1", here, "a", **came, hours=2.5),
                signup("su-2", here, "b", number=2, **came, hours=1.25),
                signup("su-3", here, "c", number=3, hours_status="confirmed", attended=False),
                signup("su-4", here, "d", number=4, hours_status="proposed", attended=True,
                       hours=3.0),
                signup("su-5", here, "e", number=5, status="waitlisted"),
                signup("su-6", here, "f", number=6, status="cancelled"),
                signup("su-7", there, "a", **came, hours=8.0)]
        await self.write(store, *[lambda r, s=s: r.insert_signup(s) for s in made])
        assert set(await store.read.signup_tallies("coesfeld")) == {
            SignupTally("confirmed", "confirmed", True, count=2, hours=3.75),
            SignupTally("confirmed", "confirmed", False, count=1, hours=0.0),
            SignupTally("confirmed", "proposed", True, count=1, hours=3.0),
            SignupTally("waitlisted", None, None, count=1, hours=0.0),
            SignupTally("cancelled", None, None, count=1, hours=0.0)}
        assert await store.read.signup_tallies("duelmen") == \
            [SignupTally("confirmed", "confirmed", True, count=1, hours=8.0)]
        assert await store.read.signup_tallies("nowhere") == []

    # ---- calendar tokens ---------------------------------------------------------------------
    async def test_a_calendar_token_is_found_by_its_hash_until_replaced(self, store):
        assert await store.read.calendar_token_of("anna") is None
        assert await store.read.calendar_owner("hash-a1") is None
        first, bernds = CalendarToken(1, "hash-a1"), CalendarToken(4, "hash-b4")
        await self.write(store, lambda r: r.set_calendar_token("anna", first),
                         lambda r: r.set_calendar_token("bernd", bernds))
        assert await store.read.calendar_token_of("anna") == first
        assert await store.read.calendar_owner("hash-a1") == "anna"
        assert await store.read.calendar_owner("hash-b4") == "bernd"

        renewed = CalendarToken(2, "hash-a2")
        await self.write(store, lambda r: r.set_calendar_token("anna", renewed))
        assert await store.read.calendar_token_of("anna") == renewed
        assert await store.read.calendar_owner("hash-a1") is None  # the old URL is dead
        assert await store.read.calendar_owner("hash-a2") == "anna"
        assert await store.read.calendar_token_of("bernd") == bernds

    async def test_a_deleted_calendar_token_leads_nowhere(self, store):
        await self.write(store, lambda r: r.set_calendar_token("anna", CalendarToken(1, "hash-a1")),
                         lambda r: r.set_calendar_token("bernd", CalendarToken(1, "hash-b1")))
        await self.write(store, lambda r: r.delete_calendar_token("anna"),
                         lambda r: r.delete_calendar_token("nobody"))
        assert await store.read.calendar_token_of("anna") is None
        assert await store.read.calendar_owner("hash-a1") is None
        assert await store.read.calendar_owner("hash-b1") == "bernd"

    async def test_a_calendar_token_of_the_old_kind_has_no_generation(self, store):
        legacy = CalendarToken(None, "hash-random")
        await self.write(store, lambda r: r.set_calendar_token("anna", legacy))
        assert await store.read.calendar_token_of("anna") == legacy
        assert await store.read.calendar_owner("hash-random") == "anna"

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
