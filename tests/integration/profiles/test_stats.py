"""A tenant's statistics against the real store and broker: items and contact requests from
the records, matches from the `matches` topic (consumed by the relay), CSV download."""
from __future__ import annotations

import csv
import io
from datetime import timedelta

from aiokafka import AIOKafkaProducer

from platform_common.events import make_event, utcnow
from platform_common.events.models import MatchData
from tests.integration.profiles.conftest import identity, operator
from tests.integration.profiles.test_contacts import ask_for_contact, make_pair
from tests.support.waiting import eventually


def match_found(offer: dict, need: dict, *, at) -> bytes:
    side = {"offer": offer, "need": need}
    data = MatchData.model_validate({
        kind: {"id": item["id"], "actor_id": item["actor_id"], "tenant": item["tenant"],
               "title": item["title"]} for kind, item in side.items()} | {"score": 0.8})
    envelope = make_event("match.found", tenant=need["tenant"],
                          subject=f"{offer['id']}:{need['id']}", source="matching", data=data)
    return envelope.model_copy(update={"occurred_at": at}).to_bytes()


async def test_stats_count_items_matches_and_contacts(profiles, profiles_stack):
    pair = await make_pair(profiles)
    tenant = pair.tenant["id"]
    admin = identity("stats-admin", tenant, "tenant_admin")
    requested = await ask_for_contact(profiles, pair.helper_headers, pair.body())
    assert requested.status_code == 201, requested.text
    accepted = await profiles.http.post(f"/contacts/{requested.json()['id']}/accept",
                                        headers=pair.club_headers)
    assert accepted.status_code == 200, accepted.text

    # The matching service announces the pair (twice: a redelivery counts once).
    producer = AIOKafkaProducer(bootstrap_servers=profiles_stack.kafka_bootstrap, acks="all")
    await producer.start()
    try:
        found_at = utcnow() + timedelta(hours=3)
        for _ in range(2):
            await producer.send_and_wait("matches", match_found(pair.offer, pair.need, at=found_at),
                                         key=f"{pair.offer['id']}:{pair.need['id']}".encode())
    finally:
        await producer.stop()

    async def matched():
        answer = await profiles.http.get(f"/tenants/{tenant}/stats", headers=admin)
        assert answer.status_code == 200, answer.text
        stats = answer.json()
        return stats if stats["totals"]["matches_found"] else None

    stats = await eventually(matched, timeout_s=30, message="the match counted")
    totals = stats["totals"]
    assert totals == {"items_published": 2, "matches_found": 1, "contacts_requested": 1,
                      "contacts_accepted": 1,
                      "median_hours_to_first_match": totals["median_hours_to_first_match"]}
    # The first match counts: ours three hours after publishing, or the real matcher's within
    # seconds when the session's matching worker runs beside this test (the unit tests pin the
    # arithmetic).
    assert 0 <= totals["median_hours_to_first_match"] <= 3.1
    assert len(stats["by_month"]) >= 1 and stats["by_month"][-1]["items_published"] >= 1
    by_category = {row["category"]: row for row in stats["by_category"]}
    assert by_category["elderly"]["items_published"] == 2
    assert by_category["elderly"]["matches_found"] == 1
    assert by_category["elderly"]["contacts_accepted"] == 1

    exported = await profiles.http.get(f"/tenants/{tenant}/stats", headers=operator(),
                                       params={"format": "csv"})
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    assert "attachment" in exported.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert {row["dimension"] for row in rows} == {"month", "category"}
    assert any(row["value"] == "elderly" and row["matches_found"] == "1" for row in rows)

    for refused in (identity("stats-admin", "elsewhere", "tenant_admin"), pair.helper_headers):
        answer = await profiles.http.get(f"/tenants/{tenant}/stats", headers=refused)
        assert answer.status_code == 403
    assert (await profiles.http.get("/tenants/no-such-town/stats", headers=operator())
            ).status_code == 404
    assert (await profiles.http.get(f"/tenants/{tenant}/stats", headers=admin,
                                    params={"format": "xml"})).status_code == 422
