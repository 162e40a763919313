"""What the search service does, as keyword-only functions over its ports."""
from __future__ import annotations

from datetime import datetime

from platform_common.errors import InvalidInput, Unavailable, invalid_cursor
from platform_common.events import utcnow
from platform_common.events.models import ActorData, ActorErasedData, ItemData, TenantData
from platform_common.identity import Identity
from platform_common.kafka import ConsumedEvent
from platform_common.observability.logging import get_logger
from services.search.ports import IndexUnavailable, QueryRejected, SearchIndex
from services.search.domain.query import (
    InvalidSearch, InvalidSearchCursor, SearchParams, search_body, validate_search,
)
from services.search.domain.results import present_page, tenant_ids_in_facets
from services.search.domain.visibility import viewer_scopes

log = get_logger(__name__)

ITEM_EVENT_TYPES = frozenset(f"{kind}.{change}" for kind in ("offer", "need")
                             for change in ("published", "updated", "closed"))


async def search(*, index: SearchIndex, params: SearchParams, identity: Identity | None,
                 now: datetime | None = None) -> dict:
    try:
        query = validate_search(params)
    except InvalidSearch as exc:
        raise InvalidInput([([name], message) for name, message in exc.problems]) from None
    except InvalidSearchCursor as exc:
        raise invalid_cursor("cursor", str(exc)) from None
    try:
        terms = await index.analyze(query.text) if query.text is not None else []
        body = search_body(query, scopes=viewer_scopes(identity), now=now or utcnow(),
                           text_terms=terms)
        try:
            raw = await index.search(kinds=query.kinds, body=body)
        except QueryRejected:
            if query.search_after is None:
                raise
            raise invalid_cursor("cursor", "does not fit this search") from None
        tenant_names = await index.tenant_names(tenant_ids_in_facets(raw))
    except IndexUnavailable:
        raise Unavailable("Search is unavailable for a moment; please try again.",
                          code="search_unavailable") from None
    return present_page(raw, query=query, tenant_names=tenant_names)


async def apply_events(*, index: SearchIndex, events: list[ConsumedEvent]) -> None:
    """A batch in offset order: consecutive item events are written together, every other
    event one by one (an actor's erasure, a tenant's new neighbours stay in order)."""
    run: list[tuple[ItemData, str]] = []
    for event in events:
        if event.envelope.type in ITEM_EVENT_TYPES:
            assert isinstance(event.data, ItemData)
            run.append((event.data, event.envelope.type))
            continue
        if run:
            await index.put_items(run)
            run = []
        await apply_event(index=index, event=event)
    if run:
        await index.put_items(run)


async def apply_event(*, index: SearchIndex, event: ConsumedEvent) -> None:
    """Project one event into the index; safe to repeat and to receive out of order."""
    name, data = event.envelope.type, event.data
    if name in ("tenant.created", "tenant.updated"):
        assert isinstance(data, TenantData)
        await index.put_tenant(data)
    elif name in ("actor.registered", "actor.updated"):
        assert isinstance(data, ActorData)
        await index.put_actor(data, changed_at=event.envelope.occurred_at)
    elif name == "actor.erased":
        assert isinstance(data, ActorErasedData)
        await index.erase_actor(data)
    elif name in ITEM_EVENT_TYPES:
        assert isinstance(data, ItemData)
        await index.put_item(data, event_type=name)
    else:
        log.debug("event_ignored", event_type=name, event_id=str(event.envelope.id))
