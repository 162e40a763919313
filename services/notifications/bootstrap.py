"""The composition root: the one place that builds the adapters from settings."""
from __future__ import annotations

from dataclasses import dataclass

from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase
from redis.asyncio import Redis

from platform_common.events import TOPIC_ACTORS, TOPIC_CONTACTS, TOPIC_ITEMS, TOPIC_MATCHES
from platform_common.kafka import EventConsumer, EventProducer, RedisProcessedEvents
from platform_common.stores import mongo_client, redis_client
from services.notifications.adapters.mongo import (
    MongoDeliveries, MongoMatchHistory, MongoNotifications, MongoPreferences, MongoRecipients,
)
from services.notifications.adapters.redis_counter import RedisWindowCounter
from services.notifications.adapters.smtp import SmtpMailer
from services.notifications.adapters.webhook import HttpWebhookSender
from services.notifications.dispatcher import Dispatcher
from services.notifications.service import Deps, handle_event, handle_events
from services.notifications.settings import NotificationsSettings

# Items only for the moderators' hiding of an item (its owners are told why).
CONSUMED_TOPICS = [TOPIC_ACTORS, TOPIC_MATCHES, TOPIC_CONTACTS, TOPIC_ITEMS]


@dataclass
class Runtime:
    deps: Deps
    mongo: AsyncMongoClient
    db: AsyncDatabase
    redis: Redis
    webhooks: HttpWebhookSender
    producer: EventProducer
    consumer: EventConsumer
    dispatcher: Dispatcher
    mailer: SmtpMailer

    async def close(self) -> None:
        self.mailer.close()
        await self.webhooks.close()
        await self.redis.aclose()
        await self.mongo.close()


def build_runtime(settings: NotificationsSettings) -> Runtime:
    """Build every adapter (inside the running event loop: the Kafka clients need it)."""
    mongo = mongo_client(settings.mongo_uri)
    db = mongo[settings.mongo_db]
    redis = redis_client(settings.redis_url, password=settings.redis_password,
                         ca_file=settings.redis_ca_file)
    webhooks = HttpWebhookSender(timeout_s=settings.webhook_timeout_s,
                                 allowed_targets=settings.allowed_webhook_targets)
    mailer = SmtpMailer(
        host=settings.smtp_host, port=settings.smtp_port, sender=settings.mail_from,
        timeout_s=settings.smtp_timeout_s, starttls=settings.smtp_starttls,
        connections=settings.smtp_connections,
        username=settings.smtp_username,
        password=settings.smtp_password.get_secret_value() if settings.smtp_password else None)
    deps = Deps(settings=settings, recipients=MongoRecipients(db),
                preferences=MongoPreferences(db), notifications=MongoNotifications(db),
                deliveries=MongoDeliveries(db), match_history=MongoMatchHistory(db),
                mailer=mailer, webhooks=webhooks, counter=RedisWindowCounter(redis))
    dispatcher = Dispatcher(deps, senders=settings.dispatch_senders,
                            queue_size=settings.dispatch_queue_size)
    deps.dispatcher = dispatcher
    producer = EventProducer(settings)

    async def handler(event) -> None:
        await handle_event(deps=deps, event=event)

    async def batch_handler(events) -> None:
        await handle_events(deps=deps, events=events)

    consumer = EventConsumer(
        settings, group_id=settings.consumer_group, topics=CONSUMED_TOPICS, handler=handler,
        batch_handler=batch_handler, producer=producer,
        processed=RedisProcessedEvents(redis, namespace=settings.consumer_group))
    return Runtime(deps=deps, mongo=mongo, db=db, redis=redis, webhooks=webhooks,
                   producer=producer, consumer=consumer, dispatcher=dispatcher, mailer=mailer)
