"""Tenants, actors, offers and needs over HTTP against the real profiles service."""
from __future__ import annotations

from datetime import datetime, timedelta

from tests.integration.profiles.conftest import (
    identity, in_days, offer_body, operator, sub_of, unique,
)


async def test_tenants_are_created_listed_and_neighbours_are_symmetric(profiles):
    first = await profiles.tenant(name="Erststadt", categories=["sport", "social"])
    second = await profiles.tenant(neighbours=[first["id"]], name="Zweitdorf",
                                   branding={"display_name": "Zweitdorf hilft",
                                             "primary_color": "#0055AA"},
                                   matching_weights={"distance": 2.0})
    assert second["version"] == 1 and second["neighbours"] == [first["id"]]
    assert second["branding"]["primary_color"] == "#0055aa"

    mirrored = (await profiles.http.get(f"/tenants/{first['id']}")).json()
    assert mirrored["neighbours"] == [second["id"]] and mirrored["version"] == 2

    listed = (await profiles.http.get("/tenants")).json()["items"]
    assert {first["id"], second["id"]} <= {t["id"] for t in listed}

    again = await profiles.http.post("/tenants", headers=operator(), json={
        "id": first["id"], "name": "Doppelt", "center": {"lat": 50.0, "lon": 7.0}})
    assert again.status_code == 409

    # Removing the neighbour on one side removes it on the other, too.
    admin = identity("admin-2", second["id"], "tenant_admin")
    changed = await profiles.http.patch(f"/tenants/{second['id']}", headers=admin,
                                        json={"neighbours": [], "version": 1})
    assert changed.status_code == 200, changed.text
    assert changed.json()["neighbours"] == [] and changed.json()["version"] == 2
    assert (await profiles.http.get(f"/tenants/{first['id']}")).json()["neighbours"] == []


async def test_only_operators_create_tenants_and_admins_change_only_their_own(profiles):
    own = await profiles.tenant()
    other = await profiles.tenant()
    body = {"id": unique("t"), "name": "Nicht erlaubt", "center": {"lat": 51.0, "lon": 7.0}}
    member = identity("someone", own["id"], "member", "tenant_admin")
    assert (await profiles.http.post("/tenants", json=body, headers=member)).status_code == 403
    assert (await profiles.http.post("/tenants", json=body)).status_code == 401

    forbidden = await profiles.http.patch(f"/tenants/{other['id']}", headers=member,
                                          json={"name": "Übernommen", "version": 1})
    assert forbidden.status_code == 403
    assert (await profiles.http.get(f"/tenants/{other['id']}")).json()["name"] == "Testhausen"

    unknown = await profiles.http.post("/tenants", headers=operator(), json={
        **body, "neighbours": ["does-not-exist"]})
    assert unknown.status_code == 422
    assert unknown.json()["error"]["details"][0]["field"] == "neighbours.0"


async def test_actor_registration_keeps_email_private(profiles):
    tenant = await profiles.tenant()
    owner = identity(unique("anna"), tenant["id"])
    actor = await profiles.actor(owner, type="person", name="Anna Beispiel",
                                 email="Anna@Example.org",
                                 location={"lat": 51.94349, "lon": 7.16809}, locale="de")
    assert actor["tenant"] == tenant["id"] and actor["owners"] == [sub_of(owner)]
    assert actor["email"] == "anna@example.org" and actor["version"] == 1

    seen_by_owner = (await profiles.http.get(f"/actors/{actor['id']}", headers=owner)).json()
    assert seen_by_owner["email"] == "anna@example.org"
    stranger = identity("stranger", tenant["id"])
    public = (await profiles.http.get(f"/actors/{actor['id']}", headers=stranger)).json()
    assert "email" not in public and "owners" not in public
    assert public["name"] == "Anna Beispiel"
    assert public["location"] == {"lat": 51.94, "lon": 7.17}  # a person: about 1 km
    # Without signing in, a private person's profile is not shown at all.
    assert (await profiles.http.get(f"/actors/{actor['id']}")).status_code == 401

    changed = await profiles.http.patch(f"/actors/{actor['id']}", headers=owner,
                                        json={"name": "Anna B.", "version": 1})
    assert changed.status_code == 200 and changed.json()["version"] == 2
    stale = await profiles.http.patch(f"/actors/{actor['id']}", headers=owner,
                                      json={"name": "Anna C.", "version": 1})
    assert stale.status_code == 409
    assert stale.json()["error"]["code"] == "version_conflict"
    assert stale.json()["error"]["details"]["current_version"] == 2
    foreign = await profiles.http.patch(f"/actors/{actor['id']}", headers=stranger,
                                        json={"name": "Gekapert", "version": 2})
    assert foreign.status_code == 403

    nowhere = await profiles.http.post("/actors", headers=identity("x", unique("no-tenant")), json={
        "type": "person", "name": "Niemand", "email": "n@example.org",
        "location": {"lat": 51.0, "lon": 7.0}})
    assert nowhere.status_code == 422


async def test_offer_lifecycle_with_versions(profiles):
    tenant = await profiles.tenant()
    owner, actor = await profiles.member_with_actor(tenant["id"])
    offer = await profiles.item("offer", owner, actor["id"])
    assert offer["kind"] == "offer" and offer["status"] == "published"
    assert offer["version"] == 1 and offer["capacity_left"] == 2
    assert offer["tenant"] == tenant["id"] and offer["actor_type"] == "association"
    # Weekly windows: ongoing, for 180 days after its owners last changed it.
    assert datetime.fromisoformat(offer["expires_at"]) == \
        datetime.fromisoformat(offer["created_at"]) + timedelta(days=180)
    assert offer["schedule"]["weekly"] == [{"day": "sat", "start": "09:00", "end": "12:00"}]

    fetched = await profiles.http.get(f"/offers/{offer['id']}", headers=owner)
    assert fetched.status_code == 200 and fetched.json() == offer
    # An offer is not a need.
    assert (await profiles.http.get(f"/needs/{offer['id']}", headers=owner)).status_code == 404

    changed = await profiles.http.patch(f"/offers/{offer['id']}", headers=owner,
                                        json={"title": "Einkaufshilfe am Samstag", "capacity": 3,
                                              "version": 1})
    assert changed.status_code == 200, changed.text
    assert changed.json()["version"] == 2 and changed.json()["capacity_left"] == 3
    assert changed.json()["title"] == "Einkaufshilfe am Samstag"

    by_header = await profiles.http.patch(f"/offers/{offer['id']}", json={"remote": True},
                                          headers={**owner, "If-Match": '"2"'})
    assert by_header.status_code == 200 and by_header.json()["version"] == 3

    stale = await profiles.http.patch(f"/offers/{offer['id']}", headers=owner,
                                      json={"title": "Zu spät", "version": 2})
    assert stale.status_code == 409
    assert stale.json()["error"] == {
        "code": "version_conflict", "message": stale.json()["error"]["message"],
        "details": {"current_version": 3, "given_version": 2}}
    missing_version = await profiles.http.patch(f"/offers/{offer['id']}", headers=owner,
                                                json={"title": "Ohne Version"})
    assert missing_version.status_code == 422
    assert missing_version.json()["error"]["details"][0]["field"] == "version"

    closed = await profiles.http.delete(f"/offers/{offer['id']}", headers=owner)
    assert closed.status_code == 200
    assert closed.json()["status"] == "closed" and closed.json()["version"] == 4
    again = await profiles.http.delete(f"/offers/{offer['id']}", headers=owner)
    assert again.status_code == 200 and again.json()["version"] == 4
    late = await profiles.http.patch(f"/offers/{offer['id']}", headers=owner,
                                     json={"title": "Wieder da?", "version": 4})
    assert late.status_code == 409 and late.json()["error"]["code"] == "item_not_open"


async def test_needs_are_listed_for_their_actor_and_owner(profiles):
    tenant = await profiles.tenant()
    owner, actor = await profiles.member_with_actor(tenant["id"], type="education",
                                                    name="Kita Sonnenschein")
    needs = [await profiles.item("need", owner, actor["id"], title=f"Vorlesepate {n}",
                                 categories=["children_youth"], visibility="state")
             for n in range(3)]
    await profiles.http.delete(f"/needs/{needs[0]['id']}", headers=owner)

    own = (await profiles.http.get("/needs", headers=owner)).json()
    assert sorted(i["id"] for i in own["items"]) == sorted(n["id"] for n in needs)
    page = (await profiles.http.get("/needs", params={"actor_id": actor["id"], "limit": 2},
                                    headers=owner)).json()
    assert len(page["items"]) == 2 and page["next"] == page["items"][-1]["id"]
    rest = (await profiles.http.get("/needs", params={"actor_id": actor["id"],
                                                      "after": page["next"]},
                                    headers=owner)).json()
    assert len(rest["items"]) == 1 and rest["next"] is None

    anonymous = (await profiles.http.get("/needs", params={"actor_id": actor["id"]})).json()
    assert sorted(i["id"] for i in anonymous["items"]) == sorted(n["id"] for n in needs[1:])
    closed_only = (await profiles.http.get("/needs", params={"actor_id": actor["id"],
                                                             "status": "closed"},
                                           headers=owner)).json()
    assert [i["id"] for i in closed_only["items"]] == [needs[0]["id"]]
    assert (await profiles.http.get("/offers", headers=owner)).json()["items"] == []


async def test_members_act_for_their_organisation(profiles):
    tenant = await profiles.tenant()
    admin = identity(unique("org-admin"), tenant["id"], "member", "org_admin")
    actor = await profiles.actor(admin, type="company", name="Stadtwerke Test GmbH")
    helper = identity(unique("staff"), tenant["id"])
    assert (await profiles.http.post("/offers", json=offer_body(actor["id"]),
                                     headers=helper)).status_code == 403

    added = await profiles.http.post(f"/actors/{actor['id']}/members", headers=admin,
                                     json={"sub": sub_of(helper)})
    assert added.status_code == 200 and sub_of(helper) in added.json()["owners"]
    offer = await profiles.item("offer", helper, actor["id"], title="Social Day im Stadtpark",
                                engagement="project", categories=["environment"])
    assert offer["actor_type"] == "company"

    # A plain member cannot manage members; the admin can remove one, not the last owner.
    assert (await profiles.http.post(f"/actors/{actor['id']}/members", headers=helper,
                                     json={"sub": "x"})).status_code == 403
    removed = await profiles.http.delete(f"/actors/{actor['id']}/members/{sub_of(helper)}",
                                         headers=admin)
    assert removed.status_code == 200 and removed.json()["owners"] == [sub_of(admin)]
    last = await profiles.http.delete(f"/actors/{actor['id']}/members/{sub_of(admin)}",
                                      headers=admin)
    assert last.status_code == 409
    assert (await profiles.http.patch(f"/offers/{offer['id']}", headers=helper,
                                      json={"title": "Nicht mehr meins", "version": 1})
            ).status_code == 403


async def test_tenant_category_restriction_applies_to_new_items(profiles):
    tenant = await profiles.tenant(categories=["sport"])
    owner, actor = await profiles.member_with_actor(tenant["id"])
    refused = await profiles.http.post("/offers", headers=owner, json=offer_body(
        actor["id"], categories=["sport", "culture"]))
    assert refused.status_code == 422
    assert refused.json()["error"]["details"][0]["field"] == "categories.1"
    accepted = await profiles.item("offer", owner, actor["id"], categories=["sport"])
    assert accepted["categories"] == ["sport"]


async def test_one_off_items_expire_at_their_last_date(profiles):
    tenant = await profiles.tenant()
    owner, actor = await profiles.member_with_actor(tenant["id"])
    need = await profiles.item("need", owner, actor["id"], schedule={
        "dates": [{"start": in_days(3, 9), "end": in_days(3, 11)},
                  {"start": "2030-01-05T10:00:00", "end": "2030-01-05T12:00:00"}]})
    # Naive times are Berlin local time: 12:00 in winter is 11:00 UTC.
    assert need["expires_at"] == "2030-01-05T11:00:00Z"
    past = await profiles.http.post("/needs", headers=owner, json=offer_body(
        actor["id"], schedule={"dates": [{"start": "2020-01-01T10:00:00+01:00",
                                          "end": "2020-01-01T12:00:00+01:00"}]}))
    assert past.status_code == 422 and past.json()["error"]["details"][0]["field"] == "schedule.dates"
