"""The item-statistics demo's simulation (pure: no database): sixty people of known ability,
questions answered by ability that discriminate, questions answered at random that do not, a
distractor nobody picks, one the strong pick, and a plan that names real shipped questions."""
from __future__ import annotations

from collections import Counter
from pathlib import Path
from statistics import fmean, pstdev

import pytest

from trainer.accounts.demo import DEMO_STAFF
from trainer.banks import formats
from trainer.quizzes.demo_statistics import (
    PLAN,
    SITTINGS,
    PlannedItem,
    SimulatedQuestion,
    simulate,
    simulated_people,
)

ROOT = Path(__file__).resolve().parents[2]
PEOPLE = [(p.employee_no, p.ability) for p in simulated_people()]
ABILITY = dict(PEOPLE)
SINGLE = (100.0, 0.0, 0.0, 0.0)
TEXTS = ("对的做法", "看似合理的做法", "常见的误解", "荒唐的做法")


def question(kind="ability", difficulty=2, qtype="single", weights=SINGLE, texts=TEXTS,
             **plan) -> SimulatedQuestion:
    return SimulatedQuestion(qtype, weights, texts, difficulty,
                             PlannedItem("bank", "Q-1", kind, **plan))


def answers_to(q: SimulatedQuestion) -> dict[str, list[int]]:
    return {number: selected for (number, _i), selected in simulate(PEOPLE, [q]).items()}


def correlation(xs: list[float], ys: list[float]) -> float:
    mx, my = fmean(xs), fmean(ys)
    cov = fmean([(x - mx) * (y - my) for x, y in zip(xs, ys)])
    return cov / (pstdev(xs) * pstdev(ys))


def right(answers: dict[str, list[int]], key: list[int]) -> dict[str, float]:
    return {number: float(selected == key) for number, selected in answers.items()}


def test_sixty_people_of_known_ability_from_weak_to_strong_none_a_demo_persons():
    people = simulated_people()
    assert people == simulated_people()           # deterministic
    assert len(people) == 60
    assert [p.employee_no for p in people] == [f"K{n}" for n in range(3001, 3061)]
    assert len({p.name for p in people}) == 60
    assert not {p.name for p in people} & {d.name for d in DEMO_STAFF}
    assert not {p.employee_no for p in people} & {d.employee_no for d in DEMO_STAFF}
    abilities = sorted(p.ability for p in people)
    assert abilities[0] < -2 < 2 < abilities[-1] and abs(fmean(abilities)) < 0.01
    # dealt out at random: the numbers say nothing of ability
    assert abs(correlation([float(p.employee_no[1:]) for p in people],
                           [p.ability for p in people])) < 0.3
    assert Counter(p.sitting for p in people) == {s: 10 for s in range(len(SITTINGS))}
    assert all(200 <= p.hired_days_ago <= 6 * 365 for p in people)


def test_a_question_answered_by_ability_discriminates():
    q = question()
    marks = right(answers_to(q), [0])
    numbers = sorted(marks)
    assert correlation([marks[n] for n in numbers], [ABILITY[n] for n in numbers]) > 0.3
    by_ability = sorted(numbers, key=ABILITY.get)
    weak, strong = by_ability[:30], by_ability[30:]
    assert sum(marks[n] for n in strong) >= sum(marks[n] for n in weak) + 10
    assert 0.3 < fmean(marks.values()) < 0.85


def test_a_question_answered_at_random_does_not_whatever_the_ability():
    q = question("random", rate=0.4)
    marks = right(answers_to(q), [0])
    by_ability = sorted(marks, key=ABILITY.get)
    for start in range(0, 60, 10):       # each tenth of the candidates, weakest to strongest
        assert sum(marks[n] for n in by_ability[start:start + 10]) == 4
    numbers = sorted(marks)
    assert abs(correlation([marks[n] for n in numbers], [ABILITY[n] for n in numbers])) < 0.1


def test_easy_and_hard_questions():
    assert sum(right(answers_to(question("easy", difficulty=1)), [0]).values()) >= 57
    assert sum(right(answers_to(question("hard", difficulty=3)), [0]).values()) <= 12


def test_the_absurd_choice_is_never_picked_and_the_others_share_the_wrong_answers():
    answers = answers_to(question(unpicked="荒唐"))
    picked = Counter(a[0] for a in answers.values())
    assert picked[3] == 0
    wrong = picked[1] + picked[2]
    assert wrong >= 15 and abs(picked[1] - picked[2]) <= 1


def test_the_tempting_choice_is_the_mistake_of_the_strong():
    answers = answers_to(question(difficulty=3, tempting="看似合理"))
    missed = {n: a[0] for n, a in answers.items() if a != [0]}
    strong = [n for n in missed if ABILITY[n] > 0]
    assert strong and all(missed[n] == 1 for n in strong)
    assert all(missed[n] in (2, 3) for n in missed if ABILITY[n] <= 0)


def test_a_missed_multiple_answer_question_leaves_a_right_choice_out():
    weights = (33.33333, 33.33333, 33.33334, -100.0, -100.0)
    q = question(qtype="multiple", weights=weights, texts=("甲", "乙", "丙", "丁", "戊"))
    answers = answers_to(q)
    keys = [0, 1, 2]
    missed = {n: a for n, a in answers.items() if a != keys}
    assert missed and len(missed) < 50
    for number, selected in missed.items():
        assert len(set(selected) & set(keys)) == 2
        # the weaker also tick a wrong choice (no marks); the stronger lose a third
        assert bool(set(selected) & {3, 4}) == (ABILITY[number] < -0.3)


def test_true_false_has_one_wrong_choice_to_pick():
    answers = answers_to(question(qtype="truefalse", weights=(0.0, 100.0), texts=("正确", "错误"),
                                  difficulty=1))
    assert {tuple(a) for a in answers.values()} == {(0,), (1,)}


def test_the_plan_shows_every_kind_of_flag_once_or_twice():
    assert len(PLAN) == 20 and len({(p.bank, p.id_number) for p in PLAN}) == 20
    kinds = Counter(p.kind for p in PLAN)
    assert kinds == {"ability": 16, "random": 2, "easy": 1, "hard": 1}
    assert sum(bool(p.unpicked) for p in PLAN) == 1 and sum(bool(p.tempting) for p in PLAN) == 1


@pytest.fixture(scope="module")
def shipped():
    found = {}
    for path in sorted((ROOT / "question_banks").glob("*.gift")):
        result = formats.parse_file(path.read_bytes(), path.name, "gift")
        found.update({(path.stem, q.id_number): q for q in result.questions})
    return found


def test_the_plan_names_shipped_questions_and_their_wrong_choices(shipped):
    """(When the banks are revised, the plan follows: this names what moved.)"""
    for plan in PLAN:
        q = shipped.get((plan.bank, plan.id_number))
        assert q is not None, plan
        wrong = [c.text for c in q.choices if c.weight <= 0]
        for part in (plan.unpicked, plan.tempting):
            if part:
                assert sum(part in text for text in wrong) == 1, (plan, wrong)
    assert Counter(shipped[p.bank, p.id_number].qtype for p in PLAN) == {
        "single": 15, "truefalse": 3, "multiple": 2}
