"""Webhook targets and what is posted to them."""
from __future__ import annotations

import ipaddress
import json
from datetime import datetime
from urllib.parse import urlsplit

from services.notifications.domain.models import Notification

MAX_URL_LENGTH = 2000


def validate_webhook_url(url: str) -> str:
    """The URL if it is an absolute http(s) URL without credentials; ValueError otherwise."""
    url = url.strip()
    if len(url) > MAX_URL_LENGTH:
        raise ValueError(f"must be at most {MAX_URL_LENGTH} characters")
    try:
        parts = urlsplit(url)
        parts.port  # raises ValueError for a malformed port
    except ValueError as exc:
        raise ValueError(f"is not a valid URL ({exc})") from None
    if parts.scheme not in ("http", "https"):
        raise ValueError("must be an http or https URL")
    if not parts.hostname:
        raise ValueError("must name a host")
    if parts.username or parts.password:
        raise ValueError("must not contain credentials")
    return url


def is_private_address(address: str) -> bool:
    """Loopback, private, link-local and similar addresses an outside webhook must not reach."""
    ip = ipaddress.ip_address(address.split("%")[0])
    return (ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_multicast
            or ip.is_reserved or ip.is_unspecified)


def webhook_body(notification: Notification, *, delivery_id: str, sent_at: datetime) -> bytes:
    """The JSON posted to an organisation's URL; `sent_at` is signed with the body."""
    payload = {
        "delivery_id": delivery_id,
        "sent_at": sent_at.isoformat(),
        "notification": {
            "id": notification.id,
            "type": notification.type,
            "actor_id": notification.actor_id,
            "tenant": notification.tenant,
            "title": notification.title.model_dump(),
            "body": notification.body.model_dump(),
            "created_at": notification.created_at.isoformat(),
            "data": notification.data,
        },
    }
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()
