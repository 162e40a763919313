"""The Elasticsearch rebuild keeps the rebuild target contract, on the local search engine.

Each test has indexes of its own (own prefix), deleted afterwards."""
from __future__ import annotations

import uuid

import pytest

from platform_common.stores import elasticsearch_client
from services.search.adapters.elastic import ElasticSearchIndex, alias_targets
from services.search.adapters.mappings import COLLECTIONS, IndexNames
from services.search.adapters.rebuild import ElasticRebuild
from tests.contract.ports.search_rebuild_target import RebuildTargetContract

pytestmark = pytest.mark.integration


class TestElasticRebuild(RebuildTargetContract):
    @pytest.fixture
    async def rebuild(self, engines):
        client = elasticsearch_client(engines.elasticsearch_url)
        names = IndexNames(f"contract-{uuid.uuid4().hex[:8]}")
        await ElasticSearchIndex(client, names=names).ensure_indexes()
        try:
            yield ElasticRebuild(client, names=names, settle_s=0)
        finally:
            left = {index for collection in COLLECTIONS
                    for alias in (names.read_alias(collection), names.write_alias(collection))
                    for index in await alias_targets(client, alias)}
            if left:
                await client.indices.delete(index=",".join(sorted(left)),
                                            ignore_unavailable=True)
            await client.close()
