"""The training record's pure rules: active periods from staff events, and the prorated
annual minimum of 学时."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from trainer.records import rules
from trainer.records.rules import Period


def test_a_person_on_leave_half_the_year_owes_half_the_minimum():
    events = [("hire", date(2020, 3, 1)), ("leave_start", date(2026, 7, 1))]
    periods = rules.active_periods(events)
    # 1 January to 30 June 2026: 181 of 365 days.
    assert rules.days_active(periods, date(2026, 1, 1), date(2026, 12, 31)) == 181
    assert rules.minimum_to_date(48, 2026, date(2026, 12, 31), periods) == Decimal("23.8")
    # The leave does not lower what was owed before it started.
    assert rules.minimum_to_date(48, 2026, date(2026, 6, 30), periods) == Decimal("23.8")


def test_a_leave_in_the_middle_of_the_year_is_left_out():
    events = [("hire", date(2019, 1, 1)), ("leave_start", date(2026, 4, 1)),
              ("leave_return", date(2026, 10, 1))]
    periods = rules.active_periods(events)
    # Jan–Mar (90 days) and Oct–Dec (92 days) active.
    assert rules.days_active(periods, date(2026, 1, 1), date(2026, 12, 31)) == 182
    assert rules.minimum_to_date(48, 2026, date(2026, 12, 31), periods) == \
        (Decimal(48) * 182 / 365).quantize(Decimal("0.1"))
    # On 1 October, back that morning: the first quarter and that day.
    assert rules.days_active(periods, date(2026, 1, 1), date(2026, 10, 1)) == 91


def test_the_minimum_to_date_grows_with_the_year_and_stops_at_its_end():
    periods = rules.active_periods([("hire", date(2010, 5, 4))])
    assert rules.minimum_to_date(48, 2026, date(2026, 1, 1), periods) == Decimal("0.1")
    assert rules.minimum_to_date(48, 2026, date(2026, 7, 2), periods) == Decimal("24.1")
    assert rules.minimum_to_date(48, 2025, date(2026, 7, 2), periods) == Decimal("48.0")
    assert rules.minimum_to_date(72, 2024, date(2026, 7, 2), periods) == Decimal("72.0")  # leap
    assert rules.minimum_to_date(48, 2027, date(2026, 7, 2), periods) == Decimal("0.0")


def test_hired_mid_year_counts_from_the_hire_and_leaving_stops_it():
    periods = rules.active_periods([("hire", date(2026, 7, 1))])
    assert rules.days_active(periods, date(2026, 1, 1), date(2026, 12, 31)) == 184
    gone = rules.active_periods([("hire", date(2026, 1, 1)), ("leaving", date(2026, 2, 1))])
    assert gone == [Period(date(2026, 1, 1), date(2026, 2, 1))]
    assert rules.days_active(gone, date(2026, 1, 1), date(2026, 12, 31)) == 31


def test_without_a_hire_event_the_hire_date_opens_the_first_period():
    periods = rules.active_periods([("leave_start", date(2026, 3, 1))], hire_date=date(2025, 1, 1))
    assert periods == [Period(date(2025, 1, 1), date(2026, 3, 1))]
    assert rules.active_periods([], hire_date=None) == []
    # Rehired: two periods.
    again = rules.active_periods([("hire", date(2025, 1, 1)), ("leaving", date(2026, 1, 10)),
                                  ("hire", date(2026, 6, 1))])
    assert again == [Period(date(2025, 1, 1), date(2026, 1, 10)), Period(date(2026, 6, 1))]
    assert rules.days_active(again, date(2026, 1, 1), date(2026, 6, 30)) == 9 + 30


def test_behind_and_over_the_maximum():
    standing = rules.HoursStanding(Decimal("10"), Decimal("23.8"), 48, 72)
    assert standing.behind and not standing.over_maximum
    assert not rules.HoursStanding(Decimal("23.8"), Decimal("23.8"), 48, 72).behind
    assert rules.HoursStanding(Decimal("72.5"), Decimal("48"), 48, 72).over_maximum


def test_what_counts_toward_the_minimum():
    assert rules.counts("class", "服务礼仪", ["class"], [])
    assert not rules.counts("course", "服务礼仪", ["class"], [])
    assert rules.counts("class", "业务知识", ["class", "external"], ["业务知识"])
    assert not rules.counts("class", "其他", ["class"], ["业务知识"])
