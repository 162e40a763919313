"""A tenant's statistics, and what the relay learns from the `matches` topic."""
from __future__ import annotations

from datetime import datetime

from platform_common.events.models import MatchData
from platform_common.identity import Identity
from services.profiles.domain import engagements, rules
from services.profiles.domain import stats as stats_domain
from services.profiles.domain import suggestions as suggestions_domain
from services.profiles.ports import ProfileStore, StatsStore, SuggestionStore
from services.profiles.service.tenants import get_tenant


async def tenant_stats(*, store: ProfileStore, stats: StatsStore, identity: Identity,
                       tenant_id: str) -> dict:
    """Published items, matches found, contact requests asked and accepted, and the median
    time to a first match: in total, per month and per category (tenant admins, operators)."""
    rules.require_tenant_admin(identity, tenant_id)
    await get_tenant(store=store, tenant_id=tenant_id)
    facts, firsts = await stats.facts(tenant_id)
    figures = stats_domain.tenant_stats(tenant=tenant_id, facts=facts, first_matches=firsts)
    return {**figures, **engagements.engagement_figures(
        shifts=await store.read.count_shifts(tenant_id),
        tallies=await store.read.signup_tallies(tenant_id))}


async def record_match_events(*, stats: StatsStore, suggestions: SuggestionStore,
                              events: list[tuple[str, MatchData, datetime]]) -> None:
    """From the `matches` topic, (event type, payload, time of the event), a batch at a time
    (this shares the document store with the API's writes): which pairs are current
    suggestions (for contact requests), and when each pair and each item was first matched."""
    changes = [change for event_type, match, at in events
               if (change := suggestions_domain.change_of(
                   event_type, offer_id=match.offer.id, need_id=match.need.id, at=at))]
    if changes:
        await suggestions.apply(changes)
    found = [(match, at) for event_type, match, at in events
             if event_type == suggestions_domain.FOUND]
    if found:
        await stats.record_matches_found(found)
