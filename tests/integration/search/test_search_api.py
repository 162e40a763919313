"""The search service end to end: events into the real broker, answers from the HTTP API."""
from __future__ import annotations

import pytest

from platform_common.events.models import ActorErasedData
from services.search.domain.geo import EARTH_RADIUS_KM
from tests.integration.search.conftest import eventually, member_of, unique
from tests.unit.search.factories import actor, item, tenant

pytestmark = pytest.mark.integration

DUESSELDORF = (51.2277, 6.7735)
KM_PER_DEGREE_LAT = 3.141592653589793 * EARTH_RADIUS_KM / 180


def north_of(point: tuple[float, float], km: float) -> tuple[float, float]:
    return point[0] + km / KM_PER_DEGREE_LAT, point[1]


async def visible(search, item_id: str, headers=None, **params) -> bool:
    return item_id in await search.ids(headers, **params)


async def test_need_is_found_by_radius_search_within_seconds(search, publisher):
    t = unique("t")
    need = item(tenant_id=t, visibility="state", lat=DUESSELDORF[0], lon=DUESSELDORF[1])
    await publisher.event("need.published", need)

    async def found():
        page = await search.page(kind="need", lat=51.23, lon=6.78, radius_km=5, tenant=t)
        return page["items"]

    items = await eventually(found, what="the need in a 5 km radius search")
    assert [i["id"] for i in items] == [need.id]
    hit = items[0]
    assert hit["kind"] == "need" and hit["title"] == need.title
    assert 0 < hit["distance_km"] < 1
    assert hit["categories"] == need.categories and hit["engagement"] == "regular"
    assert hit["tenant"] == t and hit["place_name"] == "Düsseldorf-Bilk"
    assert hit["location"] == {"lat": DUESSELDORF[0], "lon": DUESSELDORF[1]}


async def test_radius_decides_and_distance_is_reported(search, publisher):
    t = unique("t")
    near = item(tenant_id=t, visibility="state", lat=DUESSELDORF[0], lon=DUESSELDORF[1])
    far_lat, far_lon = north_of(DUESSELDORF, 30)
    far = item(tenant_id=t, visibility="state", lat=far_lat, lon=far_lon)
    await publisher.event("need.published", near)
    await publisher.event("need.published", far)
    point = dict(lat=DUESSELDORF[0], lon=DUESSELDORF[1], tenant=t)

    async def both_within_40():
        page = await search.page(radius_km=40, **point)
        return page if len(page["items"]) == 2 else None

    page = await eventually(both_within_40, what="both needs within 40 km")
    # Sorted by exact distance: the near one first.
    assert [i["id"] for i in page["items"]] == [near.id, far.id]
    assert page["items"][0]["distance_km"] == 0.0
    assert page["items"][1]["distance_km"] == pytest.approx(30.0, abs=0.02)
    assert await search.ids(radius_km=10, **point) == [near.id]
    assert await search.ids(radius_km=29.9, **point) == [near.id]


async def test_update_shows_and_close_removes(search, publisher):
    t = unique("t")
    need = item(tenant_id=t, visibility="state", title="Vorlesepaten gesucht")
    await publisher.event("need.published", need)
    await eventually(lambda: visible(search, need.id, tenant=t), what="published need")

    updated = need.model_copy(update={"title": "Vorlesepatinnen gesucht", "version": 2})
    await publisher.event("need.updated", updated)

    async def shows_new_title():
        page = await search.page(tenant=t)
        return page["items"] and page["items"][0]["title"] == "Vorlesepatinnen gesucht"

    await eventually(shows_new_title, what="the updated title")

    closed = updated.model_copy(update={"status": "closed", "version": 3})
    await publisher.event("need.closed", closed)

    async def gone():
        return (await search.page(tenant=t))["total"] == 0

    await eventually(gone, what="the closed need to disappear")


@pytest.mark.parametrize("status", ["expired", "hidden"])
async def test_expired_and_hidden_items_disappear(search, publisher, status):
    t = unique("t")
    offer = item(kind="offer", tenant_id=t, visibility="state")
    await publisher.event("offer.published", offer)
    await eventually(lambda: visible(search, offer.id, tenant=t), what="published offer")
    await publisher.event("offer.updated", offer.model_copy(update={"status": status,
                                                                    "version": 2}))

    async def gone():
        return (await search.page(tenant=t))["total"] == 0

    await eventually(gone, what=f"the {status} offer to disappear")


async def test_visibility_tenant_and_region(search, publisher):
    home, neighbour, stranger = unique("t"), unique("t"), unique("t")
    await publisher.event("tenant.created", tenant(home, neighbours=[neighbour]))
    tenant_only = item(tenant_id=home, visibility="tenant", title="Nur für Heimatstadt")
    region = item(tenant_id=home, visibility="region", title="Für die Region")
    public = item(tenant_id=home, visibility="state", title="Für alle")
    for need in (tenant_only, region, public):
        await publisher.event("need.published", need)

    async def all_three_at_home():
        ids = await search.ids(member_of(home), tenant=home)
        return len(ids) == 3

    await eventually(all_three_at_home, what="all three needs for the home tenant")

    async def neighbour_sees_region():
        return set(await search.ids(member_of(neighbour), tenant=home)) == {region.id, public.id}

    # The tenant event travels on another topic than the items: either may be handled first.
    await eventually(neighbour_sees_region, what="the neighbour to see the region need")
    assert await search.ids(member_of(stranger), tenant=home) == [public.id]
    assert await search.ids(None, tenant=home) == [public.id]

    # The neighbours change: region items follow without being republished.
    await publisher.event("tenant.updated", tenant(home, neighbours=[stranger], version=2))

    async def stranger_sees_region():
        return set(await search.ids(member_of(stranger), tenant=home)) == {region.id, public.id}

    await eventually(stranger_sees_region, what="the new neighbour to see the region need")
    assert await search.ids(member_of(neighbour), tenant=home) == [public.id]


async def test_region_items_published_before_their_tenant_reach_the_neighbours(search, publisher):
    home, neighbour = unique("t"), unique("t")
    region = item(tenant_id=home, visibility="region")
    await publisher.event("need.published", region)
    await eventually(lambda: visible(search, region.id, member_of(home), tenant=home),
                     what="the region need at home")
    await publisher.event("tenant.created", tenant(home, neighbours=[neighbour]))
    await eventually(lambda: visible(search, region.id, member_of(neighbour), tenant=home),
                     what="the region need for the neighbour")


async def test_facets_count_the_matching_items(search, publisher):
    t = unique("t")
    await publisher.event("tenant.created", tenant(t, name="Facettenhausen"))
    needs = [
        item(tenant_id=t, visibility="state", categories=["social", "sport"], engagement="regular"),
        item(tenant_id=t, visibility="state", categories=["social"], engagement="spontaneous"),
        item(tenant_id=t, visibility="state", categories=["animals"], engagement="regular",
             actor_type="company"),
    ]
    for need in needs:
        await publisher.event("need.published", need)

    async def all_there():
        page = await search.page(tenant=t, kind="need")
        return page if page["total"] == 3 else None

    page = await eventually(all_there, what="three needs")
    counts = {name: {f["value"]: f["count"] for f in values}
              for name, values in page["facets"].items()}
    assert counts["category"] == {"social": 2, "sport": 1, "animals": 1}
    assert counts["engagement"] == {"regular": 2, "spontaneous": 1}
    assert counts["actor_type"] == {"association": 2, "company": 1}
    assert counts["tenant"] == {t: 3}
    social = next(f for f in page["facets"]["category"] if f["value"] == "social")
    assert social["label"] == {"de": "Soziales", "en": "Social welfare"}
    assert page["facets"]["tenant"][0]["label"]["de"] == "Facettenhausen"

    filtered = await search.page(tenant=t, category="social", engagement="regular")
    assert [i["id"] for i in filtered["items"]] == [needs[0].id]
    assert {f["value"]: f["count"] for f in filtered["facets"]["category"]} == {
        "social": 1, "sport": 1}
    either = await search.page(tenant=t, category=["sport", "animals"])
    assert either["total"] == 2


@pytest.mark.parametrize("sort", ["date", "distance", "relevance"])
async def test_cursor_paging_returns_every_item_once(search, publisher, sort):
    t = unique("t")
    needs = [item(tenant_id=t, visibility="state", lat=51.2 + i * 0.01, lon=6.8,
                  title=f"Hilfe im Garten Nummer {i}") for i in range(7)]
    # Two items at the very same place: the id decides their order.
    needs.append(item(tenant_id=t, visibility="state", lat=51.2, lon=6.8,
                      title="Hilfe im Garten doppelt"))
    for need in needs:
        await publisher.event("need.published", need)

    async def all_there():
        return (await search.page(tenant=t))["total"] == len(needs)

    await eventually(all_there, what="all needs indexed")
    params = {"tenant": t, "limit": 3, "sort": sort}
    if sort == "distance":
        params.update(lat=51.2, lon=6.8)
    if sort == "relevance":
        params.update(q="Garten")
    seen, cursor, pages = [], None, 0
    while True:
        page = await search.page(**params, **({"cursor": cursor} if cursor else {}))
        seen += [i["id"] for i in page["items"]]
        assert page["total"] == len(needs)
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
        if pages == 1:
            await _index_more_garden_needs_elsewhere(search, publisher)
        assert pages < 10
    assert pages == 3
    assert sorted(seen) == sorted(n.id for n in needs)
    assert len(seen) == len(set(seen))
    if sort == "distance":
        everything = await search.page(**{**params, "limit": 20})
        distances = [i["distance_km"] for i in everything["items"]]
        assert distances == sorted(distances)


async def _index_more_garden_needs_elsewhere(search, publisher):
    """Other documents arriving between two pages must not shift the pages (scores, order)."""
    elsewhere = unique("t")
    others = [item(tenant_id=elsewhere, visibility="state", lat=51.2, lon=6.8,
                   title="Garten Garten Gartenhilfe") for _ in range(4)]
    for other in others:
        await publisher.event("need.published", other)

    async def indexed():
        return (await search.page(tenant=elsewhere))["total"] == len(others)

    await eventually(indexed, what="the needs of another tenant")


async def test_older_version_never_overwrites_a_newer_one(search, publisher):
    t = unique("t")
    v1 = item(tenant_id=t, visibility="state", title="Version eins", version=1)
    v2 = v1.model_copy(update={"title": "Version zwei", "version": 2})
    await publisher.event("need.updated", v2)
    await eventually(lambda: visible(search, v1.id, tenant=t), what="version 2")
    await publisher.event("need.published", v1)
    # Same key, same partition: once the marker is searchable, v1 has been handled too.
    marker = item(tenant_id=t, visibility="state", title="Marker")
    await publisher.event("need.published", marker, key=v1.id)
    await eventually(lambda: visible(search, marker.id, tenant=t), what="the marker")
    page = await search.page(tenant=t, q="Version")
    assert [(i["id"], i["title"]) for i in page["items"]] == [(v1.id, "Version zwei")]


async def test_erasure_removes_the_actor_and_its_items(search, publisher, elasticsearch):
    t = unique("t")
    who = actor(tenant_id=t)
    offer = item(kind="offer", tenant_id=t, actor_id=who.id, visibility="state")
    need = item(kind="need", tenant_id=t, actor_id=who.id, visibility="state")
    await publisher.event("actor.registered", who)
    await publisher.event("offer.published", offer)
    await publisher.event("need.published", need)
    await eventually(lambda: visible(search, who.id, kind="actor", tenant=t), what="the actor")
    await eventually(lambda: visible(search, offer.id, kind="offer", tenant=t), what="offer")
    await eventually(lambda: visible(search, need.id, kind="need", tenant=t), what="need")
    stored = (await elasticsearch.get(index="engage-actors", id=who.id))["_source"]
    assert "email" not in stored and who.email not in repr(stored)

    await publisher.event("actor.erased", ActorErasedData(id=who.id, tenant=t,
                                                          item_ids=[offer.id, need.id], version=2))

    async def all_gone():
        actors = await search.page(kind="actor", tenant=t)
        items = await search.page(tenant=t)
        return actors["total"] == 0 and items["total"] == 0

    await eventually(all_gone, what="actor and items gone")
    stale = offer.model_copy(update={"title": "spät zugestellt"})
    await publisher.event("offer.updated", stale.model_copy(update={"version": 5}))
    await publisher.event("actor.updated", who.model_copy(update={"version": 1}), key=who.id)
    marker = item(kind="offer", tenant_id=t, visibility="state", title="Marker")
    await publisher.event("offer.published", marker, key=offer.id)
    await eventually(lambda: visible(search, marker.id, kind="offer", tenant=t), what="marker")
    assert await search.ids(kind="offer", tenant=t) == [marker.id]
    assert await search.ids(kind="actor", tenant=t) == []
    for index in ("engage-offers", "engage-needs"):
        for item_id in (offer.id, need.id):
            assert not await elasticsearch.exists(index=index, id=item_id)


async def test_actor_search(search, publisher):
    t = unique("t")
    club = actor(tenant_id=t, type_="association")
    person = actor(tenant_id=t, type_="person")
    await publisher.event("actor.registered", club)
    await publisher.event("actor.registered", person)
    await eventually(lambda: visible(search, person.id, member_of(t), kind="actor", tenant=t),
                     what="the person for its own tenant")
    page = await search.page(member_of(t), kind="actor", tenant=t, lat=51.22, lon=6.77,
                             radius_km=5)
    assert {i["id"] for i in page["items"]} == {club.id, person.id}
    assert all(i["kind"] == "actor" and i["title"] == "Tafel Düsseldorf e.V."
               for i in page["items"])
    assert {f["value"] for f in page["facets"]["actor_type"]} == {"association", "person"}
    # Private persons are not shown to anonymous callers or other tenants.
    assert await search.ids(kind="actor", tenant=t) == [club.id]
    assert await search.ids(member_of(unique("t")), kind="actor", tenant=t) == [club.id]


async def test_remote_items_beyond_the_radius_only_when_asked(search, publisher):
    t = unique("t")
    far_lat, far_lon = north_of(DUESSELDORF, 200)
    remote = item(kind="offer", tenant_id=t, visibility="state", remote=True, lat=far_lat,
                  lon=far_lon, title="Online-Nachhilfe")
    local = item(kind="offer", tenant_id=t, visibility="state", title="Nachhilfe vor Ort")
    await publisher.event("offer.published", remote)
    await publisher.event("offer.published", local)
    point = dict(kind="offer", tenant=t, lat=DUESSELDORF[0], lon=DUESSELDORF[1], radius_km=20)

    async def remote_included():
        return await search.ids(remote="include", **point) == [local.id, remote.id]

    await eventually(remote_included, what="remote offer with remote=include")
    assert await search.ids(**point) == [local.id]
    assert await search.ids(remote="only", **point) == []
    assert await search.ids(remote="only", kind="offer", tenant=t) == [remote.id]
    assert await search.ids(remote="exclude", kind="offer", tenant=t) == [local.id]


async def test_text_search_understands_german_word_forms(search, publisher):
    t = unique("t")
    houses = item(tenant_id=t, visibility="state", title="Renovierung alter Häuser",
                  description="Wir streichen Wände.")
    garden = item(tenant_id=t, visibility="state", title="Gartenpflege",
                  description="Hecke schneiden am Haus der Jugend")
    other = item(tenant_id=t, visibility="state", title="Fahrdienst", description="Einkaufen")
    for need in (houses, garden, other):
        await publisher.event("need.published", need)
    await eventually(lambda: visible(search, other.id, tenant=t), what="three needs")
    await eventually(lambda: visible(search, garden.id, tenant=t), what="three needs")
    await eventually(lambda: visible(search, houses.id, tenant=t), what="three needs")
    page = await search.page(tenant=t, q="haus")
    ids = [i["id"] for i in page["items"]]
    assert set(ids) == {houses.id, garden.id}
    # A match in the title weighs more than one in the description.
    assert ids[0] == houses.id
    assert await search.ids(tenant=t, q="Häuser streichen") == [houses.id]


async def test_poison_message_goes_to_the_dlq_and_later_events_are_indexed(
        search, publisher, search_stack):
    from aiokafka import AIOKafkaConsumer

    t = unique("t")
    poison = f"not an event {unique('poison')}".encode()
    key = unique("key")
    await publisher.producer.send_raw("items", poison, key=key)
    need = item(tenant_id=t, visibility="state")
    await publisher.event("need.published", need, key=key)
    await eventually(lambda: visible(search, need.id, tenant=t), what="the need after the poison")

    consumer = AIOKafkaConsumer("items.dlq", bootstrap_servers=search_stack.kafka_bootstrap,
                                group_id=None, auto_offset_reset="earliest",
                                enable_auto_commit=False)
    await consumer.start()
    try:
        async def dead_lettered():
            batches = await consumer.getmany(timeout_ms=500)
            return [r for records in batches.values() for r in records
                    if r.value == poison and dict(r.headers).get("dlq.consumer_group") == b"search"]

        records = await eventually(dead_lettered, what="the poison message in items.dlq")
    finally:
        await consumer.stop()
    headers = dict(records[0].headers)
    assert headers["dlq.topic"] == b"items"
    assert headers["dlq.error"]


async def test_invalid_requests_are_refused_clearly(search):
    async def error(status: int, **params):
        response = await search.get(**params)
        assert response.status_code == status, response.text
        return response.json()["error"]

    body = await error(422, kind="event", sort="cheapest", category="knitting", lat=51.0)
    assert {d["field"] for d in body["details"]} == {"kind", "sort", "category", "lon"}
    assert all(d["message"] for d in body["details"])
    for params, field in [({"lat": 91, "lon": 7}, "lat"), ({"lat": 51, "lon": 200}, "lon"),
                          ({"lat": 51, "lon": 7, "radius_km": 0}, "radius_km"),
                          ({"lat": 51, "lon": 7, "radius_km": 501}, "radius_km"),
                          ({"lat": "abc", "lon": 7}, "lat"), ({"limit": 0}, "limit"),
                          ({"limit": 101}, "limit"), ({"limit": "many"}, "limit"),
                          ({"remote": "sometimes"}, "remote")]:
        details = (await error(422, **params))["details"]
        assert [d["field"] for d in details] == [field], (params, details)
    assert (await error(400, cursor="definitely-not-a-cursor"))["code"] == "invalid_cursor"
    page = await search.page(kind="need", limit=1)
    if page["next_cursor"]:
        # A date cursor does not fit a distance search.
        assert (await error(400, cursor=page["next_cursor"], lat=51, lon=7))["code"] == \
            "invalid_cursor"


async def test_weekday_time_date_and_accessibility_filters(search, publisher):
    from datetime import datetime, timezone

    t = unique("t")
    saturday_morning = item(tenant_id=t, accessible=True, schedule={"weekly": [
        {"day": "sat", "start": "09:00", "end": "12:00"}]})
    tuesday_evening = item(tenant_id=t, schedule={"weekly": [
        {"day": "tue", "start": "18:00", "end": "20:00"}]})
    action_day = item(tenant_id=t, accessible=True, schedule={"dates": [  # Sat 12 Dec 2026, 10-14
        {"start": datetime(2026, 12, 12, 9, tzinfo=timezone.utc),
         "end": datetime(2026, 12, 12, 13, tzinfo=timezone.utc)}]})
    anytime = item(tenant_id=t)
    for need in (saturday_morning, tuesday_evening, action_day, anytime):
        await publisher.event("need.published", need)

    async def all_four():
        return len(await search.ids(kind="need", tenant=t)) == 4
    await eventually(all_four, what="the four needs indexed")

    async def found(**params) -> set[str]:
        return set(await search.ids(kind="need", tenant=t, **params))
    assert await found(weekday="sat") == {saturday_morning.id, action_day.id, anytime.id}
    assert await found(weekday="tue", time="evening") == {tuesday_evening.id, anytime.id}
    assert await found(time="morning") == {saturday_morning.id, action_day.id, anytime.id}
    assert await found(**{"from": "2026-12-12", "to": "2026-12-12"}) == {
        saturday_morning.id, tuesday_evening.id, action_day.id, anytime.id}
    assert await found(**{"from": "2026-12-13"}) == {
        saturday_morning.id, tuesday_evening.id, anytime.id}  # the action day is over
    assert await found(accessible="true") == {saturday_morning.id, action_day.id}

    refused = await search.get(None, kind="need", weekday="someday")
    assert refused.status_code == 422 and refused.json()["error"]["details"][0]["field"] == "weekday"
    refused = await search.get(None, kind="need", **{"from": "12.12.2026"})
    assert refused.status_code in (400, 422) and "from" in refused.text
