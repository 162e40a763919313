"""Coalescing windows: the new pairs of one recipient's item found within
`coalesce_window_s` become one notification (one inbox entry, one mail, one webhook call).

Stored, not held in memory, because the consumer commits its offsets once the work is stored:

- Every pair is still its own notification, stored once by its dedupe key (recipient, pair,
  round) as before, first outside the inbox and marked `joining_since`.
- It then joins the open window of its (recipient, item): the newest *lead* notification whose
  `closes_at` lies ahead. Joining is one conditional update of the lead (`member_ids` grows
  unless the lead is sealed), so a pair is either in a window or not. Without an open window
  the pair becomes the lead of a new one (in the inbox, `closes_at` = now + window). Each
  pair's `group_id` names its lead before it joins; it is covered when that lead lists it.
- When the window has closed, the window task (`planning.close_windows`) seals the lead (no
  more pairs), reads its pairs and plans their deliveries once under the lead's keys, as for
  any notification; then `closes_at` is cleared.

A crash before the pairs are stored leaves the event uncommitted: it comes again and is stored
then. A crash after: the lead is in the store and its window closes later as usual; a pair
caught between being stored and joining keeps `joining_since` and is repaired (joined, or
found covered) by the window task after `coalesce_repair_after_s`. A window planned twice
(a crash between planning and clearing `closes_at`, or two instances) claims its deliveries
under the same keys, so nothing is sent twice.
"""
from __future__ import annotations

from datetime import timedelta

from services.notifications.domain import rules
from services.notifications.domain.models import Notification, Preferences
from services.notifications.service.deps import Deps


def coalesces(deps: Deps, notification: Notification) -> bool:
    """Whether this notification goes through a coalescing window."""
    return deps.settings.coalesce_window_s > 0 and notification.type == "match.found"


def window_of(notification: Notification) -> str:
    """The (recipient, own item) whose new pairs are told together."""
    return f"{notification.actor_id}:{notification.data.get('item_id', '')}"


async def join_windows(*, deps: Deps, members: list[tuple[Notification, bool]]) -> None:
    """Put just-stored pairs (with whether their recipient keeps an inbox) into windows: the
    pairs of one window key together, in their order."""
    groups: dict[str, list[tuple[Notification, bool]]] = {}
    for notification, in_inbox in members:
        groups.setdefault(window_of(notification), []).append((notification, in_inbox))
    for window, group in groups.items():
        await _join(deps, window, [n for n, _ in group], in_inbox=group[0][1])


async def _join(deps: Deps, window: str, members: list[Notification], *, in_inbox: bool) -> None:
    now, store = deps.clock(), deps.notifications
    ids = [member.id for member in members]
    lead = await store.open_window(window, now)
    if lead is not None:
        await store.update_many(ids, group_id=lead.id)
        if await store.join_window(lead.id, ids):
            await store.update_many(ids, joining_since=None)
            return
    # No open window (or it was sealed meanwhile): the first pair leads a new one. Its pairs
    # name it before it lists them, so a crash in between leaves nothing that looks covered.
    first = members[0]
    await store.update_many(ids, group_id=first.id)
    await store.update_many(
        [first.id], window=window, member_ids=ids, sealed=False, in_inbox=in_inbox,
        closes_at=now + timedelta(seconds=deps.settings.coalesce_window_s), joining_since=None)
    await store.update_many(ids[1:], joining_since=None)


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
