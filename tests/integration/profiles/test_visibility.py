"""Who sees and changes which offers and needs: visibility levels and tenant isolation."""
from __future__ import annotations

import pytest

from tests.integration.profiles.conftest import identity, sub_of


@pytest.fixture
async def region(profiles):
    """Home with a neighbour, and a distant tenant; one offer per visibility level in Home."""
    home = await profiles.tenant(name="Heimstadt")
    neighbour = await profiles.tenant(name="Nachbarort", neighbours=[home["id"]])
    distant = await profiles.tenant(name="Fernstadt")
    owner, actor = await profiles.member_with_actor(home["id"])
    offers = {level: await profiles.item("offer", owner, actor["id"], visibility=level,
                                         title=f"Angebot ({level})")
              for level in ("tenant", "region", "state")}
    return {"home": home["id"], "neighbour": neighbour["id"], "distant": distant["id"],
            "owner": owner, "actor": actor, "offers": offers}


async def _visible(profiles, headers: dict, offers: dict) -> set[str]:
    seen = set()
    for level, offer in offers.items():
        response = await profiles.http.get(f"/offers/{offer['id']}", headers=headers)
        assert response.status_code in (200, 404), response.text
        if response.status_code == 200:
            seen.add(level)
    return seen


async def test_visibility_levels(profiles, region):
    offers = region["offers"]
    same_tenant = identity("nachbarin", region["home"])
    from_neighbour = identity("gast", region["neighbour"])
    from_afar = identity("fremd", region["distant"])
    assert await _visible(profiles, region["owner"], offers) == {"tenant", "region", "state"}
    assert await _visible(profiles, same_tenant, offers) == {"tenant", "region", "state"}
    assert await _visible(profiles, from_neighbour, offers) == {"region", "state"}
    assert await _visible(profiles, from_afar, offers) == {"state"}
    assert await _visible(profiles, {}, offers) == {"state"}
    assert await _visible(profiles, identity("op", "land", "operator"), offers) == \
        {"tenant", "region", "state"}

    listed = (await profiles.http.get("/offers", params={"actor_id": region["actor"]["id"]},
                                      headers=from_neighbour)).json()["items"]
    assert {i["visibility"] for i in listed} == {"region", "state"}
    by_tenant = (await profiles.http.get("/offers", params={"tenant": region["home"]},
                                         headers=from_afar)).json()["items"]
    assert {i["visibility"] for i in by_tenant} == {"state"}


async def test_other_tenants_cannot_change_items(profiles, region):
    offer = region["offers"]["state"]
    hidden_from_them = region["offers"]["tenant"]
    stranger = identity(sub_of(region["owner"]), region["distant"])  # same sub, other tenant
    foreign_admin = identity("admin-fern", region["distant"], "tenant_admin")
    for headers in (stranger, foreign_admin):
        patch = await profiles.http.patch(f"/offers/{offer['id']}", headers=headers,
                                          json={"title": "Übernommen", "version": 1})
        assert patch.status_code == 403
        assert (await profiles.http.delete(f"/offers/{offer['id']}", headers=headers)
                ).status_code == 403
        # Tenant-only items of another tenant do not even exist for them.
        assert (await profiles.http.patch(f"/offers/{hidden_from_them['id']}", headers=headers,
                                          json={"title": "Übernommen", "version": 1})).status_code == 404
        assert (await profiles.http.get(f"/offers/{hidden_from_them['id']}", headers=headers)
                ).status_code == 404
    assert (await profiles.http.post(f"/offers/{offer['id']}/hide", headers=foreign_admin,
                                     json={"reason": "Spam"})).status_code == 403
    unchanged = (await profiles.http.get(f"/offers/{offer['id']}")).json()
    assert unchanged["version"] == 1 and unchanged["status"] == "published"

    listed = (await profiles.http.get("/offers", params={"tenant": region["home"]},
                                      headers=foreign_admin)).json()["items"]
    assert hidden_from_them["id"] not in {i["id"] for i in listed}


async def test_moderation_by_the_items_tenant(profiles, region):
    offer = region["offers"]["state"]
    admin = identity("admin-heim", region["home"], "tenant_admin")
    hidden = await profiles.http.post(f"/offers/{offer['id']}/hide", headers=admin,
                                      json={"reason": "Werbung statt Engagement"})
    assert hidden.status_code == 200
    assert hidden.json()["status"] == "hidden" and hidden.json()["version"] == 2
    assert hidden.json()["hidden_reason"] == "Werbung statt Engagement"

    # Hidden: gone for the public, still there for its owner and the admin.
    assert (await profiles.http.get(f"/offers/{offer['id']}")).status_code == 404
    assert (await profiles.http.get(f"/offers/{offer['id']}", headers=region["owner"])
            ).json()["status"] == "hidden"
    admin_list = (await profiles.http.get("/offers", params={"tenant": region["home"],
                                                             "status": "hidden"},
                                          headers=admin)).json()["items"]
    assert [i["id"] for i in admin_list] == [offer["id"]]

    member = identity("mitglied", region["home"])
    assert (await profiles.http.post(f"/offers/{region['offers']['region']['id']}/hide",
                                     headers=member, json={"reason": "x"})).status_code == 403
    closed = await profiles.http.delete(f"/offers/{region['offers']['region']['id']}",
                                        headers=admin)
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    refused = await profiles.http.post(f"/offers/{region['offers']['region']['id']}/hide",
                                       headers=admin, json={"reason": "zu spät"})
    assert refused.status_code == 409
