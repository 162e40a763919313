"""The in-memory rebuild target keeps the rebuild target contract."""
from __future__ import annotations

import pytest

from tests.contract.ports.search_rebuild_target import RebuildTargetContract
from tests.unit.search.fakes import FakeRebuild


class TestFakeRebuild(RebuildTargetContract):
    @pytest.fixture
    def rebuild(self):
        return FakeRebuild()
