"""In-memory stand-ins for the search service's ports; tests/contract/ports/search_*.py holds
them to the same contracts as the real adapters."""
from __future__ import annotations

from types import SimpleNamespace

COLLECTIONS = ("tenants", "actors", "offers", "needs")


class FakeRebuild:
    """Keeps the new indexes in dicts and applies writes like external versioning does (held
    to tests/contract/ports/search_rebuild_target.py), and records its steps. The repairs
    (tombstones, sweep, region fix) do nothing and `previous_values` answers a canned value:
    the unit tests check the rebuild's orchestration; the repairs are checked on the engine
    (tests/integration/search/test_reindex.py)."""

    settle_s = 0.0

    def __init__(self):
        self.documents = {c: {} for c in COLLECTIONS}
        self.steps: list[str] = []
        self.neighbours_used = None

    async def begin(self, *, abandon_previous=False):
        self.steps.append("begin")
        return SimpleNamespace(new={c: f"{c}-v2" for c in COLLECTIONS},
                               old={c: [f"{c}-v1"] for c in COLLECTIONS})

    async def settle(self):
        self.steps.append("settle")

    async def copy_tombstones(self, state):
        self.steps.append("tombstones")
        return 0

    async def previous_values(self, state, collection, ids, field_name):
        return {"a-old": "2025-01-02T03:04:05+00:00"}

    async def load(self, state, collection, documents):
        self.steps.append(f"load:{collection}")
        written = stale = 0
        for document in documents:
            stored = self.documents[collection].get(document["id"])
            if stored is not None and stored["version"] >= document["version"]:
                stale += 1
            else:
                self.documents[collection][document["id"]] = document
                written += 1
        return written, stale

    async def sweep_erased(self, state):
        self.steps.append("sweep")
        return 0

    async def fix_region_visibility(self, state, neighbours_used):
        self.steps.append("fix")
        self.neighbours_used = neighbours_used
        return 0

    async def swap(self, state):
        self.steps.append("swap")

    async def drop_old(self, state):
        self.steps.append("drop")
        return [i for indexes in state.old.values() for i in indexes]

    async def abort(self, state):
        self.steps.append("abort")
