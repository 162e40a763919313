"""Match notifications end to end: events into the real broker, mails in the real SMTP sink,
inbox entries through the real service API."""
from __future__ import annotations

import asyncio
import re

from tests.integration.notifications.conftest import Actor, eventually, new_id


async def test_match_found_mails_each_side_once_in_their_language_and_fills_both_inboxes(platform):
    need_actor = await platform.register(locale="de", name="Tafel Köln e.V.")
    offer_actor = await platform.register(locale="en", name="Rhein Logistics GmbH")
    need_id, offer_id = new_id("need"), new_id("offer")
    found = platform.match_event(offer_actor=offer_actor, need_actor=need_actor,
                                 offer_id=offer_id, need_id=need_id, score=0.87)
    await platform.publish(found)

    need_mails = await eventually(lambda: platform.mails(need_actor.email), what="need-side mail")
    offer_mails = await eventually(lambda: platform.mails(offer_actor.email), what="offer-side mail")
    assert len(need_mails) == len(offer_mails) == 1
    german, english = need_mails[0], offer_mails[0]
    assert "Neuer Treffer" in german["subject"]
    assert "87 %" in german["text"]
    assert "Gleiches Handlungsfeld: Soziales" in german["text"]  # the strongest reason first
    assert "Sprache Deutsch" not in german["text"]               # only the top three reasons
    assert f"{platform.stack.url('gateway')}/#/needs/{need_id}" in german["text"]
    assert "Gleiches Handlungsfeld: Soziales" in german["html"] and "<a href=" in german["html"]
    assert "/api/v1/unsubscribe?token=" in german["text"]
    assert "New match for your offer" in english["subject"]
    assert "87%" in english["text"] and "Same field: social welfare" in english["text"]
    assert f"/#/needs/{need_id}" in english["text"]

    need_inbox = await platform.inbox(need_actor)
    offer_inbox = await platform.inbox(offer_actor)
    assert [item["type"] for item in need_inbox["items"]] == ["match.found"]
    assert len(offer_inbox["items"]) == 1
    entry = need_inbox["items"][0]
    assert entry["actor_id"] == need_actor.id and entry["read"] is False
    assert entry["title"]["de"].startswith("Neuer Treffer") and entry["title"]["en"]
    assert entry["data"]["offer_id"] == offer_id and entry["data"]["need_id"] == need_id
    assert entry["data"]["score"] == 0.87
    assert entry["data"]["reasons"][0]["label"]["en"] == "Same field: social welfare"


async def test_redelivered_and_repeated_match_events_notify_once(platform):
    need_actor = await platform.register()
    offer_actor = await platform.register()
    need_id, offer_id = new_id("need"), new_id("offer")
    found = platform.match_event(offer_actor=offer_actor, need_actor=need_actor,
                                 offer_id=offer_id, need_id=need_id, score=0.7)
    await platform.publish(found)
    await platform.publish(found)  # the same event delivered again
    # The matcher finds the pair again (e.g. after an edit): another event id, same pair.
    await platform.publish(platform.match_event(offer_actor=offer_actor, need_actor=need_actor,
                                                offer_id=offer_id, need_id=need_id, score=0.75))
    # A match of another offer for the same need comes after them in the same partition: once it
    # is mailed, every duplicate before it was handled.
    later_offer = new_id("offer")
    await platform.publish(platform.match_event(offer_actor=offer_actor, need_actor=need_actor,
                                                offer_id=later_offer, need_id=need_id,
                                                offer_title="Später gefunden"))

    async def later_mail_in(actor):
        mails = await platform.mails(actor.email)
        return mails if any("Später gefunden" in mail["text"] for mail in mails) else None

    # The need side: both pairs of its need, each told once (in one mail when they came within
    # the coalescing window, "2 neue Vorschläge …", else in two).
    need_mails = await eventually(lambda: later_mail_in(need_actor), what="the later mail")
    told = " ".join(mail["text"] for mail in need_mails)
    assert told.count("Das Angebot „Fahrdienst mit Kleinbus“") == 1
    assert told.count("Das Angebot „Später gefunden“") == 1
    assert len(need_mails) == 1 or not any("neue Vorschläge" in m["subject"] for m in need_mails)
    # The offer side: two offers, two items, two mails.
    assert len(await eventually(lambda: later_mail_in(offer_actor), what="the later mail")) == 2
    inbox = await platform.inbox(need_actor)
    listed = [pair["offer_id"] for item in inbox["items"]
              for pair in item["data"].get("pairs", [item["data"]])]
    assert sorted(listed) == sorted([offer_id, later_offer])


async def test_a_match_found_again_after_its_withdrawal_notifies_again(platform):
    need_actor = await platform.register()
    offer_actor = await platform.register()
    need_id, offer_id = new_id("need"), new_id("offer")
    first = platform.match_event(offer_actor=offer_actor, need_actor=need_actor,
                                 offer_id=offer_id, need_id=need_id)
    await platform.publish(first)
    await eventually(lambda: platform.mails(need_actor.email), what="the first mail")
    await platform.publish(platform.match_event(offer_actor=offer_actor, need_actor=need_actor,
                                                offer_id=offer_id, need_id=need_id,
                                                kind="match.withdrawn"))
    await asyncio.sleep(0.01)  # the found-again event happens after the withdrawal
    await platform.publish(platform.match_event(offer_actor=offer_actor, need_actor=need_actor,
                                                offer_id=offer_id, need_id=need_id))
    await platform.publish(first)  # an old event replayed after all that: still nothing new
    mails = await eventually(lambda: _at_least(platform.mails(need_actor.email), 2),
                             what="the second mail")
    inbox = (await platform.inbox(need_actor))["items"]
    assert len(inbox) == 2
    assert sorted(item["withdrawn"] for item in inbox) == [False, True]
    await asyncio.sleep(1)
    assert len(await platform.mails(need_actor.email)) == len(mails) == 2


async def _at_least(mails_coroutine, count: int):
    mails = await mails_coroutine
    return mails if len(mails) >= count else None


async def test_unsubscribe_link_from_the_mail_turns_email_off_but_not_the_inbox(platform):
    need_actor = await platform.register()
    offer_actor = await platform.register()
    need_id = new_id("need")
    await platform.publish(platform.match_event(offer_actor=offer_actor, need_actor=need_actor,
                                                need_id=need_id))
    mail = (await eventually(lambda: platform.mails(need_actor.email), what="mail"))[0]
    link = re.search(r"(\S+/api/v1/unsubscribe\?token=(\S+))", mail["text"])
    assert link and link.group(1).startswith(platform.stack.url("gateway"))
    assert mail["headers"]["List-Unsubscribe"] == f"<{link.group(1)}>"

    # The gateway maps /api/v1/unsubscribe to the service's /unsubscribe.
    page = await platform.api.get("/unsubscribe", params={"token": link.group(2)})
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert "Abgemeldet" in page.text
    preferences = await platform.api.get("/me/notification-preferences", headers=need_actor.headers,
                                         params={"actor_id": need_actor.id})
    assert preferences.json()["channels"] == {"email": False, "inbox": True, "webhook": False}

    await platform.publish(platform.match_event(offer_actor=offer_actor, need_actor=need_actor,
                                                need_id=need_id, offer_title="Zweites Angebot"))
    await eventually(lambda: _at_least(platform.mails(offer_actor.email), 2),
                     what="the other side's second mail")
    inbox = await eventually(lambda: _inbox_size(platform, need_actor, 2), what="second inbox entry")
    assert len(inbox) == 2
    assert len(await platform.mails(need_actor.email)) == 1

    forged = await platform.api.get("/unsubscribe", params={"token": link.group(2)[:-3] + "abc"})
    assert forged.status_code == 400 and "Ungültiger Link" in forged.text


async def _inbox_size(platform, actor, size: int):
    items = (await platform.inbox(actor))["items"]
    return items if len(items) >= size else None


async def test_a_mail_for_a_recipient_not_known_yet_waits_untouched_until_its_actor_event(platform):
    """The match overtook the offer side's actor event. Its mail waits in the real store
    without the retry task trying it (which, with thousands waiting, had kept the store busy
    and slowed every other notification down); the actor event sends it at once."""
    from pymongo import AsyncMongoClient

    need_actor = await platform.register()
    offer_actor = Actor(id=new_id("actor"), sub=new_id("user"), email=f"{new_id('late')}@example.org")
    failed_rounds = await platform.metric("notifications_failed_total", 'channel="email"')
    await platform.publish(platform.match_event(offer_actor=offer_actor, need_actor=need_actor))
    await eventually(lambda: platform.mails(need_actor.email), what="the need side's mail")

    client = AsyncMongoClient(platform.stack.mongo_uri_for("notifications"), tz_aware=True)
    try:
        deliveries = client["notifications"]["deliveries"]

        async def waiting():
            return await deliveries.find_one({"actor_id": offer_actor.id})
        delivery = await eventually(waiting, what="the offer side's delivery stored")
        assert (delivery["status"], delivery["rounds"], delivery["next_retry_at"]) == \
            ("waiting", 0, None)
        await asyncio.sleep(2)  # four runs of the retry task (RETRY_INTERVAL_S=0.5) leave it be
        assert (await waiting())["status"] == "waiting"
        assert await platform.metric("notifications_failed_total", 'channel="email"') == failed_rounds

        await platform.publish_actor(offer_actor)
        [mail] = await eventually(lambda: platform.mails(offer_actor.email),
                                  what="the offer side's mail once its actor is known")
        assert "Fahrerin für die Lebensmittelausgabe" in mail["text"]
        sent = await eventually(lambda: _status_is(deliveries, offer_actor.id, "sent"),
                                what="the delivery recorded as sent")
        assert sent["rounds"] == 1
    finally:
        await client.close()


async def _status_is(deliveries, actor_id: str, status: str):
    return await deliveries.find_one({"actor_id": actor_id, "status": status})
