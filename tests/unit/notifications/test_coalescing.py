"""Coalescing windows on the in-memory ports: a burst of pairs for one recipient's item becomes
one notification, one mail and one webhook call; instant and digest preferences hold; pairs
are neither lost nor told twice, also when a crash interrupts a window.
(tests/integration/notifications/test_coalescing.py runs them on the real stack.)"""
from __future__ import annotations

import asyncio
import json

import pytest
from prometheus_client import REGISTRY

from platform_common.identity import Identity
from services.notifications import service
from services.notifications.domain.models import Preferences
from tests.unit.notifications.fakes import make_deps
from tests.unit.notifications.test_service import actor, found, match

WINDOW_S = 2


async def setup(**settings):
    deps = make_deps(coalesce_window_s=WINDOW_S, **settings)
    for name in ("helper", "club"):
        await service.apply_actor(deps=deps, actor=actor(name))
    return deps


async def burst(deps, pairs: list[tuple[str, str]], prefix: str = "e") -> None:
    """One batch of match.found events, as the consumer hands it over."""
    await service.handle_events(deps=deps, events=[
        found(match(offer_id, need_id), deps, f"{prefix}{number}")
        for number, (offer_id, need_id) in enumerate(pairs)])


async def close(deps) -> dict:
    deps.clock.advance(seconds=WINDOW_S + 0.001)
    return await service.close_windows(deps=deps)


def mails_to(deps, address: str):
    return [mail for to, mail, _ in deps.mailer.sent if to == address]


async def inbox(deps, actor_id: str) -> list[dict]:
    owner = Identity(sub=f"user-{actor_id}", tenant="koeln", roles=frozenset({"member"}))
    page = await service.list_notifications(deps=deps, identity=owner, unread=None, limit=20,
                                            cursor=None)
    return page["items"]


async def test_a_burst_for_one_item_is_one_notification_and_one_mail_listing_every_pair():
    deps = await setup()
    await burst(deps, [("o1", "n1"), ("o2", "n1"), ("o3", "n1")])
    assert deps.mailer.sent == [], "nothing goes out while the window is open"
    assert await close(deps) == {"closed": 4, "waiting": 0, "resumed": 0}  # club's need,
    # the helper's 3 offers

    [mail] = mails_to(deps, "club@example.org")
    assert mail.subject == "3 neue Vorschläge für „Fahrer“"
    assert mail.text.count("Das Angebot „Fahrdienst“ passt zu 80 %") == 3
    for offer_id in ("o1", "o2", "o3"):
        assert offer_id in json.dumps([n.data for n in deps.notifications.items.values()])
    # The helper's three offers are three items: three windows, three usual single mails.
    helper_mails = mails_to(deps, "helper@example.org")
    assert len(helper_mails) == 3
    assert {m.subject for m in helper_mails} == {"Neuer Treffer für Ihr Angebot „Fahrdienst“"}

    [entry] = await inbox(deps, "club")
    assert entry["title"] == {"de": "3 neue Vorschläge für „Fahrer“",
                              "en": "3 new suggestions for “Fahrer”"}
    assert [pair["offer_id"] for pair in entry["data"]["pairs"]] == ["o1", "o2", "o3"]
    assert all(pair["reasons"] == [] and pair["score"] == 0.8
               and pair["body"]["de"].startswith("Das Angebot „Fahrdienst“ passt")
               for pair in entry["data"]["pairs"])
    assert len(await inbox(deps, "helper")) == 3
    # Every pair is still its own record (one per recipient and pair), in one window.
    club = [n for n in deps.notifications.items.values() if n.actor_id == "club"]
    assert len(club) == 3 and len({n.group_id for n in club}) == 1
    [email] = [d for d in deps.deliveries.by_channel("email") if d.actor_id == "club"]
    assert len(email.notification_ids) == 3 and email.status == "sent"


async def test_pairs_of_two_items_are_two_notifications():
    deps = await setup()
    await burst(deps, [("o1", "n1"), ("o2", "n2"), ("o3", "n1")])
    await close(deps)
    subjects = sorted(mail.subject for mail in mails_to(deps, "club@example.org"))
    assert subjects == ["2 neue Vorschläge für „Fahrer“", "Neuer Treffer für Ihren Bedarf „Fahrer“"]
    assert len(await inbox(deps, "club")) == 2


async def test_pairs_of_separate_batches_within_the_window_join_it():
    deps = await setup()
    await burst(deps, [("o1", "n1")], prefix="a")
    deps.clock.advance(seconds=1)
    await burst(deps, [("o2", "n1")], prefix="b")
    assert await service.close_windows(deps=deps) == {"closed": 0, "waiting": 0, "resumed": 0}
    deps.clock.advance(seconds=1.5)  # the window closes 2 s after its first pair
    await service.close_windows(deps=deps)
    [mail] = mails_to(deps, "club@example.org")
    assert mail.subject.startswith("2 neue Vorschläge")


async def test_a_pair_after_the_window_is_a_new_notification():
    deps = await setup()
    await burst(deps, [("o1", "n1")], prefix="a")
    await close(deps)
    await burst(deps, [("o2", "n1")], prefix="b")
    await close(deps)
    mails = mails_to(deps, "club@example.org")
    assert [m.subject for m in mails] == ["Neuer Treffer für Ihren Bedarf „Fahrer“"] * 2
    assert len(await inbox(deps, "club")) == 2


async def test_a_daily_digest_recipient_gets_the_window_in_the_digest_not_at_once():
    deps = await setup()
    await deps.preferences.save(Preferences(actor_id="club", frequency="daily"))
    await burst(deps, [("o1", "n1"), ("o2", "n1"), ("o3", "n1")])
    await close(deps)
    assert mails_to(deps, "club@example.org") == []
    [deferred] = [d for d in deps.deliveries.by_channel("email") if d.actor_id == "club"]
    assert deferred.status == "deferred" and len(deferred.notification_ids) == 3
    assert await service.run_digests(deps=deps, force=True) == {"digests": 1, "sent": 1,
                                                                 "failed": 0}
    [digest] = mails_to(deps, "club@example.org")
    assert "3 neue Benachrichtigungen" in digest.subject
    assert digest.text.count("Das Angebot „Fahrdienst“") == 3


async def test_redelivered_events_neither_list_a_pair_again_nor_mail_again():
    deps = await setup()
    pairs = [("o1", "n1"), ("o2", "n1")]
    events = [found(match(o, n), deps, f"e{i}") for i, (o, n) in enumerate(pairs)]
    await service.handle_events(deps=deps, events=events)
    await service.handle_events(deps=deps, events=events)  # within the window
    await close(deps)
    await service.handle_events(deps=deps, events=events)  # after it
    await close(deps)
    [mail] = mails_to(deps, "club@example.org")
    assert mail.subject.startswith("2 neue Vorschläge")
    [entry] = await inbox(deps, "club")
    assert len(entry["data"]["pairs"]) == 2
    assert len([n for n in deps.notifications.items.values() if n.actor_id == "club"]) == 2


async def crash_while_closing(deps, port, method: str) -> None:
    """The window task dies (a SIGKILL, say) when it calls `port.method`."""
    original = getattr(port, method)

    async def killed(*args, **kwargs):
        raise ConnectionError("killed")

    setattr(port, method, killed)
    with pytest.raises(ConnectionError):
        await close(deps)
    setattr(port, method, original)


async def test_a_crash_between_sealing_and_telling_a_window_is_finished_later_once():
    deps = await setup()
    await burst(deps, [("o1", "n1"), ("o2", "n1")])
    # The windows are sealed, so no longer due: only the closing on record recalls them.
    await crash_while_closing(deps, deps.deliveries, "claim_many")
    assert await service.close_windows(deps=deps) == {"closed": 0, "waiting": 0, "resumed": 0}
    assert mails_to(deps, "club@example.org") == []
    deps.clock.advance(seconds=deps.settings.coalesce_repair_after_s + 0.001)
    assert (await service.close_windows(deps=deps))["resumed"] == 1
    [mail] = mails_to(deps, "club@example.org")
    assert mail.subject.startswith("2 neue Vorschläge")
    assert deps.notifications.closings == {}


async def test_a_window_planned_again_after_a_crash_sends_nothing_twice():
    deps = await setup()
    await burst(deps, [("o1", "n1"), ("o2", "n1")])
    await crash_while_closing(deps, deps.notifications, "end_closing")
    deps.clock.advance(seconds=deps.settings.coalesce_repair_after_s + 0.001)
    assert (await service.close_windows(deps=deps))["resumed"] == 1  # planned again
    assert len(mails_to(deps, "club@example.org")) == 1
    assert await service.close_windows(deps=deps) == {"closed": 0, "waiting": 0, "resumed": 0}


async def test_a_window_waits_for_a_listed_pair_that_is_still_being_stored():
    deps = await setup()
    await burst(deps, [("o1", "n1")], prefix="a")  # an open window for the club's need
    insert_many = deps.notifications.insert_many

    async def window_task_runs_before_the_pair_is_stored(notifications):
        if any(n.group_id != n.id for n in notifications):  # the pairs joining windows
            deps.clock.advance(seconds=WINDOW_S + 0.001)
            assert (await service.close_windows(deps=deps))["waiting"] == 1
        return await insert_many(notifications)

    deps.notifications.insert_many = window_task_runs_before_the_pair_is_stored
    await burst(deps, [("o2", "n1")], prefix="b")  # joins, then is stored
    deps.notifications.insert_many = insert_many
    assert mails_to(deps, "club@example.org") == [], "not told without the pair on its way"
    await close(deps)
    [mail] = mails_to(deps, "club@example.org")
    assert mail.subject.startswith("2 neue Vorschläge")


async def test_a_pair_listed_but_not_stored_before_a_crash_is_told_once_with_its_event_again():
    deps = await setup()
    await burst(deps, [("o1", "n1")], prefix="a")  # an open window for the club's need
    insert_many = deps.notifications.insert_many

    async def crash_before_the_joining_pairs_are_stored(notifications):
        if any(n.group_id != n.id for n in notifications):
            raise ConnectionError("killed")
        return await insert_many(notifications)

    deps.notifications.insert_many = crash_before_the_joining_pairs_are_stored
    with pytest.raises(ConnectionError):
        await burst(deps, [("o2", "n1")], prefix="b")  # listed by the club's window, not stored
    deps.notifications.insert_many = insert_many
    # The event comes again (its offset was not committed): the pair joins under a new id.
    await burst(deps, [("o2", "n1")], prefix="b")
    assert (await close(deps))["waiting"] == 1, "the window waits for the pair never stored"
    deps.clock.advance(seconds=deps.settings.coalesce_repair_after_s)
    assert (await service.close_windows(deps=deps))["closed"] == 1
    [mail] = mails_to(deps, "club@example.org")
    assert mail.subject == "2 neue Vorschläge für „Fahrer“", "each pair once"
    told = [i for d in deps.deliveries.by_channel("email") if d.actor_id == "club"
            for i in d.notification_ids]
    assert len(told) == len(set(told)) == 2
    assert {deps.notifications.items[i].pair for i in told} == {"o1:n1", "o2:n1"}
    [entry] = await inbox(deps, "club")  # the id never stored is not among its pairs
    assert [pair["offer_id"] for pair in entry["data"]["pairs"]] == ["o1", "o2"]


async def test_a_withdrawn_pair_leaves_the_window_the_others_are_still_told():
    deps = await setup()
    await deps.preferences.save(Preferences(actor_id="club", frequency="daily"))
    await burst(deps, [("o1", "n1"), ("o2", "n1")])
    await close(deps)
    deps.clock.advance(seconds=5)
    await service.on_match_withdrawn(deps=deps, match=match("o1", "n1"), event_id="w1",
                                     event_at=deps.clock())
    [deferred] = [d for d in deps.deliveries.by_channel("email") if d.actor_id == "club"]
    assert deferred.status == "deferred"
    await service.run_digests(deps=deps, force=True)
    [digest] = mails_to(deps, "club@example.org")
    assert "o2" not in digest.text and digest.text.count("Das Angebot „Fahrdienst“") == 1
    [entry] = await inbox(deps, "club")
    assert [p["withdrawn"] for p in entry["data"]["pairs"]] == [True, False]
    assert entry["withdrawn"] is False


async def test_one_webhook_call_carries_every_pair_and_keeps_the_single_pair_fields():
    deps = await setup()
    await deps.preferences.save(Preferences(actor_id="club", channels={"webhook": True},
                                            webhook_url="https://hooks.example/x",
                                            webhook_secret="s"))
    await burst(deps, [("o1", "n1"), ("o2", "n1"), ("o3", "n1")])
    await close(deps)
    [(_, body, _)] = deps.webhooks.posts
    notification = json.loads(body)["notification"]
    assert notification["title"]["de"] == "3 neue Vorschläge für „Fahrer“"
    assert notification["data"]["offer_id"] == "o1"  # the first pair, as before
    assert [pair["data"]["offer_id"] for pair in notification["pairs"]] == ["o1", "o2", "o3"]


async def test_without_a_window_every_pair_is_told_at_once():
    deps = make_deps(coalesce_window_s=0)
    for name in ("helper", "club"):
        await service.apply_actor(deps=deps, actor=actor(name))
    await burst(deps, [("o1", "n1"), ("o2", "n1")])
    assert len(mails_to(deps, "club@example.org")) == 2


async def test_an_english_recipient_gets_the_window_in_english():
    from platform_common.events.models import MatchData

    deps = await setup()
    club = actor("club", version=2).model_copy(update={"locale": "en"})
    await service.apply_actor(deps=deps, actor=club)
    reasons = [{"factor": "categories", "value": 1.0, "weight": 0.3, "contribution": 0.3,
                "label": {"de": "Gleiches Handlungsfeld", "en": "Same field"}}]
    pairs = [MatchData.model_validate({**match(f"o{n}", "n1").model_dump(), "reasons": reasons})
             for n in range(2)]
    await service.handle_events(deps=deps, events=[found(p, deps, f"e{n}")
                                                   for n, p in enumerate(pairs)])
    await close(deps)
    [mail] = mails_to(deps, "club@example.org")
    assert mail.subject == "2 new suggestions for “Fahrer”"
    assert mail.text.count("The offer “Fahrdienst” matches your need “Fahrer” by 80%") == 2
    assert mail.text.count("Same field") == 2 and "/#/needs/n1" in mail.text
    assert "2 offers match your need “Fahrer”." in mail.text and "<ul>" in mail.html


async def test_a_pair_whose_window_closes_before_it_joins_leads_a_new_one():
    deps = await setup()
    await burst(deps, [("o1", "n1")], prefix="a")  # an open window for the club's need
    join_windows = deps.notifications.join_windows

    async def window_closes_meanwhile(joins):
        # Another instance's window task closes the club's window between the look at the
        # open windows and the join.
        deps.clock.advance(seconds=WINDOW_S + 0.001)
        await service.close_windows(deps=deps)
        return await join_windows(joins)

    deps.notifications.join_windows = window_closes_meanwhile
    await burst(deps, [("o2", "n1")], prefix="b")
    deps.notifications.join_windows = join_windows
    await close(deps)
    subjects = [m.subject for m in mails_to(deps, "club@example.org")]
    assert subjects == ["Neuer Treffer für Ihren Bedarf „Fahrer“"] * 2, "each pair once"
    assert len(await inbox(deps, "club")) == 2


async def test_a_redelivered_batch_adds_only_its_new_pairs_to_a_window():
    deps = await setup()
    await burst(deps, [("o1", "n1")], prefix="a")
    # The same event again, with a new one: the first is not stored twice; the new pair joins
    # the window the first one leads.
    await service.handle_events(deps=deps, events=[
        found(match("o1", "n1"), deps, "a0"), found(match("o2", "n1"), deps, "b0")])
    await close(deps)
    [mail] = mails_to(deps, "club@example.org")
    assert mail.subject == "2 neue Vorschläge für „Fahrer“"
    [entry] = await inbox(deps, "club")
    assert [pair["offer_id"] for pair in entry["data"]["pairs"]] == ["o1", "o2"]


async def test_a_new_pair_behind_a_redelivered_one_is_told_when_no_window_is_open():
    deps = await setup()
    await burst(deps, [("o1", "n1")], prefix="a")
    await close(deps)
    # The redelivered pair would lead the new window, but it is stored already: the new pair
    # behind it leads a window of its own.
    await service.handle_events(deps=deps, events=[
        found(match("o1", "n1"), deps, "a0"), found(match("o2", "n1"), deps, "b0")])
    await close(deps)
    subjects = [m.subject for m in mails_to(deps, "club@example.org")]
    assert subjects == ["Neuer Treffer für Ihren Bedarf „Fahrer“"] * 2
    told = [deps.notifications.items[i].pair for d in deps.deliveries.by_channel("email")
            if d.actor_id == "club" for i in d.notification_ids]
    assert told == ["o1:n1", "o2:n1"]


def metric(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def coalescing_metrics() -> dict[str, float]:
    """The coalescing metrics (process-wide counters: tests compare before and after)."""
    return {
        "led": metric("notifications_coalescing_pairs_total", placement="led"),
        "joined": metric("notifications_coalescing_pairs_total", placement="joined"),
        "windows": metric("notifications_coalesced_pairs_count"),
        "pairs_told": metric("notifications_coalesced_pairs_sum"),
        "single": metric("notifications_coalesced_pairs_bucket", le="1.0"),
        "up_to_3": metric("notifications_coalesced_pairs_bucket", le="3.0"),
    }


async def test_metrics_count_the_pairs_placed_in_windows_and_the_windows_told():
    deps = await setup()
    before = coalescing_metrics()
    await burst(deps, [("o1", "n1"), ("o2", "n1")], prefix="a")
    deps.clock.advance(seconds=1)
    await burst(deps, [("o3", "n1")], prefix="b")  # joins the club's open window
    await burst(deps, [("o1", "n1")], prefix="a")  # redelivered: placed before, not again
    await close(deps)
    after = coalescing_metrics()
    moved = {name: after[name] - before[name] for name in after}
    # The club's need: one window led by o1, joined by o2 and o3; the helper's three offers:
    # three windows of one pair each.
    assert moved == {"led": 4, "joined": 2, "windows": 4, "pairs_told": 6, "single": 3,
                     "up_to_3": 4}
    [mail] = mails_to(deps, "club@example.org")
    assert mail.subject.startswith("3 neue Vorschläge")


async def test_pairs_of_one_item_from_two_partitions_handled_side_by_side_share_one_window():
    """Match events are keyed by pair, so a new need's pairs come through several partitions,
    whose batches the consumer handles side by side: they must still find one window."""
    deps = await setup()
    await asyncio.gather(burst(deps, [("o1", "n1")], prefix="a"),
                         burst(deps, [("o2", "n1")], prefix="b"))
    await close(deps)
    [mail] = mails_to(deps, "club@example.org")
    assert mail.subject == "2 neue Vorschläge für „Fahrer“"
    [entry] = await inbox(deps, "club")
    assert sorted(pair["offer_id"] for pair in entry["data"]["pairs"]) == ["o1", "o2"]
