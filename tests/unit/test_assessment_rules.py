"""Practical assessments, pure (assessments.rules): scoring, critical items, the retake wait and
who may assess whom."""
from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trainer.assessments.rules import (
    AssessmentRuleError,
    FormSpec,
    Item,
    parse_points,
    refusal,
    retake_from,
    score,
)

FORM = FormSpec(items=(
    Item("greet", "使用标准开头语", D(10)),
    Item("verify", "按规定核实客户身份", D(20), critical=True),
    Item("solve", "准确解答客户问题", D(50)),
    Item("close", "规范结束通话", D(20)),
), pass_percent=80, retake_wait_days=7)


def test_the_pass_mark_is_reached_exactly_and_one_half_point_short_fails():
    full = {"greet": D(10), "verify": D(20), "solve": D(30), "close": D(20)}
    outcome = score(FORM, full)
    assert (outcome.total, outcome.out_of, outcome.percent, outcome.passed) == (
        D(80), D(100), D("80.00"), True)
    short = score(FORM, {**full, "solve": D("29.5")})
    assert short.percent == D("79.50") and not short.passed


def test_a_critical_item_not_fully_met_fails_the_form_whatever_the_total():
    outcome = score(FORM, {"greet": D(10), "verify": D(19), "solve": D(50), "close": D(20)})
    assert outcome.total == D(99) and outcome.critical_failed == ("verify",)
    assert not outcome.passed


def test_every_item_must_be_scored_within_its_points_in_halves():
    base = {"greet": D(10), "verify": D(20), "solve": D(50), "close": D(20)}
    for bad, code in (({k: v for k, v in base.items() if k != "solve"}, "unscored"),
                      ({**base, "solve": D(51)}, "out_of_range"),
                      ({**base, "solve": D(-1)}, "out_of_range"),
                      ({**base, "solve": D("10.25")}, "out_of_range"),
                      ({**base, "extra": D(1)}, "unknown_item")):
        with pytest.raises(AssessmentRuleError) as caught:
            score(FORM, bad)
        assert caught.value.code == code


@pytest.mark.parametrize("spec,code", [
    (FormSpec((), 60), "no_items"),
    (FormSpec((Item("a", "x", D(1)), Item("a", "y", D(1))), 60), "duplicate_key"),
    (FormSpec((Item("a", "  ", D(1)),), 60), "item_text"),
    (FormSpec((Item("a", "x", D(0)),), 60), "item_points"),
    (FormSpec((Item("a", "x", D("0.3")),), 60), "item_points"),
    (FormSpec((Item("a", "x", D(1)),), 0), "pass_percent"),
    (FormSpec((Item("a", "x", D(1)),), 60, 91), "retake_wait"),
])
def test_a_form_that_cannot_be_used_is_refused(spec, code):
    with pytest.raises(AssessmentRuleError) as caught:
        score(spec, {})
    assert caught.value.code == code


def test_points_typed_by_an_assessor():
    assert parse_points(" 7.5 ") == D("7.5") and parse_points("7，5") == D("7.5")
    assert parse_points("") is None and parse_points("七") is None
    assert parse_points("NaN") is None and parse_points("inf") is None


@given(st.lists(st.integers(min_value=0, max_value=200), min_size=4, max_size=4))
def test_passed_means_the_mark_reached_and_no_critical_item_short(halves):
    points = dict(zip(("greet", "verify", "solve", "close"),
                      (min(D(h) / 2, item.points) for h, item in zip(halves, FORM.items))))
    outcome = score(FORM, points)
    assert outcome.passed == (outcome.total >= D(80) and points["verify"] == D(20))
    assert outcome.percent <= outcome.total * 100 / outcome.out_of


TODAY = date(2026, 12, 3)


def check(assessed_on=TODAY, history=(), assessor=2, person=1):
    return refusal(assessor_id=assessor, person_id=person, assessed_on=assessed_on,
                   today=TODAY, history=list(history), wait_days=7)


def test_nobody_assesses_themselves_or_dates_an_assessment_ahead():
    assert check(assessor=1, person=1) == ("self", {})
    assert check(assessed_on=date(2026, 12, 4)) == ("future", {})
    assert check() is None


def test_a_failed_form_waits_its_days_before_a_retake():
    failed = [(date(2026, 11, 28), False)]
    assert retake_from(date(2026, 11, 28), 7) == date(2026, 12, 5)
    assert check(history=failed) == ("retake_wait", {"from": date(2026, 12, 5)})
    assert check(assessed_on=date(2026, 12, 3), history=[(date(2026, 11, 26), False)]) is None
    # a pass after the failure lifts the wait; an older failure does not count
    assert check(history=failed + [(date(2026, 12, 1), True)]) is None
    assert check(history=[(date(2026, 11, 1), False), (date(2026, 11, 2), True)]) is None


def test_points_read_as_people_write_them():
    from trainer.assessments.rules import plain
    assert [plain(D(v)) for v in ("50", "50.0", "7.5", "100.0", "0.5")] == [
        "50", "50", "7.5", "100", "0.5"]
    with pytest.raises(AssessmentRuleError) as caught:
        score(FORM, {"greet": D(10), "verify": D(20), "solve": D(51), "close": D(20)})
    assert caught.value.params == {"n": 3, "max": "50"}
