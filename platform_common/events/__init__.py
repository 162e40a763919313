from platform_common.events.envelope import Envelope, utcnow
from platform_common.events.registry import (
    ALL_TOPICS, EVENT_TYPES, TOPIC_ACTORS, TOPIC_CONTACTS, TOPIC_ENGAGEMENTS, TOPIC_ITEMS, TOPIC_MATCHES,
    TOPIC_TENANTS, UnknownEventType, UnsupportedEventVersion, event_type, make_event,
    read_event, upcast,
)

__all__ = [
    "ALL_TOPICS", "EVENT_TYPES", "Envelope", "TOPIC_ACTORS", "TOPIC_CONTACTS", "TOPIC_ENGAGEMENTS",
    "TOPIC_ITEMS",
    "TOPIC_MATCHES", "TOPIC_TENANTS", "UnknownEventType", "UnsupportedEventVersion",
    "event_type", "make_event", "read_event", "upcast", "utcnow",
]
