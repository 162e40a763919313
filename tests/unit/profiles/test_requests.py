"""Request validation: every bad field is reported with its path; good input is normalised."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from pydantic import ValidationError

from services.profiles.domain.requests import (
    ActorCreate, ItemCreate, ItemPatch, TenantCreate, TenantPatch, changes_of, to_utc,
)

GOOD_ITEM = {"actor_id": "a1", "title": "Hilfe beim Umzug", "categories": ["social"],
             "engagement": "spontaneous", "location": {"lat": 51.9, "lon": 7.1}}


def problems(model, data) -> dict[str, str]:
    with pytest.raises(ValidationError) as caught:
        model.model_validate(data)
    return {".".join(map(str, e["loc"])): e["msg"] for e in caught.value.errors()}


@pytest.mark.parametrize("change,path", [
    ({"title": ""}, "title"),
    ({"title": "   "}, "title"),
    ({"title": "ab"}, "title"),
    ({"title": "x" * 141}, "title"),
    ({"title": 42}, "title"),
    ({"description": "x" * 5001}, "description"),
    ({"categories": []}, "categories"),
    ({"categories": ["social", "knitting"]}, "categories.1"),
    ({"categories": ["social", "sport", "culture", "health", "animals", "digital"]}, "categories"),
    ({"requirements": ["jedi_licence"]}, "requirements.0"),
    ({"skills": ["x" * 41]}, "skills.0"),
    ({"skills": [f"s{n}" for n in range(21)]}, "skills"),
    ({"engagement": "sometimes"}, "engagement"),
    ({"location": {"lat": 100, "lon": 7}}, "location.lat"),
    ({"location": {"lat": -91, "lon": 7}}, "location.lat"),
    ({"location": {"lat": 50, "lon": 180.5}}, "location.lon"),
    ({"location": {"lat": float("nan"), "lon": 7}}, "location.lat"),
    ({"location": {"lat": "51.9", "lon": 7}}, "location.lat"),
    ({"location": {"lat": 51.9}}, "location.lon"),
    ({"radius_km": -1}, "radius_km"),
    ({"radius_km": 0.5}, "radius_km"),
    ({"radius_km": 201}, "radius_km"),
    ({"remote": "yes"}, "remote"),
    ({"capacity": 0}, "capacity"),
    ({"capacity": 10001}, "capacity"),
    ({"capacity": "3"}, "capacity"),
    ({"capacity": 2.5}, "capacity"),
    ({"visibility": "world"}, "visibility"),
    ({"languages": ["xx"]}, "languages.0"),
    ({"accessible": 1}, "accessible"),
    ({"unknown": 1}, "unknown"),
    ({"schedule": {"dates": [{"start": "2030-05-01T10:00", "end": "2030-05-01T10:00"}]}},
     "schedule.dates.0.end"),
    ({"schedule": {"dates": [{"start": "2030-05-01T10:00", "end": "2030-04-30T10:00"}]}},
     "schedule.dates.0.end"),
    ({"schedule": {"dates": [{"start": "gestern", "end": "2030-04-30T10:00"}]}},
     "schedule.dates.0.start"),
    ({"schedule": {"dates": [{"start": "2030-05-01T10:00", "end": "2030-05-01T11:00"}] * 51}},
     "schedule.dates"),
    ({"schedule": {"weekly": [{"day": "mon", "start": "10:00", "end": "09:59"}]}},
     "schedule.weekly.0.end"),
    ({"schedule": {"weekly": [{"day": "monday", "start": "10:00", "end": "11:00"}]}},
     "schedule.weekly.0.day"),
    ({"schedule": {"weekly": [{"day": "mon", "start": "24:00", "end": "25:00"}]}},
     "schedule.weekly.0.start"),
    ({"schedule": {"weekly": [{"day": "mon", "start": "9:00", "end": "10:00"}]}},
     "schedule.weekly.0.start"),
    ({"schedule": {"monthly": []}}, "schedule.monthly"),
])
def test_bad_item_fields_are_reported_with_their_path(change, path):
    found = problems(ItemCreate, {**GOOD_ITEM, **change})
    assert path in found, found
    assert all(found.values())


def test_good_item_is_normalised():
    item = ItemCreate.model_validate({
        **GOOD_ITEM, "title": "  Hilfe beim Umzug  ", "skills": [" Tragen", "tragen", "LKW"],
        "categories": ["social", "social"], "radius_km": 25,
        "schedule": {"dates": [{"start": "2030-07-01T10:00:00", "end": "2030-07-01T12:00:00.123456"},
                               {"start": "2030-01-10T10:00:00Z", "end": "2030-01-10T12:00:00+01:00"}]},
    })
    assert item.title == "Hilfe beim Umzug"
    assert item.skills == ["tragen", "lkw"] and item.categories == ["social"]
    assert item.radius_km == 25.0 and item.languages == ["de"] and item.visibility == "tenant"
    first, second = item.schedule.dates
    # Naive times are Berlin local time (summer: UTC+2), kept in UTC to the millisecond.
    assert first.start == datetime(2030, 7, 1, 8, 0, tzinfo=timezone.utc)
    assert first.end == datetime(2030, 7, 1, 10, 0, 0, 123000, tzinfo=timezone.utc)
    assert second.end == datetime(2030, 1, 10, 11, 0, tzinfo=timezone.utc)


def test_naive_winter_time_is_berlin():
    assert to_utc(datetime(2030, 1, 5, 12, 0)) == datetime(2030, 1, 5, 11, 0, tzinfo=timezone.utc)


def test_patch_refuses_null_for_required_fields_and_knows_what_was_set():
    assert "title" in problems(ItemPatch, {"title": None, "version": 1})
    assert "version" in problems(ItemPatch, {"version": 0})
    patch = ItemPatch.model_validate({"place_name": None, "radius_km": 3, "version": 4})
    assert changes_of(patch) == {"place_name": None, "radius_km": 3.0}
    assert patch.version == 4


def test_actor_and_tenant_validation():
    found = problems(ActorCreate, {"type": "club", "name": " ", "email": "no-at-sign",
                                   "location": {"lat": 0, "lon": 0}, "locale": "fr"})
    assert set(found) == {"type", "name", "email", "locale"}
    actor = ActorCreate.model_validate({"type": "person", "name": "Eva", "email": "Eva@Example.ORG",
                                        "location": {"lat": 0, "lon": 0}})
    assert actor.email == "eva@example.org" and actor.locale == "de"

    found = problems(TenantCreate, {"id": "Köln", "name": "Köln", "center": {"lat": 50.9, "lon": 6.9},
                                    "categories": ["nope"],
                                    "branding": {"primary_color": "rot", "logo_url": "ftp://x"},
                                    "matching_weights": {"distance": -1, "Bad Key": 1}})
    assert {"id", "categories.0", "branding.primary_color", "branding.logo_url",
            "matching_weights.distance", "matching_weights.Bad Key.[key]"} <= set(found)
    assert "neighbours" in problems(TenantPatch, {"neighbours": None})


PERSON = {"type": "person", "email": "eva@example.org", "location": {"lat": 0, "lon": 0}}


@pytest.mark.parametrize("sneaky", ["Eva\x00", "Eva\u202eave", "E\u2066va\u2069", "Eva\nMüller",
                                    "Eva\tM", "Eva\x1b[31m", "E\x85va", "Eva\u2028M", "Eva\rM"])
def test_names_and_titles_refuse_control_characters_and_bidi_overrides(sneaky):
    found = problems(ActorCreate, {**PERSON, "name": sneaky})
    assert set(found) == {"name"} and "control characters" in found["name"]
    assert set(problems(ItemCreate, {**GOOD_ITEM, "title": sneaky})) == {"title"}
    assert set(problems(ItemCreate, {**GOOD_ITEM, "place_name": sneaky})) == {"place_name"}
    assert set(problems(ItemCreate, {**GOOD_ITEM, "skills": [sneaky]})) == {"skills.0"}
    tenant = {"id": "koeln", "name": sneaky, "center": {"lat": 50.9, "lon": 6.9}}
    assert set(problems(TenantCreate, tenant)) == {"name"}
    assert set(problems(TenantPatch, {"branding": {"display_name": sneaky}})) == \
        {"branding.display_name"}


def test_descriptions_keep_line_breaks_and_tabs_but_no_other_controls():
    item = ItemCreate.model_validate({**GOOD_ITEM, "description": "Erstens:\n\tAufbau\r\nZweitens"})
    assert item.description == "Erstens:\n\tAufbau\nZweitens"
    for sneaky in ("a\x00b", "a\u202eb", "a\x07b", "a\rb"):
        assert set(problems(ItemCreate, {**GOOD_ITEM, "description": sneaky})) == {"description"}
    assert set(problems(TenantPatch, {"branding": {"welcome_text": {"de": "Hallo\x00"}}})) == \
        {"branding.welcome_text.de"}


def test_ordinary_international_text_is_fine():
    actor = ActorCreate.model_validate({**PERSON, "name": "Zoë Ørsted-Łukasz 😀 علي"})
    assert actor.name == "Zoë Ørsted-Łukasz 😀 علي"
