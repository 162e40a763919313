"""Gateway test processes: a stand-in for the services, and gateways with special settings."""
from __future__ import annotations

import httpx
import pytest

from tests.integration.gateway.support import (
    fake_service_urls, start_fake_services, start_gateway,
)

CORS_ORIGIN = "https://ui.example.org"


@pytest.fixture(scope="session")
def fake_services(engines):
    process = start_fake_services(engines)
    yield process
    process.stop()


@pytest.fixture(scope="session")
def gateway_on_fakes(engines, fake_services):
    """A gateway in front of the stand-in services."""
    env = {**fake_service_urls(fake_services), "UPSTREAM_TIMEOUT_S": "1.5",
           "CORS_ORIGINS": CORS_ORIGIN,
           "MAX_BODY_BYTES": str(64 * 1024)}
    process = start_gateway(engines, "gateway-on-fakes", env)
    yield process
    process.stop()


@pytest.fixture
def client(gateway_on_fakes):
    with httpx.Client(base_url=gateway_on_fakes.url, timeout=15) as http:
        yield http
