"""Coalescing windows: the new pairs of one recipient's item found within
`coalesce_window_s` become one notification (one inbox entry, one mail, one webhook call).

Stored, not held in memory, because the consumer commits its offsets once the work is stored.
Every pair is still its own notification, stored once by its dedupe key (recipient, pair,
round) as before. A batch is placed in windows before it is stored, with one look at the open
windows of all its (recipient, item)s (`place`), and joined after (`join_placed`):

- Without an open window, the first new pair of its (recipient, item) is stored as the *lead*
  of a new window: in the inbox, listing the pairs of the batch that come with it, and
  `closes_at` = now + window. Its other pairs name it (`group_id`) and carry `joining_since`
  until the lead is known to be stored.
- With an open window (the newest lead whose `closes_at` lies ahead), the pairs are stored
  outside the inbox with `joining_since`, then join it by one conditional update of the lead
  (`member_ids` grows unless the lead is sealed), so a pair is either in a window or not.
  A sealed lead (closed meanwhile) makes them lead a new window instead.
- When the window has closed, the window task (`planning.close_windows`) seals the due leads
  (no more pairs), reads their pairs and plans their deliveries once under the leads' keys, as
  for any notification; then `closes_at` is cleared.

A crash before the pairs are stored leaves the event uncommitted: it comes again and is stored
then. A crash after: the lead is in the store and its window closes later as usual; a pair
caught between being stored and joining keeps `joining_since` and is repaired (joined, or
found covered) by the window task after `coalesce_repair_after_s`. A window planned twice
(a crash between planning and clearing `closes_at`, or two instances) claims its deliveries
under the same keys, so nothing is sent twice.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from prometheus_client import Counter, Histogram

from services.notifications.domain import rules
from services.notifications.domain.models import Notification, Preferences
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


def coalesces(deps: Deps, notification: Notification) -> bool:
    """Whether this notification goes through a coalescing window."""
    return deps.settings.coalesce_window_s > 0 and notification.type == "match.found"


def window_of(notification: Notification) -> str:
    """The (recipient, own item) whose new pairs are told together."""
    return f"{notification.actor_id}:{notification.data.get('item_id', '')}"


@dataclass
class Placed:
    """Where the pairs of a batch go: the open window each joins, or the new lead it comes
    with (a pair that leads names no window here)."""
    joining: dict[str, str] = field(default_factory=dict)  # pair id -> open lead id
    new_leads: dict[str, list[str]] = field(default_factory=dict)  # lead id -> its pairs


async def place(*, deps: Deps, members: list[tuple[Notification, bool]]) -> Placed:
    """Before a batch is stored: set the window fields of its coalescing pairs (each with
    whether its recipient keeps an inbox), in their order, from one look at the open windows."""
    now = deps.clock()
    groups: dict[str, list[tuple[Notification, bool]]] = {}
    for notification, in_inbox in members:
        groups.setdefault(window_of(notification), []).append((notification, in_inbox))
    open_leads = await deps.notifications.open_windows(list(groups), now)
    placed = Placed()
    for window, group in groups.items():
        lead = open_leads.get(window)
        pairs = [notification for notification, _ in group]
        if lead is None:
            # The first pair leads a new window, stored with it; the others name it.
            lead, in_inbox = group[0]
            lead.group_id, lead.window, lead.member_ids, lead.sealed = (
                lead.id, window, [p.id for p in pairs], False)
            lead.in_inbox, lead.joining_since = in_inbox, None
            lead.closes_at = now + timedelta(seconds=deps.settings.coalesce_window_s)
            placed.new_leads[lead.id] = [p.id for p in pairs[1:]]
            pairs = pairs[1:]
        for pair in pairs:
            pair.group_id, pair.in_inbox, pair.joining_since = lead.id, False, now
            placed.joining.setdefault(pair.id, lead.id)
    return placed


async def join_placed(*, deps: Deps, placed: Placed, inserted: set[str],
                      stored: list[tuple[Notification, bool]]) -> None:
    """After the batch is stored: the new pairs join the open windows they were placed in;
    those of a new lead that was stored are in its window already. A pair whose window was
    sealed meanwhile, or whose lead was not stored (seen before), joins as a repair would."""
    store = deps.notifications
    settled: list[str] = []
    orphans: list[tuple[Notification, bool]] = []
    by_id = {notification.id: (notification, in_inbox) for notification, in_inbox in stored}
    to_open: dict[str, list[str]] = {}
    for pair_id, lead_id in placed.joining.items():
        if pair_id not in inserted:
            continue
        if lead_id in placed.new_leads:
            if lead_id in inserted:
                settled.append(pair_id)
            else:
                orphans.append(by_id[pair_id])
        else:
            to_open.setdefault(lead_id, []).append(pair_id)
    for lead_id, ids in to_open.items():
        if await store.join_window(lead_id, ids):
            settled += ids
        else:
            orphans += [by_id[pair_id] for pair_id in ids]
    await store.update_many(settled, joining_since=None)
    COALESCED_PAIRS.labels("led").inc(len(placed.new_leads.keys() & inserted))
    COALESCED_PAIRS.labels("joined").inc(len(settled))
    groups: dict[str, list[tuple[Notification, bool]]] = {}
    for notification, in_inbox in orphans:
        groups.setdefault(window_of(notification), []).append((notification, in_inbox))
    for window, group in groups.items():
        await _join(deps, window, [n for n, _ in group], in_inbox=group[0][1])


async def _join(deps: Deps, window: str, members: list[Notification], *, in_inbox: bool) -> None:
    """Join stored pairs one window at a time (the repair path, and the rare pair whose
    window closed between placing and joining)."""
    now, store = deps.clock(), deps.notifications
    ids = [member.id for member in members]
    lead = (await store.open_windows([window], now)).get(window)
    if lead is not None:
        await store.update_many(ids, group_id=lead.id)
        if await store.join_window(lead.id, ids):
            await store.update_many(ids, joining_since=None)
            COALESCED_PAIRS.labels("joined").inc(len(ids))
            return
    # No open window (or it was sealed meanwhile): the first pair leads a new one. Its pairs
    # name it before it lists them, so a crash in between leaves nothing that looks covered.
    first = members[0]
    await store.update_many(ids, group_id=first.id)
    await store.update_many(
        [first.id], window=window, member_ids=ids, sealed=False, in_inbox=in_inbox,
        closes_at=now + timedelta(seconds=deps.settings.coalesce_window_s), joining_since=None)
    await store.update_many(ids[1:], joining_since=None)
    COALESCED_PAIRS.labels("led").inc()
    COALESCED_PAIRS.labels("joined").inc(len(ids) - 1)


async def repair_joining(*, deps: Deps, limit: int = 200) -> int:
    """Pairs a crash left between being stored and joining a window: found covered by their
    lead, or joined now. Each is leased first, so two instances do not both repair it."""
    now, store = deps.clock(), deps.notifications
    before = now - timedelta(seconds=deps.settings.coalesce_repair_after_s)
    repaired = 0
    for pair in await store.joining_before(before, limit=limit):
        if pair.joining_since is None or not await store.claim_joining(
                pair.id, since=pair.joining_since, until=now):
            continue
        if pair.group_id is not None:
            leads = await store.get_many([pair.group_id])
            if leads and pair.id in leads[0].member_ids:
                await store.update_many([pair.id], joining_since=None)
                continue
        recipient = await deps.recipients.get(pair.actor_id)
        preferences = (await deps.preferences.get(pair.actor_id)
                       or Preferences.default(pair.actor_id))
        await _join(deps, window_of(pair), [pair],
                    in_inbox=rules.plan_channels(preferences, recipient).inbox)
        repaired += 1
    return repaired
