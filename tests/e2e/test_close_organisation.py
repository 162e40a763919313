"""Closing an organisation, end to end on the real stack: a person who runs a Verein alone cannot
delete the account (409) until they close the Verein; only an owner may close it (others get
403 and nothing changes); once closed, its need and its profile leave search, its match is
withdrawn, and the person's own `DELETE /me` goes through."""
from __future__ import annotations

import pytest

from tests.support.api import PublicApi, item_body, unique
from tests.support.waiting import eventually_sync

pytestmark = pytest.mark.e2e
LUEDINGHAUSEN = {"lat": 51.7686, "lon": 7.4432}
HERE = {"lat": LUEDINGHAUSEN["lat"], "lon": LUEDINGHAUSEN["lon"], "radius_km": 10}


@pytest.fixture(scope="module")
def api(stack):
    client = PublicApi(stack.url("gateway"))
    yield client
    client.close()


def _pairs(api: PublicApi, offer_id: str, headers: dict) -> set[tuple[str, str]]:
    answer = api.http.get(f"/offers/{offer_id}/matches", headers=headers)
    assert answer.status_code == 200, answer.text
    return {(m["offer_id"], m["need_id"]) for m in answer.json()["items"]}


def test_the_sole_owner_closes_the_verein_and_can_then_delete_the_account(stack, api):
    tenant = api.new_tenant("Lüdinghausen", LUEDINGHAUSEN)
    # A plain member (no org_admin): they could not even add another owner, so closing is
    # their only way out.
    founder = api.login(unique("founder"), tenant)
    neighbour = api.login(unique("neighbour"), tenant)
    tenant_admin = api.login(unique("admin"), tenant, "tenant_admin")
    founder_id = api.new_actor(founder, type="person", name="Greta Gründerin",
                               location=LUEDINGHAUSEN)
    verein_name = f"Burgverein {unique('lh')}"
    verein_id = api.new_actor(founder, type="association", name=verein_name,
                              location=LUEDINGHAUSEN)
    need = api.http.post("/needs", json=item_body(verein_id, LUEDINGHAUSEN,
                                                  title="Helfende für das Burgfest"),
                         headers=founder)
    assert need.status_code == 201, need.text
    need_id = need.json()["id"]
    helper_id = api.new_actor(neighbour, type="person", name="Nils Nachbar",
                              location=LUEDINGHAUSEN)
    offer = api.http.post("/offers", json=item_body(helper_id, LUEDINGHAUSEN,
                                                    title="Ich helfe beim Aufbau"),
                          headers=neighbour)
    assert offer.status_code == 201, offer.text
    offer_id = offer.json()["id"]
    eventually_sync(lambda: need_id in api.search_ids(neighbour, kind="need", **HERE),
                    timeout_s=60, interval_s=0.5, message="the need in search")
    eventually_sync(lambda: verein_id in api.search_ids(neighbour, kind="actor", **HERE),
                    timeout_s=60, interval_s=0.5, message="the Verein in search")
    eventually_sync(lambda: (offer_id, need_id) in _pairs(api, offer_id, neighbour),
                    timeout_s=60, interval_s=0.5, message="the match")

    # The last owner cannot delete the account, and is told the way out.
    refused = api.http.delete("/me", headers=founder)
    assert refused.status_code == 409, refused.text
    error = refused.json()["error"]
    assert error["code"] == "last_owner_of_organisations"
    assert "close the organisation" in error["message"]
    assert [org["id"] for org in error["details"]] == [verein_id]

    # Nobody but an owner closes it: not a neighbour, not the municipality's admin.
    for stranger in (neighbour, tenant_admin):
        answer = api.http.delete(f"/actors/{verein_id}", headers=stranger)
        assert answer.status_code == 403, answer.text
        assert answer.json()["error"]["code"] == "forbidden"
    assert api.http.delete(f"/actors/{unique('nope')}", headers=founder).status_code == 404
    assert api.http.delete(f"/actors/{verein_id}").status_code == 401
    assert api.http.get(f"/actors/{verein_id}", headers=founder).json()["owners"] != []
    assert api.http.get(f"/needs/{need_id}", headers=founder).json()["status"] == "published"
    assert need_id in api.search_ids(neighbour, kind="need", **HERE), "nothing changed"

    closed = api.http.delete(f"/actors/{verein_id}", headers=founder)
    assert closed.status_code == 200, closed.text
    assert closed.json() == {"id": verein_id, "type": "association", "closed_items": [need_id]}
    assert api.http.get(f"/actors/{verein_id}", headers=neighbour).status_code == 404
    assert api.http.delete(f"/actors/{verein_id}", headers=founder).status_code == 404, \
        "a repeated call finds it gone"
    eventually_sync(lambda: need_id not in api.search_ids(neighbour, kind="need", **HERE),
                    timeout_s=60, interval_s=0.5, message="the need leaving search")
    eventually_sync(lambda: verein_id not in api.search_ids(neighbour, kind="actor", **HERE),
                    timeout_s=60, interval_s=0.5, message="the Verein leaving search")
    eventually_sync(lambda: (offer_id, need_id) not in _pairs(api, offer_id, neighbour),
                    timeout_s=60, interval_s=0.5, message="the match withdrawn")

    erased = api.http.delete("/me", headers=founder)
    assert erased.status_code == 200, erased.text
    assert erased.json()["erased_actors"] == [founder_id]
    assert api.http.get(f"/actors/{helper_id}", headers=neighbour).status_code == 200, \
        "the other side stays"
