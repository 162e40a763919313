"""The security and privacy regressions: each reproducer of issue 11 stays a test here.

They run through the gateway on the session's real stack, as a client (or an attacker) would.
"""
from __future__ import annotations

import pytest

from tests.support.api import PublicApi


@pytest.fixture(scope="module")
def platform(services):
    from deploy.local.stack import SERVICE_NAMES

    return services(*SERVICE_NAMES)


@pytest.fixture(scope="module")
def api(platform):
    client = PublicApi(platform.url("gateway"))
    yield client
    client.close()
