"""Shifts, sign-ups with a waitlist, hours: the pure rules and the use cases on the in-memory
store (what is stored, what goes to the outbox)."""
from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from pydantic import ValidationError

from platform_common.errors import Conflict, Forbidden, InvalidInput, NotFound
from services.profiles import service
from services.profiles.domain import calendar_links, engagements
from services.profiles.domain.calendar_links import CalendarToken
from services.profiles.domain.contacts import ContactCreate
from services.profiles.domain.engagements import (
    HoursReport, ShiftCreate, ShiftPatch, SignupCancel, SignupCreate,
)
from services.profiles.domain.requests import TenantPatch
from tests.unit.profiles.factories import NOW, http_status, item_request, who
from tests.unit.profiles.memory_store import MemoryStore
from tests.unit.profiles.test_service import make_actor, make_tenant

VEREIN = who("vera", "coesfeld", "member", "org_admin")
ANNA, BERND, CARLA, DORA = (who(name, "coesfeld") for name in ("anna", "bernd", "carla", "dora"))
ADMIN = who("admin", "coesfeld", "tenant_admin")
START = NOW + timedelta(days=7)


def shift_body(**overrides) -> ShiftCreate:
    return ShiftCreate.model_validate({
        "start": START.isoformat(), "end": (START + timedelta(hours=3)).isoformat(),
        "places": 2, "place_name": "Tafel, Marktplatz 1", "note": "Bitte pünktlich", **overrides})


def field_of(error: InvalidInput) -> list[str]:
    return [problem["field"] for problem in error.details]


@pytest.fixture
async def town():
    store = MemoryStore()
    await make_tenant(store, "coesfeld")
    store.club = await make_actor(store, VEREIN)
    store.people = {identity.sub: await make_actor(store, identity, actor_type="person")
                    for identity in (ANNA, BERND, CARLA, DORA)}
    store.need = await service.create_item(store=store, identity=VEREIN, kind="need", now=NOW,
                                           request=item_request(actor_id=store.club.id,
                                                                visibility="state"))
    return store


async def new_shift(store, **overrides) -> dict:
    return await service.create_shift(store=store, identity=VEREIN, kind="need",
                                      item_id=store.need.id, request=shift_body(**overrides),
                                      now=NOW)


async def sign_up(store, identity, shift, *, now=NOW) -> dict:
    return await service.sign_up(store=store, identity=identity, shift_id=shift["id"], now=now,
                                 request=SignupCreate(actor_id=store.people[identity.sub].id))


def events(store, prefix=""):
    return [(topic, key, e.type) for topic, key, e in store.data["outbox"]
            if e.type.startswith(prefix)]


# ---- pure rules ------------------------------------------------------------------------------
@pytest.mark.parametrize("start, hours, field", [
    (NOW - timedelta(hours=1), 2, "start"),
    (START, 0, "end"),
    (START, -2, "end"),
    (START, 25, "end"),
])
def test_shift_times_are_checked(start, hours, field):
    with pytest.raises(InvalidInput) as caught:
        engagements.check_times(start, start + timedelta(hours=hours), now=NOW)
    assert field in field_of(caught.value) and http_status(caught.value) == 422


@pytest.mark.parametrize("places", [0, -1])
def test_places_below_one_are_refused_by_the_schema(places):
    with pytest.raises(ValidationError) as caught:
        shift_body(places=places)
    assert caught.value.errors()[0]["loc"] == ("places",)


def test_hours_over_24_are_refused_by_the_schema():
    with pytest.raises(ValidationError):
        HoursReport.model_validate({"hours": 24.5})


def test_waitlist_positions_follow_the_order_of_signing_up():
    signups = [engagements.Signup(id=f"s{n}", tenant="t", shift_id="x", item_id="i",
                                  volunteer_actor_id=f"a{n}", organisation_actor_id="o",
                                  status=status, number=n, version=1, created_at=NOW,
                                  updated_at=NOW)
               for n, status in [(3, "waitlisted"), (1, "confirmed"), (5, "waitlisted"),
                                 (4, "cancelled")]]
    assert engagements.waitlist_positions(signups) == {"s3": 1, "s5": 2}


def test_the_card_counts_confirmed_attended_hours_of_the_year():
    def signup(n, hours, *, attended=True, status="confirmed", year=2030):
        return engagements.Signup(
            id=f"s{n}", tenant="t", shift_id="x", item_id="i", volunteer_actor_id="a",
            organisation_actor_id="org", status="confirmed", number=n, version=1,
            created_at=NOW, updated_at=NOW, hours=hours, attended=attended, hours_status=status,
            worked_on=NOW.replace(year=year))
    summary = engagements.hours_summary(
        [signup(1, 100), signup(2, 50, status="proposed"), signup(3, 0, attended=False),
         signup(4, 40, year=2029)],
        actor_id="a", year=2030, organisation_names={"org": "Tafel"}, threshold=250)
    assert summary["hours"] == 100 and summary["total_hours"] == 140
    assert summary["by_year"] == [{"year": 2029, "hours": 40}, {"year": 2030, "hours": 100}]
    assert summary["by_organisation"] == [{"actor_id": "org", "name": "Tafel", "hours": 100}]
    assert summary["card"] == {"threshold_hours_per_year": 250, "hours": 100, "reached": False,
                               "missing_hours": 150}


# ---- shifts ----------------------------------------------------------------------------------
async def test_a_shift_is_stored_and_scheduled_through_the_outbox(town):
    shift = await new_shift(town)
    assert shift["places"] == 2 and shift["places_left"] == 2 and shift["confirmed"] == 0
    assert shift["item_title"] == town.need.title and shift["status"] == "scheduled"
    assert events(town, "shift.") == [("engagements", shift["id"], "shift.scheduled")]


async def test_only_the_items_owners_add_shifts(town):
    with pytest.raises(Forbidden):
        await service.create_shift(store=town, identity=ANNA, kind="need", item_id=town.need.id,
                                   request=shift_body(), now=NOW)
    assert town.data["shifts"] == {}


async def test_a_bad_shift_changes_nothing(town):
    with pytest.raises(InvalidInput) as caught:
        await new_shift(town, end=(START - timedelta(hours=1)).isoformat())
    assert field_of(caught.value) == ["end"]
    assert town.data["shifts"] == {} and events(town, "shift.") == []


async def test_fewer_places_than_confirmed_are_refused(town):
    shift = await new_shift(town)
    await sign_up(town, ANNA, shift)
    await sign_up(town, BERND, shift)
    with pytest.raises(InvalidInput) as caught:
        await service.update_shift(store=town, identity=VEREIN, shift_id=shift["id"],
                                   patch=ShiftPatch(places=1), now=NOW)
    assert field_of(caught.value) == ["places"]


async def test_more_places_promote_the_waitlisted_and_a_move_is_published(town):
    shift = await new_shift(town, places=1)
    await sign_up(town, ANNA, shift)
    waiting = await sign_up(town, BERND, shift)
    later = START + timedelta(days=1)
    changed = await service.update_shift(
        store=town, identity=VEREIN, shift_id=shift["id"], now=NOW,
        patch=ShiftPatch.model_validate({"places": 2, "start": later.isoformat(),
                                         "end": (later + timedelta(hours=2)).isoformat()}))
    assert changed["confirmed"] == 2 and changed["waitlisted"] == 0
    assert town.data["signups"][waiting["id"]].status == "confirmed"
    assert [e[2] for e in events(town)][-2:] == ["signup.promoted", "shift.changed"]


async def test_cancelling_a_shift_cancels_its_signups(town):
    shift = await new_shift(town, places=1)
    await sign_up(town, ANNA, shift)
    await sign_up(town, BERND, shift)
    cancelled = await service.cancel_shift(store=town, identity=VEREIN, shift_id=shift["id"],
                                           now=NOW)
    assert cancelled["status"] == "cancelled"
    assert {s.status for s in town.data["signups"].values()} == {"cancelled"}
    assert {s.reason for s in town.data["signups"].values()} == {"shift cancelled"}
    assert [e[2] for e in events(town)][-3:] == ["signup.cancelled", "signup.cancelled",
                                                 "shift.cancelled"]


# ---- sign-ups --------------------------------------------------------------------------------
async def test_a_full_shift_waitlists_and_a_cancellation_promotes_the_first(town):
    shift = await new_shift(town)
    anna = await sign_up(town, ANNA, shift)
    bernd = await sign_up(town, BERND, shift)
    carla = await sign_up(town, CARLA, shift)
    dora = await sign_up(town, DORA, shift)
    assert [s["status"] for s in (anna, bernd, carla, dora)] == \
        ["confirmed", "confirmed", "waitlisted", "waitlisted"]
    assert (carla["waitlist_position"], dora["waitlist_position"]) == (1, 2)

    await service.cancel_signup(store=town, identity=BERND, signup_id=bernd["id"],
                                request=SignupCancel(), now=NOW)
    assert town.data["signups"][carla["id"]].status == "confirmed"
    promoted = [e for _t, key, e in town.data["outbox"] if e.type == "signup.promoted"]
    assert len(promoted) == 1 and promoted[0].data["id"] == carla["id"]
    assert promoted[0].subject == shift["id"]
    mine = await service.my_signups(store=town, identity=DORA)
    assert mine[0]["status"] == "waitlisted" and mine[0]["waitlist_position"] == 1
    view = await service.get_shift(store=town, identity=CARLA, shift_id=shift["id"])
    assert (view["confirmed"], view["waitlisted"], view["places_left"]) == (2, 1, 0)
    assert view["my_signup"]["status"] == "confirmed"


async def test_the_public_view_shows_counts_never_names(town):
    shift = await new_shift(town)
    await sign_up(town, ANNA, shift)
    public = await service.get_shift(store=town, identity=None, shift_id=shift["id"])
    assert public["confirmed"] == 1 and public["my_signup"] is None
    assert town.people["anna"].id not in str(public)
    with pytest.raises(Forbidden):
        await service.shift_signups(store=town, identity=BERND, shift_id=shift["id"])
    listed = await service.shift_signups(store=town, identity=VEREIN, shift_id=shift["id"])
    assert listed[0]["volunteer_name"] == "Heimatverein"


async def test_two_signups_for_the_last_place_do_not_both_get_it(town):
    shift = await new_shift(town, places=1)
    first, second = await asyncio.gather(sign_up(town, ANNA, shift), sign_up(town, BERND, shift))
    assert sorted([first["status"], second["status"]]) == ["confirmed", "waitlisted"]
    assert town.data["shifts"][shift["id"]].confirmed == 1


@pytest.mark.parametrize("case", ["past", "twice", "own", "cancelled"])
async def test_refused_signups_change_nothing(town, case):
    shift = await new_shift(town)
    identity, now, expected = ANNA, NOW, InvalidInput
    if case == "past":
        now = START + timedelta(minutes=1)
    elif case == "twice":
        await sign_up(town, ANNA, shift)
        expected = Conflict
    elif case == "cancelled":
        await service.cancel_shift(store=town, identity=VEREIN, shift_id=shift["id"], now=NOW)
    before = (len(town.data["signups"]), len(town.data["outbox"]))
    with pytest.raises(expected) as caught:
        if case == "own":
            await service.sign_up(store=town, identity=VEREIN, shift_id=shift["id"], now=NOW,
                                  request=SignupCreate(actor_id=town.club.id))
        else:
            await sign_up(town, identity, shift, now=now)
    if expected is InvalidInput:
        assert field_of(caught.value) == ["actor_id" if case == "own" else "shift_id"]
    else:
        assert caught.value.code == "already_signed_up" and http_status(caught.value) == 409
    assert (len(town.data["signups"]), len(town.data["outbox"])) == before


async def test_after_contact_needs_an_accepted_contact_request(town):
    shift = await new_shift(town, signup_policy="after_contact")
    with pytest.raises(Forbidden) as caught:
        await sign_up(town, ANNA, shift)
    assert caught.value.code == "contact_required"
    offer = await service.create_item(store=town, identity=ANNA, kind="offer", now=NOW,
                                      request=item_request(actor_id=town.people["anna"].id))
    contact = await service.request_contact(
        store=town, suggestions=None, identity=ANNA, now=NOW,
        request=ContactCreate(offer_id=offer.id, need_id=town.need.id))
    await service.accept_contact(store=town, identity=VEREIN, contact_id=contact["id"], now=NOW)
    assert (await sign_up(town, ANNA, shift))["status"] == "confirmed"


async def test_the_cutoff_holds_for_both_sides_and_removal_needs_a_reason(town):
    shift = await new_shift(town, cancel_cutoff_hours=24)
    signup = await sign_up(town, ANNA, shift)
    late = START - timedelta(hours=23)
    with pytest.raises(InvalidInput) as caught:
        await service.cancel_signup(store=town, identity=ANNA, signup_id=signup["id"],
                                    request=SignupCancel(), now=late)
    assert caught.value.code == "cancel_cutoff" and field_of(caught.value) == ["shift_id"]
    with pytest.raises(InvalidInput) as caught:
        await service.cancel_signup(store=town, identity=VEREIN, signup_id=signup["id"],
                                    request=SignupCancel(), now=NOW)
    assert field_of(caught.value) == ["reason"]
    removed = await service.cancel_signup(store=town, identity=VEREIN, signup_id=signup["id"],
                                          request=SignupCancel(reason="Zu viele Helfer"),
                                          now=NOW)
    assert removed["status"] == "removed" and removed["reason"] == "Zu viele Helfer"
    assert events(town, "signup.")[-1][2] == "signup.removed"
    with pytest.raises(NotFound):
        await service.cancel_signup(store=town, identity=BERND, signup_id=signup["id"],
                                    request=SignupCancel(), now=NOW)


# ---- hours -----------------------------------------------------------------------------------
async def test_hours_proposed_confirmed_and_summed(town):
    shift = await new_shift(town)
    anna = await sign_up(town, ANNA, shift)
    bernd = await sign_up(town, BERND, shift)
    after = START + timedelta(hours=4)
    with pytest.raises(InvalidInput) as caught:
        await service.report_hours(store=town, identity=VEREIN, signup_id=anna["id"],
                                   report=HoursReport(hours=2), now=NOW)
    assert field_of(caught.value) == ["signup_id"]
    with pytest.raises(InvalidInput) as caught:
        await service.report_hours(store=town, identity=VEREIN, signup_id=anna["id"],
                                   report=HoursReport(hours=5), now=after)
    assert field_of(caught.value) == ["hours"]  # the shift lasts 3 hours (+1)

    proposed = await service.report_hours(store=town, identity=ANNA, signup_id=anna["id"],
                                          report=HoursReport(hours=2.5), now=after)
    assert proposed["hours"]["status"] == "proposed"
    confirmed = await service.confirm_hours(store=town, identity=VEREIN, signup_id=anna["id"],
                                            now=after)
    assert confirmed["hours"] == {"hours": 2.5, "attended": True, "status": "confirmed",
                                  "worked_on": START.isoformat().replace("+00:00", "Z")}
    await service.report_hours(store=town, identity=VEREIN, signup_id=bernd["id"],
                               report=HoursReport(attended=False), now=after)
    assert [e[2] for e in events(town, "hours.")] == ["hours.proposed", "hours.confirmed",
                                                      "hours.confirmed"]

    summary = await service.actor_hours(store=town, identity=ANNA, year=START.year, now=after,
                                        actor_id=town.people["anna"].id)
    assert summary["hours"] == 2.5 and summary["card"]["threshold_hours_per_year"] == 250
    with pytest.raises(Forbidden):
        await service.actor_hours(store=town, identity=BERND, year=None, now=after,
                                  actor_id=town.people["anna"].id)

    stats = await service.tenant_stats(store=town, stats=EmptyStats(), identity=ADMIN,
                                       tenant_id="coesfeld")
    assert {k: stats[k] for k in ("shifts", "signups", "waitlisted", "no_shows",
                                  "hours_confirmed")} == \
        {"shifts": 1, "signups": 2, "waitlisted": 0, "no_shows": 1, "hours_confirmed": 2.5}


class EmptyStats:
    async def facts(self, tenant):
        return [], []


def test_engagement_figures_from_the_stores_tallies():
    def tally(status, hours_status=None, attended=None, count=1, hours=0.0):
        return engagements.SignupTally(status, hours_status, attended, count, hours)

    figures = engagements.engagement_figures(shifts=4, tallies=[
        tally("confirmed", "confirmed", True, count=3, hours=7.5),
        tally("confirmed", "confirmed", False, count=2, hours=1.0),  # no-shows: no hours
        tally("confirmed", "proposed", True, hours=4.0),  # not confirmed yet
        tally("waitlisted", count=2), tally("cancelled"), tally("removed")])
    assert figures == {"shifts": 4, "signups": 10, "waitlisted": 2, "no_shows": 2,
                       "hours_confirmed": 7.5}


async def test_the_card_threshold_is_a_tenant_setting(town):
    tenant = town.data["tenants"]["coesfeld"]
    updated = await service.update_tenant(
        store=town, identity=ADMIN, tenant_id="coesfeld", now=NOW,
        expected_version=tenant.version,
        patch=TenantPatch.model_validate({"volunteer_card": {"hours_per_year": 120}}))
    assert updated.volunteer_card_hours_per_year == 120
    with pytest.raises(ValidationError):
        TenantPatch.model_validate({"volunteer_card": {"hours_per_year": 0}})


# ---- personal data, calendars ----------------------------------------------------------------
async def test_erasure_removes_signups_and_promotes_the_waitlisted(town):
    shift = await new_shift(town, places=1)
    await sign_up(town, ANNA, shift)
    bernd = await sign_up(town, BERND, shift)
    exported = await service.export_me(store=town, identity=ANNA)
    assert len(exported["signups"]) == 1
    await service.erase_me(store=town, identity=ANNA, now=NOW)
    assert list(town.data["signups"]) == [bernd["id"]]
    assert town.data["signups"][bernd["id"]].status == "confirmed"
    assert "signup.promoted" in [e[2] for e in events(town)]


SECRET = b"a-test-secret-of-more-than-32-characters"


async def calendar_link(store, identity, *, renew=False, secret=SECRET) -> str:
    use_case = service.renew_my_calendar if renew else service.my_calendar
    link = await use_case(store=store, identity=identity, secret=secret, base_url="")
    assert link["exists"] is True
    return link["url"]


async def feed_of(store, url: str) -> bytes:
    token = url.removeprefix("/api/v1/calendars/").removesuffix(".ics")
    return (await service.person_calendar(store=store, token=token)).replace(b"\r\n ", b"")


async def test_the_person_calendar_link_is_shown_again_until_renewed(town):
    shift = await new_shift(town)
    await sign_up(town, ANNA, shift)
    url = await calendar_link(town, ANNA)
    assert url.startswith("/api/v1/calendars/") and url.endswith(".ics")
    assert shift["id"].encode() in await feed_of(town, url)
    token = url.removeprefix("/api/v1/calendars/").removesuffix(".ics")
    assert token not in str(town.data["calendar_tokens"])  # stored hashed
    assert await calendar_link(town, ANNA) == url  # the phone and the laptop get the same

    renewed = await calendar_link(town, ANNA, renew=True)
    assert renewed != url
    with pytest.raises(NotFound):
        await feed_of(town, url)
    assert shift["id"].encode() in await feed_of(town, renewed)
    assert await calendar_link(town, ANNA) == renewed


async def test_a_person_calendar_link_never_opens_another_persons_feed(town):
    shift = await new_shift(town)
    await sign_up(town, ANNA, shift)
    bernds = await calendar_link(town, BERND)
    annas = await calendar_link(town, ANNA)
    assert bernds != annas
    assert shift["id"].encode() not in await feed_of(town, bernds)
    assert shift["id"].encode() in await feed_of(town, annas)
    await calendar_link(town, BERND, renew=True)
    assert shift["id"].encode() in await feed_of(town, annas)  # Bernd's renewal leaves Anna's
    # A link made with another server secret opens nothing.
    with pytest.raises(NotFound):
        await feed_of(town, await calendar_link(MemoryStore(), ANNA, secret=b"x" * 40))


async def test_a_random_link_of_the_old_kind_gives_way_to_a_derived_one(town):
    shift = await new_shift(town)
    await sign_up(town, ANNA, shift)
    old = "/api/v1/calendars/an-old-random-token.ics"
    await town.run_in_transaction(lambda repo: repo.set_calendar_token(
        "anna", CalendarToken(None, calendar_links.hash_token("an-old-random-token"))))
    assert shift["id"].encode() in await feed_of(town, old)  # until the person looks again
    url = await calendar_link(town, ANNA)
    assert url != old and shift["id"].encode() in await feed_of(town, url)
    with pytest.raises(NotFound):
        await feed_of(town, old)
    assert await calendar_link(town, ANNA) == url


async def test_the_item_feed_keeps_berlin_times_across_the_dst_change(town):
    import icalendar

    # Summer time starts on 2030-03-31: 10:00 in Berlin is 09:00 UTC before, 08:00 UTC after.
    before = await new_shift(town, start="2030-03-29T10:00:00+01:00",
                             end="2030-03-29T12:00:00+01:00")
    after = await new_shift(town, start="2030-04-02T10:00:00+02:00",
                            end="2030-04-02T12:00:00+02:00")
    await service.cancel_shift(store=town, identity=VEREIN, shift_id=after["id"], now=NOW)
    feed = await service.item_calendar(store=town, identity=None, kind="need",
                                       item_id=town.need.id)
    events = {str(e["UID"]): e for e in icalendar.Calendar.from_ical(feed).walk("VEVENT")}
    for shift in (before, after):
        start = events[shift["id"]].decoded("DTSTART")
        assert (start.hour, str(start.tzinfo)) == (10, "Europe/Berlin")
    assert str(events[after["id"]]["STATUS"]) == "CANCELLED"
    assert str(events[before["id"]]["SUMMARY"]) == town.need.title


async def test_the_municipal_feed_holds_only_public_upcoming_shifts(town):
    public = await new_shift(town)
    local_need = await service.create_item(store=town, identity=VEREIN, kind="need", now=NOW,
                                           request=item_request(actor_id=town.club.id,
                                                                visibility="tenant"))
    local = await service.create_shift(store=town, identity=VEREIN, kind="need",
                                       item_id=local_need.id, request=shift_body(), now=NOW)
    feed = (await service.tenant_calendar(store=town, tenant_id="coesfeld", now=NOW)).replace(
        b"\r\n ", b"")
    assert public["id"].encode() in feed and local["id"].encode() not in feed


async def test_certificates_are_for_the_person_and_the_organisation_that_confirmed(town):
    shift = await new_shift(town)
    signup = await sign_up(town, ANNA, shift)
    after = START + timedelta(hours=4)
    await service.report_hours(store=town, identity=VEREIN, signup_id=signup["id"],
                               report=HoursReport(hours=3), now=after)
    anna_id = town.people["anna"].id
    own = await service.person_certificate(store=town, identity=ANNA, actor_id=anna_id,
                                           year=None, now=after)
    issued = await service.organisation_certificate(store=town, identity=VEREIN, year=None,
                                                    organisation_id=town.club.id,
                                                    actor_id=anna_id, now=after)
    assert own.startswith(b"%PDF") and issued.startswith(b"%PDF")
    with pytest.raises(Forbidden):
        await service.person_certificate(store=town, identity=BERND, actor_id=anna_id,
                                         year=None, now=after)
    with pytest.raises(Forbidden):
        await service.organisation_certificate(store=town, identity=BERND, year=None,
                                               organisation_id=town.club.id, actor_id=anna_id,
                                               now=after)
