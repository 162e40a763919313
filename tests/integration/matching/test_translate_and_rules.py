"""The matching service's pure parts, without servers: event payloads to engine values,
pair ownership and transitions, who may see suggestions, the API's view of a pair."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from aiokafka.partitioner import DefaultPartitioner

from platform_common.events import Envelope, read_event
from platform_common.events.models import ItemData, TenantData
from platform_common.identity import Identity
from services.matching.domain.access import is_party
from services.matching.domain.directory import DirectoryActor
from services.matching.domain.pairs import (
    fingerprint, owner_partition, pair_key, reason_dicts, transition_for,
)
from services.matching.engine.model import Match, Reason, Weights
from services.matching.service import match_view
from services.matching.translate import is_open, to_item, to_tenant

NOW = datetime(2026, 5, 4, 12, 0, tzinfo=timezone.utc)


def item_data(**overrides) -> ItemData:
    base = dict(id="need-1", kind="need", tenant="koeln", actor_id="actor-1",
                actor_type="association", title="Lesepaten gesucht",
                categories=["education", "children_youth"], skills=["vorlesen"],
                requirements=["police_clearance"], engagement="regular",
                location={"lat": 50.94, "lon": 6.96}, radius_km=12.5, remote=False,
                schedule={"dates": [{"start": "2026-05-09T08:00:00Z", "end": "2026-05-09T12:00:00Z"}],
                          "weekly": [{"day": "sat", "start": "09:00", "end": "12:30"},
                                     {"day": "sun", "start": "18:00", "end": "24:00"}]},
                capacity=3, capacity_left=2, visibility="region", languages=["de", "tr"],
                accessible=True, status="published", created_at=NOW, updated_at=NOW, version=4)
    base.update(overrides)
    return ItemData.model_validate(base)


def test_an_item_payload_becomes_the_engines_item():
    item = to_item(item_data())
    assert (item.id, item.kind, item.tenant, item.actor_id, item.actor_type) == (
        "need-1", "need", "koeln", "actor-1", "association")
    assert (item.lat, item.lon, item.radius_km, item.remote) == (50.94, 6.96, 12.5, False)
    assert item.categories == {"education", "children_youth"} and item.skills == {"vorlesen"}
    assert item.requirements == {"police_clearance"} and item.languages == {"de", "tr"}
    assert item.weekly == ((5, 540, 750), (6, 1080, 1440))
    assert item.dates == ((datetime(2026, 5, 9, 8, tzinfo=timezone.utc),
                           datetime(2026, 5, 9, 12, tzinfo=timezone.utc)),)
    assert (item.visibility, item.engagement, item.accessible) == ("region", "regular", True)
    assert (item.capacity_left, item.version) == (2, 4)


def test_radius_is_clamped_to_the_engines_range_and_capacity_never_negative():
    assert to_item(item_data(radius_km=0.5)).radius_km == 2.0
    assert to_item(item_data(radius_km=900)).radius_km == 200.0
    assert to_item(item_data(capacity_left=-1)).capacity_left == 0


def test_an_unusable_schedule_is_refused_not_guessed():
    with pytest.raises(ValueError):
        to_item(item_data(schedule={"weekly": [{"day": "mon", "start": "25:00", "end": "26:00"}]}))
    with pytest.raises(ValueError):
        to_item(item_data(schedule={"dates": [{"start": "2026-05-09T12:00:00Z",
                                               "end": "2026-05-09T08:00:00Z"}]}))


def test_version_1_item_events_are_upcast_before_translation():
    v1 = Envelope(type="offer.published", version=1, tenant="koeln", subject="offer-1",
                  source="old-profiles", data={
                      "id": "offer-1", "kind": "offer", "tenant": "koeln", "actor_id": "a",
                      "actor_type": "person", "title": "Alt", "categories": ["sport"],
                      "engagement": "spontaneous", "location": {"lat": 51.0, "lon": 7.0},
                      "radius_km": 5, "capacity": 3, "created_at": NOW.isoformat(),
                      "updated_at": NOW.isoformat(), "version": 1})
    _, data = read_event(v1)
    item = to_item(data)
    assert item.capacity_left == 3 and item.languages == frozenset() and not item.accessible


@pytest.mark.parametrize("status, open_", [("published", True), ("closed", False),
                                           ("expired", False), ("hidden", False)])
def test_only_published_items_take_part(status, open_):
    assert is_open(item_data(status=status)) is open_


def test_tenant_weights_keep_defaults_ignore_unknown_factors_and_survive_bad_values():
    def tenant(weights):
        return to_tenant(TenantData(id="koeln", name="Köln", center={"lat": 50.9, "lon": 6.9},
                                    neighbours=["bonn"], matching_weights=weights, version=2))
    info = tenant({"distance": 5.0, "unknown_factor": 9.0})
    assert info.neighbours == {"bonn"}
    assert info.weights == Weights(distance=5.0)
    assert tenant({"distance": -1.0}).weights == Weights()


def test_a_pairs_owner_partition_is_where_kafka_puts_the_needs_events():
    partitions = list(range(6))
    for need_id in ("need-1", "b0c1", "3f9e6a1c-0000-4000-8000-000000000000", "ä-ü"):
        expected = DefaultPartitioner()(need_id.encode(), partitions, partitions)
        assert owner_partition(need_id, 6) == expected
    assert pair_key("o", "n") == "o:n"


def _match(score: float = 0.8, label: str = "1 gemeinsames Handlungsfeld: Sport") -> Match:
    return Match("o", "n", score, (Reason("categories", 1.0, 3.0, 0.3, label, "1 shared field"),))


def test_transitions_follow_the_difference_to_the_stored_state():
    stored = fingerprint(_match())
    assert transition_for(_match(), None) == "match.found"
    assert transition_for(_match(), stored) is None                     # redelivery: nothing new
    assert transition_for(_match(score=0.7), stored) == "match.found"   # score changed
    assert transition_for(_match(label="anders"), stored) == "match.found"  # explanation changed
    assert transition_for(None, stored) == "match.withdrawn"
    assert transition_for(None, None) is None


def test_only_parties_tenant_admins_and_operators_see_suggestions():
    def who(*roles, tenant="koeln", sub="anna"):
        return Identity(sub=sub, tenant=tenant, roles=frozenset(roles))
    annas = DirectoryActor(id="actor-1", tenant="koeln", type="person", owners=("anna",),
                           version=1)
    assert is_party(who("operator", tenant="land", sub="op"), tenant="koeln", actor=annas)
    assert is_party(who("tenant_admin", sub="admin"), tenant="koeln", actor=None)
    assert not is_party(who("tenant_admin", tenant="bonn", sub="admin"), tenant="koeln",
                        actor=None)
    assert not is_party(who("member", "org_admin", sub="eve"), tenant="koeln", actor=annas)
    assert is_party(who("member"), tenant="koeln", actor=annas)
    assert not is_party(who("member", tenant="bonn"), tenant="koeln", actor=annas)
    assert not is_party(who("member", sub="eve"), tenant="koeln", actor=annas)


def test_the_api_shows_reasons_in_the_asked_language():
    doc = {"offer_id": "o", "need_id": "n", "score": 0.8, "reasons": reason_dicts(_match()),
           "offer": {"id": "o"}, "need": {"id": "n"}, "updated_at": NOW}
    german, english = match_view(doc, "de"), match_view(doc, "en")
    assert german["reasons"][0]["text"] == "1 gemeinsames Handlungsfeld: Sport"
    assert english["reasons"][0]["text"] == "1 shared field"
    assert german["reasons"][0]["label"] == {"de": "1 gemeinsames Handlungsfeld: Sport",
                                             "en": "1 shared field"}
    assert german["updated_at"] == NOW.isoformat()
