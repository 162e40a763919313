"""The composition root: the search process and every adapter it uses, built from settings."""
from __future__ import annotations

from elasticsearch import AsyncElasticsearch
from tenacity import AsyncRetrying, stop_after_delay, wait_exponential

from platform_common.events import TOPIC_ACTORS, TOPIC_ITEMS, TOPIC_TENANTS
from platform_common.kafka import ConsumedEvent, EventConsumer, EventProducer, ensure_topics
from platform_common.lifecycle import ReadinessCheck
from platform_common.observability.logging import get_logger
from platform_common.stores import elasticsearch_client, kafka_ping
from services.search import service
from services.search.adapters.elastic import ElasticSearchIndex
from services.search.adapters.mappings import IndexNames
from services.search.settings import SearchSettings

CONSUMED_TOPICS = [TOPIC_TENANTS, TOPIC_ACTORS, TOPIC_ITEMS]
# The search engine may still be starting next to us.
INDEX_SETUP_TIMEOUT_S = 60

log = get_logger(__name__)


def build_index(settings: SearchSettings, client: AsyncElasticsearch) -> ElasticSearchIndex:
    """The index adapter over `client` (the API process and the reindex command share it)."""
    return ElasticSearchIndex(client, names=IndexNames(settings.elasticsearch_index_prefix),
                              replicas=settings.index_replicas,
                              write_alias_cache_s=settings.write_alias_cache_s)


class SearchProcess:
    """The search process: answers searches from the index and keeps the index up to date by
    consuming the tenants, actors and items topics. Build it inside the running event loop
    (the Kafka clients bind to it)."""

    def __init__(self, settings: SearchSettings):
        self.settings = settings
        self.elasticsearch = elasticsearch_client(settings.elasticsearch_url,
                                                  ca_file=settings.elasticsearch_ca_file)
        self.index = build_index(settings, self.elasticsearch)
        # The producer only carries messages that keep failing to the dead-letter topics.
        self.producer = EventProducer(settings)
        self.consumer = EventConsumer(settings, group_id=settings.consumer_group,
                                      topics=CONSUMED_TOPICS, handler=self._apply_event,
                                      batch_handler=self._apply_events, producer=self.producer)
        self.readiness_checks: dict[str, ReadinessCheck] = {
            "elasticsearch": self.index.ping, "kafka": kafka_ping(settings),
            "consumer": self._consumer_running}

    async def _apply_event(self, event: ConsumedEvent) -> None:
        await service.apply_event(index=self.index, event=event)

    async def _apply_events(self, events: list[ConsumedEvent]) -> None:
        await service.apply_events(index=self.index, events=events)

    async def _consumer_running(self) -> None:
        if not self.consumer.running:
            raise RuntimeError("the event consumer is not running")

    async def start(self) -> None:
        await ensure_topics(self.settings, CONSUMED_TOPICS)
        async for attempt in AsyncRetrying(stop=stop_after_delay(INDEX_SETUP_TIMEOUT_S),
                                           wait=wait_exponential(0.2, max=3), reraise=True):
            with attempt:
                await self.index.ensure_indexes()
        await self.producer.start()
        await self.consumer.start()
        log.info("search_started", prefix=self.settings.elasticsearch_index_prefix)

    async def stop(self) -> None:
        await self.consumer.stop()
        await self.producer.stop()
        await self.elasticsearch.close()


def build_search(settings: SearchSettings) -> SearchProcess:
    return SearchProcess(settings)
