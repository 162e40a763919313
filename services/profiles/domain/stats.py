"""A municipality's figures: what was published, matched and arranged, per month and category.

Pure functions over plain facts the store gathers (services/profiles/adapters/mongo_stats.py).
Months are calendar months in Europe/Berlin. An item, match or contact request counts once
in the totals and once in each of its categories (so the category rows can add up to more than
the total). A match is counted in the month it was first found; a match's categories are those
of its offer and need together, a contact request's likewise.
`median_hours_to_first_match`: for the items published (in that month / category), the median of
the hours from publishing to their first match, over the items matched so far (null when none).
"""
from __future__ import annotations

import csv
import io
import statistics
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

BERLIN = ZoneInfo("Europe/Berlin")
COUNTS = ("items_published", "matches_found", "contacts_requested", "contacts_accepted")
KEYS = (*COUNTS, "median_hours_to_first_match")


@dataclass(frozen=True)
class Fact:
    """Something that happened at `at` that counts for `measure` in these categories."""

    measure: str
    at: datetime
    categories: tuple[str, ...]


@dataclass(frozen=True)
class FirstMatch:
    """An item of the tenant: when it was published, when its first match was found."""

    published_at: datetime
    matched_at: datetime
    categories: tuple[str, ...]


def month_of(moment: datetime) -> str:
    return moment.astimezone(BERLIN).strftime("%Y-%m")


def _empty() -> dict:
    return {**{key: 0 for key in COUNTS}, "hours": []}


def _finish(bucket: dict) -> dict:
    hours = bucket.pop("hours")
    median = round(statistics.median(hours), 1) if hours else None
    return {**bucket, "median_hours_to_first_match": median}


def tenant_stats(*, tenant: str, facts: list[Fact], first_matches: list[FirstMatch]) -> dict:
    total = _empty()
    months: dict[str, dict] = {}
    categories: dict[str, dict] = {}

    def buckets(at: datetime, cats: tuple[str, ...]) -> list[dict]:
        month = months.setdefault(month_of(at), _empty())
        return [total, month, *(categories.setdefault(c, _empty()) for c in dict.fromkeys(cats))]

    for fact in facts:
        for bucket in buckets(fact.at, fact.categories):
            bucket[fact.measure] += 1
    for first in first_matches:
        hours = max(0.0, (first.matched_at - first.published_at).total_seconds() / 3600)
        for bucket in buckets(first.published_at, first.categories):
            bucket["hours"].append(hours)
    return {
        "tenant": tenant,
        "totals": _finish(total),
        "by_month": [{"month": m, **_finish(months[m])} for m in sorted(months)],
        "by_category": [{"category": c, **_finish(categories[c])} for c in sorted(categories)],
    }


def stats_csv(stats: dict) -> str:
    """The month and category rows as CSV: `dimension` (month|category), `value`, the figures."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["dimension", "value", *KEYS])
    for dimension, rows in (("month", stats["by_month"]), ("category", stats["by_category"])):
        for row in rows:
            writer.writerow([dimension, row[dimension],
                             *("" if row[key] is None else row[key] for key in KEYS)])
    return out.getvalue()
