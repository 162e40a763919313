import typing

from gateway.api import RoleName
from gateway.domain.access import PUBLIC, SIGNED_IN, access_problem, any_role
from platform_common.identity import ROLES, Identity


def member(*roles: str) -> Identity:
    return Identity(sub="u", tenant="koeln", roles=frozenset(roles))


def test_public_routes_need_nobody():
    assert access_problem(PUBLIC, None) is None
    assert access_problem(PUBLIC, member()) is None


def test_signed_in_routes_need_an_identity_with_any_roles():
    assert access_problem(SIGNED_IN, None) == "unauthenticated"
    assert access_problem(SIGNED_IN, member()) is None


def test_role_routes_need_one_of_the_roles():
    operators = any_role("operator")
    assert access_problem(operators, None) == "unauthenticated"
    assert access_problem(operators, member("member")) == "forbidden"
    assert access_problem(operators, member("tenant_admin", "org_admin")) == "forbidden"
    assert access_problem(operators, member("member", "operator")) is None
    moderators = any_role("tenant_admin", "operator")
    assert access_problem(moderators, member("tenant_admin")) is None


def test_dev_token_offers_exactly_the_known_roles():
    assert set(typing.get_args(RoleName)) == set(ROLES)
