"""Coalescing on the real stack: a burst of pairs for one need within the window is one inbox
entry and one mail listing every pair, also when the notifications process is SIGKILLed while
the window is open (after a restart: exactly one mail, with all pairs)."""
from __future__ import annotations

import asyncio

from pymongo import AsyncMongoClient

from tests.integration.notifications.conftest import TUNED_ENV, eventually, new_id

NEED_TITLE = "Fahrerin für die Lebensmittelausgabe"
OFFERS = ("Fahrdienst mit Kleinbus", "Transporter am Wochenende", "Lastenrad")


async def publish_burst(platform, need_actor, offer_actor, need_id: str) -> None:
    for title in OFFERS:
        await platform.publish(platform.match_event(offer_actor=offer_actor, need_actor=need_actor,
                                                    need_id=need_id, offer_title=title))


def assert_one_mail_listing_every_pair(mails: list[dict]) -> None:
    assert len(mails) == 1, [mail["subject"] for mail in mails]
    [mail] = mails
    assert mail["subject"] == f"3 neue Vorschläge für „{NEED_TITLE}“"
    for title in OFFERS:
        assert mail["text"].count(f"Das Angebot „{title}“ passt zu 87 %") == 1
        assert title in mail["html"]
    assert mail["text"].count("Gleiches Handlungsfeld: Soziales") == 3  # each pair's reasons


async def test_a_burst_of_pairs_for_one_need_is_one_mail_and_one_inbox_entry(platform):
    need_actor = await platform.register()
    offer_actor = await platform.register(locale="en")
    need_id = new_id("need")
    await publish_burst(platform, need_actor, offer_actor, need_id)

    await eventually(lambda: platform.mails(need_actor.email), what="the need side's mail")
    # The offer side: three offers, three items, three single mails.
    offer_mails = await eventually(lambda: _at_least(platform.mails(offer_actor.email), 3),
                                   what="the offer side's mails")
    await asyncio.sleep(1.5)  # nothing more comes
    assert_one_mail_listing_every_pair(await platform.mails(need_actor.email))
    assert len(await platform.mails(offer_actor.email)) == len(offer_mails) == 3
    assert {mail["subject"] for mail in offer_mails} == \
        {f"New match for your offer “{title}”" for title in OFFERS}

    [entry] = (await platform.inbox(need_actor))["items"]
    assert entry["title"]["de"] == f"3 neue Vorschläge für „{NEED_TITLE}“"
    assert [pair["offer_title"] for pair in entry["data"]["pairs"]] == list(OFFERS)
    assert all(pair["reasons"][0]["label"]["de"] == "Gleiches Handlungsfeld: Soziales"
               for pair in entry["data"]["pairs"])
    [email] = [d for d in await platform.deliveries(need_actor) if d["channel"] == "email"]
    assert email["status"] == "sent" and len(email["notification_ids"]) == 3


async def test_a_process_killed_inside_the_window_sends_one_mail_with_all_pairs_after_restart(
        platform):
    stack = platform.stack
    # A longer window for this test, so the kill surely lands inside it.
    stack.kill("notifications")
    stack.start_service("notifications", extra_env={**TUNED_ENV, "COALESCE_WINDOW_S": "8"})
    client = AsyncMongoClient(stack.mongo_uri_for("notifications"), tz_aware=True)
    try:
        need_actor = await platform.register()
        offer_actor = await platform.register()
        need_id = new_id("need")
        notifications = client["notifications"]["notifications"]

        async def window_stored_and_open():
            # Listed by the lead and stored (a lead lists a pair before it is stored).
            lead = await notifications.find_one({"window": f"{need_actor.id}:{need_id}"})
            stored = await notifications.count_documents({"actor_id": need_actor.id})
            return lead if lead and len(lead["member_ids"]) == 3 == stored else None

        await publish_burst(platform, need_actor, offer_actor, need_id)
        lead = await eventually(window_stored_and_open, what="the three pairs in one open window")
        stack.kill("notifications")  # SIGKILL, inside the window
        assert await platform.mails(need_actor.email) == []
        stack.start_service("notifications", extra_env={**TUNED_ENV, "COALESCE_WINDOW_S": "8"})

        mails = await eventually(lambda: platform.mails(need_actor.email), timeout=30,
                                 what="the window's mail after the restart")
        await asyncio.sleep(2)  # the restarted process goes on running its window task
        assert_one_mail_listing_every_pair(await platform.mails(need_actor.email))
        assert len(mails) == 1
        # Sealed and told: off the open and due windows (their sparse indexes).
        lead = await notifications.find_one({"_id": lead["_id"]})
        assert lead["sealed"] is True and "window" not in lead and "closes_at" not in lead
        assert await notifications.count_documents({"actor_id": need_actor.id}) == 3
        [entry] = (await platform.inbox(need_actor))["items"]
        assert len(entry["data"]["pairs"]) == 3
    finally:
        await client.close()
        # Back to the session's settings for the tests after this one.
        if "notifications" in stack.children:
            stack.kill("notifications")
        stack.start_service("notifications", extra_env=TUNED_ENV)
        stack.children["notifications"].tuned_for_notification_tests = True


async def _at_least(mails_coroutine, count: int):
    mails = await mails_coroutine
    return mails if len(mails) >= count else None
