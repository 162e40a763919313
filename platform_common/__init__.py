"""Code every service shares: event contracts, Kafka delivery, observability, settings, HTTP errors.

An event class is defined here once; services import it, never copy it.
"""
