"""The explicit map from public paths (under /api/v1) to the services behind the gateway.

Only what is listed here is reachable: the gateway is not an open proxy.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal
from urllib.parse import quote

from gateway.domain.access import PUBLIC, SIGNED_IN, Access, any_role

API_PREFIX = "/api/v1"
# Path parameters become one path segment upstream: no slashes, no dot segments.
SEGMENT_PATTERN = re.compile(r"^[A-Za-z0-9._~:@|+\-]{1,256}$")
PARAMETER_PATTERN = re.compile(r"\{([^}]+)\}")


class UnsafePathParameter(ValueError):
    def __init__(self, name: str):
        super().__init__(f"path parameter {name!r} has characters that are not allowed")
        self.name = name


@dataclass(frozen=True)
class ProxyRoute:
    method: str
    path: str        # public, relative to API_PREFIX, e.g. "/offers/{id}"
    service: str     # "profiles", "search", "matching" or "notifications"
    upstream: str    # path on the service, same parameter names
    access: Access
    summary: str
    # "json": the body is checked to be JSON and forwarded; "ignored": not read, not forwarded
    # (RFC 8058 one-click unsubscribe posts a form the service does not need).
    body: Literal["json", "ignored"] = "json"
    # The service also answers `?format=csv`; a client's `Accept: text/csv` asks for it too.
    csv: bool = False

    @property
    def public_path(self) -> str:
        return API_PREFIX + self.path

    @property
    def name(self) -> str:
        slug = re.sub(r"[^a-z0-9]+", "_", self.path.lower()).strip("_")
        return f"{self.method.lower()}_{slug}"

    @property
    def parameters(self) -> list[str]:
        return PARAMETER_PATTERN.findall(self.path)


def upstream_path(route: ProxyRoute, params: dict[str, str]) -> str:
    """The service path for a request, each parameter checked and percent-encoded."""
    def substitute(match: re.Match) -> str:
        name = match.group(1)
        value = params.get(name, "")
        if not SEGMENT_PATTERN.match(value) or value in {".", ".."}:
            raise UnsafePathParameter(name)
        return quote(value, safe="")

    return PARAMETER_PATTERN.sub(substitute, route.upstream)


MODERATORS = any_role("tenant_admin", "operator")


def _item_routes(kind: str) -> list[ProxyRoute]:
    plural = f"{kind}s"
    base = f"/{plural}"
    return [
        ProxyRoute("POST", base, "profiles", base, SIGNED_IN, f"Publish a new {kind}"),
        ProxyRoute("GET", base, "profiles", base, SIGNED_IN, f"List {plural} (own or of an actor)"),
        ProxyRoute("GET", base + "/{id}", "profiles", base + "/{id}", PUBLIC,
                   f"One {kind} (the service applies its visibility)"),
        ProxyRoute("PATCH", base + "/{id}", "profiles", base + "/{id}", SIGNED_IN,
                   f"Change an own {kind}"),
        ProxyRoute("DELETE", base + "/{id}", "profiles", base + "/{id}", SIGNED_IN,
                   f"Close an own {kind}"),
        ProxyRoute("POST", base + "/{id}/pause", "profiles", base + "/{id}/pause", SIGNED_IN,
                   f"Pause an own {kind}: out of search and matching until resumed"),
        ProxyRoute("POST", base + "/{id}/resume", "profiles", base + "/{id}/resume", SIGNED_IN,
                   f"Resume an own paused {kind}"),
        ProxyRoute("POST", base + "/{id}/hide", "profiles", base + "/{id}/hide", MODERATORS,
                   f"Hide a {kind} (moderation)"),
        ProxyRoute("POST", base + "/{id}/unhide", "profiles", base + "/{id}/unhide", MODERATORS,
                   f"Publish a hidden {kind} again (moderation)"),
        ProxyRoute("GET", base + "/{id}/matches", "matching", base + "/{id}/matches", SIGNED_IN,
                   f"Suggested counterparts of a {kind}, with reasons"),
        ProxyRoute("POST", base + "/{id}/shifts", "profiles", base + "/{id}/shifts", SIGNED_IN,
                   f"Add a date or shift to an own {kind}"),
        ProxyRoute("GET", base + "/{id}/shifts", "profiles", base + "/{id}/shifts", PUBLIC,
                   f"The dates and shifts of a {kind} (counts, never names)"),
        ProxyRoute("GET", base + "/{id}/calendar.ics", "profiles", base + "/{id}/calendar.ics",
                   PUBLIC, f"The shifts of a {kind} as iCalendar"),
    ]


PROXY_ROUTES: tuple[ProxyRoute, ...] = (
    ProxyRoute("GET", "/tenants", "profiles", "/tenants", PUBLIC, "All municipalities (tenants)"),
    ProxyRoute("POST", "/tenants", "profiles", "/tenants", any_role("operator"),
               "Onboard a municipality (operator)"),
    ProxyRoute("GET", "/tenants/{id}", "profiles", "/tenants/{id}", PUBLIC, "One municipality"),
    ProxyRoute("PATCH", "/tenants/{id}", "profiles", "/tenants/{id}", MODERATORS,
               "Change a municipality's settings and branding"),
    ProxyRoute("GET", "/tenants/{id}/stats", "profiles", "/tenants/{id}/stats", MODERATORS,
               "A municipality's figures by month and category (JSON, or CSV with "
               "?format=csv or Accept: text/csv)", csv=True),
    ProxyRoute("GET", "/moderation/items", "profiles", "/moderation/items", MODERATORS,
               "Hidden or published offers and needs to moderate (own tenant; operators all)"),
    ProxyRoute("POST", "/actors", "profiles", "/actors", SIGNED_IN, "Create an actor profile"),
    ProxyRoute("GET", "/actors/{id}", "profiles", "/actors/{id}", PUBLIC,
               "One actor's profile (organisations public; private persons to signed-in users)"),
    ProxyRoute("PATCH", "/actors/{id}", "profiles", "/actors/{id}", SIGNED_IN,
               "Change an own actor profile"),
    ProxyRoute("DELETE", "/actors/{id}", "profiles", "/actors/{id}", SIGNED_IN,
               "Close an own organisation (or delete an own person profile) for good"),
    ProxyRoute("POST", "/actors/{id}/members", "profiles", "/actors/{id}/members", SIGNED_IN,
               "Add a member to an actor"),
    ProxyRoute("DELETE", "/actors/{id}/members/{sub}", "profiles", "/actors/{id}/members/{sub}",
               SIGNED_IN, "Remove a member from an actor"),
    *_item_routes("offer"),
    *_item_routes("need"),
    ProxyRoute("POST", "/contacts", "profiles", "/contacts", SIGNED_IN,
               "Ask the owner of an offer or need for contact"),
    ProxyRoute("GET", "/contacts", "profiles", "/contacts", SIGNED_IN, "Own contact requests"),
    ProxyRoute("GET", "/contacts/{id}", "profiles", "/contacts/{id}", SIGNED_IN,
               "One contact request; the contact details once accepted"),
    ProxyRoute("POST", "/contacts/{id}/accept", "profiles", "/contacts/{id}/accept", SIGNED_IN,
               "Accept a contact request"),
    ProxyRoute("POST", "/contacts/{id}/decline", "profiles", "/contacts/{id}/decline", SIGNED_IN,
               "Decline a contact request"),
    ProxyRoute("GET", "/search", "search", "/search", PUBLIC,
               "Search offers, needs and actors by place, radius, category and text"),
    ProxyRoute("GET", "/me/notifications", "notifications", "/me/notifications", SIGNED_IN,
               "Own in-app notifications"),
    ProxyRoute("POST", "/me/notifications/read-all", "notifications",
               "/me/notifications/read-all", SIGNED_IN, "Mark all own notifications read"),
    ProxyRoute("POST", "/me/notifications/{id}/read", "notifications",
               "/me/notifications/{id}/read", SIGNED_IN, "Mark one notification read"),
    ProxyRoute("GET", "/me/deliveries", "notifications", "/me/deliveries", SIGNED_IN,
               "E-mails, digests and webhooks sent to own actors"),
    ProxyRoute("GET", "/me/notification-preferences", "notifications",
               "/me/notification-preferences", SIGNED_IN, "Own notification preferences"),
    ProxyRoute("PUT", "/me/notification-preferences", "notifications",
               "/me/notification-preferences", SIGNED_IN, "Change own notification preferences"),
    ProxyRoute("GET", "/unsubscribe", "notifications", "/unsubscribe", PUBLIC,
               "Unsubscribe from e-mails with the token of a mail's link"),
    ProxyRoute("POST", "/unsubscribe", "notifications", "/unsubscribe", PUBLIC,
               "One-click unsubscribe (RFC 8058) with the token of a mail's link",
               body="ignored"),
    ProxyRoute("GET", "/tenants/{id}/calendar.ics", "profiles", "/tenants/{id}/calendar.ics",
               PUBLIC, "Upcoming public shifts of a municipality as iCalendar"),
    ProxyRoute("GET", "/shifts/{id}", "profiles", "/shifts/{id}", PUBLIC,
               "One shift (counts; the caller's own sign-up)"),
    ProxyRoute("PATCH", "/shifts/{id}", "profiles", "/shifts/{id}", SIGNED_IN,
               "Change or move a shift of an own item"),
    ProxyRoute("DELETE", "/shifts/{id}", "profiles", "/shifts/{id}", SIGNED_IN,
               "Cancel a shift of an own item (and its sign-ups)"),
    ProxyRoute("POST", "/shifts/{id}/signups", "profiles", "/shifts/{id}/signups", SIGNED_IN,
               "Sign up for a shift (confirmed, or waitlisted when full)"),
    ProxyRoute("GET", "/shifts/{id}/signups", "profiles", "/shifts/{id}/signups", SIGNED_IN,
               "Who signed up for a shift (the organisation)"),
    ProxyRoute("POST", "/signups/{id}/cancel", "profiles", "/signups/{id}/cancel", SIGNED_IN,
               "Cancel an own sign-up, or remove a volunteer with a reason"),
    ProxyRoute("POST", "/signups/{id}/hours", "profiles", "/signups/{id}/hours", SIGNED_IN,
               "Report the hours of a sign-up (organisation: confirmed; volunteer: proposed)"),
    ProxyRoute("POST", "/signups/{id}/hours/confirm", "profiles", "/signups/{id}/hours/confirm",
               SIGNED_IN, "Confirm the hours a volunteer proposed"),
    ProxyRoute("GET", "/actors/{id}/hours", "profiles", "/actors/{id}/hours", SIGNED_IN,
               "Own confirmed hours by year and organisation, and the volunteer card's progress"),
    ProxyRoute("GET", "/actors/{id}/certificate.pdf", "profiles", "/actors/{id}/certificate.pdf",
               SIGNED_IN, "Own certificate of confirmed hours (PDF)"),
    ProxyRoute("GET", "/actors/{id}/volunteers/{actor_id}/certificate.pdf", "profiles",
               "/actors/{id}/volunteers/{actor_id}/certificate.pdf", SIGNED_IN,
               "A certificate an organisation issues for its volunteer (PDF)"),
    ProxyRoute("GET", "/calendars/{token}.ics", "profiles", "/calendars/{token}.ics", PUBLIC,
               "A person's engagements as iCalendar (the secret token is the key)"),
    ProxyRoute("GET", "/me/calendar", "profiles", "/me/calendar", SIGNED_IN,
               "The secret URL of the own calendar feed"),
    ProxyRoute("POST", "/me/calendar/renew", "profiles", "/me/calendar/renew", SIGNED_IN,
               "A new secret calendar URL (the old one stops working)"),
    ProxyRoute("GET", "/me/signups", "profiles", "/me/signups", SIGNED_IN,
               "Own sign-ups with their shifts"),
    ProxyRoute("GET", "/me/actors", "profiles", "/me/actors", SIGNED_IN,
               "Own actor profiles (persons and organisations)"),
    ProxyRoute("DELETE", "/me", "profiles", "/me", SIGNED_IN,
               "Erase own account and data (propagated to every store)"),
)
