"""The gateway in front of stand-in services: auth, roles, forwarding, errors, docs, UI."""
from __future__ import annotations

import time

import httpx
import jwt
import pytest

from gateway.domain.routes import PROXY_ROUTES
from gateway.settings import DEFAULT_DEV_JWT_SECRET
from tests.integration.gateway.conftest import CORS_ORIGIN
from tests.support.identity import received_identity
from tests.integration.gateway.support import (
    bearer, dev_token, fake_service_urls, start_fake_services, start_gateway,
)

pytestmark = pytest.mark.integration

PROTECTED = [route for route in PROXY_ROUTES if not route.access.public]


def concrete(path: str) -> str:
    return "/api/v1" + path.replace("{id}", "x1").replace("{sub}", "anna")


def expired_token() -> str:
    return jwt.encode({"sub": "anna", "tenant": "koeln", "roles": ["member"], "iss": "engage-dev",
                       "iat": int(time.time()) - 7200, "exp": int(time.time()) - 3600},
                      DEFAULT_DEV_JWT_SECRET, algorithm="HS256")


def foreign_token() -> str:
    return jwt.encode({"sub": "anna", "tenant": "koeln", "roles": ["operator"],
                       "exp": int(time.time()) + 3600}, "another-secret-of-sufficient-length!",
                      algorithm="HS256")


@pytest.mark.parametrize("route", PROTECTED, ids=lambda r: f"{r.method} {r.path}")
def test_protected_routes_refuse_missing_and_invalid_tokens(client, route):
    url = concrete(route.path)
    body = {} if route.method in {"POST", "PUT", "PATCH"} else None
    missing = client.request(route.method, url, json=body)
    assert missing.status_code == 401, missing.text
    assert missing.json()["error"]["code"] == "unauthorized"
    assert missing.headers["WWW-Authenticate"].startswith("Bearer")
    for token in ("not-a-jwt", expired_token(), foreign_token()):
        refused = client.request(route.method, url, json=body, headers=bearer(token))
        assert refused.status_code == 401, refused.text
        assert refused.json()["error"]["code"] == "invalid_token"


def test_own_protected_route_refuses_missing_token(client):
    assert client.get("/api/v1/me/export").status_code == 401
    assert client.get("/api/v1/me/export",
                      headers=bearer(expired_token())).json()["error"]["code"] == "invalid_token"


def test_expired_token_is_refused_even_on_public_routes(client):
    response = client.get("/api/v1/search", headers=bearer(expired_token()))
    assert response.status_code == 401
    assert "expired" in response.json()["error"]["message"]


@pytest.mark.parametrize("method,path", [("POST", "/api/v1/tenants"),
                                         ("PATCH", "/api/v1/tenants/koeln"),
                                         ("POST", "/api/v1/offers/x1/hide")])
def test_operator_and_moderator_routes_refuse_a_member(client, gateway_on_fakes, method, path):
    member = dev_token(gateway_on_fakes.url, "anna", "koeln", ["member", "org_admin"])
    response = client.request(method, path, json={}, headers=bearer(member))
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"
    operator = dev_token(gateway_on_fakes.url, "olaf", "nrw", ["operator"])
    allowed = client.request(method, path, json={"id": "koeln"}, headers=bearer(operator))
    assert allowed.status_code == 200 and allowed.json()["service"] == "profiles"


@pytest.mark.parametrize("path,service", [("/api/v1/tenants", "profiles"),
                                          ("/api/v1/tenants/koeln", "profiles"),
                                          ("/api/v1/offers/o1", "profiles"),
                                          ("/api/v1/needs/n1", "profiles"),
                                          ("/api/v1/search?lat=50.9&lon=6.9", "search")])
def test_public_reads_need_no_token(client, path, service):
    response = client.get(path)
    assert response.status_code == 200
    assert response.json()["service"] == service
    assert received_identity(response.json()["headers"], service=service) is None


def test_forwarding_keeps_method_query_body_request_id_and_passes_the_identity(
        client, gateway_on_fakes):
    token = dev_token(gateway_on_fakes.url, "anna", "koeln", ["member", "org_admin"])
    response = client.patch(
        "/api/v1/offers/off-7?fields=title&lang=de", json={"title": "Lesepatin", "n": [1, 2]},
        headers={**bearer(token), "X-Request-ID": "req-123", "Accept-Language": "de",
                 "If-Match": '"3"',
                 # A client must not be able to claim an identity by itself:
                 "X-Auth-Sub": "mallory", "X-Auth-Roles": "operator"})
    assert response.status_code == 200
    echoed = response.json()
    assert (echoed["service"], echoed["method"], echoed["path"]) == ("profiles", "PATCH",
                                                                     "/offers/off-7")
    assert echoed["query"] == "fields=title&lang=de"
    assert echoed["json"] == {"title": "Lesepatin", "n": [1, 2]}
    headers = echoed["headers"]
    assert headers["x-request-id"] == "req-123"
    # The identity goes signed by the gateway, for this one service; client headers do not pass.
    identity = received_identity(headers, service="profiles")
    assert (identity.sub, identity.tenant, identity.roles) == ("anna", "koeln",
                                                               {"member", "org_admin"})
    assert "x-auth-sub" not in headers and "x-auth-roles" not in headers
    assert "authorization" not in headers, "services never see tokens"
    assert headers["traceparent"].startswith("00-"), "the trace continues into the service"
    assert headers["accept-language"] == "de"
    assert headers["if-match"] == '"3"', "optimistic concurrency reaches the service"
    assert response.headers["X-Request-ID"] == "req-123"
    assert response.headers["Location"] == "/offers/off-7"
    assert "X-Internal-Secret" not in response.headers


def test_one_click_unsubscribe_needs_no_token_and_no_json(client):
    response = client.post("/api/v1/unsubscribe?token=t0k3n",
                           content=b"List-Unsubscribe=One-Click",
                           headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 200
    echoed = response.json()
    assert (echoed["service"], echoed["path"], echoed["query"]) == \
        ("notifications", "/unsubscribe", "token=t0k3n")


def test_request_ids_are_made_when_missing(client):
    response = client.get("/api/v1/tenants")
    assert len(response.headers["X-Request-ID"]) >= 16
    assert response.json()["headers"]["x-request-id"] == response.headers["X-Request-ID"]


def test_path_parameters_are_encoded_and_checked(client, gateway_on_fakes):
    token = dev_token(gateway_on_fakes.url, "anna", "koeln", ["member"])
    removed = client.delete("/api/v1/actors/a1/members/ben@example.org", headers=bearer(token))
    assert removed.json()["raw_path"] == "/profiles/actors/a1/members/ben%40example.org"
    refused = client.get("/api/v1/offers/a%20b")
    assert refused.status_code == 422 and refused.json()["error"]["details"][0]["field"] == "id"
    assert client.get("/api/v1/offers/x%2F..%2F..%2Fadmin").status_code == 404


def test_matches_go_to_the_matching_service(client, gateway_on_fakes):
    token = dev_token(gateway_on_fakes.url, "anna", "koeln", ["member"])
    for kind in ("offers", "needs"):
        echoed = client.get(f"/api/v1/{kind}/i1/matches", headers=bearer(token)).json()
        assert (echoed["service"], echoed["path"]) == ("matching", f"/{kind}/i1/matches")


@pytest.mark.parametrize("status", [400, 404, 409, 422, 500, 502])
def test_service_errors_pass_through_unchanged(client, status):
    response = client.get(f"/api/v1/offers/o1?echo_status={status}")
    assert response.status_code == status
    assert response.json()["path"] == "/offers/o1"


def test_malformed_json_is_refused_with_400(client, gateway_on_fakes):
    token = dev_token(gateway_on_fakes.url, "anna", "koeln", ["member"])
    for body in (b'{"title": ', b"\xff\xfe", b"title=x", b"[" * 1000 + b"]" * 1000,
                 b'{"title": "a", "title": "b"}'):
        response = client.post("/api/v1/offers", content=body,
                               headers={**bearer(token), "Content-Type": "application/json"})
        assert response.status_code == 400, body
        assert response.json()["error"]["code"] == "malformed_json"
    dev = client.post("/api/v1/auth/dev-token", content=b"{",
                      headers={"Content-Type": "application/json"})
    assert dev.status_code == 400 and dev.json()["error"]["code"] == "malformed_json"


def test_oversized_bodies_are_refused_with_413(client, gateway_on_fakes):
    token = dev_token(gateway_on_fakes.url, "anna", "koeln", ["member"])
    big = {"description": "x" * (70 * 1024)}
    response = client.post("/api/v1/offers", json=big, headers=bearer(token))
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"

    def chunks():  # no Content-Length: the limit still holds while reading
        yield b'{"description": "'
        for _ in range(70):
            yield b"x" * 1024
        yield b'"}'

    streamed = client.post("/api/v1/offers", content=chunks(),
                           headers={**bearer(token), "Content-Type": "application/json"})
    assert streamed.status_code == 413


def test_a_stopped_service_gives_503_naming_it_then_recovers(engines, gateway_on_fakes):
    own_fakes = start_fake_services(engines)
    gateway = start_gateway(engines, "gateway-stopped-services", fake_service_urls(own_fakes))
    token = bearer(dev_token(gateway_on_fakes.url, "anna", "koeln", ["member"]))
    try:
        with httpx.Client(base_url=gateway.url, timeout=15) as client:
            assert client.get("/api/v1/me/notifications", headers=token).status_code == 200
            own_fakes.stop()
            started = time.monotonic()
            response = client.get("/api/v1/me/notifications", headers=token)
            assert response.status_code == 503
            error = response.json()["error"]
            assert error["code"] == "service_unavailable" and "notifications" in error["message"]
            assert response.headers["Retry-After"]
            assert time.monotonic() - started < 5
            # The export needs every part: with services down it is refused, not incomplete.
            export = client.get("/api/v1/me/export", headers=token)
            assert export.status_code == 503
            # The gateway itself stays ready (the web UI and the docs still work); the
            # missing services show in the details.
            ready = client.get("/readyz")
            assert ready.status_code == 200
            assert ready.json()["dependencies"]["notifications"] == "down"
            # The docs stay available while services are down.
            assert "/api/v1/search" in client.get("/api/openapi.json").json()["paths"]
            own_fakes = start_fake_services(engines, port=int(own_fakes.url.rsplit(":", 1)[1]))
            assert client.get("/api/v1/me/notifications", headers=token).status_code == 200
    finally:
        own_fakes.stop()
        gateway.stop()


def test_a_slow_service_gives_503_within_the_timeout(client):
    started = time.monotonic()
    response = client.get("/api/v1/search?echo_sleep=6")
    assert response.status_code == 503
    assert "search" in response.json()["error"]["message"]
    assert time.monotonic() - started < 5, "UPSTREAM_TIMEOUT_S=1.5 must bound the wait"


def test_vocabularies_are_served_by_the_gateway(client):
    categories = client.get("/api/v1/categories")
    assert categories.status_code == 200
    entries = {entry["id"]: entry["label"] for entry in categories.json()}
    assert entries["environment"] == {"de": "Umwelt- und Naturschutz",
                                      "en": "Environment and nature"}
    for name in ("requirements", "engagement-types", "actor-types", "visibilities"):
        listed = client.get(f"/api/v1/{name}").json()
        assert listed and all(set(entry["label"]) == {"de", "en"} for entry in listed)


def test_dev_token_validates_its_input(client):
    assert client.post("/api/v1/auth/dev-token",
                       json={"sub": "a", "tenant": "koeln", "roles": ["king"]}).status_code == 422
    answer = client.post("/api/v1/auth/dev-token", json={"sub": "a", "tenant": "koeln"}).json()
    assert answer["token_type"] == "bearer" and answer["expires_in"] > 0


def test_merged_openapi_lists_the_public_paths(client):
    document = client.get("/api/openapi.json").json()
    paths = document["paths"]
    for route in PROXY_ROUTES:
        assert route.method.lower() in paths[route.public_path], route.public_path
    for own in ("/api/v1/categories", "/api/v1/requirements", "/api/v1/auth/dev-token",
                "/api/v1/me/export"):
        assert own in paths
    # From the stand-in services' own documents, rewritten and merged:
    offer = paths["/api/v1/offers/{id}"]["get"]
    assert offer["summary"] == "One offer" and offer["security"] == []
    assert [p["name"] for p in offer["parameters"]] == ["id"]
    assert "/internal/rebuild" not in str(paths)
    assert {"Item", "search_Item"} <= set(document["components"]["schemas"])
    assert document["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert paths["/api/v1/offers"]["post"]["security"] == [{"bearerAuth": []}]


def test_swagger_ui_is_served_without_any_cdn(client):
    page = client.get("/api/docs")
    assert page.status_code == 200 and "/api/openapi.json" in page.text
    assert "cdn" not in page.text
    assert client.get("/api/docs/assets/swagger-ui-bundle.js").status_code == 200


def test_web_ui_is_served(client):
    page = client.get("/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert '/static/js/main.js' in page.text
    module = client.get("/static/js/main.js")
    assert module.status_code == 200 and "content-security-policy" in module.headers


def test_the_needs_widget_may_be_framed_by_other_websites_and_nothing_else(client):
    widget = client.get("/embed/needs", params={"tenant": "koeln"})
    assert widget.status_code == 200 and "/static/js/embed.js" in widget.text
    policy = widget.headers["content-security-policy"]
    assert "frame-ancestors *" in policy and "script-src 'self'" in policy
    assert "frame-ancestors 'none'" in client.get("/").headers["content-security-policy"]


def test_web_ui_serves_only_allow_listed_npm_files(client):
    # node_modules is installed by `make install` (npm ci in gateway/web)
    assert client.get("/static/vendor/lit-html/lit-html.js").status_code == 200
    assert client.get("/static/vendor/leaflet/leaflet-src.esm.js").status_code == 200
    assert client.get("/static/vendor/leaflet/package.json").status_code == 404  # only dist/
    for path in ("/static/node_modules/lit-html/lit-html.js", "/static/package.json",
                 "/static/package-lock.json", "/static/vendor/trusted-types/package.json",
                 "/static/vendor/../node_modules/leaflet/package.json"):
        assert client.get(path).status_code == 404, path


def test_cors_allows_the_configured_web_origin_only(client):
    preflight = client.options("/api/v1/offers", headers={
        "Origin": CORS_ORIGIN, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type"})
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == CORS_ORIGIN
    other = client.options("/api/v1/offers", headers={
        "Origin": "https://evil.example", "Access-Control-Request-Method": "POST"})
    assert other.headers.get("access-control-allow-origin") != "https://evil.example"


def test_unknown_paths_are_404_in_the_error_format(client):
    response = client.get("/api/v1/internal/rebuild")
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
    assert client.delete("/api/v1/search").status_code == 405


def test_health_and_metrics(client, gateway_on_fakes):
    assert client.get("/healthz").status_code == 200
    ready = client.get("/readyz")
    assert ready.status_code == 200, ready.text
    assert ready.json()["checks"] == {}, "readiness is the gateway's own"
    assert ready.json()["dependencies"] == {
        name: "ok" for name in ("redis", "profiles", "search", "matching", "notifications")}
    # The metrics are on the metrics port only: the ingress routes the main port.
    assert client.get("/metrics").status_code == 404
    metrics = httpx.get(gateway_on_fakes.metrics_url, timeout=5).text
    assert "http_request_duration_seconds" in metrics
    assert "gateway_upstream_unavailable_total" in metrics
    assert 'service_dependency_up{dependency="redis",service="gateway"} 1.0' in metrics

