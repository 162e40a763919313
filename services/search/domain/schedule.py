"""When an item happens, in the terms people filter by: weekdays, parts of the day and a date
range, all in Europe/Berlin local time. Pure functions: the index stores their results."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from platform_common.events.models import Schedule

BERLIN = ZoneInfo("Europe/Berlin")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# Morning until noon, afternoon until 17:00, evening after.
DAY_PARTS = {"morning": (time(0, 0), time(12, 0)), "afternoon": (time(12, 0), time(17, 0)),
             "evening": (time(17, 0), time(23, 59, 59))}


def day_parts_between(start: time, end: time) -> list[str]:
    """The parts of the day a window from `start` to `end` (same day) overlaps."""
    return [name for name, (first, last) in DAY_PARTS.items() if start < last and end > first]


def _clock(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def schedule_facets(schedule: Schedule) -> dict:
    """`weekdays`, `day_parts`, `dates_start`/`dates_end` (the span of the dated windows),
    `recurring` (weekly windows) and `flexible` (no schedule: any day, any time)."""
    weekdays: set[str] = set()
    parts: set[str] = set()
    for window in schedule.weekly:
        weekdays.add(window.day)
        parts.update(day_parts_between(_clock(window.start), _clock(window.end)))
    starts, ends = [], []
    for window in schedule.dates:
        start, end = window.start.astimezone(BERLIN), window.end.astimezone(BERLIN)
        starts.append(window.start)
        ends.append(window.end)
        days = (end.date() - start.date()).days
        for offset in range(min(days, 6) + 1):
            weekdays.add(WEEKDAYS[(start.date() + timedelta(days=offset)).weekday()])
        if days == 0:
            parts.update(day_parts_between(start.time(), end.time()))
        else:
            parts.update(DAY_PARTS)  # across midnight or several days: any part of the day
    return {"weekdays": sorted(weekdays, key=WEEKDAYS.index),
            "day_parts": [name for name in DAY_PARTS if name in parts],
            "dates_start": min(starts).isoformat() if starts else None,
            "dates_end": max(ends).isoformat() if ends else None,
            "recurring": bool(schedule.weekly),
            "flexible": not schedule.weekly and not schedule.dates}


def day_start(day: date) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=BERLIN)
