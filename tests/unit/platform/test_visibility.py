"""The shared visibility rule that profiles keeps and matching applies to its read model."""
from platform_common.identity import Identity
from platform_common.visibility import can_moderate, can_see_item, is_owner


def member(tenant: str, sub: str = "u1", *roles: str) -> Identity:
    return Identity(sub=sub, tenant=tenant, roles=frozenset({"member", *roles}))


def test_published_item_reaches_by_visibility():
    see = lambda who, visibility: can_see_item(  # noqa: E731
        who, tenant="aachen", status="published", visibility=visibility, owner=False,
        item_tenant_neighbours=["wuerselen"])
    assert see(member("aachen"), "tenant")
    assert not see(member("wuerselen"), "tenant") and see(member("wuerselen"), "region")
    assert not see(member("koeln"), "region") and see(member("koeln"), "state")
    assert see(None, "state") and not see(None, "region")


def test_unpublished_item_only_for_owner_and_moderators():
    see = lambda who, owner=False: can_see_item(  # noqa: E731
        who, tenant="aachen", status="paused", visibility="state", owner=owner,
        item_tenant_neighbours=[])
    assert not see(member("aachen"))
    assert see(member("aachen"), owner=True)
    assert see(member("aachen", "a", "tenant_admin")) and not see(member("koeln", "a", "tenant_admin"))
    assert see(member("koeln", "op", "operator"))


def test_owners_act_only_from_the_actors_tenant():
    assert is_owner(member("aachen", "u1"), owners=["u1"], actor_tenant="aachen")
    assert not is_owner(member("koeln", "u1"), owners=["u1"], actor_tenant="aachen")
    assert not is_owner(None, owners=["u1"], actor_tenant="aachen")
    assert can_moderate(member("x", "o", "operator"), "aachen") and not can_moderate(None, "aachen")
