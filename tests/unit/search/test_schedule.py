"""When an item happens, as the search filters see it (Europe/Berlin local time)."""
from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from platform_common.events.models import Schedule
from services.search.domain.query import InvalidSearch, SearchParams, filters, validate_search
from services.search.domain.schedule import schedule_facets


def test_weekly_windows_give_their_days_and_parts_of_the_day():
    facets = schedule_facets(Schedule(weekly=[{"day": "sat", "start": "09:00", "end": "13:00"},
                                              {"day": "tue", "start": "18:00", "end": "20:00"}]))
    assert facets["weekdays"] == ["tue", "sat"]
    assert facets["day_parts"] == ["morning", "afternoon", "evening"]
    assert facets["recurring"] is True and facets["flexible"] is False
    assert facets["dates_start"] is None


def test_a_date_counts_in_berlin_time_also_across_the_clock_change():
    # 31 Oct 2026 is a Saturday; 08:30 UTC is 09:30 in Berlin (CET, after the change on 25 Oct).
    facets = schedule_facets(Schedule(dates=[{
        "start": datetime(2026, 10, 31, 8, 30, tzinfo=timezone.utc),
        "end": datetime(2026, 10, 31, 10, 30, tzinfo=timezone.utc)}]))
    assert facets["weekdays"] == ["sat"] and facets["day_parts"] == ["morning"]
    assert facets["dates_start"].startswith("2026-10-31T08:30")
    assert facets["recurring"] is False and facets["flexible"] is False
    # 22:30 UTC on a Saturday in summer is already Sunday 00:30 in Berlin.
    late = schedule_facets(Schedule(dates=[{
        "start": datetime(2026, 7, 4, 22, 30, tzinfo=timezone.utc),
        "end": datetime(2026, 7, 4, 23, 30, tzinfo=timezone.utc)}]))
    assert late["weekdays"] == ["sun"] and late["day_parts"] == ["morning"]


def test_no_schedule_is_flexible():
    assert schedule_facets(Schedule())["flexible"] is True


def test_schedule_filters_let_flexible_items_through_and_check_their_values():
    query = validate_search(SearchParams(kind="need", weekday=["sat"], time=["evening"],
                                         date_from=date(2026, 12, 5), date_to=date(2026, 12, 6),
                                         accessible=True))
    clauses = filters(query, scopes=None, now=datetime(2026, 12, 1, tzinfo=timezone.utc))
    text = repr(clauses)
    assert "{'terms': {'weekdays': ['sat']}}" in text and "{'terms': {'day_parts': ['evening']}}" in text
    assert text.count("{'term': {'flexible': True}}") == 3
    assert "{'term': {'accessible': True}}" in text and "{'term': {'recurring': True}}" in text


@pytest.mark.parametrize("params, field", [
    (dict(weekday=["someday"]), "weekday"),
    (dict(time=["night"]), "time"),
    (dict(date_from=date(2026, 12, 6), date_to=date(2026, 12, 5)), "to"),
    (dict(kind="actor", accessible=True), "accessible"),
])
def test_bad_schedule_filters_name_their_parameter(params, field):
    with pytest.raises(InvalidSearch) as refused:
        validate_search(SearchParams(**params))
    assert field in [name for name, _ in refused.value.problems]
