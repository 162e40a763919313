"""A consumer in its own process, for the crash tests: records each handled event id in a file.

    python -m tests.support.consumer_process --topic T --group G --record FILE [--hang-after-handling]

With --hang-after-handling the handler records the event and then blocks forever, so the
offset is never committed; the test then kills the process with SIGKILL.
"""
from __future__ import annotations

import argparse
import asyncio
import os

from platform_common.kafka import ConsumedEvent, EventConsumer, EventProducer
from platform_common.settings import CommonSettings


async def main(args: argparse.Namespace) -> None:
    settings = CommonSettings(kafka_bootstrap_servers=os.environ["KAFKA_BOOTSTRAP_SERVERS"],
                              service_name="crash-test", consumer_backoff_initial_s=0.05)
    producer = EventProducer(settings)
    await producer.start()

    async def handle(event: ConsumedEvent) -> None:
        with open(args.record, "a") as out:
            out.write(f"{event.envelope.id}\n")
        if args.hang_after_handling:
            await asyncio.Event().wait()

    consumer = EventConsumer(settings, group_id=args.group, topics=[args.topic], handler=handle,
                             producer=producer)
    await consumer.start()
    try:
        await asyncio.Event().wait()
    finally:
        await consumer.stop()
        await producer.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--topic", required=True)
    parser.add_argument("--group", required=True)
    parser.add_argument("--record", required=True)
    parser.add_argument("--hang-after-handling", action="store_true")
    asyncio.run(main(parser.parse_args()))
