"""Attendance rules without a database: codes, windows, status and flags at every boundary,
minutes, completion."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from trainer.attendance.rules import (
    ABSENT,
    EARLY,
    LATE,
    LEAVE,
    MISSING_CHECKOUT,
    PENDING,
    PRESENT,
    Mark,
    SessionTimes,
    code_for,
    code_matches,
    completed,
    derive,
    matching_step,
    scan_kind,
    step_of,
)

START = datetime(2026, 12, 3, 1, 0, tzinfo=timezone.utc)   # 09:00 in Shanghai
END = START + timedelta(minutes=50)
T = SessionTimes(START, END)
SECRET = "00" * 16 + "ab" * 16


def at(minutes: float) -> datetime:
    return START + timedelta(minutes=minutes)


def scan(kind: str, minutes: float, recorded: float | None = None) -> Mark:
    moment = at(minutes)
    return Mark(kind, at(recorded if recorded is not None else minutes), at=moment)


# -- codes --

def test_a_code_has_six_digits_and_changes_with_the_step():
    codes = {code_for(SECRET, step) for step in range(100)}
    assert all(len(c) == 6 and c.isdigit() for c in codes) and len(codes) > 90


def test_the_current_and_the_previous_step_are_accepted_and_older_ones_refused():
    now = START
    step = step_of(now, 20)
    assert code_matches(SECRET, code_for(SECRET, step), step, now, 20)
    assert code_matches(SECRET, code_for(SECRET, step - 1), step - 1, now, 20)
    assert not code_matches(SECRET, code_for(SECRET, step - 2), step - 2, now, 20)
    assert not code_matches(SECRET, code_for(SECRET, step + 1), step + 1, now, 20)
    assert not code_matches(SECRET, "12345x", step, now, 20)
    assert matching_step(SECRET, code_for(SECRET, step - 1), now, 20) == step - 1
    assert matching_step(SECRET, code_for(SECRET, step - 2), now, 20) is None


def test_a_code_is_good_only_for_its_own_session():
    other = "cd" * 32
    step = step_of(START, 20)
    assert code_for(other, step) != code_for(SECRET, step)   # (these two secrets' codes differ)
    assert not code_matches(other, code_for(SECRET, step), step, START, 20)


# -- windows --

@pytest.mark.parametrize("minutes, checked_in, kind", [
    (-15, False, "check_in"),        # the window's opening minute
    (-15.1, False, None),            # before it
    (30, False, "check_in"),         # its closing minute
    (31, False, None),               # between the windows
    (40, True, "check_out"),         # check-out opens 10 minutes before the end
    (39, True, None),
    (80, True, "check_out"),         # … and closes 30 after it
    (81, True, None),
])
def test_window_edges(minutes, checked_in, kind):
    assert scan_kind(T, at(minutes), checked_in) == kind


def test_in_a_short_session_the_first_scan_checks_in_the_next_checks_out():
    short = SessionTimes(START, START + timedelta(minutes=20))
    assert scan_kind(short, at(12), False) == "check_in"
    assert scan_kind(short, at(12), True) == "check_out"


# -- status, flags, minutes --

def test_on_time_in_and_out_is_present_for_the_whole_session():
    result = derive(T, [scan("check_in", -5), scan("check_out", 51)], now=at(60))
    assert (result.status, result.flags, result.minutes) == (PRESENT, frozenset(), 50)


def test_exactly_at_the_late_threshold_is_not_late_a_second_after_is():
    on_time = derive(T, [scan("check_in", 5), scan("check_out", 50)], now=at(60))
    assert on_time.status == PRESENT and on_time.minutes == 45
    late = derive(T, [Mark("check_in", at(6), at=at(5) + timedelta(seconds=1)),
                      scan("check_out", 50)], now=at(60))
    assert late.status == LATE and late.minutes == 44


def test_checking_out_one_minute_early_past_the_threshold_is_leaving_early():
    fine = derive(T, [scan("check_in", 0), scan("check_out", 45)], now=at(60))
    assert fine.status == PRESENT
    early = derive(T, [scan("check_in", 0), scan("check_out", 44)], now=at(60))
    assert early.status == EARLY and early.minutes == 44


def test_late_and_early_the_early_wins_and_late_stays_a_flag():
    result = derive(T, [scan("check_in", 20), scan("check_out", 30)], now=at(90))
    assert result.status == EARLY and result.flags == frozenset({LATE}) and result.minutes == 10


def test_a_missing_required_check_out_is_early_with_no_minutes_until_corrected():
    during = derive(T, [scan("check_in", 0)], now=at(45))
    assert during.status == PRESENT and during.minutes == 0     # still time to check out
    after = derive(T, [scan("check_in", 0)], now=at(81))
    assert after.status == EARLY and MISSING_CHECKOUT in after.flags and after.minutes == 0
    corrected = derive(T, [scan("check_in", 0),
                           Mark("correction", at(90), check_in_at=at(0), check_out_at=at(50))],
                       now=at(91))
    assert corrected.status == PRESENT and corrected.minutes == 50


def test_without_a_required_check_out_the_minutes_run_to_the_end():
    relaxed = SessionTimes(START, END, checkout_required=False)
    result = derive(relaxed, [scan("check_in", 10)], now=at(200))
    assert result.status == LATE and result.minutes == 40


def test_no_check_in_is_pending_until_the_windows_close_then_absent():
    assert derive(T, [], now=at(20)).status == PENDING
    assert derive(T, [], now=at(81)).status == ABSENT
    assert derive(T, [], now=at(20), closed=True).status == ABSENT


def test_leave_wins_over_everything_and_a_pending_request_counts_as_absent():
    assert derive(T, [], now=at(90), leave_approved=True).status == LEAVE
    assert derive(T, [scan("check_in", 20)], now=at(90), leave_approved=True).status == LEAVE
    assert derive(T, [], now=at(90), leave_approved=False).status == ABSENT


def test_minutes_are_clipped_to_the_session():
    result = derive(T, [scan("check_in", -14), scan("check_out", 79)], now=at(90))
    assert result.minutes == 50


def test_the_first_check_in_and_the_last_check_out_count():
    result = derive(T, [scan("check_in", 2), scan("check_in", 12), scan("check_out", 41),
                        scan("check_out", 52)], now=at(90))
    assert result.check_in_at == at(2) and result.check_out_at == at(52)


def test_the_roster_grid_marks_present_and_a_later_absent_mark_replaces_it():
    present = derive(T, [Mark("present", at(60))], now=at(61))
    assert present.status == PRESENT and present.minutes == 50
    absent = derive(T, [Mark("present", at(60)), Mark("absent", at(61))], now=at(62))
    assert absent.status == ABSENT and absent.minutes == 0


@pytest.mark.parametrize("attended, total, share, done", [
    (120, 150, 80, True), (119, 150, 80, False), (150, 150, 100, True), (0, 0, 80, False)])
def test_a_class_is_completed_by_enough_of_its_minutes(attended, total, share, done):
    assert completed(attended, total, share) is done
