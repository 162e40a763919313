"""The contract of the notifications service's NotificationStore: each notification stored once
by its dedupe key, the inbox paged newest first by (created_at, id), read marks, withdrawals of
a match, and the erasure of an actor (its own deleted, the others' that name it rewritten)."""
from __future__ import annotations

import pytest

from services.notifications.domain.models import Localized
from services.notifications.ports import NotificationStore
from tests.contract.ports.notifications_builders import at, new_id, notification


def ids(notifications) -> list[str]:
    return [n.id for n in notifications]


async def all_pages(store: NotificationStore, actor_ids: list[str], *, limit: int,
                    unread_only: bool = False) -> list[list[str]]:
    pages, after = [], None
    while True:
        page = await store.page(actor_ids, unread_only=unread_only, limit=limit, after=after)
        if not page:
            return pages
        pages.append(ids(page))
        after = (page[-1].created_at, page[-1].id)


class NotificationStoreContract:
    @pytest.fixture
    def notifications(self) -> NotificationStore:
        raise NotImplementedError("a concrete suite gives the store under test")

    async def test_each_dedupe_key_is_stored_once(self, notifications):
        actor = new_id("actor")
        first = notification(actor, dedupe_key="match.found:o:n:a:0")
        again = notification(actor, dedupe_key="match.found:o:n:a:0")  # a redelivered event
        other = notification(actor)
        assert await notifications.insert_many([first, other]) == {first.id, other.id}
        assert await notifications.insert_many([again]) == set()
        assert await notifications.by_keys(["match.found:o:n:a:0", "missing"]) == \
            {"match.found:o:n:a:0": first}
        assert await notifications.get_many([again.id]) == []

    async def test_a_repeat_within_one_batch_is_stored_once(self, notifications):
        actor = new_id("actor")
        first, repeat = notification(actor, dedupe_key="k1"), notification(actor, dedupe_key="k1")
        assert await notifications.insert_many([first, repeat]) == {first.id}
        assert await notifications.insert_many([]) == set()

    async def test_get_many_keeps_the_order_asked_for(self, notifications):
        actor = new_id("actor")
        stored = [notification(actor, created_at=at(n)) for n in range(3)]
        await notifications.insert_many(stored)
        wanted = [stored[2].id, new_id("missing"), stored[0].id]
        assert ids(await notifications.get_many(wanted)) == [stored[2].id, stored[0].id]
        assert await notifications.get_many([stored[1].id]) == [stored[1]]

    async def test_the_inbox_pages_newest_first_without_gaps_or_repeats(self, notifications):
        actor, other_actor = new_id("actor"), new_id("actor")
        # Ties in created_at (a batch shares one) are ordered by id, descending.
        stored = [notification(actor, created_at=at(seconds)) for seconds in (1, 2, 2, 2, 3)]
        stored.append(notification(other_actor, created_at=at(2)))
        stored.append(notification(actor, created_at=at(4), in_inbox=False))
        await notifications.insert_many(stored)
        newest_first = sorted(stored[:5], key=lambda n: (n.created_at, n.id), reverse=True)
        assert await all_pages(notifications, [actor], limit=2) == [
            ids(newest_first[:2]), ids(newest_first[2:4]), ids(newest_first[4:])]
        both = await notifications.page([actor, other_actor], unread_only=False, limit=10,
                                        after=None)
        assert len(both) == 6 and stored[5].id in ids(both)
        assert await notifications.page([new_id("actor")], unread_only=False, limit=10,
                                        after=None) == []

    async def test_the_unread_filter_and_read_marks(self, notifications):
        actor, stranger = new_id("actor"), new_id("actor")
        unread = notification(actor, created_at=at(1))
        read = notification(actor, created_at=at(2), read=True)
        hidden = notification(actor, created_at=at(3), in_inbox=False)
        await notifications.insert_many([unread, read, hidden])
        assert ids(await notifications.page([actor], unread_only=True, limit=10, after=None)) \
            == [unread.id]
        assert await notifications.mark_read(unread.id, [stranger]) is None  # not theirs
        assert await notifications.mark_read(hidden.id, [actor]) is None  # not in the inbox
        assert await notifications.mark_read(new_id("missing"), [actor]) is None
        marked = await notifications.mark_read(unread.id, [stranger, actor])
        assert marked.id == unread.id and marked.read is True
        assert await notifications.page([actor], unread_only=True, limit=10, after=None) == []

    async def test_mark_all_read_counts_what_it_changed(self, notifications):
        actor, other = new_id("actor"), new_id("actor")
        await notifications.insert_many([
            notification(actor), notification(actor), notification(actor, read=True),
            notification(actor, in_inbox=False), notification(other)])
        assert await notifications.mark_all_read([actor]) == 2
        assert await notifications.mark_all_read([actor]) == 0
        assert ids(await notifications.page([other], unread_only=True, limit=10, after=None))

    async def test_a_withdrawal_flags_the_pairs_earlier_notifications_once(self, notifications):
        actor, pair = new_id("actor"), new_id("o") + ":" + new_id("n")
        before = notification(actor, pair=pair, event_at=at(1))
        other_side = notification(new_id("actor"), pair=pair, event_at=at(2))
        later = notification(actor, pair=pair, event_at=at(10), dedupe_key=new_id("round1"))
        other_pair = notification(actor, pair=new_id("o") + ":x", event_at=at(1))
        await notifications.insert_many([before, other_side, later, other_pair])
        assert sorted(await notifications.mark_withdrawn(pair, at(5))) == sorted(
            [before.id, other_side.id])
        assert await notifications.mark_withdrawn(pair, at(5)) == []
        flags = {n.id: n.withdrawn for n in await notifications.get_many(
            [before.id, other_side.id, later.id, other_pair.id])}
        assert flags == {before.id: True, other_side.id: True, later.id: False,
                         other_pair.id: False}

    async def test_for_actors_lists_everything_newest_first(self, notifications):
        actor = new_id("actor")
        stored = [notification(actor, created_at=at(1)),
                  notification(actor, created_at=at(3), in_inbox=False),
                  notification(actor, created_at=at(2), read=True)]
        await notifications.insert_many(stored + [notification(new_id("actor"))])
        assert ids(await notifications.for_actors([actor])) == \
            [stored[1].id, stored[2].id, stored[0].id]

    async def test_erasure_deletes_the_actors_own_and_finds_those_naming_it(self, notifications):
        erased, club, helper = new_id("actor"), new_id("actor"), new_id("actor")
        own = notification(erased)
        request = notification(club, type="contact.requested", data={
            "requester_actor_id": erased, "recipient_actor_id": club, "message": "Hallo"})
        answer = notification(helper, type="contact.accepted", data={
            "requester_actor_id": helper, "recipient_actor_id": erased})
        match = notification(club, data={"counterpart": {"actor_id": erased, "title": "Bus"}})
        unrelated = notification(club, data={"counterpart": {"actor_id": helper}})
        await notifications.insert_many([own, request, answer, match, unrelated])
        await notifications.delete_actor(erased)
        assert await notifications.for_actors([erased]) == []
        mentioning = await notifications.mentioning(erased)
        assert ids(mentioning) == sorted([request.id, answer.id, match.id])
        assert await notifications.mentioning(new_id("actor")) == []

    async def test_rewrite_replaces_title_body_and_data(self, notifications):
        actor = new_id("actor")
        kept, changed = notification(actor), notification(actor)
        await notifications.insert_many([kept, changed])
        title, body = Localized(de="Jemand", en="Someone"), Localized(de="…", en="…")
        await notifications.rewrite([(changed.id, title, body, {"message": ""})])
        await notifications.rewrite([])
        [after] = await notifications.get_many([changed.id])
        assert (after.title, after.body, after.data) == (title, body, {"message": ""})
        assert after.dedupe_key == changed.dedupe_key and after.created_at == changed.created_at
        assert await notifications.get_many([kept.id]) == [kept]

    async def test_delete_actor_keeps_the_others(self, notifications):
        gone, kept = new_id("actor"), new_id("actor")
        await notifications.insert_many([notification(gone), notification(kept)])
        await notifications.delete_actor(gone)
        assert len(await notifications.for_actors([kept])) == 1
        assert await notifications.for_actors([gone]) == []

    async def test_pages_over_several_actors_merge_newest_first(self, notifications):
        first, second = new_id("actor"), new_id("actor")
        stored = [notification(first if n % 2 else second, created_at=at(n // 3))
                  for n in range(12)]
        # Outside the inbox or read: skipped (the unread list) without ending a page early.
        stored += [notification(first, created_at=at(1), in_inbox=False) for _ in range(5)]
        stored += [notification(second, created_at=at(2), read=True) for _ in range(3)]
        await notifications.insert_many(stored)
        in_inbox = [n for n in stored if n.in_inbox]
        newest_first = ids(sorted(in_inbox, key=lambda n: (n.created_at, n.id), reverse=True))
        pages = await all_pages(notifications, [first, second, first], limit=4)
        assert [i for page in pages for i in page] == newest_first
        assert all(len(page) == 4 for page in pages[:-1])
        unread = ids(sorted((n for n in in_inbox if not n.read),
                            key=lambda n: (n.created_at, n.id), reverse=True))
        pages = await all_pages(notifications, [second, first], limit=5, unread_only=True)
        assert [i for page in pages for i in page] == unread

    async def test_a_coalescing_window_opens_takes_pairs_until_sealed_and_falls_due(
            self, notifications):
        actor = new_id("actor")
        window = f"{actor}:{new_id('need')}"
        other_window = f"{actor}:{new_id('need')}"
        lead, pair, late, older, newer = (notification(actor, created_at=at(0)) for _ in range(5))
        await notifications.insert_many([lead, pair, late, older, newer])
        assert await notifications.open_windows([window], at(0)) == {}
        await notifications.update_many([lead.id], window=window, member_ids=[lead.id],
                                        closes_at=at(2), sealed=False, group_id=lead.id)
        # Of two open leads of one window, the one that closes last.
        await notifications.update_many([older.id], window=other_window, member_ids=[older.id],
                                        closes_at=at(3), sealed=False, group_id=older.id)
        await notifications.update_many([newer.id], window=other_window, member_ids=[newer.id],
                                        closes_at=at(4), sealed=False, group_id=newer.id)
        found = await notifications.open_windows([window, other_window, f"{actor}:x"], at(1))
        assert {key: lead_.id for key, lead_ in found.items()} == {
            window: lead.id, other_window: newer.id}
        assert await notifications.open_windows([window], at(2)) == {}  # closed by then
        assert await notifications.join_windows({lead.id: [pair.id, late.id]}) == {lead.id}
        assert await notifications.join_windows({}) == set()
        await notifications.leave_window(lead.id, [late.id])  # stored before, under another id
        [listed] = await notifications.get_many([lead.id])
        assert listed.member_ids == [lead.id, pair.id]
        assert await notifications.windows_due(now=at(1), limit=10) == []
        assert await notifications.windows_due(now=at(2), limit=10) == [lead.id]
        [sealed] = await notifications.seal_windows([new_id("missing"), lead.id])
        assert sealed.id == lead.id and sealed.sealed is True
        assert sealed.member_ids == [lead.id, pair.id]
        # Sealed: neither open nor due any more, and it takes no more pairs.
        assert (sealed.window, sealed.closes_at) == (None, None)
        assert await notifications.windows_due(now=at(10), limit=10) == [older.id, newer.id]
        # Sealed: not joined, while an open lead in the same call is.
        assert await notifications.join_windows(
            {lead.id: [late.id], newer.id: [late.id]}) == {newer.id}
        [after] = await notifications.get_many([lead.id])
        assert after.member_ids == [lead.id, pair.id]
        # A sealed window that waits for a pair on its way is due again, but not open.
        await notifications.update_many([lead.id], closes_at=at(5))
        assert await notifications.windows_due(now=at(5), limit=1) == [older.id]
        assert lead.id in await notifications.windows_due(now=at(5), limit=10)
        await notifications.update_many([lead.id], window=window)
        assert await notifications.open_windows([window], at(4)) == {}

    async def test_a_closing_is_on_record_until_it_ends(self, notifications):
        leads = [new_id("lead"), new_id("lead")]
        closing = await notifications.begin_closing(leads, at=at(1))
        other = await notifications.begin_closing([new_id("lead")], at=at(3))
        assert await notifications.stale_closings(before=at(1)) == []
        assert await notifications.stale_closings(before=at(2)) == [(closing, leads)]
        await notifications.end_closing(closing)
        await notifications.end_closing(closing)  # ending twice is harmless
        assert [c for c, _ in await notifications.stale_closings(before=at(9))] == [other]
        await notifications.end_closing(other)
