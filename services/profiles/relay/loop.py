"""Publish every outbox record exactly in sequence order, never skipping one.

A batch of records is queued to the producer at once and removed from the outbox (one write)
only after the broker acknowledged it; a crash between the two publishes it again after restart
(at-least-once; consumers dedupe by event id or version). On a broker failure only the records
before the failed one are removed, and the next round (with backoff) starts at the failed one.
Records of one entity share a key, hence a partition, and a failed request fails all later
records of its partition, so the order per entity holds. A lease in MongoDB lets only one
relay publish at a time.
"""
from __future__ import annotations

import asyncio
from datetime import timedelta

from prometheus_client import Counter, Gauge

from platform_common.observability import get_logger
from services.profiles import service
from services.profiles.ports import EventPublisher, Outbox, ProfileStore
from services.profiles.settings import RelaySettings

log = get_logger(__name__)

OUTBOX_BACKLOG = Gauge("outbox_backlog", "Outbox records not yet published", ["service"])
OUTBOX_PUBLISHED = Counter("outbox_published_total", "Outbox records published to Kafka",
                           ["service", "topic"])
OUTBOX_PUBLISH_FAILURES = Counter("outbox_publish_failures_total",
                                  "Failed attempts to publish an outbox record", ["service"])
RELAY_LEADER = Gauge("outbox_relay_leader", "1 while this relay holds the publishing lease",
                     ["service"])
ITEMS_EXPIRED = Counter("items_expired_total", "Published items expired after their last date",
                        ["service"])


class OutboxRelay:
    def __init__(self, *, outbox: Outbox, publisher: EventPublisher, store: ProfileStore,
                 settings: RelaySettings, owner: str):
        self._outbox, self._publisher, self._store = outbox, publisher, store
        self._settings, self._owner = settings, owner
        self._service = settings.service_name
        self._lease_until = None
        self._tasks: list[asyncio.Task] = []

    # ---- lifecycle -------------------------------------------------------------------------
    async def start(self) -> None:
        self._tasks = [asyncio.create_task(self._publish_loop(), name="outbox-publish"),
                       asyncio.create_task(self._expiry_loop(), name="item-expiry"),
                       asyncio.create_task(self._report_loop(), name="outbox-backlog")]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._lease_until is not None:
            try:
                await asyncio.wait_for(self._outbox.release_lease(self._owner), timeout=1)
            except Exception as exc:  # the lease then simply runs out
                log.warning("lease_release_failed", error=repr(exc))
        RELAY_LEADER.labels(self._service).set(0)

    def check_running(self):
        """Readiness: every loop of the relay is alive."""
        async def check():
            dead = [task.get_name() for task in self._tasks if task.done()]
            if dead or not self._tasks:
                raise RuntimeError(f"relay loops not running: {dead or 'not started'}")
        return check

    # ---- publishing ------------------------------------------------------------------------
    async def _holds_lease(self) -> bool:
        """Renew the lease when a third of it is used up; False while another relay holds it."""
        now = service.now_ms()
        ttl = self._settings.relay_lease_ttl_s
        if self._lease_until is not None and now < self._lease_until - timedelta(seconds=ttl * 2 / 3):
            return True
        if await self._outbox.acquire_lease(self._owner, now=now, ttl_s=ttl):
            if self._lease_until is None:
                log.info("relay_lease_acquired", owner=self._owner)
            self._lease_until = now + timedelta(seconds=ttl)
            RELAY_LEADER.labels(self._service).set(1)
            return True
        if self._lease_until is not None:
            log.warning("relay_lease_lost", owner=self._owner)
        self._lease_until = None
        RELAY_LEADER.labels(self._service).set(0)
        return False

    async def publish_pending(self) -> int:
        """Publish the next batch in sequence order: all sends queued at once, then the acks.
        Only the records before the first failure leave the outbox; the failure is
        raised, and the next round starts again at the failed record (records after it that
        did get through are published again: consumers deduplicate)."""
        records = await self._outbox.next_unpublished(limit=self._settings.relay_batch_size)
        if not records or not await self._holds_lease():
            return 0
        errors = await self._publisher.publish_many(
            [(record.envelope, record.topic, record.key) for record in records])
        acknowledged = []
        for record, error in zip(records, errors):
            if error is not None:
                break
            acknowledged.append(record)
        if acknowledged:
            await self._outbox.remove_published(acknowledged)
            for record in acknowledged:
                OUTBOX_PUBLISHED.labels(self._service, record.topic).inc()
        first_error = next((error for error in errors if error is not None), None)
        if first_error is not None:
            raise first_error
        return len(records)

    async def _publish_loop(self) -> None:
        failures = 0
        while True:
            try:
                if not await self._holds_lease():
                    await asyncio.sleep(self._settings.relay_lease_ttl_s / 3)
                    continue
                published = await self.publish_pending()
                failures = 0
                if published < self._settings.relay_batch_size:
                    await asyncio.sleep(self._settings.relay_idle_poll_s)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                failures += 1
                OUTBOX_PUBLISH_FAILURES.labels(self._service).inc()
                delay = min(self._settings.relay_backoff_max_s, 0.2 * 2 ** min(failures, 10))
                log.warning("outbox_publish_failed", error=repr(exc), attempt=failures,
                            retry_in_s=delay)
                await asyncio.sleep(delay)

    # ---- expiry and housekeeping -----------------------------------------------------------
    async def expire_due_items(self) -> int:
        expired = await service.expire_due_items(store=self._store, now=service.now_ms())
        if expired:
            ITEMS_EXPIRED.labels(self._service).inc(expired)
            log.info("items_expired", count=expired)
        return expired

    async def _expiry_loop(self) -> None:
        while True:
            try:
                if self._lease_until is not None:
                    await self.expire_due_items()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("item_expiry_failed", error=repr(exc))
            # The first round runs as soon as the lease is held, then every interval.
            interval = self._settings.expiry_interval_s if self._lease_until is not None else 1.0
            await asyncio.sleep(interval)

    async def _report_loop(self) -> None:
        while True:
            try:
                OUTBOX_BACKLOG.labels(self._service).set(await self._outbox.backlog())
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("outbox_backlog_unknown", error=repr(exc))
            await asyncio.sleep(5)
