"""Issue 11, "outbound and edge": webhooks never reach inside, X-Forwarded-For buys no fresh
rate-limit budget, /metrics is not public, and one store's outage does not make the gateway
unready. Through the gateway on the real stack, as a client (or an attacker) would."""
from __future__ import annotations

import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from deploy.local.engines import free_port
from deploy.local.stack import SERVICES
from tests.integration.gateway.support import start_gateway
from tests.support.api import PublicApi, item_body, unique
from tests.support.waiting import eventually_sync

KOELN = {"lat": 50.9375, "lon": 6.9603}
INTERNAL_BODY = b"root:x:0:0 internal answer the owner must never read"


class Receiver:
    """A local HTTP server that records POSTs and answers with `status`, `body`, `location`."""

    def __init__(self, host: str, status: int = 200, location: str | None = None):
        self.requests: list[str] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (the standard library's name)
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.requests.append(self.path)
                self.send_response(status)
                if location:
                    self.send_header("Location", location)
                self.send_header("Content-Length", str(len(INTERNAL_BODY)))
                self.end_headers()
                self.wfile.write(INTERNAL_BODY)

            do_GET = do_POST  # noqa: N815 (a followed redirect would arrive as GET)

            def log_message(self, *args):
                return

        self.server = ThreadingHTTPServer((host, 0), Handler)
        self.url = f"http://{host}:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def error_of(response, status: int) -> dict:
    assert response.status_code == status, response.text
    return response.json()["error"]


@pytest.fixture(scope="module")
def tenant(api):
    return api.new_tenant("Köln", KOELN)


@pytest.fixture(scope="module")
def organisation(api, tenant):
    """An association whose actor the notifications service knows (it may set a webhook)."""
    headers = api.login(unique("verein-admin"), tenant, "org_admin")
    actor_id = api.new_actor(headers, type="association", name="Tafel Köln e.V.", location=KOELN)

    def known():
        answer = api.http.get("/me/notification-preferences", headers=headers,
                              params={"actor_id": actor_id})
        return answer.status_code == 200
    eventually_sync(known, timeout_s=30, message="the notifications service knows the actor")
    return headers, actor_id


def set_webhook(api: PublicApi, organisation, url: str) -> httpx.Response:
    headers, actor_id = organisation
    return api.http.put("/me/notification-preferences", headers=headers, json={
        "actor_id": actor_id, "channels": {"webhook": True, "email": False}, "webhook_url": url})


# ---- webhooks ---------------------------------------------------------------------------------

@pytest.mark.parametrize("url", [
    "http://127.0.0.1:8080/api/v1/tenants", "http://[::1]:9200/", "http://localhost:6379/",
    "http://169.254.169.254/latest/meta-data/", "http://10.0.0.7/", "http://192.168.1.1/",
    "http://0x7f000001:8080/", "http://[::ffff:127.0.0.1]/", "http://0.0.0.0:8080/",
])
def test_a_webhook_at_an_internal_address_is_refused_at_registration(api, organisation, url):
    error = error_of(set_webhook(api, organisation, url), 422)
    assert [detail["field"] for detail in error["details"]] == ["webhook_url"]
    assert "internal address" in error["details"][0]["message"]


def deliveries(api: PublicApi, headers: dict) -> list[dict]:
    answer = api.http.get("/me/deliveries", headers=headers, params={"limit": 100})
    assert answer.status_code == 200, answer.text
    return [d for d in answer.json()["items"] if d["channel"] == "webhook"]


def match_for(api: PublicApi, tenant: str, organisation) -> None:
    """A volunteer's offer that matches the organisation's need: the organisation is told."""
    headers, actor_id = organisation
    need = api.http.post("/needs", json=item_body(actor_id, KOELN, title=unique("Kuchentheke")),
                         headers=headers)
    assert need.status_code == 201, need.text
    volunteer = api.login(unique("volunteer"), tenant)
    volunteer_id = api.new_actor(volunteer, type="person", name="Lea Beispiel", location=KOELN)
    offer = api.http.post("/offers", json=item_body(volunteer_id, KOELN), headers=volunteer)
    assert offer.status_code == 201, offer.text


def test_a_failed_webhook_shows_a_generic_error_and_redirects_are_not_followed(
        api, tenant, organisation):
    # The allowed receiver (127.0.0.2, WEBHOOK_ALLOWED_TARGETS of the test stack) answers with
    # a redirect to an internal one (127.0.0.1): the delivery must not follow it, and the
    # owner must not read what either answered.
    inside = Receiver("127.0.0.1")
    outside = Receiver("127.0.0.2", status=302, location=inside.url)
    try:
        assert set_webhook(api, organisation, outside.url).status_code == 200
        match_for(api, tenant, organisation)
        headers, _ = organisation
        failed = eventually_sync(
            lambda: [d for d in deliveries(api, headers) if d["last_error"]], timeout_s=60,
            message="a failed webhook delivery")[0]
    finally:
        outside.close()
        inside.close()
        set_webhook(api, organisation, "https://hooks.example.org/engage")
    assert failed["last_error"] == "delivery failed: HTTP 302"
    assert outside.requests and not inside.requests, "the redirect was followed"
    assert b"internal answer" not in str(deliveries(api, headers)).encode()


# ---- rate limits behind a proxy ---------------------------------------------------------------

READS = 4


@pytest.fixture(scope="module")
def strict_gateways(platform):
    """The real services behind two gateways with a low anonymous limit: one that trusts no
    proxy (the default), one that trusts 127.0.0.1 as its ingress controller."""
    limits = {"RATE_LIMIT_PER_MINUTE": str(READS)}
    default = start_gateway(platform, "gateway-edge-default", limits)
    behind_proxy = start_gateway(platform, "gateway-edge-proxy",
                                 {**limits, "TRUSTED_PROXIES": "127.0.0.1/32"})
    yield default, behind_proxy
    default.stop()
    behind_proxy.stop()


def test_rotating_x_forwarded_for_gives_no_fresh_budget(strict_gateways):
    default, _ = strict_gateways
    with httpx.Client(base_url=default.url, timeout=10) as client:
        statuses = [client.get("/api/v1/categories",
                               headers={"X-Forwarded-For": f"203.0.113.{n}"}).status_code
                    for n in range(2 * READS + 1)]
    assert 429 in statuses, "every rotated address got a budget of its own"


def test_a_configured_proxy_is_believed(strict_gateways):
    _, behind_proxy = strict_gateways
    with httpx.Client(base_url=behind_proxy.url, timeout=10) as client:
        statuses = [client.get("/api/v1/categories",
                               headers={"X-Forwarded-For": f"198.51.100.{n}"}).status_code
                    for n in range(2 * READS + 1)]
        assert statuses == [200] * len(statuses), "each client behind the proxy has its own"
        same = [client.get("/api/v1/categories",
                           headers={"X-Forwarded-For": "192.0.2.1"}).status_code
                for _ in range(2 * READS + 1)]
        assert 429 in same


def test_successful_answers_carry_the_ratelimit_headers(strict_gateways):
    _, behind_proxy = strict_gateways
    fresh_client = {"X-Forwarded-For": f"100.64.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"}
    with httpx.Client(base_url=behind_proxy.url, timeout=10) as client:
        first = client.get("/api/v1/categories", headers=fresh_client)
        answers = [client.get("/api/v1/categories", headers=fresh_client)
                   for _ in range(2 * READS)]
    assert first.status_code == 200
    assert first.headers["RateLimit-Limit"] == str(READS)
    assert first.headers["RateLimit-Remaining"] == str(READS - 1)
    assert 1 <= int(first.headers["RateLimit-Reset"]) <= 60
    refused = next(answer for answer in answers if answer.status_code == 429)
    assert refused.headers["RateLimit-Remaining"] == "0"
    assert refused.headers["RateLimit-Reset"] == refused.headers["Retry-After"]


# ---- metrics ----------------------------------------------------------------------------------

def test_metrics_are_not_served_on_any_main_port(platform, api):
    for spec in SERVICES:
        main = httpx.get(f"{platform.url(spec.port_name)}/metrics", timeout=5)
        assert main.status_code == 404, f"{spec.name} serves /metrics on its main port"
        metrics = httpx.get(platform.metrics_url(spec.name), timeout=5)
        assert metrics.status_code == 200 and "# TYPE" in metrics.text, spec.name
    # Through the public entry (what the ingress routes): 404 in the error format.
    public = api.http.get(platform.url("gateway") + "/metrics")
    assert public.status_code == 404 and public.json()["error"]["code"] == "not_found"


# ---- readiness --------------------------------------------------------------------------------

def test_one_store_or_service_down_leaves_the_gateway_ready_with_a_503_per_route(platform):
    """Redis and the search service unreachable: the site keeps serving what does not need
    them; the gateway stays in the load balancer."""
    gateway = start_gateway(platform, "gateway-edge-outage", {
        "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0",
        "SEARCH_URL": f"http://127.0.0.1:{free_port()}"})
    try:
        with httpx.Client(base_url=gateway.url, timeout=15) as client:
            ready = client.get("/readyz")
            assert ready.status_code == 200, ready.text
            found = ready.json()["dependencies"]
            assert found["redis"] == "down" and found["search"] == "down", "no hosts or errors"
            assert found["profiles"] == "ok"
            assert client.get("/").status_code == 200, "the web client is served"
            assert client.get("/api/v1/tenants").status_code == 200, "profiles still answers"
            search = client.get("/api/v1/search", params={"kind": "offer", **KOELN,
                                                          "radius_km": 10})
            error = error_of(search, 503)
            assert error["code"] == "service_unavailable" and "search" in error["message"]
            assert search.headers["Retry-After"]
        metrics = httpx.get(gateway.metrics_url, timeout=5).text
        assert 'service_dependency_up{dependency="search",service="gateway"} 0.0' in metrics
        assert 'service_dependency_up{dependency="profiles",service="gateway"} 1.0' in metrics
    finally:
        gateway.stop()
