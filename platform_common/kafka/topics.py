"""Create the topics a service needs, with their partition counts, at start (idempotent)."""
from __future__ import annotations

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from tenacity import AsyncRetrying, stop_after_delay, wait_exponential

from platform_common.kafka.security import kafka_client_options
from platform_common.settings import CommonSettings


def dlq_topic(topic: str) -> str:
    return f"{topic}.dlq"


async def ensure_topics(settings: CommonSettings, topics: dict[str, int] | list[str]) -> None:
    """Create missing topics (and their DLQs); existing ones are left as they are."""
    wanted = topics if isinstance(topics, dict) else {t: settings.kafka_partitions for t in topics}
    with_dlq = dict(wanted)
    for name, partitions in wanted.items():
        if not name.endswith(".dlq"):
            with_dlq.setdefault(dlq_topic(name), 1)
    async for attempt in AsyncRetrying(stop=stop_after_delay(30),
                                       wait=wait_exponential(0.2, max=2), reraise=True):
        with attempt:
            admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers,
                                        client_id=f"{settings.kafka_client_prefix}-admin",
                                        **kafka_client_options(settings))
            await admin.start()
            try:
                existing = set(await admin.list_topics())
                missing = [NewTopic(name, num_partitions=partitions,
                                    replication_factor=settings.kafka_replication_factor)
                           for name, partitions in with_dlq.items() if name not in existing]
                if missing:
                    try:
                        await admin.create_topics(missing)
                    except TopicAlreadyExistsError:
                        pass  # a concurrent starter won the race: fine
            finally:
                await admin.close()
