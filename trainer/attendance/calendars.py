"""Classroom sessions as iCalendar (RFC 5545), with the icalendar library: one session's .ics
download and a person's feed. Pure: plain values in, bytes out, no database and no app, so the
bytes are tested by parsing them back.

Each session is one VEVENT whose UID never changes (`ClassSession.uid`) and whose SEQUENCE
rises with every change (`save_session`, `cancel_session`), so a calendar that imported the
download updates the event in place instead of adding a second one. A cancelled session stays,
with STATUS:CANCELLED, so calendars strike it out rather than silently keep it. Times are
written in UTC (the trailing Z): no VTIMEZONE is needed and every client shows them in its own
zone."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import icalendar

PRODID = "-//Trainer//Classroom training//ZH"
# How often a subscribed calendar should fetch the feed again (a hint: Apple's and Outlook's
# clients read one of the two properties, Google fetches on its own schedule).
FEED_REFRESH = timedelta(hours=1)


@dataclass(frozen=True)
class SessionEvent:
    """One session, as a calendar shows it; the text already in the reader's language."""

    uid: str
    sequence: int
    starts_at: datetime            # aware
    ends_at: datetime              # aware
    summary: str
    location: str = ""
    description: str = ""
    url: str = ""                  # an absolute address of the session's page
    cancelled: bool = False
    last_modified: datetime | None = None


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("calendar times must be aware")
    return moment.astimezone(timezone.utc)


def _vevent(event: SessionEvent, now: datetime) -> icalendar.Event:
    vevent = icalendar.Event()
    vevent.add("uid", event.uid)
    vevent.add("sequence", event.sequence)
    vevent.add("dtstamp", _utc(now))
    vevent.add("dtstart", _utc(event.starts_at))
    vevent.add("dtend", _utc(event.ends_at))
    vevent.add("summary", event.summary)
    if event.location:
        vevent.add("location", event.location)
    if event.description:
        vevent.add("description", event.description)
    if event.url:
        vevent.add("url", event.url)
    if event.last_modified is not None:
        vevent.add("last-modified", _utc(event.last_modified))
    vevent.add("status", "CANCELLED" if event.cancelled else "CONFIRMED")
    # A cancelled session no longer blocks the time in a free/busy view.
    vevent.add("transp", "TRANSPARENT" if event.cancelled else "OPAQUE")
    return vevent


def build_calendar(events: Iterable[SessionEvent], *, name: str, now: datetime,
                   feed: bool = False) -> bytes:
    """A VCALENDAR (METHOD:PUBLISH) of these events, named `name` (X-WR-CALNAME); `feed` adds
    the refresh hints a subscribed calendar reads."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    if feed:
        calendar.add("refresh-interval", FEED_REFRESH, parameters={"VALUE": "DURATION"})
        calendar.add("x-published-ttl", icalendar.vDuration(FEED_REFRESH))
    for event in sorted(events, key=lambda e: (e.starts_at, e.uid)):
        calendar.add_component(_vevent(event, now))
    return calendar.to_ical()
