"""Moderation against the real store: hide with a reason, the owner's view, the moderation
list scoped by tenant, unhide, and the events that tell the other services and the owner."""
from __future__ import annotations

from tests.integration.profiles.conftest import identity, operator, wait_for_events


async def test_hide_list_and_unhide(profiles, topic_log):
    home = (await profiles.tenant())["id"]
    elsewhere = (await profiles.tenant())["id"]
    owner, actor = await profiles.member_with_actor(home)
    offer = await profiles.item("offer", owner, actor["id"])
    need = await profiles.item("need", owner, actor["id"])
    still = await profiles.item("offer", owner, actor["id"])
    admin = identity("admin-mod", home, "tenant_admin")
    foreign_admin = identity("admin-mod", elsewhere, "tenant_admin")
    member = identity("someone", home)

    for kind, one in (("offer", offer), ("need", need)):
        hidden = await profiles.http.post(f"/{kind}s/{one['id']}/hide", headers=admin,
                                          json={"reason": "Keine Werbung, bitte"})
        assert hidden.status_code == 200, hidden.text

    # The owner sees it hidden, with the reason; everybody else does not see it at all.
    own_view = (await profiles.http.get(f"/offers/{offer['id']}", headers=owner)).json()
    assert own_view["status"] == "hidden" and own_view["hidden_reason"] == "Keine Werbung, bitte"
    assert (await profiles.http.get(f"/offers/{offer['id']}", headers=member)).status_code == 404
    assert (await profiles.http.get(f"/offers/{offer['id']}")).status_code == 404

    # The close event carries the reason (for the owner's notification).
    events = await wait_for_events(topic_log, subject=offer["id"], count=2)
    assert events[-1]["type"] == "offer.closed"
    assert events[-1]["data"]["status"] == "hidden"
    assert events[-1]["data"]["hidden_reason"] == "Keine Werbung, bitte"

    async def listed(headers, **params):
        answer = await profiles.http.get("/moderation/items", headers=headers, params=params)
        assert answer.status_code == 200, answer.text
        return answer.json()

    page = await listed(admin)
    assert sorted(i["id"] for i in page["items"]) == sorted([offer["id"], need["id"]])
    assert page["next_cursor"] is None
    assert all(i["hidden_reason"] for i in page["items"])
    assert [i["id"] for i in (await listed(admin, kind="need"))["items"]] == [need["id"]]
    assert [i["id"] for i in (await listed(admin, status="published"))["items"]] == [still["id"]]
    first = await listed(admin, limit=1)
    assert len(first["items"]) == 1 and first["next_cursor"] == first["items"][0]["id"]
    second = await listed(admin, limit=1, after=first["next_cursor"])
    assert [i["id"] for i in first["items"] + second["items"]] == \
        sorted([offer["id"], need["id"]]) and second["next_cursor"] is None
    assert (await listed(operator(), tenant=home))["items"] == page["items"]
    assert (await listed(foreign_admin))["items"] == []
    for refused, params in ((foreign_admin, {"tenant": home}), (member, {})):
        answer = await profiles.http.get("/moderation/items", headers=refused, params=params)
        assert answer.status_code == 403
    bad = await profiles.http.get("/moderation/items", headers=admin, params={"status": "gone"})
    assert bad.status_code == 422

    # Unhide: moderators of the item's tenant only.
    for refused in (member, owner):
        answer = await profiles.http.post(f"/offers/{offer['id']}/unhide", headers=refused)
        assert answer.status_code in (403, 404)
    assert (await profiles.http.post(f"/offers/{offer['id']}/unhide", headers=foreign_admin)
            ).status_code == 404
    back = await profiles.http.post(f"/offers/{offer['id']}/unhide", headers=admin)
    assert back.status_code == 200, back.text
    assert back.json()["status"] == "published" and "hidden_reason" not in back.json()
    assert back.json()["version"] == 3
    assert (await profiles.http.get(f"/offers/{offer['id']}", headers=member)).status_code == 200
    events = await wait_for_events(topic_log, subject=offer["id"], count=3)
    assert events[-1]["type"] == "offer.published" and events[-1]["data"]["version"] == 3
    assert events[-1]["data"]["hidden_reason"] is None

    closed = await profiles.http.delete(f"/needs/{need['id']}", headers=admin)
    assert closed.status_code == 200
    refused = await profiles.http.post(f"/needs/{need['id']}/unhide", headers=admin)
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "invalid_transition"


async def test_an_owner_pauses_edits_and_resumes_an_item(profiles, topic_log):
    home = (await profiles.tenant())["id"]
    owner, actor = await profiles.member_with_actor(home)
    need = await profiles.item("need", owner, actor["id"])
    member = identity("someone-else", home)

    assert (await profiles.http.post(f"/needs/{need['id']}/pause",
                                     headers=member)).status_code in (403, 404)
    paused = await profiles.http.post(f"/needs/{need['id']}/pause", headers=owner)
    assert paused.status_code == 200 and paused.json()["status"] == "paused"
    events = await wait_for_events(topic_log, subject=need["id"], count=2)
    # A close event (search and matching drop it, its suggestions are withdrawn) saying why.
    assert (events[-1]["type"], events[-1]["data"]["status"]) == ("need.closed", "paused")
    assert (await profiles.http.get(f"/needs/{need['id']}", headers=member)).status_code == 404
    assert (await profiles.http.get(f"/needs/{need['id']}", headers=owner)).json()["status"] == "paused"

    # Paused, it can still be changed by its owners, and stays paused.
    edited = await profiles.http.patch(f"/needs/{need['id']}", headers=owner,
                                       json={"title": "Helfende für den Herbstmarkt",
                                             "version": paused.json()["version"]})
    assert edited.status_code == 200, edited.text
    assert edited.json()["status"] == "paused"

    resumed = await profiles.http.post(f"/needs/{need['id']}/resume", headers=owner)
    assert resumed.status_code == 200 and resumed.json()["status"] == "published"
    events = await wait_for_events(topic_log, subject=need["id"], count=4)
    assert (events[-1]["type"], events[-1]["data"]["status"]) == ("need.published", "published")
    assert (await profiles.http.get(f"/needs/{need['id']}", headers=member)).status_code == 200
    closed = await profiles.http.delete(f"/needs/{need['id']}", headers=owner)
    assert closed.status_code == 200
    again = await profiles.http.post(f"/needs/{need['id']}/resume", headers=owner)
    assert again.status_code == 409 and again.json()["error"]["code"] == "invalid_transition"
