"""iCalendar feeds of shifts (RFC 5545), rendered with the `icalendar` library.

Times are written as Europe/Berlin local times with TZID and a VTIMEZONE generated from
zoneinfo, so calendar apps show the wall-clock time the organisation meant on either side of a
daylight-saving change (a UTC-only feed shows it right too, but a "floating" or wrong-offset one
shifts by an hour in October and March)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, Timezone, vText

TZID = "Europe/Berlin"
BERLIN = ZoneInfo(TZID)
PRODID = "-//Engage//Engagement-Kalender//DE"


@dataclass(frozen=True)
class CalendarEntry:
    uid: str
    summary: str
    start: datetime  # aware, UTC
    end: datetime
    location: str | None = None
    description: str = ""
    cancelled: bool = False
    url: str | None = None


def render_calendar(*, name: str, events: list[CalendarEntry],
                    stamp: datetime | None = None) -> bytes:
    """The calendar `name` with one VEVENT per entry. `stamp` (DTSTAMP, default now) is the
    time the feed was made; tests pass it to get the same bytes twice."""
    stamp = (stamp or datetime.now(UTC)).astimezone(UTC)
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    # vText: icalendar 7.3 writes an X- property given as str unescaped (a newline even fails)
    calendar.add("x-wr-calname", vText(name))
    calendar.add("x-wr-timezone", TZID)
    calendar.add_component(_timezone(events))
    for entry in events:
        calendar.add_component(_event(entry, stamp))
    return calendar.to_ical()


def _timezone(events: list[CalendarEntry]) -> Timezone:
    # Only the transitions around the feed's events (an empty feed: around today), not the
    # default 1970..2038, which would put ~140 transitions into every download.
    days = [entry.start.date() for entry in events] + [entry.end.date() for entry in events]
    today = datetime.now(UTC).date()
    first = min(days, default=today) - timedelta(days=366)
    last = max(days, default=today) + timedelta(days=366)
    return Timezone.from_tzinfo(BERLIN, tzid=TZID, first_date=date(first.year, 1, 1),
                                last_date=date(last.year + 1, 1, 1))


def _event(entry: CalendarEntry, stamp: datetime) -> Event:
    event = Event()
    event.add("uid", entry.uid)
    event.add("dtstamp", stamp)
    event.add("dtstart", _local(entry.start))
    event.add("dtend", _local(entry.end))
    event.add("summary", entry.summary)
    if entry.location:
        event.add("location", entry.location)
    if entry.description:
        event.add("description", entry.description)
    if entry.url:
        event.add("url", entry.url)
    event.add("status", "CANCELLED" if entry.cancelled else "CONFIRMED")
    return event


def _local(moment: datetime) -> datetime:
    if moment.tzinfo is None:  # a naive time from storage is UTC by the platform's convention
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(BERLIN)
