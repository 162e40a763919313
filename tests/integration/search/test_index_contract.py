"""The search index port's contract against the real adapter on the local search engine.

Each test has indexes of its own (own prefix): the running search service's consumer never
writes into them, and they are deleted afterwards."""
from __future__ import annotations

import uuid

import pytest

from platform_common.stores import elasticsearch_client
from services.search.adapters.elastic import ElasticSearchIndex, alias_targets
from services.search.adapters.mappings import COLLECTIONS, IndexNames
from tests.contract.ports.search_index import SearchIndexContract

pytestmark = pytest.mark.integration


def read_aliases(index: ElasticSearchIndex) -> str:
    return ",".join(index.names.read_alias(collection) for collection in COLLECTIONS)


class TestElasticSearchIndex(SearchIndexContract):
    @pytest.fixture
    async def index(self, engines):
        client = elasticsearch_client(engines.elasticsearch_url)
        index = ElasticSearchIndex(client, names=IndexNames(f"contract-{uuid.uuid4().hex[:8]}"))
        await index.ensure_indexes()
        try:
            yield index
        finally:
            concrete = [name for collection in COLLECTIONS
                        for name in await alias_targets(client, index.names.read_alias(collection))]
            await client.indices.delete(index=",".join(concrete), ignore_unavailable=True)
            await client.close()

    async def settle(self, index: ElasticSearchIndex) -> None:
        await index.client.indices.refresh(index=read_aliases(index))
