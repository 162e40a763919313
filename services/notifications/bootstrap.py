"""The composition root: the notifications process, built from settings in one go."""
from __future__ import annotations

import asyncio
from contextlib import suppress
from typing import Awaitable, Callable

from platform_common.events import (
    TOPIC_ACTORS, TOPIC_CONTACTS, TOPIC_ENGAGEMENTS, TOPIC_ITEMS, TOPIC_MATCHES,
)
from platform_common.kafka import (
    ConsumedEvent, EventConsumer, EventProducer, RedisProcessedEvents, ensure_topics,
)
from platform_common.lifecycle import ReadinessCheck
from platform_common.observability import get_logger
from platform_common.stores import kafka_ping, mongo_client, mongo_ping, redis_client, redis_ping
from services.notifications import service
from services.notifications.adapters.mongo import (
    MongoDeliveries, MongoEngagements, MongoMatchHistory, MongoNotifications, MongoPreferences,
    MongoRecipients, MongoReminders, create_indexes,
)
from services.notifications.adapters.redis_counter import RedisWindowCounter
from services.notifications.adapters.smtp import SmtpMailer
from services.notifications.adapters.webhook import HttpWebhookSender
from services.notifications.dispatcher import Dispatcher
from services.notifications.domain.models import SendJob
from services.notifications.settings import NotificationsSettings

log = get_logger(__name__)

# Items only for the moderators' hiding of an item (its owners are told why); engagements for
# the shift and sign-up notifications and the reminders.
CONSUMED_TOPICS = [TOPIC_ACTORS, TOPIC_MATCHES, TOPIC_CONTACTS, TOPIC_ITEMS, TOPIC_ENGAGEMENTS]


class NotificationsProcess:
    """The notifications process: the API's use cases, the event consumer, the background
    senders and the periodic tasks (retries, daily digests, deliveries waiting for their
    recipient). Built inside the running event loop (the Kafka clients need it)."""

    def __init__(self, settings: NotificationsSettings):
        self.settings = settings
        self.mongo = mongo_client(settings.mongo_uri)
        self.db = self.mongo[settings.mongo_db]
        self.redis = redis_client(settings.redis_url, password=settings.redis_password,
                                  ca_file=settings.redis_ca_file)
        self.webhooks = HttpWebhookSender(timeout_s=settings.webhook_timeout_s,
                                          allowed_targets=settings.allowed_webhook_targets)
        self.mailer = SmtpMailer(
            host=settings.smtp_host, port=settings.smtp_port, sender=settings.mail_from,
            timeout_s=settings.smtp_timeout_s, starttls=settings.smtp_starttls,
            connections=settings.smtp_connections, username=settings.smtp_username,
            password=(settings.smtp_password.get_secret_value()
                      if settings.smtp_password else None))
        # The use cases put claimed deliveries here; the dispatcher's senders take them out.
        self.send_queue: asyncio.Queue[SendJob] = asyncio.Queue(
            maxsize=settings.dispatch_queue_size)
        self.deps = service.Deps(
            settings=settings, recipients=MongoRecipients(self.db),
            preferences=MongoPreferences(self.db), notifications=MongoNotifications(self.db),
            deliveries=MongoDeliveries(self.db), match_history=MongoMatchHistory(self.db),
            mailer=self.mailer, webhooks=self.webhooks, counter=RedisWindowCounter(self.redis),
            engagements=MongoEngagements(self.db), reminders=MongoReminders(self.db),
            send_queue=self.send_queue)
        self.dispatcher = Dispatcher(self.send_queue, send=self._send_jobs,
                                     senders=settings.dispatch_senders)
        self.producer = EventProducer(settings)
        self.consumer = EventConsumer(
            settings, group_id=settings.consumer_group, topics=CONSUMED_TOPICS,
            handler=self._handle_event, batch_handler=self._handle_events,
            producer=self.producer,
            processed=RedisProcessedEvents(self.redis, namespace=settings.consumer_group))
        # SMTP and webhook receivers are deliberately not readiness checks: when they are
        # down, deliveries are recorded and retried, and the inbox API must stay available.
        self.readiness_checks: dict[str, ReadinessCheck] = {
            "mongo": mongo_ping(self.mongo), "redis": redis_ping(self.redis),
            "kafka": kafka_ping(settings), "consumer": self._consumer_running,
        }
        self._tasks: list[asyncio.Task] = []

    async def start(self) -> None:
        settings, deps = self.settings, self.deps
        await create_indexes(self.db)
        await ensure_topics(settings, CONSUMED_TOPICS)
        await self.producer.start()
        self.dispatcher.start()
        await self.consumer.start()
        self._tasks = [
            asyncio.create_task(_every(settings.retry_interval_s, "retry_deliveries",
                                       lambda: service.retry_due_deliveries(deps=deps),
                                       wakeup=deps.retry_wakeup)),
            asyncio.create_task(_every(settings.digest_check_interval_s, "daily_digests",
                                       lambda: service.run_digests(deps=deps))),
            asyncio.create_task(_every(settings.pending_lease_s, "waiting_deliveries",
                                       lambda: service.check_waiting_deliveries(deps=deps))),
            # Also after a restart: re-plans a crash interrupted are finished, and reminders
            # whose time passed meanwhile go out at once.
            asyncio.create_task(_every(settings.reminder_check_interval_s, "reminders",
                                       lambda: service.run_reminder_task(deps=deps))),
        ]
        if settings.coalesce_window_s > 0:
            # Also after a restart: the windows stored before it close and are delivered.
            self._tasks.append(asyncio.create_task(_every(
                settings.coalesce_check_interval_s, "coalescing_windows",
                lambda: service.close_windows(deps=deps))))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.consumer.stop()
        await self.dispatcher.stop()
        await self.producer.stop()
        self.mailer.close()
        await self.webhooks.close()
        await self.redis.aclose()
        await self.mongo.close()

    async def _handle_event(self, event: ConsumedEvent) -> None:
        await service.handle_event(deps=self.deps, event=event)

    async def _handle_events(self, events: list[ConsumedEvent]) -> None:
        await service.handle_events(deps=self.deps, events=events)

    async def _send_jobs(self, jobs: list[SendJob]) -> None:
        await service.send_jobs(deps=self.deps, jobs=jobs)

    async def _consumer_running(self) -> None:
        if not self.consumer.running:
            raise RuntimeError("the event consumer stopped")


def build_notifications(settings: NotificationsSettings) -> NotificationsProcess:
    return NotificationsProcess(settings)


async def _every(interval_s: float, name: str, job: Callable[[], Awaitable[object]],
                 wakeup: asyncio.Event | None = None) -> None:
    """Run `job` every `interval_s`, or at once when `wakeup` is set."""
    while True:
        if wakeup is None:
            await asyncio.sleep(interval_s)
        else:
            with suppress(asyncio.TimeoutError):
                await asyncio.wait_for(wakeup.wait(), timeout=interval_s)
            wakeup.clear()
        try:
            outcome = await job()
            if outcome and any(outcome.values()):
                log.info("periodic_task_done", task=name, outcome=outcome)
        except Exception as exc:  # a failed round must not end the task; the next one retries
            log.warning("periodic_task_failed", task=name, error=repr(exc))
