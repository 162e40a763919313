"""Getting matched, end to end on the real stack: a volunteer's offer meets an association's need,
both see the suggestion with its reasons, the association is told once, they get in touch by
consent, and closing the need withdraws the match."""
from __future__ import annotations

import os

import httpx
import pytest

from tests.support.api import PublicApi, item_body, unique
from tests.support.waiting import eventually_sync

pytestmark = pytest.mark.e2e
COESFELD = {"lat": 51.9458, "lon": 7.1675}
SATURDAY_MORNING = {"dates": [], "weekly": [{"day": "sat", "start": "09:00", "end": "13:00"}]}


def shifted(point: dict, km_north: float) -> dict:
    return {"lat": point["lat"] + km_north / 111.2, "lon": point["lon"]}


@pytest.fixture(scope="module")
def api(stack):
    client = PublicApi(stack.url("gateway"))
    yield client
    client.close()


def mails_to(stack, address: str) -> list[dict]:
    return httpx.get(stack.url("mail_http") + "/api/messages", params={"to": address}).json()


def match_pairs(api: PublicApi, kind: str, item_id: str, headers: dict, *,
                new: bool = False) -> dict:
    """The item's suggestions. `new`: the item was just published, and matching's directory
    may not have consumed its event yet (it is unknown there until then: 404)."""
    answer = api.http.get(f"/{kind}s/{item_id}/matches", headers=headers)
    if new and answer.status_code == 404:
        return {}
    assert answer.status_code == 200, answer.text
    return {(m["offer_id"], m["need_id"]): m for m in answer.json()["items"]}


def test_offer_meets_need_told_once_contact_by_consent_and_withdrawn_on_close(stack, api):
    tenant = api.new_tenant("Coesfeld", COESFELD)
    association_mail = f"{unique('nabu')}@example.org"
    volunteer_mail = f"{unique('jonas')}@example.org"
    association = api.login(unique("nabu-admin"), tenant, "org_admin")
    volunteer = api.login(unique("jonas"), tenant)
    association_id = api.new_actor(association, type="association", name="NABU Ortsgruppe Coesfeld",
                                   location=COESFELD, email=association_mail)
    volunteer_id = api.new_actor(volunteer, type="person", name="Jonas Beispiel",
                                 location=shifted(COESFELD, 2), email=volunteer_mail)

    need = api.http.post("/needs", json=item_body(
        association_id, COESFELD, title="Helfende für die Amphibienzaun-Aktion",
        categories=["environment", "animals"], skills=["naturschutz"], engagement="regular",
        radius_km=10, schedule=SATURDAY_MORNING), headers=association)
    assert need.status_code == 201, need.text
    need_id = need.json()["id"]
    offer = api.http.post("/offers", json=item_body(
        volunteer_id, shifted(COESFELD, 2), title="Ich packe samstags im Naturschutz mit an",
        categories=["environment"], skills=["naturschutz", "handwerk"], engagement="regular",
        radius_km=5, schedule={"dates": [], "weekly": [
            {"day": "sat", "start": "10:00", "end": "12:00"}]}), headers=volunteer)
    assert offer.status_code == 201, offer.text
    offer_id = offer.json()["id"]
    far_offer = api.http.post("/offers", json=item_body(
        volunteer_id, shifted(COESFELD, 30), title="Naturschutz-Hilfe im Münsterland",
        categories=["environment"], engagement="regular", radius_km=50,
        schedule=SATURDAY_MORNING), headers=volunteer)
    assert far_offer.status_code == 201, far_offer.text

    # Both items list the match, with reasons in both languages.
    pair = (offer_id, need_id)
    eventually_sync(lambda: pair in match_pairs(api, "need", need_id, association, new=True),
                    timeout_s=15, message="the match on the need")
    match = eventually_sync(lambda: match_pairs(api, "offer", offer_id, volunteer,
                                                new=True).get(pair),
                            timeout_s=15, message="the match on the offer")
    assert 0 < match["score"] <= 1
    factors = {reason["factor"] for reason in match["reasons"]}
    assert {"categories", "distance"} <= factors
    assert all(reason["label"]["de"] and reason["label"]["en"] for reason in match["reasons"])
    # 30 km away is outside the need's 10 km radius: never a match.
    assert far_offer.json()["id"] not in {o for o, _ in match_pairs(api, "need", need_id, association)}

    # The association is told exactly once: one e-mail, one inbox entry.
    eventually_sync(lambda: mails_to(stack, association_mail), timeout_s=60, message="the e-mail")
    inbox = eventually_sync(lambda: [n for n in api.http.get(
        "/me/notifications", headers=association).json()["items"] if n["type"] == "match.found"],
        timeout_s=60, message="the inbox entry")
    assert len(inbox) == 1 and inbox[0]["data"]["need_id"] == need_id
    mail = mails_to(stack, association_mail)
    assert len(mail) == 1, [m["subject"] for m in mail]
    assert "unsubscribe" in mail[0]["text"].lower() or "abmelden" in mail[0]["text"].lower()

    # Contact by consent: no e-mail address before acceptance, both after.
    request = api.http.post("/contacts", json={"offer_id": offer_id, "need_id": need_id,
                                               "message": "Ich helfe gern am Samstag!"},
                            headers=volunteer)
    assert request.status_code == 201, request.text
    contact_id = request.json()["id"]
    before = api.http.get(f"/contacts/{contact_id}", headers=volunteer).json()
    assert association_mail not in str(before)
    stranger = api.login(unique("stranger"), tenant)
    assert api.http.post(f"/contacts/{contact_id}/accept", headers=stranger).status_code in (403, 404)
    accepted = api.http.post(f"/contacts/{contact_id}/accept", headers=association)
    assert accepted.status_code == 200, accepted.text
    after = api.http.get(f"/contacts/{contact_id}", headers=volunteer).json()
    assert association_mail in str(after) and volunteer_mail in str(after)
    eventually_sync(lambda: len(mails_to(stack, volunteer_mail)) >= 2, timeout_s=60,
                    message="the volunteer told of the match and of the acceptance")

    # Closing the need withdraws the match from both sides.
    assert api.http.delete(f"/needs/{need_id}", headers=association).status_code == 200
    eventually_sync(lambda: pair not in match_pairs(api, "offer", offer_id, volunteer),
                    timeout_s=15, message="the withdrawn match")


def test_one_trace_spans_gateway_profiles_matching_and_notifications(stack, api, otlp_receiver):
    tenant = api.new_tenant("Dülmen", {"lat": 51.8306, "lon": 7.2783})
    centre = {"lat": 51.8306, "lon": 7.2783}
    school = api.login(unique("schule"), tenant, "org_admin")
    helper = api.login(unique("helferin"), tenant)
    school_id = api.new_actor(school, type="education", name="Grundschule Dülmen-Mitte",
                              location=centre)
    helper_id = api.new_actor(helper, type="person", name="Helga Beispiel", location=centre)
    need = api.http.post("/needs", json=item_body(
        school_id, centre, title="Lesepatinnen und Lesepaten gesucht", categories=["education"],
        engagement="regular", radius_km=10), headers=school)
    assert need.status_code == 201, need.text
    need_id = need.json()["id"]
    # A match is announced in the trace of the item event that completes the pair. Items are
    # partitioned by id, so the need's event could reach the matcher after the offer's: first
    # prove the matcher holds the need (an untraced offer matches it), then send the traced one.
    warm_up = api.http.post("/offers", json=item_body(
        helper_id, centre, title="Ich helfe bei Hausaufgaben", categories=["education"],
        engagement="regular", radius_km=10), headers=helper)
    assert warm_up.status_code == 201, warm_up.text
    eventually_sync(lambda: match_pairs(api, "need", need_id, school, new=True), timeout_s=30,
                    message="the matcher holds the need")

    trace_id = os.urandom(16).hex()
    offer = api.http.post("/offers", json=item_body(
        helper_id, centre, title="Ich lese Kindern gern vor", categories=["education"],
        engagement="regular", radius_km=10),
        headers={**helper, "traceparent": f"00-{trace_id}-{os.urandom(8).hex()}-01"})
    assert offer.status_code == 201, offer.text

    wanted = {"gateway", "profiles", "profiles-relay", "matching-worker", "notifications"}

    seen: set[str] = set()

    def services_in_trace():
        spans = otlp_receiver.trace(trace_id)
        seen.clear()
        seen.update(span.service for span in spans)
        # notifications also consumes the item event itself (to tell owners of hidden items),
        # so its presence alone does not mean the match has reached it yet.
        match_consumed = any(s.service == "notifications" and s.name.startswith("consume match.")
                             for s in spans)
        return seen >= wanted and match_consumed and spans

    try:
        spans = eventually_sync(services_in_trace, timeout_s=30,
                                message="spans of every hop in the request's trace")
    except AssertionError as exc:
        raise AssertionError(f"{exc}; services seen: {sorted(seen)}, missing: "
                             f"{sorted(wanted - seen)}") from None
    by_id = {span.span_id: span for span in spans}
    consumers = [s for s in spans if s.service == "notifications" and s.name.startswith("consume match.")]
    assert consumers, "notifications consumed the match inside the request's trace"
    # Walk up from the notification's span: the chain reaches the gateway's request span.
    span, hops = consumers[0], []
    while span is not None:
        hops.append(span.service)
        span = by_id.get(span.parent_span_id)
    assert hops[-1] == "gateway" and "matching-worker" in hops and "profiles" in hops, hops
