from platform_common.kafka.consumer import ConsumedEvent, EventConsumer
from platform_common.kafka.idempotency import MongoProcessedEvents, ProcessedEvents, RedisProcessedEvents
from platform_common.kafka.producer import EventProducer
from platform_common.kafka.topics import dlq_topic, ensure_topics

__all__ = ["ConsumedEvent", "EventConsumer", "EventProducer", "MongoProcessedEvents",
           "ProcessedEvents", "RedisProcessedEvents", "dlq_topic", "ensure_topics"]
