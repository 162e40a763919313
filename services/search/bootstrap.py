"""The composition root: every adapter of the search service is built here from settings."""
from __future__ import annotations

from dataclasses import dataclass

from elasticsearch import AsyncElasticsearch

from platform_common.events import TOPIC_ACTORS, TOPIC_ITEMS, TOPIC_TENANTS
from platform_common.kafka import ConsumedEvent, EventConsumer, EventProducer
from platform_common.stores import elasticsearch_client
from services.search import service
from services.search.adapters.elastic import ElasticSearchIndex
from services.search.adapters.mappings import IndexNames
from services.search.settings import SearchSettings

CONSUMED_TOPICS = [TOPIC_TENANTS, TOPIC_ACTORS, TOPIC_ITEMS]


@dataclass
class Components:
    elasticsearch: AsyncElasticsearch
    index: ElasticSearchIndex
    producer: EventProducer
    consumer: EventConsumer


def build_index(settings: SearchSettings, client: AsyncElasticsearch) -> ElasticSearchIndex:
    return ElasticSearchIndex(client, names=IndexNames(settings.elasticsearch_index_prefix),
                              replicas=settings.index_replicas,
                              write_alias_cache_s=settings.write_alias_cache_s)


def build(settings: SearchSettings) -> Components:
    """Must run inside the event loop (the Kafka clients bind to it)."""
    client = elasticsearch_client(settings.elasticsearch_url, ca_file=settings.elasticsearch_ca_file)
    index = build_index(settings, client)
    # The producer only carries messages that keep failing to the dead-letter topics.
    producer = EventProducer(settings)

    async def handle(event: ConsumedEvent) -> None:
        await service.apply_event(index=index, event=event)

    async def handle_batch(events: list[ConsumedEvent]) -> None:
        await service.apply_events(index=index, events=events)

    consumer = EventConsumer(settings, group_id=settings.consumer_group, topics=CONSUMED_TOPICS,
                             handler=handle, batch_handler=handle_batch, producer=producer)
    return Components(elasticsearch=client, index=index, producer=producer, consumer=consumer)
