"""Rate limits per identity or client IP, counted in the real Redis; fail open without it."""
from __future__ import annotations

import httpx
import pytest

from deploy.local.engines import free_port
from tests.integration.gateway.support import (
    bearer, dev_token, fake_service_urls, start_gateway,
)

pytestmark = pytest.mark.integration
READS, WRITES = 6, 3


@pytest.fixture(scope="module")
def strict_gateway(engines, fake_services):
    process = start_gateway(engines, "gateway-strict", {
        **fake_service_urls(fake_services), "RATE_LIMIT_PER_MINUTE": str(READS),
        "RATE_LIMIT_WRITES_PER_MINUTE": str(WRITES)}, ready_path="/healthz")
    yield process
    process.stop()


def until_refused(send, limit: int) -> list[httpx.Response]:
    """Send until the first 429. Fixed windows reset each minute: 2 * limit + 1 requests are
    enough for one window to see limit + 1 of them, wherever the minute boundary falls."""
    responses = []
    for _ in range(2 * limit + 1):
        responses.append(send())
        if responses[-1].status_code == 429:
            break
    return responses


def test_an_identity_over_its_limit_gets_429_with_retry_after(strict_gateway, gateway_on_fakes):
    # Tokens from the other dev gateway (same dev secret), so this gateway's budget is untouched.
    anna = bearer(dev_token(gateway_on_fakes.url, "anna-rl", "koeln", ["member"]))
    ben = bearer(dev_token(gateway_on_fakes.url, "ben-rl", "koeln", ["member"]))
    with httpx.Client(base_url=strict_gateway.url, timeout=10) as client:
        responses = until_refused(lambda: client.get("/api/v1/contacts", headers=anna), READS)
        assert [r.status_code for r in responses[:READS]] == [200] * READS
        refused = responses[-1]
        assert refused.status_code == 429
        assert refused.json()["error"]["code"] == "rate_limited"
        assert 1 <= int(refused.headers["Retry-After"]) <= 60
        assert refused.headers["X-Request-ID"]
        assert client.get("/api/v1/contacts", headers=ben).status_code == 200, \
            "another identity has its own budget"


def test_writes_have_a_stricter_limit(strict_gateway, gateway_on_fakes):
    carla = bearer(dev_token(gateway_on_fakes.url, "carla-rl", "koeln", ["member"]))
    with httpx.Client(base_url=strict_gateway.url, timeout=10) as client:
        responses = until_refused(
            lambda: client.post("/api/v1/offers", json={"title": "t"}, headers=carla), WRITES)
        assert [r.status_code for r in responses[:WRITES]] == [200] * WRITES
        assert responses[-1].status_code == 429
        assert responses[-1].json()["error"]["details"]["bucket"] == "writes"
        assert client.get("/api/v1/contacts", headers=carla).status_code == 200


def test_anonymous_callers_are_limited_per_ip(strict_gateway):
    with httpx.Client(base_url=strict_gateway.url, timeout=10) as client:
        responses = until_refused(lambda: client.get("/api/v1/tenants"), READS)
        assert responses[-1].status_code == 429


def test_without_redis_requests_pass_and_readiness_says_why(engines, fake_services):
    gateway = start_gateway(engines, "gateway-no-redis", {
        **fake_service_urls(fake_services), "RATE_LIMIT_PER_MINUTE": "2",
        "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"}, ready_path="/healthz")
    try:
        with httpx.Client(base_url=gateway.url, timeout=10) as client:
            statuses = [client.get("/api/v1/tenants").status_code for _ in range(6)]
            assert statuses == [200] * 6, "fail open: availability over strictness"
            ready = client.get("/readyz")
            # Rate limiting fails open, so the gateway stays ready; the details say why.
            assert ready.status_code == 200 and ready.json()["dependencies"]["redis"] != "ok"
            assert "RateLimit-Limit" not in client.get("/api/v1/tenants").headers
        assert "rate_limit_fail_open" in gateway.log()
    finally:
        gateway.stop()
