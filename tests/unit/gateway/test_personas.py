"""Demo personas: derived from the demo plan, distinct, one of each kind per town."""
from __future__ import annotations

from collections import Counter
from datetime import date

from deploy.local.demo_data import TOWNS, geography, personas, personas_of, plan
from gateway.adapters.personas import with_actor_ids


def test_every_town_has_its_four_personas_and_the_state_one_operator():
    listed = personas()
    kinds = Counter((p["tenant"], p["kind"]) for p in listed)
    for town in TOWNS:
        for kind in ("volunteer", "association", "company", "tenant_admin"):
            assert kinds[(town.slug, kind)] == 1, (town.slug, kind)
    operators = [p for p in listed if p["kind"] == "operator"]
    assert len(operators) == 1 and operators[0]["roles"] == ["operator"]
    assert len({p["sub"] for p in listed}) == len(listed)
    assert all(p["label"]["de"] and p["label"]["en"] for p in listed)
    admin = next(p for p in listed if p["kind"] == "tenant_admin" and p["tenant"] == "koeln")
    assert "tenant_admin" in admin["roles"] and admin["actor_id"] is None
    verein = next(p for p in listed if p["kind"] == "association" and p["tenant"] == "koeln")
    assert "org_admin" in verein["roles"]


def test_personas_are_the_seeded_actors_whatever_the_day():
    geo = geography()
    for day in (date(2026, 3, 1), date(2027, 12, 24)):
        actors = plan(geo, day)
        by_sub = {a.sub: a for a in actors}
        listed = personas_of(actors)
        assert listed == list(personas())
        for persona in listed:
            if persona["kind"] in ("volunteer", "association", "company"):
                actor = by_sub[persona["sub"]]
                assert actor.town.slug == persona["tenant"] and actor.items
                assert actor.body["type"] == {"volunteer": "person", "association": "association",
                                              "company": "company"}[persona["kind"]]


def test_actor_ids_come_from_actors_the_persona_owns_in_its_tenant():
    listed = [{"sub": "a", "tenant": "koeln", "roles": ["member"], "kind": "volunteer",
               "label": {"de": "A", "en": "A"}, "actor_id": None},
              {"sub": "b", "tenant": "koeln", "roles": ["tenant_admin"], "kind": "tenant_admin",
               "label": {"de": "B", "en": "B"}, "actor_id": None}]
    actors = [{"id": "x", "tenant": "bonn", "type": "person", "owners": ["a"]},
              {"id": "y", "tenant": "koeln", "type": "company", "owners": ["a"]},
              {"id": "z", "tenant": "koeln", "type": "person", "owners": ["a", "b"]}]
    assert [p["actor_id"] for p in with_actor_ids(listed, actors)] == ["z", None]
    assert [p["actor_id"] for p in with_actor_ids(listed, [])] == [None, None]
