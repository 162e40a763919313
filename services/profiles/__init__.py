"""Profiles: the system of record for tenants (municipalities), actors, offers and needs.

Every change is written together with its event into an outbox in one MongoDB transaction;
the relay process (`python -m services.profiles.relay`) publishes the outbox to Kafka and
reads the `matches` topic into the statistics and the current suggestions (README.md).
"""
