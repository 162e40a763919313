"""Where a person lives stays private in profiles' responses: exact only to the owners and,
after an accepted contact request, to the other party; organisations' places stay exact."""
from __future__ import annotations

import pytest

from services.profiles import service
from services.profiles.domain import mapping
from services.profiles.domain.contacts import ContactCreate
from services.profiles.domain.requests import ActorCreate
from tests.unit.profiles.factories import NOW, actor, item, item_request, who
from tests.unit.profiles.memory_store import MemoryStore
from tests.unit.profiles.test_service import make_actor, make_tenant

HOME = {"lat": 51.9412345, "lon": 7.1587654}
COARSE = {"lat": 51.94, "lon": 7.16}
ANNA, BERND, CARLA = who("anna", "coesfeld"), who("bernd", "coesfeld"), who("carla", "coesfeld")
ADMIN = who("admin", "coesfeld", "tenant_admin")


def test_a_persons_item_shows_the_coarse_point_unless_exact():
    person = actor(actor_type="person")
    offer = item("offer", owner_actor=person, location=HOME)
    assert mapping.item_view(offer)["location"] == COARSE
    assert mapping.item_view(offer, exact=True)["location"] == HOME


def test_an_organisations_item_and_profile_stay_exact():
    club = actor(actor_type="association")
    assert mapping.item_view(item(owner_actor=club, location=HOME))["location"] == HOME


def test_a_persons_public_profile_is_coarse_the_owners_exact():
    person = actor(actor_type="person").model_copy(
        update={"location": type(actor().location).model_validate(HOME)})
    assert mapping.actor_view(person, private=False)["location"] == COARSE
    assert mapping.actor_view(person, private=True)["location"] == HOME


@pytest.fixture
async def town():
    store = MemoryStore()
    await make_tenant(store, "coesfeld")
    store.person = await service.register_actor(
        store=store, identity=ANNA, now=NOW, request=ActorCreate.model_validate(
            {"type": "person", "name": "Anna Muster", "email": "anna@example.org",
             "location": HOME}))
    store.club = await make_actor(store, BERND)
    store.offer = await service.create_item(
        store=store, identity=ANNA, kind="offer", now=NOW,
        request=item_request(actor_id=store.person.id, location=HOME))
    store.need = await service.create_item(store=store, identity=BERND, kind="need", now=NOW,
                                           request=item_request(actor_id=store.club.id))
    return store


async def seen_by(store, identity):
    return (await service.item_views(store=store, identity=identity,
                                     items=[store.offer]))[0]["location"]


async def test_only_the_owner_sees_the_exact_place_of_a_persons_item(town):
    assert await seen_by(town, ANNA) == HOME
    for other in (None, BERND, CARLA, ADMIN, who("op", "land", "operator")):
        assert await seen_by(town, other) == COARSE


async def test_the_partner_of_an_accepted_contact_sees_it_exact_not_before(town):
    contact = await service.request_contact(
        store=town, suggestions=None, identity=BERND, now=NOW,
        request=ContactCreate(offer_id=town.offer.id, need_id=town.need.id))
    profile = lambda identity: service.actor_view_for(  # noqa: E731
        store=town, identity=identity, actor_id=town.person.id)
    assert await seen_by(town, BERND) == COARSE  # asked, not yet agreed
    assert (await profile(BERND))["location"] == COARSE
    await service.accept_contact(store=town, identity=ANNA, contact_id=contact["id"], now=NOW)
    assert await seen_by(town, BERND) == HOME
    assert (await profile(BERND))["location"] == HOME
    assert await seen_by(town, CARLA) == COARSE
    assert (await profile(CARLA))["location"] == COARSE
    assert (await profile(ANNA))["location"] == HOME
