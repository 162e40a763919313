"""The demo data loads through the real API, and loading it again changes nothing."""
from __future__ import annotations

from datetime import datetime

from deploy.local.demo_data import BERLIN, TOWNS, geography, plan, seed
from tests.support.identity import identity_headers


async def test_demo_seeding_is_complete_and_idempotent(profiles, profiles_stack):
    messages: list[str] = []
    first = await seed(profiles_stack.url("profiles"), progress=messages.append,
                       keys=profiles_stack.keys_for("gateway"))
    tenants = {t["id"]: t for t in (await profiles.http.get("/tenants")).json()["items"]}
    assert {town.slug for town in TOWNS} <= set(tenants)
    assert tenants["koeln"]["name"] == "Köln"
    assert "muenster" in tenants["senden"]["neighbours"]
    assert "senden" in tenants["muenster"]["neighbours"]  # symmetric
    assert abs(tenants["coesfeld"]["center"]["lat"] - 51.94) < 0.05
    if not first["already_present"]:  # another test of the session may have seeded already
        assert f"tenants {len(TOWNS)}/{len(TOWNS)}" in messages
        assert any(m.startswith("actors ") and "items" in m for m in messages)
        assert 30 <= first["actors"] <= 60 and 100 <= first["items"] <= 200
        assert first["shifts"] >= 10  # organisations' first needs have dates to sign up for

    # Each demo actor acts through its own identity and owns its items.
    planned = plan(geography(), datetime.now(BERLIN).date())
    own = (await profiles.http.get("/me/export",
                                   headers=identity_headers("profiles", planned[0].identity))).json()
    assert [a["name"] for a in own["actors"]] == [planned[0].body["name"]]
    items = own["offers"] + own["needs"]
    assert len(items) == len(planned[0].items)
    assert all(i["tenant"] == planned[0].town.slug and i["status"] == "published" for i in items)

    messages.clear()
    second = await seed(profiles_stack.url("profiles"), progress=messages.append,
                        keys=profiles_stack.keys_for("gateway"))
    assert second == {"tenants": 0, "actors": 0, "items": 0, "shifts": 0,
                      "already_present": True}
    assert messages == ["demo data is already present; nothing to do"]
