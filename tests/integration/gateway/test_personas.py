"""Dev sign-in personas through the gateway, against the seeded demo data."""
from __future__ import annotations

import asyncio

import httpx
import pytest

from deploy.local.demo_data import seed

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def platform(services):
    return services("profiles", "profiles-relay", "search", "gateway")


def test_personas_name_the_actors_the_seed_created(platform):
    asyncio.run(seed(platform.url("profiles"), progress=lambda _message: None,
                     keys=platform.keys_for("gateway")))
    with httpx.Client(base_url=platform.url("gateway") + "/api/v1", timeout=30) as api:
        answer = api.get("/auth/personas")
        assert answer.status_code == 200, answer.text
        listed = answer.json()["items"]
        kinds = {p["kind"] for p in listed}
        assert kinds == {"volunteer", "association", "company", "tenant_admin", "operator"}
        for persona in listed:
            if persona["kind"] in ("tenant_admin", "operator"):
                assert persona["actor_id"] is None
                continue
            assert persona["actor_id"], persona
        # Signing in as a persona: it owns its actor (owners are shown to owners only).
        verein = next(p for p in listed if p["kind"] == "association" and p["tenant"] == "koeln")
        token = api.post("/auth/dev-token", json={k: verein[k] for k in ("sub", "tenant", "roles")})
        assert token.status_code == 200, token.text
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        actor = api.get(f"/actors/{verein['actor_id']}", headers=headers).json()
        assert verein["sub"] in actor["owners"] and actor["type"] == "association"
        own_offers = api.get("/offers", headers=headers).json()["items"]
        own_needs = api.get("/needs", headers=headers).json()["items"]
        assert own_offers or own_needs
