"""Issue 11, "bad input that reached a 500": each reproducer, through the gateway on the real
stack, answers a 4xx in the error format and stores or changes nothing."""
from __future__ import annotations

import http.client
import json
from urllib.parse import urlsplit

import pytest

from tests.support.api import item_body, unique

KOELN = {"lat": 50.9375, "lon": 6.9603}
DEEP_ARRAY = "[" * 1000 + "]" * 1000
DEEP_OBJECT = '{"a":' * 1000 + "1" + "}" * 1000


def error_of(response, status: int) -> dict:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert set(error) == {"code", "message", "details"} and error["message"]
    return error


def fields_of(error: dict) -> set[str]:
    return {detail["field"] for detail in error["details"]}


@pytest.fixture(scope="module")
def tenant(api):
    return api.new_tenant("Köln", KOELN)


@pytest.fixture(scope="module")
def member(api, tenant):
    """A signed-in person with an actor and one published offer."""
    headers = api.login(unique("member"), tenant)
    actor_id = api.new_actor(headers, type="person", name="Eva Schmitz", location=KOELN)
    offer = api.http.post("/offers", json=item_body(actor_id, KOELN, title="Hilfe beim Umzug"),
                          headers=headers)
    assert offer.status_code == 201, offer.text
    return headers, actor_id, offer.json()


def my_actors(api, headers) -> list[dict]:
    answer = api.http.get("/me/actors", headers=headers)
    assert answer.status_code == 200, answer.text
    return answer.json()["items"]


def my_offers(api, headers) -> list[dict]:
    answer = api.http.get("/offers", headers=headers)
    assert answer.status_code == 200, answer.text
    return answer.json()["items"]


# ---- JSON nested 1,000 deep, duplicate keys -------------------------------------------------
@pytest.mark.parametrize("body", [DEEP_ARRAY, DEEP_OBJECT], ids=["array", "object"])
def test_json_nested_a_thousand_deep_is_a_400_and_stores_nothing(api, member, body):
    headers, _, offer = member
    actors_before, offers_before = my_actors(api, headers), my_offers(api, headers)
    json_headers = {**headers, "Content-Type": "application/json"}
    for method, path in (("POST", "/actors"), ("POST", "/offers"),
                         ("PATCH", f"/offers/{offer['id']}")):
        error = error_of(api.http.request(method, path, content=body, headers=json_headers), 400)
        assert error["code"] == "malformed_json" and fields_of(error) == {"body"}
        assert "nested" in error["details"][0]["message"]
    # The gateway's own JSON route answers the same.
    error = error_of(api.http.post("/auth/dev-token", content=body,
                                   headers={"Content-Type": "application/json"}), 400)
    assert error["code"] == "malformed_json"
    assert my_actors(api, headers) == actors_before and my_offers(api, headers) == offers_before


def test_duplicate_json_keys_are_a_400_and_store_nothing(api, member):
    headers, actor_id, offer = member
    actors_before = my_actors(api, headers)
    # Which "type" would win? Neither: the body is refused.
    body = ('{"type": "person", "type": "company", "name": "Doppelt GmbH", '
            '"email": "doppelt@example.org", "location": {"lat": 50.9, "lon": 6.9}}')
    error = error_of(api.http.post("/actors", content=body,
                                   headers={**headers, "Content-Type": "application/json"}), 400)
    assert error["code"] == "malformed_json" and "duplicate key 'type'" in error["details"][0]["message"]
    assert my_actors(api, headers) == actors_before

    patch = '{"title": "Neuer Titel", "title": "Anderer Titel", "version": %d}' % offer["version"]
    error = error_of(api.http.patch(f"/offers/{offer['id']}", content=patch,
                                    headers={**headers, "Content-Type": "application/json"}), 400)
    assert error["code"] == "malformed_json"
    unchanged = api.http.get(f"/offers/{offer['id']}", headers=headers).json()
    assert unchanged["title"] == offer["title"] and unchanged["version"] == offer["version"]


# ---- a query string over 64 KiB -------------------------------------------------------------
def raw_get(gateway_url: str, target: str) -> tuple[int, dict]:
    """httpx refuses to send a query over 64 KiB; a client need not."""
    address = urlsplit(gateway_url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=20)
    try:
        connection.request("GET", target)
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


@pytest.mark.parametrize("path", ["/api/v1/tenants", "/api/v1/search", "/api/v1/offers/x",
                                  "/api/v1/categories"])
def test_a_query_over_64_kib_is_a_414_without_sign_in(platform, path):
    status, body = raw_get(platform.url("gateway"), f"{path}?q={'a' * 70_000}")
    assert status == 414, body
    assert body["error"]["code"] == "uri_too_long"


def test_a_query_over_the_limit_but_under_64_kib_is_a_414_too(api):
    answer = api.http.get("/search", params={"q": "a", "pad": "x" * 20_000})
    assert error_of(answer, 414)["code"] == "uri_too_long"
    assert api.http.get("/search", params={"q": "a", "pad": "x" * 2_000}).status_code == 200


# ---- control characters and bidi overrides in names -----------------------------------------
SNEAKY_NAMES = ["Eva\x00Schmitz", "Eva \u202eztimhcS", "Eva\x1b[2JSchmitz", "Eva\nSchmitz"]


@pytest.mark.parametrize("name", SNEAKY_NAMES)
def test_an_actor_name_with_control_characters_is_refused_and_not_stored(api, tenant, name):
    headers = api.login(unique("sneaky"), tenant)
    answer = api.http.post("/actors", json={"type": "person", "name": name,
                                            "email": f"{unique('m')}@example.org",
                                            "location": KOELN}, headers=headers)
    error = error_of(answer, 422)
    assert error["code"] == "validation_error" and fields_of(error) == {"name"}
    assert my_actors(api, headers) == []


def test_renaming_to_a_bidi_override_changes_nothing(api, member):
    headers, actor_id, offer = member
    before = api.http.get(f"/actors/{actor_id}", headers=headers).json()
    error = error_of(api.http.patch(f"/actors/{actor_id}", json={"name": "Eva \u202eevil"},
                                    headers=headers), 422)
    assert fields_of(error) == {"name"}
    error = error_of(api.http.patch(f"/offers/{offer['id']}",
                                    json={"title": "Umzug\x00hilfe", "version": offer["version"]},
                                    headers=headers), 422)
    assert fields_of(error) == {"title"}
    assert api.http.get(f"/actors/{actor_id}", headers=headers).json() == before
    assert api.http.get(f"/offers/{offer['id']}", headers=headers).json()["title"] == offer["title"]


def test_an_offer_title_or_a_tenant_name_with_controls_is_refused(api, member):
    headers, actor_id, _ = member
    offers_before = my_offers(api, headers)
    answer = api.http.post("/offers", json=item_body(actor_id, KOELN, title="Hilfe \u202egnuz"),
                           headers=headers)
    assert fields_of(error_of(answer, 422)) == {"title"}
    # A description keeps its line breaks, but no other control characters.
    answer = api.http.post("/offers", json=item_body(actor_id, KOELN, description="Zeile\x07"),
                           headers=headers)
    assert fields_of(error_of(answer, 422)) == {"description"}
    assert my_offers(api, headers) == offers_before

    operator = api.login("land-operator", "land", "operator")
    tenant_id = unique("sneaky-town")
    answer = api.http.post("/tenants", json={"id": tenant_id, "name": "Köln\u2066\u2069",
                                             "center": KOELN}, headers=operator)
    assert fields_of(error_of(answer, 422)) == {"name"}
    assert api.http.get(f"/tenants/{tenant_id}").status_code == 404


# ---- invalid cursors: one answer everywhere -------------------------------------------------
@pytest.mark.parametrize("path,field", [
    ("/offers", "after"), ("/needs", "after"), ("/contacts", "after"),
    ("/moderation/items", "after"), ("/search", "cursor"), ("/me/notifications", "cursor"),
    ("/me/deliveries", "cursor"),
])
@pytest.mark.parametrize("garbage", ["garbage", "x" * 600])
def test_an_invalid_cursor_is_400_invalid_cursor_in_every_list(api, tenant, path, field, garbage):
    admin = api.login(unique("admin"), tenant, "member", "tenant_admin")
    error = error_of(api.http.get(path, params={field: garbage}, headers=admin), 400)
    assert error["code"] == "invalid_cursor" and fields_of(error) == {field}


def test_a_real_cursor_still_pages(api, member):
    headers, _, offer = member
    first = api.http.get("/offers", params={"limit": 1}, headers=headers)
    assert first.status_code == 200 and first.json()["items"][0]["id"] == offer["id"]
    rest = api.http.get("/offers", params={"limit": 1, "after": offer["id"]}, headers=headers)
    assert rest.status_code == 200 and rest.json()["items"] == []


# ---- 405 names every method of the path -----------------------------------------------------
@pytest.mark.parametrize("method,path,allowed", [
    ("PUT", "/offers/x", {"GET", "PATCH", "DELETE"}),
    ("PUT", "/needs/x", {"GET", "PATCH", "DELETE"}),
    ("DELETE", "/offers", {"GET", "POST"}),
    ("DELETE", "/search", {"GET"}),
    ("POST", "/me/notification-preferences", {"GET", "PUT"}),
])
def test_405_lists_every_method_the_path_supports(api, method, path, allowed):
    answer = api.http.request(method, path)
    assert error_of(answer, 405)["code"] == "method_not_allowed"
    assert set(answer.headers["allow"].split(", ")) - {"HEAD"} == allowed
