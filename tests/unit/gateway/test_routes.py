import pytest

from gateway.domain.access import PUBLIC, SIGNED_IN
from gateway.domain.routes import PROXY_ROUTES, UnsafePathParameter, upstream_path


def route(method: str, path: str):
    matches = [r for r in PROXY_ROUTES if r.method == method and r.path == path]
    assert len(matches) == 1, f"{method} {path} should be routed exactly once"
    return matches[0]


@pytest.mark.parametrize("method,path,service,upstream", [
    ("GET", "/tenants", "profiles", "/tenants"),
    ("POST", "/tenants", "profiles", "/tenants"),
    ("PATCH", "/tenants/{id}", "profiles", "/tenants/{id}"),
    ("POST", "/actors", "profiles", "/actors"),
    ("DELETE", "/actors/{id}", "profiles", "/actors/{id}"),
    ("DELETE", "/actors/{id}/members/{sub}", "profiles", "/actors/{id}/members/{sub}"),
    ("POST", "/offers", "profiles", "/offers"),
    ("DELETE", "/needs/{id}", "profiles", "/needs/{id}"),
    ("POST", "/needs/{id}/hide", "profiles", "/needs/{id}/hide"),
    ("GET", "/offers/{id}/matches", "matching", "/offers/{id}/matches"),
    ("GET", "/needs/{id}/matches", "matching", "/needs/{id}/matches"),
    ("POST", "/contacts/{id}/accept", "profiles", "/contacts/{id}/accept"),
    ("GET", "/search", "search", "/search"),
    ("GET", "/me/notifications", "notifications", "/me/notifications"),
    ("PUT", "/me/notification-preferences", "notifications", "/me/notification-preferences"),
    ("GET", "/unsubscribe", "notifications", "/unsubscribe"),
    ("POST", "/me/notifications/{id}/read", "notifications", "/me/notifications/{id}/read"),
    ("GET", "/me/deliveries", "notifications", "/me/deliveries"),
    ("DELETE", "/me", "profiles", "/me"),
])
def test_public_paths_map_to_the_service(method, path, service, upstream):
    found = route(method, path)
    assert (found.service, found.upstream) == (service, upstream)
    assert found.public_path == "/api/v1" + path


def test_only_reads_of_public_data_are_public():
    public = {(r.method, r.path) for r in PROXY_ROUTES if r.access == PUBLIC}
    assert public == {("GET", "/tenants"), ("GET", "/tenants/{id}"), ("GET", "/search"),
                      ("GET", "/offers/{id}"), ("GET", "/needs/{id}"), ("GET", "/unsubscribe"),
                      ("POST", "/unsubscribe"),
                      # organisations' profile pages (profiles refuses persons without sign-in)
                      ("GET", "/actors/{id}"),
                      # dates and shifts of items anyone may see (counts, never names), and
                      # calendar feeds: public items', a municipality's public dates, and a
                      # person's own feed behind its secret token
                      ("GET", "/offers/{id}/shifts"), ("GET", "/needs/{id}/shifts"),
                      ("GET", "/shifts/{id}"),
                      ("GET", "/offers/{id}/calendar.ics"), ("GET", "/needs/{id}/calendar.ics"),
                      ("GET", "/tenants/{id}/calendar.ics"), ("GET", "/calendars/{token}.ics")}
    assert route("POST", "/tenants").access.roles == frozenset({"operator"})
    assert route("POST", "/offers").access == SIGNED_IN


def test_route_names_are_unique():
    names = [r.name for r in PROXY_ROUTES]
    assert len(names) == len(set(names))


def test_parameters_are_substituted_and_encoded():
    assert upstream_path(route("GET", "/offers/{id}"), {"id": "off-1"}) == "/offers/off-1"
    assert (upstream_path(route("DELETE", "/actors/{id}/members/{sub}"),
                          {"id": "a1", "sub": "anna@example.org"})
            == "/actors/a1/members/anna%40example.org")


@pytest.mark.parametrize("value", ["..", ".", "a/b", "", "a b", "x?y=1", "%2e%2e", "a#b"])
def test_parameters_that_could_change_the_upstream_path_are_refused(value):
    with pytest.raises(UnsafePathParameter):
        upstream_path(route("GET", "/offers/{id}"), {"id": value})
