"""Pure rules of the training record: when a person was active, and the prorated annual minimum
of 学时 (the issue's definition: minimum × days active so far this year, leave excluded, ÷ days
in the year). No database, no clock: `today` is given."""
from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

# What each kind of staff event does to being active (voids are applied before: effective events).
OPENS = ("hire", "leave_return")
CLOSES = ("leave_start", "leaving")


@dataclass(frozen=True)
class Period:
    """Days active, from `start` up to but not including `end` (None: still active)."""

    start: date
    end: date | None = None


def active_periods(events: Sequence[tuple[str, date]], hire_date: date | None = None
                   ) -> list[Period]:
    """The periods a person was working (not on leave, not gone), from their effective staff
    events in date order as (kind, date). Someone with no hire event counts from their hire
    date (staff imported with their history untold)."""
    periods: list[Period] = []
    open_since: date | None = None
    events = list(events)
    if hire_date is not None and not any(kind == "hire" for kind, _ in events):
        open_since = hire_date
    for kind, day in events:
        if kind in OPENS and open_since is None:
            open_since = day
        elif kind in CLOSES and open_since is not None:
            if day > open_since:
                periods.append(Period(open_since, day))
            open_since = None
    if open_since is not None:
        periods.append(Period(open_since))
    return periods


def days_active(periods: Sequence[Period], first: date, last: date) -> int:
    """Days from `first` to `last` (both included) that fall in an active period."""
    if last < first:
        return 0
    total = 0
    for period in periods:
        start = max(period.start, first)
        end = min(period.end - timedelta(days=1) if period.end else last, last)
        if end >= start:
            total += (end - start).days + 1
    return total


def days_in_year(year: int) -> int:
    return 366 if calendar.isleap(year) else 365


def minimum_to_date(minimum: int | Decimal, year: int, today: date,
                    periods: Sequence[Period]) -> Decimal:
    """The part of the annual minimum due by `today` (or by the year's end, for a past year):
    minimum × days active so far in the year ÷ days in the year, to one decimal."""
    first, last = date(year, 1, 1), min(today, date(year, 12, 31))
    share = Decimal(days_active(periods, first, last)) / days_in_year(year)
    return (Decimal(minimum) * share).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class HoursStanding:
    counted: Decimal        # counted 学时 in the year
    minimum_to_date: Decimal
    minimum: int
    maximum: int

    @property
    def behind(self) -> bool:
        return self.counted < self.minimum_to_date

    @property
    def over_maximum(self) -> bool:
        """Shown and flagged, never refused."""
        return self.counted > self.maximum


def counts(source_kind: str, category: str, sources: Sequence[str],
           categories: Sequence[str]) -> bool:
    """Whether a ledger entry counts toward the annual minimum: its source kind is one the
    settings count, and its category too (no categories named: every category)."""
    return source_kind in sources and (not categories or category in categories)
