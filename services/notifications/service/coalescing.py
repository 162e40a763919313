"""Coalescing windows: the new pairs of one recipient's item found within
`coalesce_window_s` become one notification (one inbox entry, one mail, one webhook call).

Stored, not held in memory, because the consumer commits its offsets once the work is stored.
Every pair is still its own notification, stored once by its dedupe key (recipient, pair,
round) as before. The rule that keeps a pair from being lost: **a lead lists a pair before the
pair is stored**, so every stored pair is listed by its window, and the window is told only
once the pairs it lists are stored.

- `store_pairs` places a batch with one look at the open windows of all its (recipient, item)s.
  Without an open window, the first new pair of its (recipient, item) is stored as the *lead*
  of a new window (in the inbox, `closes_at` = now + window), listing the batch's pairs that
  come with it; those are stored after it. With an open window, the pairs join it by one
  conditional update of the lead (`member_ids` grows unless the lead is sealed) and are stored
  after. A lead sealed meanwhile makes them lead a new window instead.
- A pair stored before (a redelivered event) keeps its place; its new id is taken off the
  list again.
- `planning.close_windows` (the window task) records the closing, seals the due leads (no
  more pairs; one write per lead), reads their pairs and plans each window's deliveries once,
  under the lead's keys. A window whose listed pair is not stored yet (still on its way, or
  never: the process died first) waits for it up to `coalesce_repair_after_s`, then goes
  without it (a pair that was never stored comes again with its event, under a new id).

A crash before a pair is stored leaves its event uncommitted: it comes again and is placed
then. A crash while windows are being closed leaves the closing on record; the window task
finishes it after `coalesce_repair_after_s`. A window planned twice (that, or two instances)
claims its deliveries under the same keys, so nothing is sent twice.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from prometheus_client import Counter, Histogram

from services.notifications.domain.models import Notification
from services.notifications.service.deps import Deps

# What the monitoring team watches to see coalescing work (README, "Metrics"): each pair once,
# when it takes its place in a window (`led`: it opened one; `joined`: it joined one), and the
# size of each window when it closes and is told as one notification (`_count`: windows told).
COALESCED_PAIRS = Counter("notifications_coalescing_pairs_total",
                          "Match pairs placed in a coalescing window", ["placement"])
WINDOW_PAIRS = Histogram("notifications_coalesced_pairs",
                         "Pairs told together by one closed coalescing window",
                         buckets=(1, 2, 3, 5, 10, 20, 50, 100))
for _placement in ("led", "joined"):  # both series exist from the start, at 0
    COALESCED_PAIRS.labels(_placement)

Pair = tuple[Notification, bool]  # a pair's notification, and whether its recipient keeps an inbox


def coalesces(deps: Deps, notification: Notification) -> bool:
    """Whether this notification goes through a coalescing window."""
    return deps.settings.coalesce_window_s > 0 and notification.type == "match.found"


def window_of(notification: Notification) -> str:
    """The (recipient, own item) whose new pairs are told together."""
    return f"{notification.actor_id}:{notification.data.get('item_id', '')}"


async def store_pairs(*, deps: Deps, pairs: list[Pair]) -> set[str]:
    """Store the coalescing pairs of a batch, each listed by its window first; the ids
    inserted (a pair stored before is not). One batch at a time per process: the pairs of one
    new item reach us through several partitions at once (match events are keyed by pair),
    and two batches that both looked before either stored its lead would open two windows."""
    async with deps.window_placement:
        return await _store_pairs(deps=deps, pairs=pairs)


async def _store_pairs(*, deps: Deps, pairs: list[Pair]) -> set[str]:
    store, now = deps.notifications, deps.clock()
    inserted: set[str] = set()
    pending: dict[str, list[Pair]] = {}
    for pair in pairs:
        pending.setdefault(window_of(pair[0]), []).append(pair)
    while pending:  # again for the pairs whose lead was sealed meanwhile or stored before
        open_leads = await store.open_windows(list(pending), now)
        new_leads: dict[str, tuple[str, list[Pair]]] = {}  # lead id -> (window, its pairs)
        joining: dict[str, tuple[str, list[Pair]]] = {}  # open lead id -> (window, new pairs)
        for window, group in pending.items():
            lead = open_leads.get(window)
            if lead is None:
                new_leads[group[0][0].id] = (window, group)
                _lead(deps, group, window=window, now=now)
            else:
                joining[lead.id] = (window, group)
        joined = await store.join_windows(
            {lead_id: [pair.id for pair, _ in group] for lead_id, (_, group) in joining.items()}
        ) if joining else set()
        listed: dict[str, list[Notification]] = {}  # lead id -> the pairs it lists, to store
        retry: dict[str, list[Pair]] = {}
        for lead_id, (window, group) in joining.items():
            if lead_id in joined:
                listed[lead_id] = [_member(pair, lead_id) for pair, _ in group]
            else:  # sealed since we looked: the pairs lead a new window
                retry[window] = group
        # The new leads and the pairs listed by open leads; then the new leads' other pairs.
        stored = await store.insert_many([group[0][0] for _, group in new_leads.values()]
                                         + [pair for pairs_ in listed.values() for pair in pairs_])
        stored_leads = stored & new_leads.keys()
        with_new_leads: dict[str, list[Notification]] = {}
        for lead_id, (window, group) in new_leads.items():
            if lead_id in stored_leads:
                with_new_leads[lead_id] = [pair for pair, _ in group[1:]]
            elif len(group) > 1:  # the lead was stored before: the others find their window
                retry[window] = group[1:]
        stored |= await store.insert_many(
            [pair for pairs_ in with_new_leads.values() for pair in pairs_])
        listed.update(with_new_leads)
        for lead_id, members in listed.items():
            seen_before = [pair.id for pair in members if pair.id not in stored]
            if seen_before:
                await store.leave_window(lead_id, seen_before)
        COALESCED_PAIRS.labels("led").inc(len(stored_leads))
        COALESCED_PAIRS.labels("joined").inc(len(stored - stored_leads))
        inserted |= stored
        pending = retry
    return inserted


def _lead(deps: Deps, group: list[Pair], *, window: str, now: datetime) -> None:
    """The first pair of `group` leads a new window listing the group; the others name it."""
    lead, in_inbox = group[0]
    lead.group_id, lead.window, lead.member_ids, lead.sealed = (
        lead.id, window, [pair.id for pair, _ in group], False)
    lead.in_inbox = in_inbox
    lead.closes_at = now + timedelta(seconds=deps.settings.coalesce_window_s)
    for pair, _ in group[1:]:
        _member(pair, lead.id)


def _member(pair: Notification, lead_id: str) -> Notification:
    """A pair told through the window of `lead_id`: outside the inbox, under its lead."""
    pair.group_id, pair.in_inbox = lead_id, False
    pair.window, pair.closes_at, pair.member_ids = None, None, []
    return pair
