"""Two service instances that both handle every event (as after a rebalance that redelivers a
partition to another instance) still send every mail once: the unique delivery keys in MongoDB
decide who sends."""
from __future__ import annotations

import asyncio
import os
import sys

import redis.asyncio as redis

from deploy.local.engines import free_port
from tests.integration.notifications.conftest import TUNED_ENV, eventually


async def test_a_second_instance_handling_the_same_events_sends_nothing_twice(platform):
    stack = platform.stack
    port = free_port()
    env = {**os.environ, **stack.service_env("notifications"), **TUNED_ENV, "PORT": str(port),
           # Its own consumer group, so it receives every event the first instance receives.
           "CONSUMER_GROUP": "notifications-replica"}
    stack._spawn("notifications-replica", [sys.executable, "-m", "services.notifications"], env=env)
    markers = redis.Redis.from_url(stack.redis_url, decode_responses=True)
    try:
        stack._wait("notifications-replica",
                    lambda: stack._http_ok(f"http://127.0.0.1:{port}/readyz"), 90)
        need_actor = await platform.register()
        offer_actor = await platform.register()
        found = platform.match_event(offer_actor=offer_actor, need_actor=need_actor)
        await platform.publish(found)

        async def handled_by_both():
            keys = [f"processed:{group}:{found.id}" for group in ("notifications",
                                                                  "notifications-replica")]
            return await markers.exists(*keys) == 2

        await eventually(handled_by_both, timeout=60, what="both instances handling the event")
        # Each mail goes out when its coalescing window closes; both instances close it.
        await eventually(lambda: platform.mails(need_actor.email), what="the need side's mail")
        await eventually(lambda: platform.mails(offer_actor.email), what="the offer side's mail")
        await asyncio.sleep(1)  # several runs of both instances' window tasks
        assert len(await platform.mails(need_actor.email)) == 1
        assert len(await platform.mails(offer_actor.email)) == 1
        assert len((await platform.inbox(need_actor))["items"]) == 1
        assert [d["status"] for d in await platform.deliveries(need_actor)] == ["sent"]
    finally:
        await markers.aclose()
        stack.kill("notifications-replica")
