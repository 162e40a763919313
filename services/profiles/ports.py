"""The small interfaces the profiles service needs from the outside world.

One real adapter each: MongoDB (services/profiles/adapters/mongo*.py) for the store, the
outbox, the statistics and the current suggestions (fed by the `matches` topic), Kafka
(adapters/kafka.py) for publishing. Profiles calls no other service.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Awaitable, Callable, Literal, Protocol, TypeVar

from platform_common.events import Envelope
from platform_common.events.models import MatchData
from services.profiles.domain.calendar_links import CalendarToken
from services.profiles.domain.contacts import Contact, ContactRole
from services.profiles.domain.engagements import Shift, Signup, SignupTally
from services.profiles.domain.records import Actor, Item, Tenant
from services.profiles.domain.stats import Fact, FirstMatch
from services.profiles.domain.suggestions import SuggestionChange

T = TypeVar("T")
ExportCollection = Literal["tenants", "actors", "offers", "needs"]


class Repository(Protocol):
    """Reads and writes; inside `run_in_transaction` all of them belong to one transaction.

    Writes raise `Conflict` when an id exists already (insert) or the stored version is not
    `expected_version` any more (save).
    """

    async def get_tenant(self, tenant_id: str) -> Tenant | None: ...
    async def list_tenants(self) -> list[Tenant]: ...
    async def insert_tenant(self, tenant: Tenant) -> None: ...
    async def save_tenant(self, tenant: Tenant, *, expected_version: int) -> None: ...

    async def get_actor(self, actor_id: str) -> Actor | None: ...
    async def actors_owned_by(self, sub: str) -> list[Actor]: ...
    async def insert_actor(self, actor: Actor) -> None: ...
    async def save_actor(self, actor: Actor, *, expected_version: int) -> None: ...
    async def delete_actor(self, actor_id: str) -> None: ...

    async def get_item(self, item_id: str) -> Item | None: ...
    async def list_items(self, *, kind: str | None, actor_ids: list[str] | None = None,
                         tenant: str | None = None, statuses: list[str] | None = None,
                         visibilities: list[str] | None = None, after: str | None = None,
                         limit: int | None = None) -> list[Item]: ...
    async def items_due_to_expire(self, *, now: datetime, limit: int) -> list[Item]: ...
    async def insert_item(self, item: Item) -> None: ...
    async def save_item(self, item: Item, *, expected_version: int) -> None: ...

    async def export_page(self, collection: ExportCollection, *, after: str | None,
                          limit: int) -> list[Tenant | Actor | Item]: ...

    async def get_contact(self, contact_id: str) -> Contact | None: ...
    async def active_contact_for_pair(self, offer_id: str, need_id: str) -> Contact | None:
        """The pair's request that is requested or accepted, if any."""

    async def list_contacts(self, *, actor_ids: list[str], role: ContactRole | None = None,
                            statuses: list[str] | None = None, after: str | None = None,
                            limit: int | None = None) -> list[Contact]:
        """Requests the actors sent (role "sent"), received ("received") or either, by id."""

    async def insert_contact(self, contact: Contact) -> None: ...
    async def save_contact(self, contact: Contact, *, expected_version: int) -> None: ...
    async def delete_contacts_of(self, actor_id: str) -> int:
        """Remove every request the actor sent or received; returns how many."""

    async def get_shift(self, shift_id: str) -> Shift | None: ...
    async def insert_shift(self, shift: Shift) -> None: ...
    async def save_shift(self, shift: Shift, *, expected_version: int) -> None: ...
    async def shifts_of_item(self, item_id: str) -> list[Shift]:
        """Every shift of an offer or need (cancelled ones too), by start, then id."""

    async def upcoming_shifts(self, tenant: str, *, since: datetime,
                              limit: int) -> list[Shift]:
        """Scheduled shifts of a tenant that end after `since`, by start, then id."""

    async def count_shifts(self, tenant: str) -> int:
        """Every shift of the tenant, cancelled ones too."""

    async def get_signup(self, signup_id: str) -> Signup | None: ...
    async def insert_signup(self, signup: Signup) -> None: ...
    async def save_signup(self, signup: Signup, *, expected_version: int) -> None: ...
    async def delete_signup(self, signup_id: str) -> None: ...
    async def signups_of_shift(self, shift_id: str, *,
                               statuses: list[str] | None = None) -> list[Signup]:
        """The shift's sign-ups (of these statuses), in the order they signed up."""

    async def active_signup(self, shift_id: str, actor_id: str) -> Signup | None:
        """The actor's confirmed or waitlisted sign-up for the shift, if any."""

    async def signups_of_actor(self, actor_id: str) -> list[Signup]:
        """Every sign-up of a volunteer actor, by id."""

    async def signup_tallies(self, tenant: str) -> list[SignupTally]:
        """The tenant's sign-ups counted per (status, hours_status, attended), with their hours
        summed, in no particular order (the statistics; the sign-ups stay in the store)."""

    async def calendar_token_of(self, sub: str) -> CalendarToken | None:
        """What is stored about the person's calendar token (its hash), if they have one."""

    async def set_calendar_token(self, sub: str, token: CalendarToken) -> None:
        """Store the person's token, replacing the one before (whose hash then resolves no
        more)."""

    async def calendar_owner(self, token_hash: str) -> str | None:
        """The subject whose calendar token has this hash."""

    async def delete_calendar_token(self, sub: str) -> None:
        """The person is gone: their feed URL answers 404 from now on."""

    async def add_event(self, envelope: Envelope, *, topic: str, key: str) -> None:
        """Put an event into the outbox (only meaningful inside a transaction)."""


class ProfileStore(Protocol):
    @property
    def read(self) -> Repository: ...

    async def run_in_transaction(self, work: Callable[[Repository], Awaitable[T]]) -> T:
        """Run `work` in one transaction, again from the start when it lost a write conflict."""

    async def ensure_indexes(self) -> None: ...


@dataclass(frozen=True)
class OutboxRecord:
    id: object
    sequence: int
    topic: str
    key: str
    envelope: Envelope


class Outbox(Protocol):
    async def next_unpublished(self, *, limit: int) -> list[OutboxRecord]:
        """The oldest unpublished records, in sequence order."""

    async def remove_published(self, records: list[OutboxRecord]) -> None:
        """The broker acknowledged these: they leave the outbox."""

    async def backlog(self) -> int: ...

    async def acquire_lease(self, owner: str, *, now: datetime, ttl_s: float) -> bool:
        """Become (or stay) the one relay that publishes; False while another holds it."""

    async def release_lease(self, owner: str) -> None: ...


class StatsStore(Protocol):
    async def record_matches_found(self, found: list[tuple[MatchData, datetime]]) -> None:
        """Remember (idempotently) when each pair and each of its items was first matched."""

    async def facts(self, tenant: str) -> tuple[list[Fact], list[FirstMatch]]:
        """What a tenant's statistics are computed from."""


class SuggestionStore(Protocol):
    """The read model of matching's current suggestions (profiles' own database)."""

    async def apply(self, changes: list[SuggestionChange]) -> None:
        """Record found and withdrawn pairs; a change older than (or as old as) the one the
        store holds for its pair changes nothing, so redelivery and replays are harmless."""

    async def is_current(self, *, offer_id: str, need_id: str) -> bool:
        """Whether the pair's latest known event is `match.found`."""

    async def ensure_indexes(self) -> None: ...


class EventPublisher(Protocol):
    async def publish_many(self, batch: list[tuple[Envelope, str, str]]) -> list[BaseException | None]:
        """(envelope, topic, key) in order; per event None once acknowledged, else the error.
        After a failure, later events with the same key fail too (order per key holds)."""
