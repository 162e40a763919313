"""The outbox relay: its own process, publishing the outbox to Kafka in sequence order.

It also expires published items whose last date has passed (every ~30 s and at start).
"""
