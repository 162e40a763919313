"""Webhook targets and what is posted to them."""
from __future__ import annotations

import ipaddress
import json
import re
from datetime import datetime
from urllib.parse import urlsplit

from services.notifications.domain.messages import coalesced_notification_texts
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


class DeliveryFailed(Exception):
    """A failed webhook call, told in words that are safe to show the webhook's owner: never
    the target's answer, never what an internal host said."""


# What an owner reads in a delivery's last_error when the target is not a public address.
TARGET_REFUSED = "target refused: not a public internet address"


def is_private_address(address: str) -> bool:
    """True for every address a webhook must not reach: loopback, private, link-local (cloud
    metadata at 169.254.169.254), shared (CGNAT), multicast, reserved, unspecified, and IPv6
    forms that wrap one of these (IPv4-mapped, 6to4)."""
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour
        if embedded is not None:
            return is_private_address(str(embedded))
    return not ip.is_global or ip.is_multicast or ip.is_reserved or ip.is_unspecified


def _as_ip(host: str):
    try:
        return ipaddress.ip_address(host.strip("[]").split("%")[0])
    except ValueError:
        return None


class AllowedTargets:
    """WEBHOOK_ALLOWED_TARGETS: internal targets an operator allows on purpose, comma
    separated: IP addresses or CIDRs (matched against the resolved address) and host names
    (matched against the URL's host, exactly)."""

    def __init__(self, text: str = ""):
        self.networks: list = []
        self.hosts: set[str] = set()
        for entry in (part.strip() for part in text.split(",")):
            if not entry:
                continue
            if "/" in entry or _as_ip(entry) is not None:
                try:
                    self.networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
                except ValueError:
                    raise ValueError(f"{entry!r} is not an IP address or CIDR") from None
            elif re.fullmatch(r"[A-Za-z0-9.-]{1,253}", entry):
                self.hosts.add(entry.lower().rstrip("."))
            else:
                raise ValueError(f"{entry!r} is not a host name, IP address or CIDR")

    def allows_host(self, host: str) -> bool:
        return host.lower().rstrip(".") in self.hosts

    def allows_address(self, address: str) -> bool:
        ip = ipaddress.ip_address(address.split("%")[0])
        return any(ip.version == net.version and ip in net for net in self.networks)


def refused_addresses(host: str, addresses: list[str], allowed: AllowedTargets) -> list[str]:
    """The addresses of `host` a webhook must not be sent to (all must pass, so one internal
    record among public ones is refused too); empty when every one may be called."""
    if allowed.allows_host(host):
        return []
    return [address for address in addresses
            if is_private_address(address) and not allowed.allows_address(address)]


def literal_address(host: str) -> str | None:
    """The IP address when the URL's host is one (`127.0.0.1`, `[::1]`), else None."""
    ip = _as_ip(host)
    return None if ip is None else str(ip)


def webhook_body(notification: Notification, *, delivery_id: str, sent_at: datetime,
                 pairs: list[Notification] | None = None) -> bytes:
    """The JSON posted to an organisation's URL; `sent_at` is signed with the body.

    A match notification also carries `pairs`: every pair it tells (one, or all of a
    coalescing window), each with its own id, texts and `data`. The other fields keep their
    meaning: `data` is the first pair's, `title` and `body` say "3 new suggestions …" when
    there are several."""
    body: dict = {
        "id": notification.id,
        "type": notification.type,
        "actor_id": notification.actor_id,
        "tenant": notification.tenant,
        "title": notification.title.model_dump(),
        "body": notification.body.model_dump(),
        "created_at": notification.created_at.isoformat(),
        "data": notification.data,
    }
    if notification.type == "match.found":
        told = pairs or [notification]
        title, text = coalesced_notification_texts(told)
        body.update(title=title.model_dump(), body=text.model_dump(), data=told[0].data,
                    pairs=[{"id": pair.id, "title": pair.title.model_dump(),
                            "body": pair.body.model_dump(),
                            "created_at": pair.created_at.isoformat(), "data": pair.data}
                           for pair in told])
    payload = {"delivery_id": delivery_id, "sent_at": sent_at.isoformat(), "notification": body}
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()
