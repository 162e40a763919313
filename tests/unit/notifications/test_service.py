"""The service logic on in-memory ports: exactly-once deliveries, retries, digests, erasure.
(The same paths run against the real servers in tests/integration/notifications.)"""
from __future__ import annotations

import asyncio
from datetime import timedelta

from platform_common.events.models import ActorData, ActorErasedData, ContactData, MatchData
from services.notifications import service
from services.notifications.domain.models import Preferences, Recipient
from tests.unit.notifications.fakes import make_deps


def actor(actor_id: str, *, email: str | None = None, version: int = 1) -> ActorData:
    return ActorData(id=actor_id, tenant="koeln", type="association", name=actor_id.title(),
                     location={"lat": 50.9, "lon": 6.9}, email=email or f"{actor_id}@example.org",
                     owners=[f"user-{actor_id}"], version=version)


def match(offer_id: str = "o1", need_id: str = "n1") -> MatchData:
    return MatchData(offer={"id": offer_id, "actor_id": "helper", "tenant": "koeln", "title": "Fahrdienst"},
                     need={"id": need_id, "actor_id": "club", "tenant": "koeln", "title": "Fahrer"},
                     score=0.8, reasons=[])


async def setup(**settings):
    deps = make_deps(**settings)
    for name in ("helper", "club"):
        await service.apply_actor(deps=deps, actor=actor(name))
    return deps


async def test_one_mail_per_side_even_when_handled_twice_at_the_same_time():
    deps = await setup()
    await asyncio.gather(*(service.on_match_found(deps=deps, match=match(), event_at=deps.clock())
                           for _ in range(3)))
    assert sorted(to for to, _, _ in deps.mailer.sent) == ["club@example.org", "helper@example.org"]
    assert len(deps.notifications.items) == 2


async def test_older_actor_snapshots_are_ignored():
    deps = await setup()
    await service.apply_actor(deps=deps, actor=actor("club", email="new@example.org", version=3))
    await service.apply_actor(deps=deps, actor=actor("club", email="old@example.org", version=2))
    assert (await deps.recipients.get("club")).email == "new@example.org"


async def test_a_mail_for_a_recipient_not_known_yet_waits_and_goes_out_once_known():
    deps = make_deps()
    await service.on_match_found(deps=deps, match=match(), event_at=deps.clock())
    assert deps.mailer.sent == []
    assert {(d.status, d.rounds) for d in deps.deliveries.by_channel("email")} == {("waiting", 0)}
    await service.apply_actor(deps=deps, actor=actor("club"))
    outcome = await service.retry_due_deliveries(deps=deps)
    assert outcome == {"sent": 1}  # the helper is still unknown: its mail keeps waiting
    assert [to for to, _, _ in deps.mailer.sent] == ["club@example.org"]
    # Whose actor event never comes: the retry task never tries it (no rounds, no store work
    # per mail, however many wait), and the periodic check gives it up after the retention.
    deps.clock.advance(seconds=deps.settings.pending_lease_s + 1)
    assert await service.retry_due_deliveries(deps=deps) == {}
    assert await service.check_waiting_deliveries(deps=deps) == {"released": 0, "expired": 0}
    deps.clock.advance(hours=deps.settings.waiting_retention_hours)
    assert await service.check_waiting_deliveries(deps=deps) == {"released": 0, "expired": 1}
    [given_up] = [d for d in deps.deliveries.by_channel("email") if d.actor_id == "helper"]
    assert (given_up.status, given_up.rounds) == ("cancelled", 0)


async def test_the_periodic_check_releases_a_waiting_mail_whose_recipient_arrived_unnoticed():
    """Say the process died between storing the waiting mail and looking at the recipients
    again, and the actor event had been applied by another instance before the mail existed."""
    deps = make_deps()
    await service.on_match_found(deps=deps, match=match(), event_at=deps.clock())
    await deps.recipients.apply(Recipient(actor_id="club", tenant="t", name="Club",
                                          email="club@example.org", version=1))
    assert deps.mailer.sent == []
    assert await service.check_waiting_deliveries(deps=deps) == {"released": 1, "expired": 0}
    assert deps.retry_wakeup.is_set()
    assert await service.retry_due_deliveries(deps=deps) == {"sent": 1}
    assert [to for to, _, _ in deps.mailer.sent] == ["club@example.org"]


async def test_a_retried_mail_whose_recipient_is_gone_waits_without_using_up_rounds():
    deps = await setup()
    deps.mailer.failing = True
    await service.on_match_found(deps=deps, match=match(), event_at=deps.clock())
    deps.recipients.items.pop("club")  # say its recipient record is missing now
    deps.clock.advance(hours=1)
    await service.retry_due_deliveries(deps=deps)
    [club] = [d for d in deps.deliveries.by_channel("email") if d.actor_id == "club"]
    assert (club.status, club.rounds, club.next_retry_at) == ("waiting", 1, None)


async def test_failed_mail_is_retried_by_the_retry_task_until_it_gives_up():
    deps = await setup()
    deps.mailer.failing = True
    await service.on_match_found(deps=deps, match=match(), event_at=deps.clock())
    [delivery, _] = deps.deliveries.by_channel("email")
    assert delivery.status == "retrying" and delivery.attempts == 2 and delivery.rounds == 1
    assert "smtp is down" in delivery.last_error
    assert await service.retry_due_deliveries(deps=deps) == {}  # not due yet
    for _ in range(3):
        deps.clock.advance(hours=1)
        await service.retry_due_deliveries(deps=deps)
    statuses = {d.status for d in deps.deliveries.by_channel("email")}
    assert statuses == {"failed"}  # kept on record, no longer retried
    deps.mailer.failing = False
    deps.clock.advance(days=1)
    assert await service.retry_due_deliveries(deps=deps) == {}


async def test_a_pending_delivery_left_by_a_crash_is_sent_after_its_lease():
    deps = await setup()
    notification = await service.notify(deps=deps, draft=_draft(deps))
    # As if the process died after claiming: the delivery is pending, nothing was sent.
    deps.mailer.sent.clear()
    for delivery in deps.deliveries.items.values():
        await deps.deliveries.update(delivery.id, status="pending", rounds=0,
                                     next_retry_at=deps.clock() + timedelta(seconds=300))
    assert await service.retry_due_deliveries(deps=deps) == {}
    deps.clock.advance(seconds=301)
    assert await service.retry_due_deliveries(deps=deps) == {"sent": 1}
    assert len(deps.mailer.sent) == 1 and notification is not None


def _draft(deps):
    from services.notifications.domain.models import Localized, NotificationDraft

    return NotificationDraft(type="match.found", actor_id="club", tenant="koeln",
                             title=Localized(de="T", en="T"), body=Localized(de="B", en="B"),
                             data={}, dedupe_key="k", event_at=deps.clock())


async def test_turning_email_off_cancels_waiting_retries():
    deps = await setup()
    deps.mailer.failing = True
    await service.on_match_found(deps=deps, match=match(), event_at=deps.clock())
    await deps.preferences.save(Preferences(actor_id="club", channels={"email": False}))
    deps.mailer.failing = False
    deps.clock.advance(hours=1)
    await service.retry_due_deliveries(deps=deps)
    by_actor = {d.actor_id: d.status for d in deps.deliveries.by_channel("email")}
    assert by_actor == {"club": "cancelled", "helper": "sent"}


async def test_rate_limited_mails_go_into_one_digest():
    deps = await setup(instant_mail_limit_per_hour=2)
    for number in range(4):
        await service.on_match_found(deps=deps, match=match(offer_id=f"o{number}"),
                                     event_at=deps.clock())
    club = [d for d in deps.deliveries.by_channel("email") if d.actor_id == "club"]
    assert sorted(d.status for d in club) == ["deferred", "deferred", "sent", "sent"]
    outcome = await service.run_digests(deps=deps, force=True)
    assert outcome == {"digests": 2, "sent": 2, "failed": 0}  # both sides were limited
    digests = [mail for to, mail, _ in deps.mailer.sent if "Zusammenfassung" in mail.subject]
    assert len(digests) == 2
    assert await service.run_digests(deps=deps, force=True) == {"digests": 0, "sent": 0, "failed": 0}


async def test_digests_wait_for_the_digest_hour_unless_forced():
    deps = await setup(digest_hour=11)  # the clock says 10:00 in Berlin
    await deps.preferences.save(Preferences(actor_id="club", frequency="daily"))
    await service.on_match_found(deps=deps, match=match(), event_at=deps.clock())
    assert await service.run_digests(deps=deps) == {"digests": 0, "sent": 0, "failed": 0}
    deps.clock.advance(hours=1)
    assert await service.run_digests(deps=deps) == {"digests": 1, "sent": 1, "failed": 0}


async def test_erasure_forgets_the_actor_and_ignores_late_events():
    deps = await setup()
    await service.on_match_found(deps=deps, match=match(), event_at=deps.clock())
    await service.erase_actor(deps=deps, erased=ActorErasedData(id="club", tenant="koeln", version=2))
    assert await deps.recipients.get("club") is None
    assert all(n.actor_id != "club" for n in deps.notifications.items.values())
    assert all(d.actor_id != "club" for d in deps.deliveries.items.values())
    await service.apply_actor(deps=deps, actor=actor("club", version=5))
    await service.on_match_found(deps=deps, match=match(offer_id="o9"), event_at=deps.clock())
    assert await deps.recipients.get("club") is None
    assert all(n.actor_id != "club" for n in deps.notifications.items.values())


def contact(status: str, *, message: str = "Samstags um zehn?") -> ContactData:
    return ContactData(id="c1", offer_id="o1", need_id="n1", requester_actor_id="helper",
                       recipient_actor_id="club", requester_tenant="koeln",
                       recipient_tenant="koeln", message=message, status=status, version=1)


def texts_of(deps, actor_id: str) -> str:
    return " ".join(f"{n.title.model_dump()} {n.body.model_dump()} {n.data}"
                    for n in deps.notifications.items.values() if n.actor_id == actor_id)


async def test_erasure_removes_the_name_message_and_titles_from_the_other_sides_inbox():
    deps = await setup()
    await service.on_match_found(deps=deps, match=match(), event_at=deps.clock())
    await service.on_contact(deps=deps, contact=contact("requested"), event_at=deps.clock())
    before = texts_of(deps, "club")
    assert "Helper" in before and "Samstags um zehn?" in before and "Fahrdienst" in before

    await service.erase_actor(deps=deps, erased=ActorErasedData(id="helper", tenant="koeln",
                                                                item_ids=["o1"], version=2))
    after = texts_of(deps, "club")
    assert "Helper" not in after and "Samstags" not in after and "Fahrdienst" not in after
    assert "Fahrer" in after, "the club's own need keeps its title"
    assert "Jemand" in after and "gelöschter Eintrag" in after and "deleted entry" in after

    # Late events of the erased side bring nothing back.
    await service.on_contact(deps=deps, contact=contact("requested").model_copy(
        update={"id": "c2"}), event_at=deps.clock())
    await service.on_match_found(deps=deps, match=match(need_id="n2"), event_at=deps.clock())
    assert "Samstags" not in texts_of(deps, "club") and "Fahrdienst" not in texts_of(deps, "club")


async def test_erasing_the_recipient_of_a_request_removes_its_name_from_the_requesters_inbox():
    deps = await setup()
    await service.on_contact(deps=deps, contact=contact("accepted"), event_at=deps.clock())
    assert "Club" in texts_of(deps, "helper")
    await service.erase_actor(deps=deps, erased=ActorErasedData(id="club", tenant="koeln",
                                                                version=2))
    after = texts_of(deps, "helper")
    assert "Club" not in after and "Samstags" not in after and "Helper" in after


async def test_unsubscribe_token_turns_email_off():
    deps = await setup()
    url = deps.unsubscribe_url("club")
    assert url.startswith("https://engage.example/api/v1/unsubscribe?token=")
    assert await service.unsubscribe(deps=deps, token=url.split("token=")[1]) == ("de", True)
    assert (await deps.preferences.get("club")).channels.email is False
    assert await service.unsubscribe(deps=deps, token="forged.token") == ("de", False)


async def test_a_retry_of_a_withdrawn_match_is_cancelled():
    deps = await setup()
    deps.mailer.failing = True
    await service.on_match_found(deps=deps, match=match(), event_at=deps.clock())
    deps.clock.advance(seconds=5)
    await service.on_match_withdrawn(deps=deps, match=match(), event_id="e-withdrawn",
                                     event_at=deps.clock())
    deps.mailer.failing = False
    deps.clock.advance(hours=1)
    await service.retry_due_deliveries(deps=deps)
    assert deps.mailer.sent == []
    assert {d.status for d in deps.deliveries.by_channel("email")} == {"cancelled"}


def found(match_data: MatchData, deps, event_id: str):
    """A consumed match.found event, as the consumer hands it to the batch handler."""
    from uuid import uuid4

    from platform_common.events import make_event
    from platform_common.kafka import ConsumedEvent

    envelope = make_event("match.found", tenant="koeln", subject=event_id, source="test",
                          data=match_data.model_dump(mode="json"))
    envelope = envelope.model_copy(update={"id": uuid4(), "occurred_at": deps.clock()})
    return ConsumedEvent(envelope, match_data, "matches", 0, 0, match_data.need.id)


async def test_a_batch_stores_each_notification_once_and_sends_each_mail_once():
    deps = await setup()
    same = match("o1", "n1")
    events = [found(same, deps, "a"), found(match("o2", "n1"), deps, "b"), found(same, deps, "c")]
    await service.handle_events(deps=deps, events=events)
    assert len(deps.notifications.items) == 4, "two pairs, two sides each; the repeat adds none"
    assert sorted(to for to, _, _ in deps.mailer.sent) == ["club@example.org"] * 2 + \
        ["helper@example.org"] * 2
    assert {d.status for d in deps.deliveries.items.values()} == {"sent"}
    await service.handle_events(deps=deps, events=events)  # the whole batch redelivered
    assert len(deps.mailer.sent) == 4 and len(deps.notifications.items) == 4


async def test_the_rate_limit_counts_every_mail_of_a_batch():
    deps = await setup(instant_mail_limit_per_hour=2)
    await service.handle_events(deps=deps, events=[
        found(match(f"o{number}", "n1"), deps, str(number)) for number in range(3)])
    to_club = [d for d in deps.deliveries.by_channel("email") if d.actor_id == "club"]
    assert sorted(d.status for d in to_club) == ["deferred", "sent", "sent"]


async def test_the_recipient_arriving_brings_its_waiting_mail_forward():
    deps = make_deps()
    await service.apply_actor(deps=deps, actor=actor("helper"))
    await service.on_match_found(deps=deps, match=match(), event_at=deps.clock())
    waiting = [d for d in deps.deliveries.by_channel("email") if d.actor_id == "club"]
    assert [d.status for d in waiting] == ["waiting"] and waiting[0].next_retry_at is None
    assert not deps.retry_wakeup.is_set()
    await service.apply_actor(deps=deps, actor=actor("club"))
    assert deps.retry_wakeup.is_set(), "the retry task is woken"
    assert await service.retry_due_deliveries(deps=deps) == {"sent": 1}  # no clock advance
    assert sorted(to for to, _, _ in deps.mailer.sent) == ["club@example.org", "helper@example.org"]


async def test_a_recipient_arriving_while_its_waiting_mail_is_stored_still_releases_it():
    deps = make_deps()
    await service.apply_actor(deps=deps, actor=actor("helper"))
    claim_many = deps.deliveries.claim_many

    async def actor_event_applied_meanwhile(deliveries):
        # The actor event is applied after the recipients were read: it finds no waiting
        # mail yet, because the mail is only being stored now.
        await service.apply_actor(deps=deps, actor=actor("club"))
        return await claim_many(deliveries)

    deps.deliveries.claim_many = actor_event_applied_meanwhile
    await service.on_match_found(deps=deps, match=match(), event_at=deps.clock())
    assert deps.retry_wakeup.is_set(), "the retry task is woken"
    assert await service.retry_due_deliveries(deps=deps) == {"sent": 1}  # no clock advance
    assert sorted(to for to, _, _ in deps.mailer.sent) == ["club@example.org", "helper@example.org"]


async def test_the_dispatcher_sends_in_the_background_and_records_each_delivery():
    from services.notifications.dispatcher import Dispatcher

    queue = asyncio.Queue(maxsize=4)
    deps = make_deps(send_queue=queue)
    for name in ("helper", "club"):
        await service.apply_actor(deps=deps, actor=actor(name))

    async def send(jobs):
        await service.send_jobs(deps=deps, jobs=jobs)

    dispatcher = Dispatcher(queue, send=send, senders=2)
    dispatcher.start()
    try:
        await service.handle_events(deps=deps, events=[
            found(match(f"o{number}", "n1"), deps, str(number)) for number in range(5)])
    finally:
        await dispatcher.stop()
    assert len(deps.mailer.sent) == 10
    assert {(d.status, d.attempts, d.rounds) for d in deps.deliveries.items.values()} == \
        {("sent", 1, 1)}


async def test_the_owner_of_a_hidden_item_is_told_why_once():
    from platform_common.events import make_event
    from platform_common.events.models import ItemData
    from platform_common.kafka import ConsumedEvent

    def consumed(data: dict) -> ConsumedEvent:
        item = ItemData.model_validate(data)
        envelope = make_event("need.closed", tenant="koeln", subject="n1", source="profiles",
                              data=item)
        return ConsumedEvent(envelope, item, "items", 0, 0, "n1")

    deps = await setup()
    item = {"id": "n1", "kind": "need", "tenant": "koeln", "actor_id": "club",
            "actor_type": "association", "title": "Fahrer gesucht", "description": "",
            "categories": ["social"], "engagement": "regular",
            "location": {"lat": 50.9, "lon": 6.9}, "radius_km": 10,
            "status": "hidden", "hidden_reason": "Werbung für ein Gewerbe",
            "created_at": deps.clock(), "updated_at": deps.clock(), "version": 3}
    hidden = consumed(item)
    await service.handle_events(deps=deps, events=[hidden, hidden])
    [notification] = deps.notifications.items.values()
    assert (notification.type, notification.actor_id) == ("item.hidden", "club")
    assert "Werbung für ein Gewerbe" in notification.body.de
    assert notification.data["link"].endswith("/#/needs/n1")
    [(to, mail, _)] = deps.mailer.sent
    assert to == "club@example.org" and "ausgeblendet" in mail.subject
    # Closing an item by its owner tells nobody.
    closed = consumed({**item, "status": "closed", "hidden_reason": None, "version": 4})
    await service.handle_events(deps=deps, events=[closed])
    assert len(deps.notifications.items) == 1


def test_every_handled_event_type_exists_on_a_consumed_topic():
    """A typo in the handler table would silently ignore the events it means."""
    from platform_common.events.registry import event_type
    from services.notifications.bootstrap import CONSUMED_TOPICS

    assert all(event_type(name).topic in CONSUMED_TOPICS for name in service.HANDLERS)
    assert {"match.found", "match.withdrawn", "actor.erased", "contact.requested",
            "contact.accepted", "contact.declined", "need.closed"} <= set(service.HANDLERS)


async def test_the_owners_use_cases_raise_domain_errors():
    """Mapped to HTTP in one place: 404 not_found, 422 validation_error, 400 invalid_cursor."""
    import pytest

    from platform_common.errors import BadRequest, InvalidInput, NotFound
    from platform_common.identity import Identity

    deps = await setup()
    owner = Identity(sub="user-club", tenant="koeln", roles=frozenset({"member"}))
    stranger = Identity(sub="user-other", tenant="koeln", roles=frozenset({"member"}))
    with pytest.raises(NotFound, match="notification 'n-x' does not exist"):
        await service.mark_read(deps=deps, identity=owner, notification_id="n-x")
    with pytest.raises(NotFound, match="actor 'club' is not one of yours"):
        await service.get_preferences(deps=deps, identity=stranger, actor_id="club")
    with pytest.raises(InvalidInput) as required:
        await service.update_preferences(deps=deps, identity=owner, actor_id=None,
                                         channels={"webhook": True}, frequency=None)
    assert required.value.details == [{"field": "webhook_url", "path": ["webhook_url"],
                                       "message": "is required when the webhook channel is on"}]
    with pytest.raises(InvalidInput) as none_known:
        await service.update_preferences(deps=deps, identity=stranger, actor_id=None,
                                         channels=None, frequency="daily")
    assert none_known.value.details[0]["field"] == "actor_id"
    with pytest.raises(BadRequest) as cursor:
        await service.list_notifications(deps=deps, identity=owner, unread=None, limit=10,
                                         cursor="not-a-cursor")
    assert cursor.value.code == "invalid_cursor"
