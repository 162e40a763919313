"""Contact by consent: who may ask whom, the request's lifecycle, and what each party sees.

One side of an offer/need pair asks for contact, the other accepts or declines. Until the
request is accepted neither side sees the other's e-mail; afterwards both see each other's
name and e-mail. Pure: the service loads the items, actors and requests and passes them in.
"""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Iterable, Literal

from pydantic import AfterValidator, Field, StrictStr

from platform_common.errors import Conflict, DomainError, Forbidden, invalid
from platform_common.identity import Identity
from services.profiles.domain import rules
from services.profiles.domain.records import ItemKind, Stored
from services.profiles.domain.requests import MultiLine, Strict

if TYPE_CHECKING:
    from services.profiles.domain.records import Actor, Item

ContactStatus = Literal["requested", "accepted", "declined"]
ContactRole = Literal["sent", "received"]
# A pair has at most one request in these states: a new one waits until it was declined.
ACTIVE_STATUSES = ("requested", "accepted")
MAX_MESSAGE = 1000

ItemId = Annotated[StrictStr, Field(min_length=1, max_length=100)]
Message = Annotated[StrictStr, Field(max_length=MAX_MESSAGE), AfterValidator(str.strip),
                    MultiLine]


class ContactCreate(Strict):
    offer_id: ItemId
    need_id: ItemId
    message: Message = ""


class Contact(Stored):
    """A contact request as stored (its event payload: mapping.contact_event)."""

    id: str
    offer_id: str
    need_id: str
    requester_actor_id: str
    recipient_actor_id: str
    requester_tenant: str
    recipient_tenant: str
    message: str = ""
    status: ContactStatus
    version: int
    created_at: datetime
    updated_at: datetime
    decided_at: datetime | None = None


class NotAMatch(DomainError):
    """The pair is not among the current suggestions (as far as profiles has heard from
    matching); answers 422 (app.py's error_statuses)."""

    code = "not_a_match"


# ---- asking ----------------------------------------------------------------------------------
def requester_side(identity: Identity, *, offer_actor: "Actor",
                   need_actor: "Actor") -> ItemKind:
    """Which side of the pair the caller asks from: the one whose actor they own."""
    owns_offer = rules.is_owner(identity, offer_actor)
    owns_need = rules.is_owner(identity, need_actor)
    if owns_offer and owns_need:
        raise invalid(["need_id"], "you act for both the offer and the need; a contact request "
                                   "is between two different actors")
    if not (owns_offer or owns_need):
        raise Forbidden("Only an owner of the offer's or the need's actor may ask for contact.")
    return "offer" if owns_offer else "need"


def check_pair_open(offer: "Item", need: "Item") -> None:
    for item in (offer, need):
        if item.status != "published":
            raise Conflict(f"The {item.kind} is {item.status}; contact can only be requested for "
                           f"published offers and needs.",
                           {"kind": item.kind, "id": item.id, "status": item.status},
                           code="item_not_open")


def mutually_visible(offer: "Item", need: "Item", *, offer_tenant_neighbours: Iterable[str],
                     need_tenant_neighbours: Iterable[str]) -> bool:
    """Each item is visible in the other's municipality (the service's visibility rules)."""
    return (offer.visibility in rules.allowed_visibilities(need.tenant, offer.tenant,
                                                           offer_tenant_neighbours)
            and need.visibility in rules.allowed_visibilities(offer.tenant, need.tenant,
                                                              need_tenant_neighbours))


def check_no_active_request(existing: Contact | None) -> None:
    """One open or accepted request per pair, whichever side asked."""
    if existing is not None:
        raise Conflict("A contact request for this offer and need exists already.",
                       {"id": existing.id, "status": existing.status,
                        "requester_actor_id": existing.requester_actor_id},
                       code="contact_exists")


def check_match(current_match: bool, *, offer_id: str, need_id: str) -> None:
    """Refuse a pair that is not a current suggestion."""
    if not current_match:
        raise NotAMatch("The offer and the need are not a current match.",
                        [{"field": "need_id", "path": ["need_id"],
                          "message": f"need {need_id!r} is not a current match of "
                                     f"offer {offer_id!r}"}])


def new_contact(request: ContactCreate, *, contact_id: str, requester: "Actor",
                recipient: "Actor", now: datetime) -> Contact:
    return Contact(id=contact_id, offer_id=request.offer_id, need_id=request.need_id,
                   requester_actor_id=requester.id, recipient_actor_id=recipient.id,
                   requester_tenant=requester.tenant, recipient_tenant=recipient.tenant,
                   message=request.message, status="requested", version=1,
                   created_at=now, updated_at=now)


# ---- answering -------------------------------------------------------------------------------
def decided(contact: Contact, status: Literal["accepted", "declined"], *, identity: Identity,
            recipient: "Actor | None", now: datetime) -> Contact:
    """The request after its recipient accepted or declined it."""
    if not rules.is_owner(identity, recipient):
        raise Forbidden("Only the recipient of a contact request may accept or decline it.")
    if contact.status != "requested":
        raise Conflict(f"The contact request is {contact.status} already.",
                       {"status": contact.status}, code="contact_not_open")
    return Contact.model_validate({**contact.model_dump(), "status": status,
                                   "version": contact.version + 1, "updated_at": now,
                                   "decided_at": now})


# ---- what the parties see --------------------------------------------------------------------
def is_party(identity: Identity | None, *, requester: "Actor | None",
             recipient: "Actor | None") -> bool:
    return rules.is_owner(identity, requester) or rules.is_owner(identity, recipient)


def shares_accepted_contact(contacts: Iterable[Contact], *, actor_id: str,
                            own_actor_ids: Iterable[str]) -> bool:
    """Whether `actor_id` and one of `own_actor_ids` are the parties of an accepted request."""
    own = set(own_actor_ids)
    for contact in contacts:
        if contact.status != "accepted":
            continue
        if contact.requester_actor_id == actor_id and contact.recipient_actor_id in own:
            return True
        if contact.recipient_actor_id == actor_id and contact.requester_actor_id in own:
            return True
    return False
