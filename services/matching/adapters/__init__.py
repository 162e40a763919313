"""Adapters of the matching service: Kafka (feed, group ownership), MongoDB (match set, directory)."""
