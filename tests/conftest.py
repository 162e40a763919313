"""Session fixtures: the real engines once per test session, the services on top of them.

`engines` starts only the broker, document store, search engine, Redis and mail sink (and
creates the topics); `stack` adds every service. Both stop everything at the end of the session.
"""
from __future__ import annotations

import pytest


def pytest_collection_modifyitems(config, items):
    """Tests that stream thousands of items run last, on a stack of their own (so that what they
    leave behind slows no other test, and no other test's services slow them; their stack
    starts when the session's services have gone quiet). The one exception, the Schemathesis
    fuzzer, uses the session's stack: nothing after it uses that stack."""
    flooding = [item for item in items if item.get_closest_marker("floods_topics")]
    items[:] = [item for item in items if not item.get_closest_marker("floods_topics")] + flooding

from tests.support.backends import make_stack


@pytest.fixture(scope="session")
def otlp_receiver():
    """Every service of the test stack exports its spans here (OTLP over HTTP)."""
    from tests.support.otlp import OtlpReceiver

    receiver = OtlpReceiver().start()
    yield receiver
    receiver.stop()


def start_test_engines(data_dir, otlp_receiver):
    """A stack of engines (broker, document stores, search engine, Redis, mail sink) with its
    topics, configured for tests; its services are started on demand."""
    stack = make_stack(data_dir)
    stack.env_overrides.update({"OTEL_EXPORTER_OTLP_ENDPOINT": otlp_receiver.endpoint,
                                "OTEL_BSP_SCHEDULE_DELAY": "200",
                                # Every test request comes from 127.0.0.1; the rate-limit tests
                                # start their own gateway with low limits.
                                "RATE_LIMIT_PER_MINUTE": "1000000",
                                "RATE_LIMIT_WRITES_PER_MINUTE": "1000000",
                                # The tests' webhook receivers listen on 127.0.0.2; every
                                # other internal address stays refused (tests/security).
                                "WEBHOOK_ALLOWED_TARGETS": "127.0.0.2",
                                # Failed deliveries are retried within seconds, not minutes.
                                "RETRY_INTERVAL_S": "1", "RETRY_DELAY_INITIAL_S": "1"})
    try:
        stack.start_engines()
        stack.create_topics()
    except BaseException:
        stack.stop()
        raise
    return stack


@pytest.fixture(scope="session")
def engines(tmp_path_factory, otlp_receiver):
    stack = start_test_engines(tmp_path_factory.mktemp("stack"), otlp_receiver)
    try:
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
