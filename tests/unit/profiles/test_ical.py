"""The iCalendar feed: parsed back with the icalendar library, local Berlin times with TZID
and the right UTC instants on either side of a daylight-saving change."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar, vText

from services.profiles.domain.ical import CalendarEntry, render_calendar

BERLIN = ZoneInfo("Europe/Berlin")
STAMP = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)


def entry(uid: str, start: datetime, hours: float = 3, **fields) -> CalendarEntry:
    start = start.astimezone(UTC)
    return CalendarEntry(uid=uid, summary=fields.pop("summary", "Ausgabe"), start=start,
                         end=start + timedelta(hours=hours), **fields)


def parse(data: bytes) -> tuple[Calendar, dict[str, object]]:
    calendar = Calendar.from_ical(data)
    return calendar, {str(event["UID"]): event for event in calendar.walk("VEVENT")}


def test_calendar_header_and_timezone():
    data = render_calendar(name="Meine Einsätze", events=[], stamp=STAMP)
    calendar, events = parse(data)
    assert events == {}
    assert str(calendar["VERSION"]) == "2.0"
    assert str(calendar["PRODID"])
    assert vText.from_ical(calendar["X-WR-CALNAME"].to_ical().decode()) == "Meine Einsätze"
    assert str(calendar["X-WR-TIMEZONE"]) == "Europe/Berlin"
    [timezone] = calendar.walk("VTIMEZONE")
    assert str(timezone["TZID"]) == "Europe/Berlin"
    assert data.startswith(b"BEGIN:VCALENDAR\r\n") and data.endswith(b"END:VCALENDAR\r\n")


def test_local_times_and_instants_across_daylight_saving_changes():
    before_october = datetime(2026, 10, 24, 10, 0, tzinfo=BERLIN)    # CEST, UTC+2
    after_october = datetime(2026, 10, 25, 10, 0, tzinfo=BERLIN)     # CET, UTC+1
    across_march = datetime(2026, 3, 29, 0, 30, tzinfo=BERLIN)       # 00:30 CET .. 05:00 CEST
    data = render_calendar(name="Tafel", stamp=STAMP, events=[
        entry("oct-24", before_october), entry("oct-25", after_october),
        entry("mar-29", across_march, hours=3.5)])
    calendar, events = parse(data)

    def local_and_utc(uid: str, name: str) -> tuple[datetime, datetime]:
        value = events[uid].decoded(name)
        assert events[uid][name].params["TZID"] == "Europe/Berlin"
        return value.replace(tzinfo=None), value.astimezone(UTC)

    assert local_and_utc("oct-24", "DTSTART") == (
        datetime(2026, 10, 24, 10, 0), datetime(2026, 10, 24, 8, 0, tzinfo=UTC))
    assert local_and_utc("oct-25", "DTSTART") == (
        datetime(2026, 10, 25, 10, 0), datetime(2026, 10, 25, 9, 0, tzinfo=UTC))
    assert local_and_utc("oct-25", "DTEND") == (
        datetime(2026, 10, 25, 13, 0), datetime(2026, 10, 25, 12, 0, tzinfo=UTC))
    assert local_and_utc("mar-29", "DTSTART") == (
        datetime(2026, 3, 29, 0, 30), datetime(2026, 3, 28, 23, 30, tzinfo=UTC))
    assert local_and_utc("mar-29", "DTEND") == (
        datetime(2026, 3, 29, 5, 0), datetime(2026, 3, 29, 3, 0, tzinfo=UTC))
    assert b"DTSTART;TZID=Europe/Berlin:20261024T100000" in data
    assert b"DTSTART;TZID=Europe/Berlin:20261025T100000" in data

    # The shipped VTIMEZONE (what a client without its own tz database uses) agrees.
    vtimezone = calendar.walk("VTIMEZONE")[0].to_tz(lookup_tzid=False)
    for local, offset in ((before_october, 2), (after_october, 1), (across_march, 1),
                          (datetime(2026, 3, 29, 5, 0), 2)):
        aware = local.replace(tzinfo=vtimezone)
        assert aware.utcoffset() == timedelta(hours=offset), local


def test_event_fields_and_cancelled_status():
    start = datetime(2026, 11, 3, 9, 0, tzinfo=BERLIN)
    data = render_calendar(name="Tafel", stamp=STAMP, events=[
        entry("a", start, summary="Lebensmittelausgabe", location="Tafel Köln, Halle 2",
              description="Bitte festes Schuhwerk", url="https://engage.example/offers/o1"),
        entry("b", start + timedelta(days=1), cancelled=True)])
    _, events = parse(data)
    event = events["a"]
    assert str(event["SUMMARY"]) == "Lebensmittelausgabe"
    assert str(event["LOCATION"]) == "Tafel Köln, Halle 2"
    assert str(event["DESCRIPTION"]) == "Bitte festes Schuhwerk"
    assert str(event["URL"]) == "https://engage.example/offers/o1"
    assert str(event["STATUS"]) == "CONFIRMED"
    assert event.decoded("DTSTAMP") == STAMP
    assert str(events["b"]["STATUS"]) == "CANCELLED"
    assert "LOCATION" not in events["b"] and "URL" not in events["b"]


def test_text_with_commas_semicolons_and_newlines_is_escaped():
    text = "Treffpunkt: Hof, Tor 2; danach\nLager"
    data = render_calendar(name="Hof, Tor; 2\nneu", stamp=STAMP, events=[
        entry("x", datetime(2026, 11, 3, 9, 0, tzinfo=BERLIN), summary=text, location=text,
              description=text)])
    assert b"SUMMARY:Treffpunkt: Hof\\, Tor 2\\; danach\\nLager" in data
    assert b"X-WR-CALNAME:Hof\\, Tor\\; 2\\nneu" in data
    _, events = parse(data)
    for name in ("SUMMARY", "LOCATION", "DESCRIPTION"):
        assert str(events["x"][name]) == text


def test_long_lines_are_folded_and_come_back_whole():
    text = "Ä" * 200
    data = render_calendar(name="Tafel", stamp=STAMP, events=[
        entry("x", datetime(2026, 11, 3, 9, 0, tzinfo=BERLIN), description=text)])
    assert all(len(line) <= 75 for line in data.split(b"\r\n"))
    _, events = parse(data)
    assert str(events["x"]["DESCRIPTION"]) == text


def test_naive_times_are_taken_as_utc():
    naive = CalendarEntry(uid="n", summary="x", start=datetime(2026, 7, 1, 8, 0),
                          end=datetime(2026, 7, 1, 10, 0))
    _, events = parse(render_calendar(name="Tafel", stamp=STAMP, events=[naive]))
    assert events["n"].decoded("DTSTART").astimezone(UTC) == datetime(2026, 7, 1, 8, 0,
                                                                       tzinfo=UTC)
