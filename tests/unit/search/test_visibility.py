"""Who may see what."""
from platform_common.identity import Identity
from services.search.domain.visibility import actor_visible_to, item_visible_to, viewer_scopes


def test_state_items_are_visible_to_everybody():
    assert item_visible_to(tenant="a", visibility="state", neighbours=["b"]) == ["*"]


def test_tenant_items_stay_in_the_tenant():
    assert item_visible_to(tenant="a", visibility="tenant", neighbours=["b"]) == ["a"]


def test_region_items_reach_the_neighbours_once_and_in_order():
    assert item_visible_to(tenant="a", visibility="region",
                           neighbours=["c", "b", "c", "a", ""]) == ["a", "b", "c"]


def test_region_without_neighbours_is_the_tenant():
    assert item_visible_to(tenant="a", visibility="region", neighbours=[]) == ["a"]


def test_organisations_are_public_persons_are_not():
    assert actor_visible_to(tenant="a", actor_type="association") == ["*"]
    assert actor_visible_to(tenant="a", actor_type="company") == ["*"]
    assert actor_visible_to(tenant="a", actor_type="person") == ["a"]


def test_viewer_scopes():
    assert viewer_scopes(None) == ["*"]
    member = Identity(sub="u", tenant="a", roles=frozenset({"member"}))
    assert viewer_scopes(member) == ["*", "a"]
    operator = Identity(sub="op", tenant="a", roles=frozenset({"operator"}))
    assert viewer_scopes(operator) is None
