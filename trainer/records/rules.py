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
# A stand-down (待岗) takes the person off their post until reinstated: those days are not
# counted in the prorated minimum, as leave is not (the remedial training's own 学时 still count).
OPENS = ("hire", "leave_return", "reinstated")
CLOSES = ("leave_start", "leaving", "stood_down")


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


# -- quiz results ------------------------------------------------------------------------------------

CENT = Decimal("0.01")
TENTH = Decimal("0.1")
BANDS = 10      # a score distribution's bands: 0–10 %, 10–20 %, …, 90–100 % (100 in the last)


def score_band(percent: Decimal | float) -> int:
    """The band (0..9) a grade falls in: [10·b, 10·b + 10) %, the last band closed at 100 %.
    The SQL of records.results bands the same way (`band_case`)."""
    band = int(Decimal(str(percent)) // 10)
    return min(max(band, 0), BANDS - 1)


def band_label(band: int) -> str:
    low = band * 10
    return f"{low}–{low + 10}%"


def rate(part: int, whole: int) -> Decimal | None:
    """part ÷ whole as a percent to one decimal; None when there is no whole."""
    if not whole:
        return None
    return (Decimal(100) * part / whole).quantize(TENTH, rounding=ROUND_HALF_UP)


def mean(total: Decimal | float | None, count: int) -> Decimal | None:
    """A mean grade to the hundredth from the exact sum of grades (each to the hundredth: a
    float sum from SQLite is put back on that grid first)."""
    if not count or total is None:
        return None
    exact = Decimal(str(total)).quantize(CENT, rounding=ROUND_HALF_UP)
    return (exact / count).quantize(CENT, rounding=ROUND_HALF_UP)


def median(values: Sequence[Decimal]) -> Decimal | None:
    """The median grade (the mean of the middle two of an even count), to the hundredth."""
    ordered = sorted(values)
    if not ordered:
        return None
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return Decimal(ordered[middle]).quantize(CENT, rounding=ROUND_HALF_UP)
    return mean(Decimal(ordered[middle - 1]) + Decimal(ordered[middle]), 2)
