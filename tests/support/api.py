"""A small client of the public API for end-to-end tests: log in, create things, search."""
from __future__ import annotations

import uuid

import httpx


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


class PublicApi:
    def __init__(self, gateway_url: str):
        self.http = httpx.Client(base_url=gateway_url + "/api/v1", timeout=20)

    def close(self) -> None:
        self.http.close()

    def login(self, sub: str, tenant: str, *roles: str) -> dict[str, str]:
        answer = self.http.post("/auth/dev-token", json={
            "sub": sub, "tenant": tenant, "roles": list(roles or ("member",))})
        assert answer.status_code == 200, answer.text
        return {"Authorization": f"Bearer {answer.json()['access_token']}"}

    def new_tenant(self, name: str, centre: dict, **extra) -> str:
        slug = name.lower().translate(str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", " ": "-"}))
        tenant = unique(slug)[:40]
        operator = self.login("land-operator", "land", "operator")
        created = self.http.post("/tenants", json={"id": tenant, "name": name, "center": centre,
                                                   **extra}, headers=operator)
        assert created.status_code == 201, created.text
        return tenant

    def new_actor(self, headers: dict, *, type: str, name: str, location: dict,
                  email: str | None = None) -> str:
        created = self.http.post("/actors", json={
            "type": type, "name": name, "location": location,
            "email": email or f"{unique('mail')}@example.org"}, headers=headers)
        assert created.status_code == 201, created.text
        return created.json()["id"]

    def search_ids(self, headers: dict | None = None, **query) -> list[str]:
        answer = self.http.get("/search", params=query, headers=headers or {})
        assert answer.status_code == 200, answer.text
        return [item["id"] for item in answer.json()["items"]]


def item_body(actor_id: str, location: dict, **overrides) -> dict:
    body = {"actor_id": actor_id, "title": "Hilfe beim Sommerfest im Quartier",
            "description": "Wir suchen Menschen, die beim Aufbau und an der Kuchentheke helfen.",
            "categories": ["neighbourhood"], "skills": ["aufbau"], "requirements": [],
            "engagement": "spontaneous", "location": location, "radius_km": 15,
            "remote": False, "schedule": {"dates": [], "weekly": []}, "capacity": 3,
            "visibility": "state"}
    body.update(overrides)
    return body
