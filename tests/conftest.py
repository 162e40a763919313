"""Session fixtures: the real engines once per test session, the services on top of them.

`engines` starts only the broker, document store, search engine, Redis and mail sink (and
creates the topics); `stack` adds every service. Both stop everything at the end of the session.
"""
from __future__ import annotations

import pytest

from tests.support.backends import make_stack


@pytest.fixture(scope="session")
def engines(tmp_path_factory):
    stack = make_stack(tmp_path_factory.mktemp("stack"))
    try:
        stack.start_engines()
        stack.create_topics()
        yield stack
    finally:
        stack.stop()


@pytest.fixture(scope="session")
def stack(engines):
    """The whole platform: engines plus every service, ready."""
    from deploy.local.stack import SERVICE_NAMES

    missing = [name for name in SERVICE_NAMES if name not in engines.children]
    engines.start_services(missing)
    yield engines


@pytest.fixture(scope="session")
def services(engines):
    """`services("search", "profiles")` makes sure those services run (started once per session)."""

    def ensure(*names: str):
        missing = [name for name in names if name not in engines.children]
        engines.start_services(missing)
        return engines

    return ensure
