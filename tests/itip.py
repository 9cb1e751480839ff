"""Checks that a calendar file is one every calendar program accepts, with ``icalendar``:
it parses without errors, has the properties RFC 5545 requires and at most one of each
that may appear once, and those RFC 5546 (iTIP) requires of its method."""

import datetime as dt

from icalendar import Calendar, Component

# RFC 5546 §3.2: VEVENT properties each method requires ("1" in its tables).
REQUIRED_BY_METHOD: dict[str, set[str]] = {
    "PUBLISH": {"DTSTAMP", "DTSTART", "ORGANIZER", "SUMMARY", "UID"},
    "REQUEST": {"ATTENDEE", "DTSTAMP", "DTSTART", "ORGANIZER", "SEQUENCE", "SUMMARY", "UID"},
    "CANCEL": {"ATTENDEE", "DTSTAMP", "ORGANIZER", "SEQUENCE", "UID"},
}


def valid_calendar(data: bytes | str, method: str) -> tuple[Calendar, Component]:
    """Parse ``data``, fail on anything a strict reader would refuse, and return the
    calendar and its one event."""
    calendar = Calendar.from_ical(data)
    assert isinstance(calendar, Calendar)
    calendar.validate()
    assert str(calendar["METHOD"]) == method
    assert not calendar.errors, calendar.errors
    for component in calendar.walk():
        assert not component.errors, (component.name, component.errors)
        name: str
        for name in component.required:
            assert name in component, f"{component.name} lacks {name}"
        for name in component.singletons:
            # icalendar keeps a repeated property as a list of its values.
            assert not isinstance(component.get(name), list), f"{component.name} repeats {name}"
    [event] = calendar.walk("VEVENT")
    missing = REQUIRED_BY_METHOD[method] - set(event)
    assert not missing, f"METHOD:{method} needs {sorted(missing)}"
    assert not ("DTEND" in event and "DURATION" in event)
    start: dt.datetime = event.decoded("DTSTART")
    assert start.tzinfo is not None
    assert event.decoded("DTEND") > start
    return calendar, event
