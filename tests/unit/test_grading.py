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


def test_marks_percent_and_final_grade():
    assert grading.mark(D(5), D("0.3333333")) == D("1.67")
    assert grading.percent(D("13.5"), D(20)) == D("67.50")
    assert grading.final_grade([D(40), D(80), D(60)], "highest") == D(80)
    assert grading.final_grade([D(40), D(80), D(60)], "last") == D(60)
    assert grading.final_grade([], "last") is None


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
