"""The statistics of a tenant from plain facts: totals, months (Berlin time), categories, CSV."""
from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta, timezone

from services.profiles.domain.stats import Fact, FirstMatch, month_of, stats_csv, tenant_stats

UTC = timezone.utc
NOV = datetime(2026, 11, 10, 12, tzinfo=UTC)
DEC = datetime(2026, 12, 3, 9, tzinfo=UTC)


def test_months_are_berlin_months():
    assert month_of(datetime(2026, 11, 30, 23, 30, tzinfo=UTC)) == "2026-12"
    assert month_of(datetime(2026, 11, 30, 22, 30, tzinfo=UTC)) == "2026-11"


def test_totals_months_and_categories():
    facts = [Fact("items_published", NOV, ("sport", "social")),
             Fact("items_published", DEC, ("sport",)),
             Fact("matches_found", DEC, ("sport", "sport")),
             Fact("contacts_requested", DEC, ("social",)),
             Fact("contacts_accepted", DEC, ("social",))]
    firsts = [FirstMatch(NOV, NOV + timedelta(hours=2), ("sport", "social")),
              FirstMatch(DEC, DEC + timedelta(hours=10), ("sport",)),
              FirstMatch(DEC, DEC + timedelta(hours=4), ("sport",))]
    stats = tenant_stats(tenant="koeln", facts=facts, first_matches=firsts)
    assert stats["tenant"] == "koeln"
    assert stats["totals"] == {"items_published": 2, "matches_found": 1, "contacts_requested": 1,
                               "contacts_accepted": 1, "median_hours_to_first_match": 4.0}
    assert [m["month"] for m in stats["by_month"]] == ["2026-11", "2026-12"]
    assert stats["by_month"][0]["items_published"] == 1
    assert stats["by_month"][0]["median_hours_to_first_match"] == 2.0
    assert stats["by_month"][1]["median_hours_to_first_match"] == 7.0
    by_category = {row["category"]: row for row in stats["by_category"]}
    assert by_category["sport"]["items_published"] == 2
    assert by_category["sport"]["matches_found"] == 1  # a category counts once per match
    assert by_category["social"]["contacts_accepted"] == 1
    assert by_category["social"]["median_hours_to_first_match"] == 2.0


def test_no_data_and_csv():
    empty = tenant_stats(tenant="t", facts=[], first_matches=[])
    assert empty["totals"]["median_hours_to_first_match"] is None
    assert empty["by_month"] == [] and empty["by_category"] == []
    stats = tenant_stats(tenant="t", facts=[Fact("items_published", NOV, ("sport",))],
                         first_matches=[])
    rows = list(csv.reader(io.StringIO(stats_csv(stats))))
    assert rows[0] == ["dimension", "value", "items_published", "matches_found",
                       "contacts_requested", "contacts_accepted", "median_hours_to_first_match"]
    assert rows[1] == ["month", "2026-11", "1", "0", "0", "0", ""]
    assert rows[2] == ["category", "sport", "1", "0", "0", "0", ""]
