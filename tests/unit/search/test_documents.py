"""Event snapshots become search documents."""
import pytest

from services.search.domain.documents import (
    InvalidDocument, actor_document, erased_actor_document, item_document, tenant_document,
    with_neighbours,
)
from platform_common.events.models import ActorErasedData
from tests.unit.search.factories import actor, item, now, tenant


def test_item_document_carries_version_status_and_visibility():
    need = item(version=4, visibility="region")
    document = item_document(need, neighbours=["neuss", "ratingen"])
    assert document["id"] == need.id and document["kind"] == "need"
    assert document["version"] == 4
    assert document["status"] == "published"
    assert document["visible_to"] == ["duesseldorf", "neuss", "ratingen"]
    assert document["location"] == {"lat": 51.2277, "lon": 6.7735}
    assert document["categories"] == ["education", "children_youth"]
    assert document["updated_at"] == need.updated_at.isoformat()
    assert document["expires_at"] is None


def test_close_event_closes_even_if_the_snapshot_says_published():
    document = item_document(item(), neighbours=[], event_type="need.closed")
    assert document["status"] == "closed"


@pytest.mark.parametrize("status", ["closed", "expired", "hidden"])
def test_status_of_the_snapshot_is_kept(status):
    assert item_document(item(status=status), neighbours=[])["status"] == status


def test_coordinates_outside_the_globe_are_refused():
    with pytest.raises(InvalidDocument):
        item_document(item(lat=123.0), neighbours=[])


def test_actor_document_has_no_private_data():
    document = actor_document(actor(), changed_at=now())
    flat = repr(document)
    assert "vorstand@tafel.example" not in flat
    assert "email" not in document and "owners" not in document
    assert "user-1" not in flat
    assert document["title"] == "Tafel Düsseldorf e.V."
    assert document["visible_to"] == ["*"]


def test_private_person_is_visible_only_in_the_own_tenant():
    assert actor_document(actor(type_="person"), changed_at=None)["visible_to"] == ["duesseldorf"]


def test_erased_actor_leaves_only_id_and_version():
    document = erased_actor_document(
        ActorErasedData(id="a-1", tenant="duesseldorf", item_ids=["n-1"], version=7), version=9)
    assert document == {"id": "a-1", "kind": "actor", "tenant": "duesseldorf",
                        "status": "erased", "visible_to": [], "version": 9}


def test_tenant_document_never_lists_itself_as_neighbour():
    document = tenant_document(tenant(neighbours=["neuss", "duesseldorf", "neuss"], version=3))
    assert document["neighbours"] == ["neuss"]
    assert document["version"] == 3


def test_new_neighbours_recompute_visible_to_of_region_items_only():
    region = item_document(item(visibility="region"), neighbours=["neuss"])
    assert with_neighbours(region, ["mettmann"])["visible_to"] == ["duesseldorf", "mettmann"]
    state = item_document(item(visibility="state"), neighbours=[])
    assert with_neighbours(state, ["mettmann"])["visible_to"] == ["*"]


def test_a_persons_item_and_profile_are_indexed_at_the_coarse_point_only():
    need = item(actor_type="person", lat=50.9412345, lon=6.9587654)
    assert item_document(need, neighbours=[])["location"] == {"lat": 50.94, "lon": 6.96}
    person = type(need.location).model_validate({"lat": 50.9412345, "lon": 6.9587654})
    person = actor(type_="person").model_copy(update={"location": person})
    assert actor_document(person, changed_at=now())["location"] == {"lat": 50.94, "lon": 6.96}


def test_an_organisations_item_keeps_its_exact_point():
    need = item(lat=50.9412345, lon=6.9587654)
    assert item_document(need, neighbours=[])["location"] == {"lat": 50.9412345, "lon": 6.9587654}
