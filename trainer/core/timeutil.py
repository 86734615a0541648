"""Time: aware UTC everywhere, local dates only at the edges (display, due dates)."""
from __future__ import annotations

from datetime import date, datetime, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

DEFAULT_TIMEZONE = "Asia/Shanghai"


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or DEFAULT_TIMEZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_TIMEZONE)


def is_valid_timezone(name: str) -> bool:
    return name in _timezones()


@lru_cache(maxsize=1)
def _timezones() -> frozenset[str]:
    """The zone names this machine knows: read once per process (each reading walks the zone
    database on disk, ~10 ms, and the locale selector asks on every page that shows a time)."""
    return frozenset(available_timezones())


def local_date(moment: datetime, tz_name: str | None) -> date:
    """The calendar date of an aware moment in the given zone."""
    return moment.astimezone(zone(tz_name)).date()


def local_midnight_utc(day: date, tz_name: str | None) -> datetime:
    """The UTC instant at which a local calendar day starts."""
    return datetime(day.year, day.month, day.day, tzinfo=zone(tz_name)).astimezone(timezone.utc)
