"""Item analysis as a pure function: a fixture worked by hand, simulated candidates, the
30-attempt threshold, the top and bottom 27 %, and the degenerate cases."""
from __future__ import annotations

import math
import random

import pytest

from trainer.quizzes import statistics as stats

FOUR = 4


def question(qid: int, key: int = 0, n_choices: int = FOUR, texts=None) -> stats.QuestionShown:
    texts = texts or [f"题{qid}选项{i}" for i in range(n_choices)]
    return stats.QuestionShown(question_id=qid, qtype="single", stem=f"题干{qid}",
                               choices=tuple(stats.Choice(t, i == key)
                                             for i, t in enumerate(texts)))


def attempt(key: int, answers: list[tuple[stats.QuestionShown, float, int]],
            max_mark: float = 1.0, total: float | None = None) -> stats.GradedAttempt:
    """answers: (question, mark, picked choice) in the order shown; lineage = question id."""
    responses = tuple(stats.Response(
        lineage_id=q.question_id, question=q, position=pos, mark=mark, max_mark=max_mark,
        shown=tuple(range(len(q.choices))), picked=frozenset([picked]))
        for pos, (q, mark, picked) in enumerate(answers))
    total = sum(r.mark for r in responses) if total is None else total
    return stats.GradedAttempt(key, total, max_mark * len(responses), responses)


# -- the hand-worked fixture: 5 attempts × 3 questions, one mark each -----------------------------
#
#   attempt   A  B  C   X
#      1      1  1  1   3
#      2      1  1  0   2
#      3      1  0  1   2
#      4      0  1  0   1
#      5      0  0  0   0
#
# A: x = 1 1 1 0 0 (mean 0.6), R = X − x = 2 1 1 1 0 (mean 1)
#    Var(x) = (3·0.4² + 2·0.6²)/4 = 0.3, Var(R) = (1 + 0 + 0 + 0 + 1)/4 = 0.5
#    Cov = (0.4·1 + 0.4·0 + 0.4·0 − 0.6·0 + (−0.6)(−1))/4 = 0.25
#    D = 100·0.25/√(0.3·0.5) = 64.55; sorted x 0 0 1 1 1 with sorted R 0 1 1 1 2:
#    Cov_max = (0.6 + 0 + 0 + 0 + 0.4)/4 = 0.25, efficiency 100 %
# B: x = 1 1 0 1 0, R = 2 1 2 0 0 (mean 1), Var(R) = 4/4 = 1
#    Cov = (0.4 + 0 − 0.6 − 0.4 + 0.6)/4 = 0: D = 0, efficiency 0
#    (Cov_max = (0.6 + 0.6 + 0 + 0.4 + 0.4)/4 = 0.5)
# C: x = 1 0 1 0 0 (mean 0.4), Var(x) = 0.3, R = 2 2 1 1 0 (mean 1.2), Var(R) = 2.8/4 = 0.7
#    Cov = (0.6·0.8 − 0.4·0.8 − 0.6·0.2 + 0.4·0.2 + 0.4·1.2)/4 = 0.6/4 = 0.15
#    D = 100·0.15/√0.21 = 32.73; Cov_max: sorted x 0 0 0 1 1 with R 0 1 1 2 2 → 1.6/4 = 0.4,
#    efficiency 100·0.15/0.4 = 37.5 %
# Quiz: X = 3 2 2 1 0, Var(X) = 5.2/4 = 1.3, ΣVar(x_i) = 0.9,
#    alpha = 3/2·(1 − 0.9/1.3) = 6/13; percents 100 66.7 66.7 33.3 0: mean 53.3, median 66.7,
#    SD = √1.3·100/3, SEM = SD·√(1 − 6/13); skewness: m2 = 5.2/5, m3 = −1.44/5,
#    k2 = 1.3, k3 = 25·(−0.288)/12 = −0.6, skew = −0.6/1.3^1.5
MARKS = [(1, 1, 1), (1, 1, 0), (1, 0, 1), (0, 1, 0), (0, 0, 0)]
A, B, C = question(1), question(2), question(3)


def hand_fixture() -> list[stats.GradedAttempt]:
    # Right answers pick the key (0); wrong ones pick choice 1, except attempt 4 picks 2 on C.
    out = []
    for number, marks in enumerate(MARKS, start=1):
        picks = [0 if m else (2 if (number == 4 and q is C) else 1)
                 for q, m in zip((A, B, C), marks)]
        out.append(attempt(number, [(q, float(m), p) for q, m, p in zip((A, B, C), marks, picks)]))
    return out


def by_lineage(figures: stats.QuizFigures) -> dict[int, stats.ItemFigures]:
    return {item.lineage_id: item for item in figures.items}


def test_the_hand_worked_fixture():
    figures = stats.analyse(hand_fixture())
    items = by_lineage(figures)
    a, b, c = items[1], items[2], items[3]
    assert (a.n, b.n, c.n) == (5, 5, 5)
    assert a.facility == pytest.approx(0.6) and c.facility == pytest.approx(0.4)
    assert a.sd == pytest.approx(math.sqrt(0.3))
    assert a.discrimination == pytest.approx(100 * 0.25 / math.sqrt(0.3 * 0.5))
    assert a.discrimination == pytest.approx(64.55, abs=0.01)
    assert a.efficiency == pytest.approx(100.0)
    assert b.discrimination == pytest.approx(0.0, abs=1e-9)
    assert b.efficiency == pytest.approx(0.0, abs=1e-9)
    assert c.discrimination == pytest.approx(100 * 0.15 / math.sqrt(0.3 * 0.7))
    assert c.efficiency == pytest.approx(37.5)

    assert figures.n == 5
    assert figures.same_items
    assert figures.alpha == pytest.approx(6 / 13)
    assert figures.mean == pytest.approx(160 / 3)
    assert figures.median == pytest.approx(200 / 3)
    assert figures.sd == pytest.approx(math.sqrt(1.3) * 100 / 3)
    assert figures.sem == pytest.approx(math.sqrt(1.3) * 100 / 3 * math.sqrt(1 - 6 / 13))
    assert figures.skewness == pytest.approx(-0.6 / 1.3 ** 1.5)
    assert figures.bands == [1, 0, 0, 1, 0, 0, 2, 0, 0, 1]   # 0, 33.3, 66.7 ×2, 100


def test_the_fixture_choices_by_group():
    """Five attempts: the top and bottom 27 % are one attempt each (1.35 rounds to 1):
    attempt 1 (100 %) and attempt 5 (0 %)."""
    c = by_lineage(stats.analyse(hand_fixture()))[3]
    assert c.group_size == 1
    key, first, second, third = c.choices
    assert key.key and key.picked == 2 and key.percent == pytest.approx(40.0)
    assert (key.percent_top, key.percent_bottom) == (100.0, 0.0)
    # Wrong answers: attempts 2 and 5 picked choice 1, attempt 4 choice 2.
    assert first.picked == 2 and (first.percent_top, first.percent_bottom) == (0.0, 100.0)
    assert second.picked == 1 and second.percent == pytest.approx(20.0)
    assert third.picked == 0 and third.percent == 0.0


def test_no_flags_and_not_enough_answers_in_a_small_fixture():
    for item in stats.analyse(hand_fixture()).items:
        assert not item.enough
        assert item.flags == []
        assert all(choice.flags == () for choice in item.choices)


# -- simulated candidates ------------------------------------------------------------------------

def simulate(n: int, difficulties: list[float | None], seed: int = 18,
             rare_distractor: bool = False) -> list[stats.GradedAttempt]:
    """n candidates of ability θ ~ N(0, 1). A question with a difficulty b is answered right
    with the logistic chance 1/(1 + e^(−1.7(θ − b))); one with None is answered right with
    chance 1/2 whatever the ability (a guess). A wrong answer picks distractor 1, 2 or 3 (with
    `rare_distractor`, 3 only 1 time in 100)."""
    rng = random.Random(seed)
    questions = [question(i + 1) for i in range(len(difficulties))]
    attempts = []
    for number in range(n):
        theta = rng.gauss(0, 1)
        answers = []
        for q, b in zip(questions, difficulties):
            chance = 0.5 if b is None else 1 / (1 + math.exp(-1.7 * (theta - b)))
            right = rng.random() < chance
            if right:
                picked = 0
            elif rare_distractor:
                picked = rng.choices([1, 2, 3], weights=[59, 40, 1])[0]
            else:
                picked = rng.choice([1, 2, 3])
            answers.append((q, 1.0 if right else 0.0, picked))
        attempts.append(attempt(number, answers))
    return attempts


ABILITY = [-1.0, -0.6, -0.3, 0.0, 0.0, 0.3, 0.5, 0.8, -0.2, 0.2]


def test_a_question_answered_by_ability_discriminates_and_a_guess_does_not():
    figures = stats.analyse(simulate(200, ABILITY + [None]))
    items = by_lineage(figures)
    for lineage in range(1, len(ABILITY) + 1):
        item = items[lineage]
        assert item.discrimination > 30, (lineage, item.discrimination)
        assert not any(f.code in (stats.WEAK, stats.NEGATIVE) for f in item.flags)
    guess = items[len(ABILITY) + 1]
    assert abs(guess.discrimination) < 15, guess.discrimination
    assert guess.facility == pytest.approx(0.5, abs=0.1)
    assert {f.code for f in guess.flags} & {stats.WEAK, stats.NEGATIVE}


def test_alpha_rises_when_the_items_are_consistent():
    consistent = stats.analyse(simulate(200, ABILITY)).alpha
    half = stats.analyse(simulate(200, ABILITY[:5] + [None] * 5)).alpha
    guesses = stats.analyse(simulate(200, [None] * 10)).alpha
    assert consistent > 0.6
    assert guesses < 0.2
    assert guesses < half < consistent


def test_distractor_flags_in_a_simulation():
    figures = stats.analyse(simulate(200, [0.0, 0.5, -0.5, 0.0], rare_distractor=True))
    for item in figures.items:
        rare = item.choices[3]
        assert not rare.key and rare.percent < 5
        assert stats.RARELY_PICKED in rare.flags
        assert stats.Flag(stats.RARELY_PICKED, 3) in item.flags


def test_a_miskeyed_question_is_flagged():
    """The strong pick choice 1, the weak the key (0): the key is wrong."""
    rng = random.Random(5)
    good = [question(i) for i in range(1, 6)]
    bad = question(9)
    attempts = []
    for number in range(100):
        theta = rng.gauss(0, 1)
        answers = [(q, 1.0 if rng.random() < 1 / (1 + math.exp(-1.7 * theta)) else 0.0, 0)
                   for q in good]
        strong = rng.random() < 1 / (1 + math.exp(-1.7 * theta))
        answers.append((bad, 0.0 if strong else 1.0, 1 if strong else 0))
        attempts.append(attempt(number, answers))
    item = by_lineage(stats.analyse(attempts))[9]
    assert item.discrimination < 0
    codes = {(f.code, f.choice) for f in item.flags}
    assert (stats.NEGATIVE, None) in codes
    assert (stats.STRONG_PICK, 1) in codes
    assert stats.STRONG_PICK in item.choices[1].flags


# -- the 30-attempt threshold and the facility thresholds -----------------------------------------

def easy_quiz(n: int) -> list[stats.GradedAttempt]:
    """Question 1 everyone gets right, question 2 alternates (so totals differ)."""
    one, two = question(1), question(2)
    return [attempt(i, [(one, 1.0, 0), (two, float(i % 2), 0 if i % 2 else 1)]) for i in range(n)]


def test_29_attempts_give_no_flags_and_30_do():
    below = by_lineage(stats.analyse(easy_quiz(29)))[1]
    assert not below.enough and below.flags == []
    at = by_lineage(stats.analyse(easy_quiz(30)))[1]
    assert at.enough
    assert stats.Flag(stats.TOO_EASY) in at.flags
    # Everyone right: discrimination undefined (not 0), so not "does not discriminate".
    assert at.discrimination is None and at.discrimination_reason == stats.ITEM_CONSTANT
    assert at.efficiency is None
    assert not any(f.code in (stats.WEAK, stats.NEGATIVE) for f in at.flags)
    # Its distractors: nobody picked them (0 % < 5 %); the top picked them no more than the bottom.
    assert {f.code for f in at.flags if f.choice is not None} == {stats.RARELY_PICKED}


def facility_item(right: int, n: int = 100) -> stats.ItemFigures:
    q, other = question(1), question(2)
    rng = random.Random(right)
    attempts = [attempt(i, [(q, 1.0 if i < right else 0.0, 0 if i < right else 1 + i % 3),
                            (other, float(rng.random() < 0.5), 0)]) for i in range(n)]
    return by_lineage(stats.analyse(attempts))[1]


@pytest.mark.parametrize("right, flag", [(19, stats.TOO_HARD), (20, None), (90, None),
                                         (91, stats.TOO_EASY)])
def test_facility_thresholds_at_their_edges(right, flag):
    item = facility_item(right)
    assert item.facility == pytest.approx(right / 100)
    codes = {f.code for f in item.flags}
    assert (codes & {stats.TOO_EASY, stats.TOO_HARD}) == ({flag} if flag else set())


def test_weak_discrimination_thresholds():
    item = stats.ItemFigures(lineage_id=1, question=question(1), question_ids=(1,), n=30,
                             max_mark=1, mean_mark=0.5, facility=0.5, sd=0.5,
                             discrimination=20.0, discrimination_reason=None, efficiency=15.0,
                             group_size=8, choices=[], flags=[])
    assert stats.flags_for(item) == []
    item.discrimination = 19.9
    assert stats.flags_for(item) == [stats.Flag(stats.WEAK)]
    item.discrimination, item.efficiency = 25.0, 14.9
    assert stats.flags_for(item) == [stats.Flag(stats.WEAK)]
    item.discrimination = -3.0
    assert stats.flags_for(item) == [stats.Flag(stats.NEGATIVE)]


# -- the top and bottom 27 % ----------------------------------------------------------------------

def test_top_and_bottom_27_percent_counts():
    """Twenty attempts scoring 0, 5, …, 95 % on a 20-question quiz (question 1 is among them):
    the groups are round(0.27 × 20) = 5 attempts each."""
    q = question(1)
    fillers = [question(100 + i) for i in range(19)]
    attempts = []
    for i in range(20):
        # Attempt i scores i marks: question 1 right for i ≥ 10; fillers make up the rest.
        right_on_q = i >= 10
        filler_marks = i - int(right_on_q)
        answers = [(q, 1.0 if right_on_q else 0.0, 0 if right_on_q else (1 if i % 2 else 2))]
        answers += [(f, 1.0 if k < filler_marks else 0.0, 0) for k, f in enumerate(fillers)]
        attempts.append(attempt(i, answers))
    item = by_lineage(stats.analyse(attempts))[1]
    assert item.group_size == 5
    key, one, two, three = item.choices
    # Top 5 = attempts 15..19: all right. Bottom 5 = attempts 0..4: 1 and 3 picked choice 1,
    # 0, 2 and 4 choice 2.
    assert (key.percent_top, key.percent_bottom) == (100.0, 0.0)
    assert (one.percent_top, one.percent_bottom) == (0.0, 40.0)
    assert (two.percent_top, two.percent_bottom) == (0.0, 60.0)
    assert (three.picked, three.percent_top, three.percent_bottom) == (0, 0.0, 0.0)
    assert key.percent == 50.0 and one.percent == 25.0 and two.percent == 25.0


def test_group_sizes():
    assert [stats.group_size(n) for n in (0, 1, 2, 5, 10, 30, 100, 200)] == \
        [0, 1, 1, 1, 3, 8, 27, 54]


def test_ties_at_the_cut_keep_the_group_size():
    q, other = question(1), question(2)
    attempts = [attempt(i, [(q, 1.0, 0), (other, 0.0, 1)]) for i in range(10)]  # all 50 %
    item = by_lineage(stats.analyse(attempts))[1]
    assert item.group_size == 3
    assert item.choices[0].percent_top == 100.0 and item.choices[0].percent_bottom == 100.0


# -- degenerate cases -----------------------------------------------------------------------------

def test_no_attempts():
    figures = stats.analyse([])
    assert figures.n == 0 and figures.items == []
    assert figures.mean is None and figures.median is None and figures.sd is None
    assert figures.alpha is None and figures.alpha_reason == stats.NO_ATTEMPTS
    assert figures.sem is None and figures.skewness is None
    assert not figures.same_items
    assert stats.analyse_item(1, []) is None


def test_a_single_attempt():
    figures = stats.analyse([attempt(1, [(question(1), 1.0, 0), (question(2), 0.0, 1)])])
    item = figures.items[0]
    assert item.n == 1 and item.facility == 1.0 and item.sd is None
    assert item.discrimination is None and item.discrimination_reason == stats.TOO_FEW
    assert figures.sd is None and figures.alpha is None and figures.alpha_reason == stats.TOO_FEW
    assert figures.mean == 50.0 and figures.median == 50.0


def test_everyone_the_same_score():
    attempts = [attempt(i, [(question(1), 1.0, 0), (question(2), 0.0, 1)]) for i in range(40)]
    figures = stats.analyse(attempts)
    assert figures.sd == 0.0
    assert figures.alpha is None and figures.alpha_reason == stats.TOTAL_CONSTANT
    assert figures.sem is None
    for item in figures.items:
        assert item.discrimination is None and item.discrimination_reason == stats.ITEM_CONSTANT
        assert item.efficiency is None
    assert {f.code for f in figures.items[0].flags} >= {stats.TOO_EASY}
    assert stats.Flag(stats.TOO_HARD) in figures.items[1].flags


def test_the_rest_of_the_exam_constant():
    """Question 2 is always right, so for question 1 the rest (R) never varies."""
    attempts = [attempt(i, [(question(1), float(i % 2), 0), (question(2), 1.0, 0)])
                for i in range(6)]
    item = by_lineage(stats.analyse(attempts))[1]
    assert item.discrimination is None and item.discrimination_reason == stats.REST_CONSTANT


def test_alpha_only_when_every_attempt_had_the_same_questions():
    pool = [question(i) for i in range(1, 7)]
    rng = random.Random(3)
    drawn = [attempt(i, [(q, float(rng.random() < 0.6), 0) for q in rng.sample(pool, 3)])
             for i in range(40)]
    figures = stats.analyse(drawn)
    assert not figures.same_items
    assert figures.alpha is None and figures.alpha_reason == stats.DIFFERENT_ITEMS
    assert figures.sem is None
    assert figures.sd is not None   # the scores' figures are still given
    assert sum(item.n for item in figures.items) == 120


def test_alpha_needs_two_questions():
    attempts = [attempt(i, [(question(1), float(i % 2), 0)]) for i in range(10)]
    figures = stats.analyse(attempts)
    assert figures.alpha is None and figures.alpha_reason == stats.ONE_ITEM


def test_a_question_worth_nothing_has_no_facility():
    q = question(1)
    attempts = [attempt(i, [(q, 0.0, 0)], max_mark=0.0) for i in range(3)]
    item = stats.analyse(attempts).items[0]
    assert item.facility is None
    assert stats.analyse(attempts).mean == 0.0


def test_versions_share_choices_by_their_words():
    """Version 2 reordered the choices and reworded one: kept words count as one choice."""
    v1 = question(1, key=0, texts=["对", "错甲", "错乙"])
    v2 = question(2, key=1, texts=["错甲", "对", "错丙"])
    responses = [attempt(1, [(v1, 1.0, 0)]), attempt(2, [(v2, 1.0, 1)]),
                 attempt(3, [(v2, 0.0, 0)])]
    responses = [stats.GradedAttempt(a.key, a.total, a.max_total, tuple(
        stats.Response(7, r.question, r.position, r.mark, r.max_mark, r.shown, r.picked)
        for r in a.responses)) for a in responses]
    item = stats.analyse_item(7, responses)
    assert item.question_ids == (1, 2) and item.question.question_id == 2
    texts = [c.text for c in item.choices]
    assert texts == ["错甲", "对", "错丙", "错乙"]   # the latest version's order, then the rest
    assert [c.picked for c in item.choices] == [1, 2, 0, 0]
    assert [c.key for c in item.choices] == [False, True, False, False]


def test_order_follows_a_fixed_list_when_given():
    attempts = [attempt(i, [(question(1), float(i % 2), 0), (question(2), 1.0, 0),
                            (question(3), float(i % 3 == 0), 0)]) for i in range(6)]
    default = [item.lineage_id for item in stats.analyse(attempts).items]
    assert default == [1, 2, 3]   # by the position shown
    fixed = stats.analyse(attempts, order={3: 0, 1: 1, 2: 2})
    assert [item.lineage_id for item in fixed.items] == [3, 1, 2]
    assert [item.number for item in fixed.items] == [1, 2, 3]


def test_the_total_given_is_used_for_the_rest():
    """A question followed across quizzes holds one response; R comes from the whole score."""
    q = question(1)
    attempts = [attempt(i, [(q, float(i >= 5), 0 if i >= 5 else 1)], total=float(i + (i >= 5)))
                for i in range(10)]
    item = stats.analyse_item(1, attempts)
    rest = [a.total - a.responses[0].mark for a in attempts]
    assert rest == [float(i) for i in range(10)]
    assert item.discrimination > 80
