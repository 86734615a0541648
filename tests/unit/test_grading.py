"""Grading and drawing as pure functions."""
import random
from decimal import Decimal as D

import pytest

from trainer.quizzes import draw, grading

W = lambda *ws: [D(str(w)) for w in ws]  # noqa: E731


def test_single_choice_scores_the_chosen_weight():
    weights = W(100, 0, 50, -20)
    assert grading.fraction("single", weights, [0]) == 1
    assert grading.fraction("single", weights, [2]) == D("0.5")
    assert grading.fraction("single", weights, [1]) == 0
    assert grading.fraction("single", weights, [3]) == 0  # negative clamps to 0
    assert grading.fraction("single", weights, []) == 0
    assert grading.fraction("single", weights, [0, 2]) == 0  # two ticks on a single: wrong


def test_multiple_choice_partial_credit_clamped():
    weights = W("33.33333", "33.33333", "33.33334", -100)
    assert grading.fraction("multiple", weights, [0, 1, 2]) == 1
    assert grading.fraction("multiple", weights, [0]) == D("0.3333333")
    assert grading.fraction("multiple", weights, [0, 1, 2, 3]) == 0
    assert grading.fraction("multiple", weights, [0, 3]) == 0  # never below zero
    assert grading.fraction("multiple", W(60, 60, -10), [0, 1]) == 1  # never above one


def test_multiple_choice_all_or_nothing():
    weights = W(50, 50, -100)
    assert grading.fraction("multiple", weights, [0, 1], all_or_nothing=True) == 1
    assert grading.fraction("multiple", weights, [0], all_or_nothing=True) == 0
    assert grading.fraction("multiple", weights, [0, 1, 2], all_or_nothing=True) == 0


def test_true_false_is_single():
    assert grading.fraction("truefalse", W(0, 100), [1]) == 1
    assert grading.fraction("truefalse", W(0, 100), [0]) == 0


def test_out_of_range_choices_score_nothing():
    assert grading.fraction("single", W(100, 0), [7]) == 0


def test_marks_and_percent():
    assert grading.mark(D(5), D("0.3333333")) == D("1.67")
    assert grading.percent(D("13.5"), D(20)) == D("67.50")


def grades(*percents_and_passed):
    return [grading.KeptGrade(D(p), passed, attempt_id)
            for attempt_id, (p, passed) in enumerate(percents_and_passed, start=1)]


def test_the_kept_grade_is_the_highest_or_the_last():
    taken = grades((40, False), (80, True), (60, True))
    assert grading.kept_grade(taken, "highest") == grading.KeptGrade(D(80), True, 2)
    assert grading.kept_grade(taken, "last") == grading.KeptGrade(D(60), True, 3)
    assert grading.kept_grade([], "highest") is None and grading.kept_grade([], "last") is None


def test_with_grading_last_a_later_failed_attempt_is_what_counts():
    taken = grades((90, True), (30, False))
    assert grading.kept_grade(taken, "last").passed is False
    assert grading.kept_grade(taken, "highest").passed is True


def test_the_highest_grade_comes_from_the_first_attempt_that_reached_it():
    assert grading.kept_grade(grades((70, True), (70, True), (50, False)),
                              "highest").attempt_id == 1
    # (Equal percents under a pass mark that changed between them: the passed one counts.)
    assert grading.kept_grade(grades((60, False), (60, True)), "highest").attempt_id == 2


def candidates(*lineages):
    return [draw.Candidate(question_id=l * 10, lineage_id=l) for l in lineages]


def test_draw_prefers_the_least_seen_and_never_repeats():
    rule = draw.RuleNeed(candidates(1, 2, 3, 4, 5), 3, D(1))
    seen = {1: 5, 2: 0, 3: 2, 4: 0, 5: 1}
    picked = draw.draw([rule], seen, random.Random(1))
    assert {d.lineage_id for d in picked} == {2, 4, 5}
    for seed in range(50):
        result = draw.draw([rule, draw.RuleNeed(candidates(1, 2, 3, 4, 5), 2, D(1))], {},
                           random.Random(seed))
        lineages = [d.lineage_id for d in result]
        assert len(lineages) == len(set(lineages)) == 5


def test_draw_keeps_rule_order_and_points():
    narrow = draw.RuleNeed(candidates(1, 2), 2, D(5))
    broad = draw.RuleNeed(candidates(1, 2, 3, 4), 2, D(1))
    result = draw.draw([broad, narrow], {}, random.Random(3))
    assert [d.points for d in result] == [D(1), D(1), D(5), D(5)]
    assert {d.lineage_id for d in result[2:]} == {1, 2}  # the narrow rule was served first


def test_shortfall_is_reported():
    with pytest.raises(draw.ShortfallError) as error:
        draw.draw([draw.RuleNeed(candidates(1, 2), 3, D(1))], {}, random.Random(0))
    assert (error.value.needed, error.value.available) == (3, 2)
    problems = draw.check_fill([draw.RuleNeed(candidates(1, 2, 3), 2, D(1)),
                                draw.RuleNeed(candidates(2, 3), 2, D(1))])
    assert problems and problems[0].rule_index in (0, 1)
    assert draw.check_fill([draw.RuleNeed(candidates(1, 2), 2, D(1)),
                            draw.RuleNeed(candidates(3, 4), 2, D(1))]) == []


def test_keep_in_place_choices_never_move():
    keep = [False, False, False, True]
    for seed in range(30):
        order = draw.choice_order(4, keep, True, random.Random(seed))
        assert order[3] == 3 and sorted(order) == [0, 1, 2, 3]
    assert draw.choice_order(4, keep, False, random.Random(0)) == [0, 1, 2, 3]
