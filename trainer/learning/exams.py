"""The monthly business exam's rules (月度业务考试), pure: the day a month's sitting falls on,
who sits it, when it is due, which month the daily run creates, and what follows a failed
sitting. The clock (`today`, a local date in the centre's zone) and the facts are injected."""
from __future__ import annotations

import calendar
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date, timedelta


@dataclass(frozen=True)
class ScheduleSpec:
    day_of_month: int
    window_days: int
    department_ids: Collection[int] = field(default_factory=frozenset)
    position_ids: Collection[int] = field(default_factory=frozenset)


@dataclass(frozen=True)
class PersonOnDay:
    """A person as they stood on the sitting's day."""

    staff_id: int
    department_id: int | None
    position_id: int | None
    status: str              # active, on_leave or left, on that day
    cleared: bool            # cleared for duty (上岗) by that day
    stood_down: bool         # stood down (待岗) that day


def month_start(day: date) -> date:
    return day.replace(day=1)


def sitting_day(month: date, day_of_month: int) -> date:
    """The month's sitting day: past a short month's end, its last day (the 31st → 28 Feb)."""
    last = calendar.monthrange(month.year, month.month)[1]
    return month.replace(day=min(day_of_month, last))


def due_on(spec: ScheduleSpec, month: date) -> date:
    """The window's last day: the sitting day and window_days − 1 more."""
    return sitting_day(month, spec.day_of_month) + timedelta(days=spec.window_days - 1)


def month_to_create(spec: ScheduleSpec, today: date) -> date | None:
    """The month whose sittings the daily run creates today: this month's, from its sitting day
    until its window closes (a run missed on the day catches up); None otherwise."""
    month = month_start(today)
    if sitting_day(month, spec.day_of_month) <= today <= due_on(spec, month):
        return month
    return None


def in_scope(spec: ScheduleSpec, person: PersonOnDay) -> bool:
    return (not spec.department_ids or person.department_id in spec.department_ids) and \
        (not spec.position_ids or person.position_id in spec.position_ids)


def sits(spec: ScheduleSpec, person: PersonOnDay) -> bool:
    """An active agent in scope, cleared for duty, neither on leave nor stood down that day."""
    return in_scope(spec, person) and person.status == "active" and person.cleared \
        and not person.stood_down


def follow_up(setting: str, *, passed: bool, attempts_left: int) -> str:
    """What follows a finished sitting: nothing after a pass; after a fail, by the setting:
    "none", "retake" (within the window, while an attempt is left) or "refresher" (the 业务复训
    track assigned)."""
    if passed or setting == "none":
        return "none"
    if setting == "retake":
        return "retake" if attempts_left > 0 else "none"
    return "refresher"


def extended_reentry(away_from: date | None, away_until: date | None, min_days: int) -> bool:
    """Re-entry takes its extended content (the business refresher) after a leave of at least
    `min_days` (90 by default)."""
    return away_from is not None and away_until is not None and \
        (away_until - away_from).days >= min_days
