"""GDPR: a caller exports everything about them and erases their person profiles."""
from __future__ import annotations

from tests.integration.profiles.conftest import identity, sub_of, unique, wait_for_events
from tests.support.identity import service_headers


async def test_export_contains_own_actors_and_items(profiles):
    tenant = await profiles.tenant()
    me = identity(unique("me"), tenant["id"], "member", "org_admin")
    person = await profiles.actor(me, type="person", name="Max Muster", email="max@example.org")
    club = await profiles.actor(me, type="association", name="Heimatverein")
    offer = await profiles.item("offer", me, person["id"])
    need = await profiles.item("need", me, club["id"], title="Helfer für das Schützenfest")

    exported = await profiles.http.get("/me/export", headers=me)
    assert exported.status_code == 200
    body = exported.json()
    assert body["sub"] == sub_of(me)
    assert {a["id"] for a in body["actors"]} == {person["id"], club["id"]}
    assert {a["email"] for a in body["actors"]} == {"max@example.org", "vorstand@sv-test.example"}
    assert [o["id"] for o in body["offers"]] == [offer["id"]]
    assert [n["id"] for n in body["needs"]] == [need["id"]]
    assert (await profiles.http.get("/me/export")).status_code == 401


async def test_erasure_removes_person_profiles_and_leaves_organisations(profiles, profiles_db,
                                                                         topic_log):
    tenant = await profiles.tenant()
    me = identity(unique("me"), tenant["id"], "member", "org_admin")
    colleague = identity(unique("colleague"), tenant["id"], "member", "org_admin")
    person = await profiles.actor(me, type="person", name="Erika Mustermann",
                                  email="erika@example.org", place_name="Musterweg 1")
    club = await profiles.actor(colleague, type="association", name="Tafel e.V.")
    await profiles.http.post(f"/actors/{club['id']}/members", headers=colleague,
                             json={"sub": sub_of(me)})
    offers = [await profiles.item("offer", me, person["id"], title=f"Nachhilfe Mathe {n}",
                                  visibility="state") for n in range(2)]

    erased = await profiles.http.delete("/me", headers=me)
    assert erased.status_code == 200, erased.text
    assert erased.json() == {"erased_actors": [person["id"]], "left_actors": [club["id"]],
                             "closed_items": sorted(o["id"] for o in offers)}

    assert (await profiles.http.get(f"/actors/{person['id']}")).status_code == 404
    assert await profiles_db.actors.find_one({"_id": person["id"]}) is None
    stored = await profiles_db.items.find_one({"_id": offers[0]["id"]})
    assert stored["status"] == "closed" and "Nachhilfe" not in stored["title"]
    assert stored["location"] == tenant["center"]
    remaining = (await profiles.http.get(f"/actors/{club['id']}", headers=colleague)).json()
    assert remaining["owners"] == [sub_of(colleague)]
    assert (await profiles.http.get("/me/export", headers=me)).json()["actors"] == []

    events = await wait_for_events(topic_log, subject=person["id"], count=2)
    assert events[-1]["type"] == "actor.erased"
    assert sorted(events[-1]["data"]["item_ids"]) == sorted(o["id"] for o in offers)
    closed = await wait_for_events(topic_log, subject=offers[0]["id"], count=2)
    assert closed[-1]["type"] == "offer.closed" and "Nachhilfe" not in closed[-1]["data"]["title"]

    # Nothing left to erase: a repeated call changes nothing.
    assert (await profiles.http.delete("/me", headers=me)).json() == {
        "erased_actors": [], "left_actors": [], "closed_items": []}


async def test_internal_export_pages_through_everything_in_id_order(profiles):
    tenant = await profiles.tenant()
    owner, actor = await profiles.member_with_actor(tenant["id"])
    needs = [await profiles.item("need", owner, actor["id"], title=f"Bedarf {n}") for n in range(3)]
    await profiles.http.delete(f"/needs/{needs[1]['id']}", headers=owner)

    as_search = service_headers("profiles", caller="search")  # internal: services only
    seen, after = [], None
    while True:
        params = {"limit": 2, **({"after": after} if after else {})}
        page = (await profiles.http.get("/internal/export/needs", params=params,
                                        headers=as_search)).json()
        seen += page["items"]
        after = page["next"]
        if after is None:
            break
    ids = [n["id"] for n in seen]
    assert ids == sorted(ids) and {n["id"] for n in needs} <= set(ids)
    by_id = {n["id"]: n for n in seen}
    assert by_id[needs[1]["id"]]["status"] == "closed"
    assert all(n["kind"] == "need" for n in seen)

    actors = (await profiles.http.get("/internal/export/actors", headers=as_search,
                                      params={"after": actor["id"][:-1], "limit": 1000})).json()
    assert actor["id"] in {a["id"] for a in actors["items"]}
    assert (await profiles.http.get("/internal/export/secrets",
                                    headers=as_search)).status_code == 422
    assert (await profiles.http.get("/internal/export/needs", headers=as_search,
                                    params={"limit": 5000})).status_code == 422
    schema = (await profiles.http.get("/openapi.json")).json()
    assert not [path for path in schema["paths"] if path.startswith("/internal")]


async def test_organisation_profiles_are_public_and_private_persons_need_a_sign_in(profiles):
    tenant = await profiles.tenant()
    me = identity(unique("me"), tenant["id"], "member", "org_admin")
    neighbour = identity(unique("neighbour"), tenant["id"], "member")
    club = await profiles.actor(me, type="association", name="Heimatverein")
    person = await profiles.actor(me, type="person", name="Max Muster", email="max@example.org")

    public = await profiles.http.get(f"/actors/{club['id']}")
    assert public.status_code == 200
    assert public.json()["name"] == "Heimatverein"
    assert "email" not in public.json() and "owners" not in public.json()

    anonymous = await profiles.http.get(f"/actors/{person['id']}")
    assert anonymous.status_code == 401 and "Max Muster" not in anonymous.text
    signed_in = (await profiles.http.get(f"/actors/{person['id']}", headers=neighbour)).json()
    assert signed_in["name"] == "Max Muster" and "email" not in signed_in


async def test_an_organisation_shows_its_logo_and_a_person_cannot_publish_a_picture(profiles):
    tenant = await profiles.tenant()
    me = identity(unique("me"), tenant["id"], "member", "org_admin")
    club = await profiles.actor(me, type="association", name="Heimatverein")
    logo = "https://heimatverein.example/logo.png"
    changed = await profiles.http.patch(f"/actors/{club['id']}", headers=me,
                                        json={"logo_url": logo, "version": club["version"]})
    assert changed.status_code == 200, changed.text
    assert (await profiles.http.get(f"/actors/{club['id']}")).json()["logo_url"] == logo
    for bad in ("javascript:alert(1)", "data:text/html;base64,PGgxPg=="):
        refused = await profiles.http.patch(f"/actors/{club['id']}", headers=me,
                                            json={"logo_url": bad})
        assert refused.status_code == 422, bad
        assert refused.json()["error"]["details"][0]["field"] == "logo_url"

    person = await profiles.actor(me, type="person", name="Max Muster")
    refused = await profiles.http.patch(f"/actors/{person['id']}", headers=me,
                                        json={"logo_url": logo})
    assert refused.status_code == 422
    assert refused.json()["error"]["details"][0]["field"] == "logo_url"
    assert (await profiles.http.get(f"/actors/{person['id']}", headers=me)).json()["logo_url"] is None


async def test_my_actors_lists_exactly_the_profiles_i_own(profiles):
    tenant = await profiles.tenant()
    me = identity(unique("me"), tenant["id"], "member", "org_admin")
    other = identity(unique("other"), tenant["id"], "member", "org_admin")
    person = await profiles.actor(me, type="person", name="Max Muster", email="max@example.org")
    club = await profiles.actor(me, type="association", name="Heimatverein")
    await profiles.actor(other, type="association", name="Schützenverein")

    mine = await profiles.http.get("/me/actors", headers=me)
    assert mine.status_code == 200
    assert [(a["id"], a["email"]) for a in mine.json()["items"]] == sorted(
        [(person["id"], "max@example.org"), (club["id"], "vorstand@sv-test.example")])
    assert (await profiles.http.get("/me/actors")).status_code == 401
