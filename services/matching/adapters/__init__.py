"""Adapters of the matching service: Kafka (feed, group ownership), MongoDB, profiles HTTP."""
