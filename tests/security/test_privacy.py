"""Where a person lives stays private (issue 11, "Privacy"): through the gateway on the real stack.

A person registers with an exact home and posts an offer and a need there; an association
posts a need two kilometres away. Nobody but the person (and, once both agreed, the contact
partner) may get the home to more than the coarse grid of platform_common.privacy: not
anonymous visitors, not other members, not the municipality's admin, not the statewide operator,
in no read model (search for items and actors, item and actor pages, lists, moderation, match
suggestions, the inbox, webhooks to the association's own system, the widget's data).
The association's address stays exact.
"""
from __future__ import annotations

import json
import math
import re

import httpx
import pytest

from platform_common.privacy import coarse_point
from tests.integration.notifications.conftest import WebhookReceiver
from tests.support.api import item_body, unique
from tests.support.waiting import eventually_sync

HOME = {"lat": 50.9412345, "lon": 6.9587654}  # Köln, the reproducer
COARSE_HOME = coarse_point(**HOME)  # {"lat": 50.94, "lon": 6.96}
CLUB = {"lat": 50.9592345, "lon": 6.9512345}  # two kilometres north: an association's address
# Any digits of the home beyond the grid, as they would appear in a JSON body.
HOME_DIGITS = re.compile(r"50\.941\d|6\.958\d|6\.9587")


def coordinates(payload) -> list[tuple[float, float]]:
    """Every {"lat", "lon"} pair anywhere in a JSON document."""
    found = []
    if isinstance(payload, dict):
        if isinstance(payload.get("lat"), (int, float)) and isinstance(payload.get("lon"), (int, float)):
            found.append((payload["lat"], payload["lon"]))
        for value in payload.values():
            found += coordinates(value)
    elif isinstance(payload, list):
        for value in payload:
            found += coordinates(value)
    return found


def assert_no_home(payload, where: str) -> None:
    """No coordinate finer than the grid, except the association's public address."""
    text = json.dumps(payload)
    assert not HOME_DIGITS.search(text), f"{where} reveals the home: {text[:2000]}"
    for lat, lon in coordinates(payload):
        if (lat, lon) == (CLUB["lat"], CLUB["lon"]):
            continue
        assert (lat, lon) == (round(lat, 2), round(lon, 2)), f"{where}: ({lat}, {lon}) is too fine"


def ok(response: httpx.Response) -> dict:
    assert response.status_code in (200, 201), f"{response.request.url}: {response.text}"
    return response.json()


@pytest.fixture(scope="module")
def receiver():
    """The association's own system, told of matches by webhook."""
    with WebhookReceiver() as hooks:
        yield hooks


@pytest.fixture(scope="module")
def town(api, receiver):
    """The tenant, its people (as auth headers) and what they posted."""
    tenant = api.new_tenant("Köln", {"lat": 50.9375, "lon": 6.9603})
    t = {"tenant": tenant, "anna": api.login(unique("anna"), tenant),
         "verein": api.login(unique("verein"), tenant, "org_admin"),
         "nachbar": api.login(unique("nachbar"), tenant),
         "admin": api.login(unique("admin"), tenant, "tenant_admin"),
         "operator": api.login(unique("operator"), "land", "operator"),
         "name": unique("Anna Privat").replace("-", " ")}
    t["person"] = api.new_actor(t["anna"], type="person", name=t["name"], location=HOME)
    t["club"] = api.new_actor(t["verein"], type="association", name="Bürgerverein Neustadt",
                              location=CLUB)
    # Notifications learns of the actor from its event: ask until it knows it.
    eventually_sync(lambda: api.http.put("/me/notification-preferences", headers=t["verein"], json={
        "actor_id": t["club"], "channels": {"webhook": True},
        "webhook_url": receiver.url}).status_code == 200, timeout_s=30,
        message="the association's webhook set")
    t["offer"] = ok(api.http.post("/offers", headers=t["anna"], json=item_body(
        t["person"], HOME, title="Ich helfe beim Einkaufen für Nachbarn",
        categories=["neighbourhood"], radius_km=10)))["id"]
    t["own_need"] = ok(api.http.post("/needs", headers=t["anna"], json=item_body(
        t["person"], HOME, title="Suche Begleitung zum Arzt", categories=["health"])))["id"]
    t["need"] = ok(api.http.post("/needs", headers=t["verein"], json=item_body(
        t["club"], CLUB, title="Einkaufshilfe für Seniorinnen gesucht",
        categories=["neighbourhood"], radius_km=10)))["id"]
    eventually_sync(lambda: {t["offer"], t["own_need"], t["need"]} <= set(
        api.search_ids(tenant=tenant, sort="date", limit=100)),
        timeout_s=30, message="the items in search")
    return t


def viewers(town) -> dict[str, dict]:
    return {"anonymous": {}, "another member": town["nachbar"], "the association": town["verein"],
            "the tenant admin": town["admin"], "an operator": town["operator"]}


def test_search_never_returns_a_persons_point_or_an_exact_distance(api, town):
    for who, headers in viewers(town).items():
        for query in ({"kind": "offer", "tenant": town["tenant"]},
                      {"kind": "need", "tenant": town["tenant"]},
                      {"tenant": town["tenant"], "lat": HOME["lat"], "lon": HOME["lon"]}):
            page = ok(api.http.get("/search", params=query, headers=headers))
            assert_no_home(page, f"search {query} for {who}")
            mine = [hit for hit in page["items"] if hit["id"] in (town["offer"], town["own_need"])]
            assert mine, f"{who} should find the person's items ({query})"
            for hit in mine:
                assert hit["location"] == COARSE_HOME
                if "lat" in query:
                    assert hit["distance_km"] >= 1 and hit["distance_km"] == int(hit["distance_km"])
            if query.get("kind") != "offer":
                club = [hit for hit in page["items"] if hit["id"] == town["need"]]
                assert club and club[0]["location"] == CLUB  # organisations stay exact


def test_a_persons_profile_in_actor_search_is_coarse_for_members_and_operators(api, town):
    """Reproducer: kind=actor&actor_type=person&q=<name> gave 50.9412345 / 6.9587654."""
    for who in ("another member", "the tenant admin", "an operator"):
        headers = viewers(town)[who]
        page = eventually_sync(lambda: [hit for hit in ok(api.http.get("/search", headers=headers,
            params={"kind": "actor", "actor_type": "person", "q": town["name"]}))["items"]
            if hit["id"] == town["person"]], timeout_s=30, message=f"the person for {who}")
        assert page[0]["location"] == COARSE_HOME, who
        assert_no_home(page, f"actor search for {who}")


def test_a_tiny_radius_around_the_home_does_not_confirm_it(api, town):
    """Reproducer: radius 0.05 km around a guessed point gave `distance_km: 0.0`."""
    for headers in (town["nachbar"], town["operator"], {}):
        for kind in ("actor", "offer", None):
            params = {"lat": HOME["lat"], "lon": HOME["lon"], "radius_km": 0.05}
            if kind:
                params["kind"] = kind
            page = ok(api.http.get("/search", params=params, headers=headers))
            assert town["person"] not in [hit["id"] for hit in page["items"]]
            assert town["offer"] not in [hit["id"] for hit in page["items"]]
    # Around the grid point it finds the whole cell, at "within 1 km", never 0.0.
    page = ok(api.http.get("/search", headers=town["nachbar"], params={
        "lat": COARSE_HOME["lat"], "lon": COARSE_HOME["lon"], "radius_km": 0.05,
        "tenant": town["tenant"]}))
    hit = next(hit for hit in page["items"] if hit["id"] == town["offer"])
    assert hit["distance_km"] == 1.0


def test_item_and_actor_pages_are_coarse_for_everybody_but_the_owner(api, town):
    """Reproducer: a person's offer was public with its exact coordinates, no sign-in needed."""
    for who, headers in viewers(town).items():
        paths = [f"/offers/{town['offer']}", f"/needs/{town['own_need']}"]
        if headers:  # lists are for signed-in callers
            paths += [f"/offers?actor_id={town['person']}", f"/needs?tenant={town['tenant']}"]
        for path in paths:
            body = ok(api.http.get(path, headers=headers))
            assert_no_home(body, f"{path} for {who}")
        item = ok(api.http.get(f"/offers/{town['offer']}", headers=headers))
        assert item["location"] == COARSE_HOME, who
        if headers:  # a private person's profile is for signed-in callers only
            profile = ok(api.http.get(f"/actors/{town['person']}", headers=headers))
            assert profile["location"] == COARSE_HOME, who
            assert_no_home(profile, f"the person's profile for {who}")
    published = ok(api.http.get("/moderation/items", headers=town["admin"],
                                params={"status": "published", "kind": "offer"}))
    assert town["offer"] in [i["id"] for i in published["items"]]
    assert_no_home(published, "moderation list")
    club_need = ok(api.http.get(f"/needs/{town['need']}"))
    assert club_need["location"] == CLUB


def test_the_owner_still_sees_the_exact_place(api, town):
    anna = town["anna"]
    assert ok(api.http.get(f"/offers/{town['offer']}", headers=anna))["location"] == HOME
    assert ok(api.http.get(f"/actors/{town['person']}", headers=anna))["location"] == HOME
    listed = ok(api.http.get("/offers", headers=anna))["items"]
    assert [i["location"] for i in listed if i["id"] == town["offer"]] == [HOME]
    mine = ok(api.http.get("/me/actors", headers=anna))["items"]
    assert [a["location"] for a in mine] == [HOME]
    export = ok(api.http.get("/me/export", headers=anna))
    assert [o["location"] for o in export["profiles"]["offers"]] == [HOME]


def test_matches_inbox_and_webhook_show_whole_km_then_the_partner_sees_it_exact(
        api, town, receiver):
    verein = town["verein"]
    pair = (town["offer"], town["need"])
    matches = eventually_sync(lambda: [m for m in ok(api.http.get(
        f"/needs/{town['need']}/matches", headers=verein))["items"]
        if (m["offer_id"], m["need_id"]) == pair], timeout_s=30, message="the match")
    distance = next(r for r in matches[0]["reasons"] if r["factor"] == "distance")
    # 2.07 km apart: shown (and scored) as "within 3 km", nothing finer.
    assert distance["label"]["en"] == "within 3 km", distance
    assert distance["value"] == round(math.exp(-3 / 10), 6)
    assert_no_home(matches, "the association's match suggestions")
    assert_no_home(ok(api.http.get(f"/offers/{town['offer']}/matches", headers=verein)),
                   "the offer's suggestions as the association sees them")

    inbox = eventually_sync(lambda: [n for n in ok(api.http.get(
        "/me/notifications", headers=verein))["items"] if n["type"] == "match.found"],
        timeout_s=60, message="the association's inbox")
    assert_no_home(inbox, "the association's inbox")
    assert "within 3 km" in json.dumps(inbox)
    hooks = eventually_sync(receiver.json_bodies, timeout_s=60, message="the webhook")
    assert_no_home(hooks, "the webhook to the association's system")
    assert "within 3 km" in json.dumps(hooks)

    # Contact by consent: only now does the association see the exact place.
    contact = ok(api.http.post("/contacts", headers=verein, json={
        "offer_id": town["offer"], "need_id": town["need"], "message": "Passt das?"}))
    assert ok(api.http.get(f"/offers/{town['offer']}", headers=verein))["location"] == COARSE_HOME
    ok(api.http.post(f"/contacts/{contact['id']}/accept", headers=town["anna"]))
    assert ok(api.http.get(f"/offers/{town['offer']}", headers=verein))["location"] == HOME
    assert ok(api.http.get(f"/actors/{town['person']}", headers=verein))["location"] == HOME
    # ... and nobody else.
    assert ok(api.http.get(f"/offers/{town['offer']}", headers=town["nachbar"]))[
        "location"] == COARSE_HOME
    search = ok(api.http.get("/search", headers=verein, params={"tenant": town["tenant"]}))
    assert_no_home(search, "search for the partner (a public read model)")


def test_the_widget_data_of_the_municipality_is_coarse(api, town, platform):
    """What /embed/needs loads: the tenant's newest needs, anonymously."""
    page = ok(api.http.get("/search", params={"kind": "need", "tenant": town["tenant"],
                                              "sort": "date", "limit": 20}))
    assert town["own_need"] in [hit["id"] for hit in page["items"]]
    assert_no_home(page, "the widget's needs")
    widget = httpx.get(platform.url("gateway") + f"/embed/needs?tenant={town['tenant']}")
    assert widget.status_code == 200 and not HOME_DIGITS.search(widget.text)
