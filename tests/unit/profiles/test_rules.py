"""Ownership, visibility, lifecycle, expiry and version rules."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from services.profiles.domain import mapping, records, rules
from platform_common.errors import Conflict, Forbidden, InvalidInput, NotFound, VersionConflict
from tests.unit.profiles.factories import NOW, actor, http_status, item, tenant, who


def test_owners_act_only_from_their_actors_tenant():
    club = actor(owner="anna", tenant_id="coesfeld")
    assert rules.is_owner(who("anna", "coesfeld"), club)
    assert not rules.is_owner(who("anna", "duelmen"), club)  # same person, other tenant
    assert not rules.is_owner(who("bernd", "coesfeld"), club)
    assert not rules.is_owner(None, club)


def test_moderation_rights():
    assert rules.can_moderate(who("x", "coesfeld", "tenant_admin"), "coesfeld")
    assert not rules.can_moderate(who("x", "duelmen", "tenant_admin"), "coesfeld")
    assert rules.can_moderate(who("x", "land", "operator"), "coesfeld")
    assert not rules.can_moderate(who("x", "coesfeld", "member", "org_admin"), "coesfeld")
    with pytest.raises(Forbidden):
        rules.require_operator(who("x", "coesfeld", "tenant_admin"))
    with pytest.raises(Forbidden):
        rules.require_tenant_admin(who("x", "duelmen", "tenant_admin"), "coesfeld")


# Caller's tenant -> levels they see of a published item in "coesfeld" (neighbour: "duelmen").
@pytest.mark.parametrize("caller_tenant,expected", [
    ("coesfeld", {"tenant", "region", "state"}),
    ("duelmen", {"region", "state"}),
    ("koeln", {"state"}),
    (None, {"state"}),
])
def test_visibility_levels(caller_tenant, expected):
    identity = who("someone", caller_tenant) if caller_tenant else None
    seen = {level for level in ("tenant", "region", "state")
            if rules.can_see_item(identity, item(visibility=level), owner=False,
                                  item_tenant_neighbours=["duelmen"])}
    assert seen == expected
    assert rules.allowed_visibilities(caller_tenant, "coesfeld", ["duelmen"]) == expected


def test_unpublished_items_are_seen_by_owners_and_moderators_only():
    hidden = records.with_status(item(visibility="state"), "hidden", now=NOW, reason="Spam")
    assert rules.can_see_item(who("anna"), hidden, owner=True, item_tenant_neighbours=[])
    assert rules.can_see_item(who("admin", "coesfeld", "tenant_admin"), hidden, owner=False,
                              item_tenant_neighbours=[])
    assert not rules.can_see_item(who("bernd"), hidden, owner=False, item_tenant_neighbours=[])
    assert not rules.can_see_item(None, hidden, owner=False, item_tenant_neighbours=[])


def test_denied_hides_what_the_caller_cannot_see():
    assert isinstance(rules.denied(True, "no"), Forbidden)
    assert isinstance(rules.denied(False, "no"), NotFound)


@pytest.mark.parametrize("current,target,allowed", [
    ("published", "closed", True), ("published", "hidden", True), ("published", "expired", True),
    ("hidden", "closed", True), ("expired", "closed", True),
    ("hidden", "published", True), ("closed", "published", False), ("closed", "hidden", False),
    ("expired", "hidden", False), ("published", "published", False),
])
def test_lifecycle_transitions(current, target, allowed):
    if allowed:
        rules.check_transition(current, target)
    else:
        with pytest.raises(Conflict) as caught:
            rules.check_transition(current, target)
        assert caught.value.code == "invalid_transition"


def test_only_published_items_can_be_changed():
    rules.check_open(item())
    with pytest.raises(Conflict):
        rules.check_open(records.with_status(item(), "closed", now=NOW))


def test_version_checks():
    rules.check_version(3, 3)
    with pytest.raises(VersionConflict) as caught:
        rules.check_version(3, 2)
    assert http_status(caught.value) == 409 and caught.value.details == {"current_version": 3,
                                                                   "given_version": 2}
    with pytest.raises(InvalidInput) as missing:
        rules.check_version(3, None)
    assert missing.value.details[0]["field"] == "version"


def test_expiry_is_the_end_of_the_last_date_or_the_lifetime_of_an_ongoing_item():
    first = {"start": NOW, "end": NOW + timedelta(hours=2)}
    last = {"start": NOW + timedelta(days=9), "end": NOW + timedelta(days=9, hours=1)}
    weekly = [{"day": "mon", "start": "10:00", "end": "12:00"}]
    lapse = NOW + rules.ONGOING_LIFETIME
    # One-off dates only: the end of the last one, whenever it was changed.
    assert rules.expiry_of({"dates": [last, first], "weekly": []}, renewed_at=NOW) == last["end"]
    # Weekly windows, or no schedule (by arrangement): the lifetime after the last renewal ...
    assert rules.expiry_of({"dates": [], "weekly": weekly}, renewed_at=NOW) == lapse
    assert rules.expiry_of({"dates": [first], "weekly": weekly}, renewed_at=NOW) == lapse
    assert rules.expiry_of({"dates": [], "weekly": []}, renewed_at=NOW) == lapse
    # ... unless a one-off date lies beyond it.
    later = {"start": lapse + timedelta(days=1), "end": lapse + timedelta(days=1, hours=1)}
    assert rules.expiry_of({"dates": [later], "weekly": weekly}, renewed_at=NOW) == later["end"]
    rules.check_not_past({"dates": [last], "weekly": []}, now=NOW)
    rules.check_not_past({"dates": [first], "weekly": weekly}, now=NOW + timedelta(days=1))
    with pytest.raises(InvalidInput):
        rules.check_not_past({"dates": [first], "weekly": []}, now=NOW + timedelta(days=1))


def test_items_stored_without_an_end_lapse_after_their_last_change():
    stored = item().model_copy(update={"expires_at": None})  # weekly, before the rule
    assert rules.due_at(stored) == stored.updated_at + rules.ONGOING_LIFETIME
    dated = item(schedule={"dates": [{"start": NOW, "end": NOW + timedelta(hours=1)}],
                           "weekly": []}).model_copy(update={"expires_at": None})
    assert rules.due_at(dated) is None
    assert rules.due_at(item()) == item().expires_at


def test_tenant_category_restriction():
    open_tenant, strict = tenant(), tenant(categories=["sport", "social"])
    rules.check_categories_allowed(["culture"], open_tenant)
    rules.check_categories_allowed(["social"], strict)
    with pytest.raises(InvalidInput) as caught:
        rules.check_categories_allowed(["social", "culture"], strict)
    assert [d["field"] for d in caught.value.details] == ["categories.1"]


def test_neighbour_checks():
    rules.check_neighbours("a", ["b"], {"b"})
    with pytest.raises(InvalidInput) as caught:
        rules.check_neighbours("a", ["a", "x", "b"], {"b"})
    assert [d["field"] for d in caught.value.details] == ["neighbours.0", "neighbours.1"]


def test_member_management_needs_an_owning_org_admin_of_an_organisation():
    club = actor(owner="anna")
    rules.require_member_manager(who("anna", "coesfeld", "member", "org_admin"), club)
    with pytest.raises(Forbidden):
        rules.require_member_manager(who("anna", "coesfeld", "member"), club)
    with pytest.raises(Forbidden):
        rules.require_member_manager(who("bernd", "coesfeld", "org_admin"), club)
    with pytest.raises(Conflict):
        rules.require_member_manager(who("anna", "coesfeld", "org_admin"),
                                     actor(owner="anna", actor_type="person"))


def test_actor_view_hides_private_data_from_others():
    person = actor(actor_type="person")
    person = person.model_copy(update={"location": person.location.model_copy(
        update={"lat": 51.943494, "lon": 7.168091})})
    public = mapping.actor_view(person, private=False)
    assert "email" not in public and "owners" not in public
    assert public["location"] == {"lat": 51.94, "lon": 7.17}
    private = mapping.actor_view(person, private=True)
    assert private["email"] == "info@tafel.example" and private["location"]["lat"] == 51.943494
    club = mapping.actor_view(actor(), private=False)
    assert club["location"] == {"lat": 51.94, "lon": 7.17} and "email" not in club


def test_item_view_shows_a_moderation_reason_only_when_there_is_one():
    assert "hidden_reason" not in mapping.item_view(item())
    hidden = records.with_status(item(), "hidden", now=NOW, reason="Werbung")
    assert mapping.item_view(hidden)["hidden_reason"] == "Werbung"
    assert mapping.item_view(hidden)["updated_at"] == "2030-03-01T12:00:00Z"
    assert datetime.fromisoformat(mapping.item_view(hidden)["created_at"]).tzinfo == timezone.utc
