"""The HTTP API: inbox paging and read state, preferences, contacts, export, erasure, and clean
errors for bad input."""
from __future__ import annotations

from tests.integration.notifications.conftest import Actor, eventually, identity, internal, new_id


async def _inbox_items(platform, actor, size: int):
    items = (await platform.inbox(actor))["items"]
    return items if len(items) >= size else None


async def test_inbox_pages_newest_first_and_keeps_read_state(platform):
    need_actor = await platform.register()
    offer_actor = await platform.register()
    # Three needs (the pairs of one need within the coalescing window would be one entry), in
    # one partition, so they are handled in this order.
    for title in ("Erstes", "Zweites", "Drittes"):
        await platform.publish(platform.match_event(offer_actor=offer_actor, need_actor=need_actor,
                                                    offer_title=title), key=need_actor.id)
    await eventually(lambda: _inbox_items(platform, need_actor, 3), what="three inbox entries")

    first = await platform.inbox(need_actor, limit=2)
    assert len(first["items"]) == 2 and first["next_cursor"]
    second = await platform.inbox(need_actor, limit=2, cursor=first["next_cursor"])
    assert len(second["items"]) == 1 and second["next_cursor"] is None
    ordered = first["items"] + second["items"]
    assert [item["data"]["offer_title"] for item in ordered] == ["Drittes", "Zweites", "Erstes"]

    newest = ordered[0]["id"]
    read = await platform.api.post(f"/me/notifications/{newest}/read", headers=need_actor.headers)
    assert read.status_code == 200 and read.json()["read"] is True
    unread = await platform.inbox(need_actor, unread="true")
    assert [item["id"] for item in unread["items"]] == [item["id"] for item in ordered[1:]]
    # Someone else's notification is not found for the caller.
    foreign = await platform.api.post(f"/me/notifications/{newest}/read", headers=offer_actor.headers)
    assert foreign.status_code == 404
    everything = await platform.api.post("/me/notifications/read-all", headers=need_actor.headers)
    assert everything.json() == {"updated": 2}
    assert (await platform.inbox(need_actor, unread="true"))["items"] == []


async def test_contact_requests_tell_the_right_side(platform):
    requester = await platform.register(name="Anna Beispiel")
    recipient = await platform.register(locale="en", name="Food Bank Cologne")
    contact_id = new_id("contact")
    await platform.contact(status="requested", contact_id=contact_id, requester=requester,
                           recipient=recipient, version=1, message="Ich kann samstags helfen.")
    mail = (await eventually(lambda: platform.mails(recipient.email), what="request mail"))[0]
    assert mail["subject"] == "New contact request from Anna Beispiel"
    assert "Ich kann samstags helfen." in mail["text"]
    await platform.contact(status="accepted", contact_id=contact_id, requester=requester,
                           recipient=recipient, version=2)
    requester_items = await eventually(lambda: _inbox_items(platform, requester, 1),
                                       what="acceptance in the requester's inbox")
    assert requester_items[0]["type"] == "contact.accepted"
    recipient_items = await eventually(lambda: _inbox_items(platform, recipient, 2),
                                       what="acceptance in the recipient's inbox")
    assert [item["type"] for item in recipient_items] == ["contact.accepted", "contact.requested"]
    assert len(await platform.mails(requester.email)) == 1

    declined_id = new_id("contact")
    await platform.contact(status="declined", contact_id=declined_id, requester=requester,
                           recipient=recipient, version=2)
    requester_items = await eventually(lambda: _inbox_items(platform, requester, 2),
                                       what="the decline in the requester's inbox")
    assert requester_items[0]["type"] == "contact.declined"
    assert "Food Bank Cologne" in requester_items[0]["body"]["de"]
    assert len((await platform.inbox(recipient))["items"]) == 2


async def test_export_then_erasure_removes_inbox_preferences_deliveries_and_recipient(platform):
    actor = await platform.register()
    other = await platform.register()
    await platform.api.put("/me/notification-preferences", headers=actor.headers,
                           json={"frequency": "daily"})
    need_id = new_id("need")
    await platform.publish(platform.match_event(offer_actor=other, need_actor=actor,
                                                need_id=need_id))
    await eventually(lambda: _inbox_items(platform, actor, 1), what="inbox entry")

    async def exported_with_delivery():
        # The deferred mail is planned when the notification's coalescing window closes.
        response = await platform.api.get("/me/export", headers=actor.headers)
        assert response.status_code == 200
        return response if response.json()["actors"][0]["deliveries"] else None

    export = await eventually(exported_with_delivery, what="the deferred mail planned")
    [exported] = export.json()["actors"]
    assert exported["actor_id"] == actor.id and exported["recipient"]["email"] == actor.email
    assert exported["preferences"]["frequency"] == "daily"
    assert len(exported["notifications"]) == 1
    assert [d["status"] for d in exported["deliveries"]] == ["deferred"]

    await platform.erase(actor)

    async def forgotten():
        response = await platform.api.get("/me/notification-preferences", headers=actor.headers)
        return response.json()["items"] == []

    await eventually(forgotten, what="the recipient forgotten")
    assert (await platform.inbox(actor))["items"] == []
    assert (await platform.api.get("/me/export", headers=actor.headers)).json()["actors"] == []
    assert (await platform.deliveries(actor)) == []
    # A late event about the erased actor brings nothing back (the other side is still told).
    await platform.publish(platform.match_event(offer_actor=other, need_actor=actor,
                                                need_id=need_id, offer_title="Nachzügler"))
    await eventually(lambda: _inbox_items(platform, other, 2), what="the other side's entry")
    await platform.publish_actor(actor, event="actor.updated")  # an old snapshot replayed
    # Another actor's registration behind it in the same partition: once it is known, the old
    # snapshot was handled.
    newcomer = Actor(id=new_id("actor"), sub=new_id("user"), email="newcomer@example.org")
    await platform.publish_actor(newcomer, key=actor.id)
    await eventually(lambda: platform._known(newcomer), what="the newcomer known")
    assert (await platform.api.get("/me/notification-preferences",
                                   headers=actor.headers)).json()["items"] == []
    runs = await platform.api.post("/internal/digests/run", headers=internal())
    assert runs.status_code == 200
    assert await platform.mails(actor.email) == []


async def test_identity_is_required(platform):
    for method, path in [("GET", "/me/notifications"), ("GET", "/me/deliveries"),
                         ("GET", "/me/export"), ("GET", "/me/notification-preferences"),
                         ("PUT", "/me/notification-preferences")]:
        response = await platform.api.request(method, path, json={})
        assert response.status_code == 401, (method, path)
        assert response.json()["error"]["code"] == "unauthorized"


async def test_bad_input_gets_clear_errors_and_never_a_500(platform):
    actor = await platform.register()
    stranger = identity(new_id("user"))
    put = "/me/notification-preferences"

    cases = [
        ({"actor_id": actor.id, "webhook_url": "ftp://example.org/hook"}, "webhook_url"),
        ({"actor_id": actor.id, "webhook_url": "http://user:pw@example.org/"}, "webhook_url"),
        ({"actor_id": actor.id, "channels": {"webhook": True}}, "webhook_url"),
        ({"actor_id": actor.id, "frequency": "hourly"}, "frequency"),
        ({"actor_id": actor.id, "channels": {"email": "maybe"}}, "channels.email"),
        ({"actor_id": actor.id, "colour": "blue"}, "colour"),
    ]
    for body, field in cases:
        response = await platform.api.put(put, headers=actor.headers, json=body)
        assert response.status_code == 422, (body, response.text)
        error = response.json()["error"]
        assert error["code"] == "validation_error"
        assert field in [detail["field"] for detail in error["details"]], (body, error)

    malformed = await platform.api.put(put, headers={**actor.headers,
                                                     "Content-Type": "application/json"},
                                       content=b'{"actor_id": ')
    assert malformed.status_code == 400 and malformed.json()["error"]["code"] == "malformed_json"
    not_mine = await platform.api.put(put, headers=stranger, json={"actor_id": actor.id})
    assert not_mine.status_code == 404
    nobody = await platform.api.put(put, headers=stranger, json={"frequency": "off"})
    assert nobody.status_code == 422
    assert (await platform.api.get(put, headers=stranger, params={"actor_id": actor.id})).status_code == 404

    for params in ({"limit": 0}, {"limit": 101}, {"unread": "perhaps"}):
        response = await platform.api.get("/me/notifications", headers=actor.headers, params=params)
        assert response.status_code == 422, params
    # A cursor this list did not issue: 400 invalid_cursor, as in every paged list.
    for path in ("/me/notifications", "/me/deliveries"):
        response = await platform.api.get(path, headers=actor.headers, params={"cursor": "%%%"})
        assert response.status_code == 400, path
        assert response.json()["error"]["code"] == "invalid_cursor"
    missing = await platform.api.post("/me/notifications/nope/read", headers=actor.headers)
    assert missing.status_code == 404
    assert (await platform.api.get("/unsubscribe")).status_code == 400
    assert (await platform.api.get("/unsubscribe", params={"token": "a.b.c"})).status_code == 400


async def test_webhook_url_change_makes_a_new_secret_and_null_removes_it(platform):
    actor = await platform.register()
    put = "/me/notification-preferences"
    first = (await platform.api.put(put, headers=actor.headers,
                                    json={"webhook_url": "https://example.org/a"})).json()
    same = (await platform.api.put(put, headers=actor.headers,
                                   json={"webhook_url": "https://example.org/a",
                                         "channels": {"webhook": True}})).json()
    changed = (await platform.api.put(put, headers=actor.headers,
                                      json={"webhook_url": "https://example.org/b"})).json()
    assert first["webhook_secret"] and changed["webhook_secret"]
    assert first["webhook_secret"] != changed["webhook_secret"]
    assert same["webhook_secret"] is None and same["channels"]["webhook"] is True
    rotated = (await platform.api.put(put, headers=actor.headers,
                                      json={"rotate_webhook_secret": True})).json()
    assert rotated["webhook_secret"] not in (None, changed["webhook_secret"])
    removed = await platform.api.put(put, headers=actor.headers,
                                     json={"webhook_url": None, "channels": {"webhook": False}})
    assert removed.status_code == 200
    assert removed.json()["webhook_url"] is None and removed.json()["webhook_secret_set"] is False


async def test_health_readiness_and_metrics(platform):
    assert (await platform.api.get("/healthz")).status_code == 200
    ready = await platform.api.get("/readyz")
    assert ready.status_code == 200
    assert set(ready.json()["checks"]) == {"mongo", "redis", "kafka", "consumer"}
    metrics = (await platform.api.get(platform.stack.metrics_url("notifications"))).text
    assert "notifications_failed_total" in metrics
    retry = await platform.api.post("/internal/deliveries/retry", headers=internal())
    assert retry.status_code == 200 and isinstance(retry.json(), dict)
