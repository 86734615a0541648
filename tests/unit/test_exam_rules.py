"""The monthly business exam's rules, pure (learning.exams): the 31st in a short month, who sits
(on leave, stood down, newly hired and not yet cleared, out of scope), which month the daily run
creates, a failed sitting's follow-up per setting, and re-entry's extended content by leave
length (89 vs 90 days)."""
from __future__ import annotations

from datetime import date

import pytest

from trainer.learning import exams

SPEC = exams.ScheduleSpec(day_of_month=31, window_days=7)


def test_the_31st_falls_on_a_short_months_last_day():
    assert exams.sitting_day(date(2027, 2, 1), 31) == date(2027, 2, 28)
    assert exams.sitting_day(date(2028, 2, 1), 31) == date(2028, 2, 29)
    assert exams.sitting_day(date(2027, 4, 1), 31) == date(2027, 4, 30)
    assert exams.sitting_day(date(2027, 1, 1), 31) == date(2027, 1, 31)
    assert exams.due_on(SPEC, date(2027, 2, 1)) == date(2027, 3, 6)


def test_the_daily_run_creates_the_month_from_its_day_until_the_window_closes():
    spec = exams.ScheduleSpec(day_of_month=10, window_days=5)
    assert exams.month_to_create(spec, date(2027, 3, 9)) is None
    assert exams.month_to_create(spec, date(2027, 3, 10)) == date(2027, 3, 1)
    assert exams.month_to_create(spec, date(2027, 3, 14)) == date(2027, 3, 1)   # catches up
    assert exams.month_to_create(spec, date(2027, 3, 15)) is None               # closed


def person(**kw):
    values = dict(staff_id=1, department_id=10, position_id=20, status="active", cleared=True,
                  stood_down=False)
    return exams.PersonOnDay(**{**values, **kw})


@pytest.mark.parametrize("changes,expected", [
    ({}, True),
    ({"status": "on_leave"}, False),            # on leave that day
    ({"stood_down": True}, False),              # stood down (待岗)
    ({"cleared": False}, False),                # newly hired, not yet cleared for duty
    ({"status": "left"}, False),
    ({"department_id": 11}, False),             # out of scope
    ({"position_id": None}, False),
])
def test_who_sits(changes, expected):
    spec = exams.ScheduleSpec(1, 7, frozenset({10}), frozenset({20}))
    assert exams.sits(spec, person(**changes)) is expected


def test_a_schedule_with_no_departments_or_posts_covers_everyone():
    assert exams.sits(exams.ScheduleSpec(1, 7), person(department_id=99, position_id=None))


def test_a_failed_sittings_follow_up_by_setting():
    assert exams.follow_up("none", passed=False, attempts_left=1) == "none"
    assert exams.follow_up("retake", passed=False, attempts_left=1) == "retake"
    assert exams.follow_up("retake", passed=False, attempts_left=0) == "none"
    assert exams.follow_up("refresher", passed=False, attempts_left=0) == "refresher"
    for setting in ("none", "retake", "refresher"):
        assert exams.follow_up(setting, passed=True, attempts_left=0) == "none"


def test_reentry_takes_the_extended_content_from_90_days_of_leave():
    start = date(2027, 1, 1)
    assert not exams.extended_reentry(start, date(2027, 3, 31), 90)    # 89 days
    assert exams.extended_reentry(start, date(2027, 4, 1), 90)         # 90 days
    assert not exams.extended_reentry(None, None, 90)
