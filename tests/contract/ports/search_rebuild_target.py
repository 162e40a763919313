"""The contract of the rebuild target (services/search/ports.py: RebuildTarget), as far as the
in-memory fake (tests/unit/search/fakes.py: FakeRebuild) claims to keep it.

What the rebuild relies on: `begin` makes one new index per collection beside the serving
ones; `load` writes documents by external version - new and newer ones are written, one whose
version the index already holds (or a newer one: a live write) counts as stale; after `swap`,
`drop_old` removes the indexes that served before.

A concrete subclass provides the `rebuild` fixture (a target whose collections exist).
"""
from __future__ import annotations

COLLECTIONS = ("tenants", "actors", "offers", "needs")


def offer(version: int, title: str, offer_id: str = "o-1") -> dict:
    return {"id": offer_id, "version": version, "title": title}


class RebuildTargetContract:
    async def test_begin_makes_one_new_index_per_collection_beside_the_serving_ones(self, rebuild):
        state = await rebuild.begin()
        try:
            assert set(state.new) == set(COLLECTIONS)
            for collection in COLLECTIONS:
                assert state.new[collection] not in state.old.get(collection, [])
            assert len(set(state.new.values())) == len(COLLECTIONS)
        finally:
            await rebuild.abort(state)

    async def test_load_writes_new_and_newer_versions_and_counts_the_others_stale(self, rebuild):
        state = await rebuild.begin()
        try:
            assert await rebuild.load(state, "offers", [offer(2, "b"),
                                                        offer(1, "x", "o-2")]) == (2, 0)
            assert await rebuild.load(state, "offers", [offer(1, "a")]) == (0, 1), "older"
            assert await rebuild.load(state, "offers", [offer(2, "b")]) == (0, 1), "the same"
            assert await rebuild.load(state, "offers", [offer(3, "c"),
                                                        offer(1, "x", "o-2")]) == (1, 1)
            assert await rebuild.load(state, "offers", []) == (0, 0)
        finally:
            await rebuild.abort(state)

    async def test_after_the_swap_the_old_indexes_are_dropped(self, rebuild):
        state = await rebuild.begin()
        await rebuild.settle()
        await rebuild.swap(state)
        await rebuild.settle()
        dropped = await rebuild.drop_old(state)
        assert set(dropped) >= {index for indexes in state.old.values() for index in indexes}
        assert not set(dropped) & set(state.new.values())
