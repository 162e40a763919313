"""Webhooks, failing channels and their retries, the daily digest and the rate limit, on the
real service, broker, MongoDB, Redis and SMTP sink."""
from __future__ import annotations

import hashlib
import hmac
import json
import os

from deploy.local.engines import port_open
from tests.integration.notifications.conftest import WebhookReceiver, eventually, internal, new_id


async def _email_delivery(platform, actor, status: str | tuple[str, ...]):
    wanted = (status,) if isinstance(status, str) else status
    for delivery in await platform.deliveries(actor):
        if delivery["channel"] == "email" and delivery["status"] in wanted:
            return delivery
    return None


async def test_webhook_receives_the_notification_signed_with_the_shown_secret(platform):
    org = await platform.register(name="Sportverein Ehrenfeld")
    helper = await platform.register()
    with WebhookReceiver() as receiver:
        response = await platform.api.put("/me/notification-preferences", headers=org.headers,
                                          json={"actor_id": org.id, "channels": {"webhook": True},
                                                "webhook_url": receiver.url})
        assert response.status_code == 200, response.text
        secret = response.json()["webhook_secret"]
        assert secret and response.json()["webhook_url"] == receiver.url
        shown_again = await platform.api.get("/me/notification-preferences", headers=org.headers,
                                             params={"actor_id": org.id})
        assert shown_again.json()["webhook_secret"] is None
        assert shown_again.json()["webhook_secret_set"] is True

        need_id = new_id("need")
        await platform.publish(platform.match_event(offer_actor=helper, need_actor=org,
                                                    need_id=need_id))
        await eventually(lambda: _async(receiver.requests), what="the webhook call")
        request = receiver.requests[0]
        headers = {name.lower(): value for name, value in request["headers"].items()}
        expected = "sha256=" + hmac.new(secret.encode(), request["body"], hashlib.sha256).hexdigest()
        assert headers["x-signature"] == expected
        assert headers["x-webhook-timestamp"].isdigit()
        assert headers["content-type"] == "application/json"
        payload = json.loads(request["body"])
        assert payload["notification"]["type"] == "match.found"
        assert payload["notification"]["actor_id"] == org.id
        assert payload["notification"]["data"]["need_id"] == need_id
        deliveries = await eventually(lambda: _with_status(platform, org, "webhook", "sent"),
                                      what="the webhook delivery recorded as sent")
        assert deliveries["attempts"] == 1 and deliveries["target"] == receiver.url
    # E-mail stays on beside the webhook.
    assert len(await eventually(lambda: platform.mails(org.email), what="mail")) == 1


async def _async(value):
    return value


async def _with_status(platform, actor, channel: str, status: str):
    for delivery in await platform.deliveries(actor):
        if delivery["channel"] == channel and delivery["status"] == status:
            return delivery
    return None


async def test_a_webhook_that_keeps_failing_ends_recorded_as_failed(platform):
    org = await platform.register()
    helper = await platform.register()
    failed_before = await platform.metric("notifications_failed_total", 'channel="webhook"')
    with WebhookReceiver(status=500) as receiver:
        response = await platform.api.put("/me/notification-preferences", headers=org.headers,
                                          json={"actor_id": org.id,
                                                "channels": {"webhook": True, "email": False},
                                                "webhook_url": receiver.url})
        assert response.status_code == 200, response.text
        await platform.publish(platform.match_event(offer_actor=helper, need_actor=org))
        delivery = await eventually(lambda: _with_status(platform, org, "webhook", "failed"),
                                    timeout=30, what="the webhook given up as failed")
    # The first round with its quick attempts, then the retry task's rounds (TUNED_ENV).
    assert delivery["rounds"] == 6 and delivery["attempts"] == 2 + 5
    assert "HTTP 500" in delivery["last_error"] and delivery["next_retry_at"] is None
    assert len(receiver.requests) == 7
    assert await platform.metric("notifications_failed_total", 'channel="webhook"') >= failed_before + 6


async def test_mail_while_the_smtp_server_is_down_is_recorded_and_sent_when_it_is_back(platform):
    need_actor = await platform.register()
    offer_actor = await platform.register()
    stack = platform.stack
    mail_engine = next(spec for spec in stack.engine_specs() if spec.name == "mail")
    failed_before = await platform.metric("notifications_failed_total", 'channel="email"')
    stack.kill("mail")
    try:
        await platform.publish(platform.match_event(offer_actor=offer_actor, need_actor=need_actor))
        failing = await eventually(lambda: _email_delivery(platform, need_actor, "retrying"),
                                   what="the mail recorded as retrying")
        assert failing["attempts"] >= 2 and failing["last_error"]
        assert failing["target"] == need_actor.email
        assert await platform.metric("notifications_failed_total",
                                     'channel="email"') > failed_before
    finally:
        stack._spawn(mail_engine.name, mail_engine.command, env=os.environ.copy())
        stack._wait("mail", lambda: port_open(mail_engine.port), 30)
    sent = await eventually(lambda: _email_delivery(platform, need_actor, "sent"), timeout=20,
                            what="the retried mail sent")
    assert sent["rounds"] >= 2
    assert len(await eventually(lambda: platform.mails(need_actor.email), what="mail")) == 1
    assert len(await eventually(lambda: platform.mails(offer_actor.email), what="mail")) == 1


async def test_daily_digest_lists_the_days_matches_in_one_mail(platform):
    need_actor = await platform.register(locale="en", name="Youth Club")
    offer_actor = await platform.register()
    response = await platform.api.put("/me/notification-preferences", headers=need_actor.headers,
                                      json={"frequency": "daily"})  # the caller's only actor
    assert response.status_code == 200 and response.json()["frequency"] == "daily"
    need_id = new_id("need")
    titles = ["Homework help", "Football coach", "Withdrawn later"]
    events = [platform.match_event(offer_actor=offer_actor, need_actor=need_actor, need_id=need_id,
                                   offer_title=title, score=score)
              for title, score in zip(titles, (0.91, 0.64, 0.5))]
    for event in events:
        await platform.publish(event)
    withdrawn = events[2].data
    await platform.publish(platform.match_event(
        offer_actor=offer_actor, need_actor=need_actor, offer_id=withdrawn["offer"]["id"],
        need_id=need_id, kind="match.withdrawn"))

    async def waiting_for_digest():
        # The three pairs of the need came within one coalescing window: one deferred mail
        # for all three (the withdrawn one is left out when it is rendered).
        deliveries = await platform.deliveries(need_actor)
        emails = [d for d in deliveries if d["channel"] == "email"]
        return emails if [(d["status"], len(d["notification_ids"])) for d in emails] == \
            [("deferred", 3)] else None

    await eventually(waiting_for_digest, what="the window's mail deferred")
    assert await platform.mails(need_actor.email) == []

    outcome = await platform.api.post("/internal/digests/run", headers=internal())
    assert outcome.status_code == 200 and outcome.json()["sent"] >= 1
    digests = await eventually(lambda: platform.mails(need_actor.email), what="the digest")
    assert len(digests) == 1
    digest = digests[0]
    assert digest["subject"] == "Your daily summary: 2 new notifications"
    assert "Homework help" in digest["text"] and "91%" in digest["text"]
    assert "Football coach" in digest["text"] and "64%" in digest["text"]
    assert "Withdrawn later" not in digest["text"]
    assert f"/#/needs/{need_id}" in digest["text"] and "Homework help" in digest["html"]
    statuses = sorted(d["status"] for d in await platform.deliveries(need_actor))
    assert statuses == ["digested", "sent"]

    await platform.api.post("/internal/digests/run", headers=internal())  # one digest a day: nothing more today
    assert len(await platform.mails(need_actor.email)) == 1
    # The other side stays instant (each offer its own window); the withdrawn pair is not
    # announced when its withdrawal came before its window closed (as it does here, almost
    # always).

    async def offer_side_told():
        subjects = [mail["subject"] for mail in await platform.mails(offer_actor.email)]
        return subjects if any("Football coach" in s for s in subjects) and \
            any("Homework help" in s for s in subjects) else None

    offer_subjects = await eventually(offer_side_told, what="the offer side's mails")
    assert sum("Homework help" in s for s in offer_subjects) == 1
    assert sum("Football coach" in s for s in offer_subjects) == 1
    assert len(offer_subjects) <= 3


async def test_instant_mails_over_the_hourly_limit_go_into_the_digest(platform):
    need_actor = await platform.register()
    offer_actor = await platform.register()
    for number in range(22):  # the limit is 20 instant mails per recipient and hour
        # 22 needs: the pairs of one need within the coalescing window would be one mail. One
        # partition, so the last two are the ones over the limit.
        await platform.publish(platform.match_event(offer_actor=offer_actor, need_actor=need_actor,
                                                    offer_title=f"Angebot {number}"),
                               key=need_actor.id)

    async def all_handled():
        deliveries = [d for d in await platform.deliveries(need_actor) if d["channel"] == "email"]
        return deliveries if len(deliveries) == 22 and all(
            d["status"] in ("sent", "deferred") for d in deliveries) else None

    deliveries = await eventually(all_handled, timeout=30, what="22 mails handled")
    assert sorted(d["status"] for d in deliveries) == ["deferred"] * 2 + ["sent"] * 20
    assert len(await platform.mails(need_actor.email)) == 20
    assert len((await platform.inbox(need_actor, limit=100))["items"]) == 22  # never limited

    await platform.api.post("/internal/digests/run", headers=internal())
    mails = await eventually(lambda: _count(platform.mails(need_actor.email), 21), what="the digest")
    assert len(mails) == 21
    assert "2 neue Benachrichtigungen" in mails[-1]["subject"]
    assert "Angebot 20" in mails[-1]["text"] and "Angebot 21" in mails[-1]["text"]


async def _count(mails_coroutine, count: int):
    mails = await mails_coroutine
    return mails if len(mails) >= count else None
