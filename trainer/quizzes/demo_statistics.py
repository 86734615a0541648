"""The item-statistics demo (issue 18): sixty simulated agents of known ability, in a department
of their own (客服三部), each sat one fixed-list exam of twenty questions from the shipped banks,
so every question has sixty answers and a trainer opening the exam's statistics sees real
figures and real flags.

The answers come from a small item-response simulation (`simulate`, pure): for most questions
P(correct) = logistic(1.7 · (ability − location)), the location following the question's
difficulty (1–3), so they discriminate; two trivia questions are answered at random whatever
the ability (they do not discriminate); one question nearly everyone gets right (too easy) and
one few do (too hard); on one question nobody picks an absurd choice (a distractor nobody
picks), and on another the stronger candidates who miss it all pick the same plausible choice
(a distractor the strong pick). Everything else is the engine's own work, done through the
quizzes services as a real candidate's attempt would be: the start (draw, snapshots, choice
order), one autosave per question, the submit and its grading, at times within the exam's
window ten to eight days ago.

The sixty were hired before the go-live date (the demo sets it 60 days back), so, like the
demo's other experienced agents, they count as cleared for duty and get no onboarding: none is
overdue, and the records dashboard's overdue and not-cleared figures stay those of the demo's
own story. (Like most of the demo's agents they have no 学时 this year: 客服三部 shows as behind
on 学时 until classes credit some.)

Deterministic (seeded) and idempotent: what exists is left alone."""
from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal
from statistics import NormalDist

from sqlalchemy import case, func, select

from trainer.accounts.demo import DEMO_PASSWORD
from trainer.accounts.models import Department, StaffMember
from trainer.accounts.services import (
    active_entry_named,
    create_list_entry,
    create_staff,
    get_staff_by_employee_no,
)
from trainer.banks.models import Question, QuestionBank
from trainer.core.db import db
from trainer.core.settings import centre_timezone
from trainer.core.timeutil import local_date, zone
from trainer.quizzes.models import Attempt, Quiz, QuizAssignment
from trainer.quizzes.services import (
    FINISHED_STATES,
    QuizSettings,
    assign_quiz,
    save_answer,
    save_quiz,
    start_attempt,
    submit_attempt,
)

SEED = "trainer-item-statistics-demo"
EXAM_TITLE = "客户服务综合测评（统计演示）"
EXAM_DESCRIPTION = ("客服三部在岗坐席的统一测评：20 道题（单选、多选、判断），每题 5 分，限时 30 "
                    "分钟，60 分及格，每人一次。演示数据：60 名模拟坐席按各自的能力作答，供培训师"
                    "查看题目分析。")
DEPARTMENT, DEPARTMENT_CODE = "客服三部", "CS3"
POSITION = "坐席"
TRAINER = "T0001"
POINTS = Decimal(5)
PASS_MARK = Decimal(60)
TIME_LIMIT_S = 30 * 60

# Sixty agents, K3001–K3060 (the demo's own people are A0001, H0001, T0001 and K0001–K0015).
FIRST_NUMBER = 3001
NAMES = (
    "王静怡", "李晓东", "张丽华", "刘建国", "陈思琪", "杨帆", "赵雪梅", "黄志强", "周晓燕", "吴婷婷",
    "徐明", "孙丽", "胡建华", "朱晓红", "高俊", "林晓峰", "何雨桐", "郭佳", "马丽娟", "罗浩",
    "梁雪", "宋佳琪", "郑伟", "谢芳芳", "韩冰", "唐晓丽", "冯涛", "于洋", "董丽萍", "程然",
    "曹颖", "袁媛", "邓凯", "许文博", "傅婷", "沈佳怡", "曾志远", "彭晓梅", "吕鹏", "苏倩",
    "卢俊杰", "蒋欣", "蔡晓雯", "贾宁", "丁一鸣", "魏红", "薛凯", "叶子涵", "闫磊", "余静",
    "潘雪", "杜娟", "戴敏", "夏雨", "钟华", "汪倩", "田甜", "任杰", "姜丽", "范晓军",
)
# Entered in the site a month ago; hired 200 days to six years ago (before the go-live).
ENTERED_DAYS_AGO = 30
HIRED_DAYS_AGO = (200, 6 * 365)

# The exam: open from ten days ago 09:00 to eight days ago 17:00 (local time); six sittings of
# ten people, each (day offset, hour, minute).
WINDOW = ((-10, 9, 0), (-8, 17, 0))
SITTINGS = ((-10, 9, 30), (-10, 14, 30), (-9, 9, 30), (-9, 14, 30), (-8, 9, 30), (-8, 14, 30))
CREATED = (-14, 10, 0)

# The item-response model: a question's location on the ability scale by difficulty, and the
# slope (1.7 makes the logistic curve follow the normal ogive).
SLOPE = 1.7
LOCATION = {1: -1.0, 2: -0.3, 3: 0.5}
EASY_LOCATION = -3.0
HARD_LOCATION = 1.8
RANDOM_BLOCK = 10   # random questions: this many people of like ability, a fixed share right


@dataclass(frozen=True)
class SimulatedPerson:
    employee_no: str
    name: str
    ability: float       # on the model's scale: spread as a standard normal, weak to strong
    hired_days_ago: int
    sitting: int         # index into SITTINGS


@dataclass(frozen=True)
class PlannedItem:
    """A question of the exam (by bank and id number) and how the simulation answers it."""

    bank: str
    id_number: str
    kind: str = "ability"   # ability | easy | hard | random
    rate: float = 0.5       # random: the share who get it right, whatever their ability
    unpicked: str = ""      # text within the wrong choice nobody picks
    tempting: str = ""      # text within the wrong choice the stronger half pick when they miss


PLAN = (
    PlannedItem("etiquette", "SE-001", "easy"),       # the greeting everyone knows
    PlannedItem("complaints", "CP-001"),
    PlannedItem("complaints", "CP-013"),
    PlannedItem("etiquette", "SE-013"),
    PlannedItem("philosophy", "PH-034", "random", rate=0.5),   # trivia: a year and a country
    PlannedItem("complaints", "CP-015"),
    PlannedItem("etiquette", "SE-040", unpicked="关掉"),        # "turn off the counter light"
    PlannedItem("ethics", "ET-003"),
    PlannedItem("complaints", "CP-014"),
    PlannedItem("ethics", "ET-038"),
    PlannedItem("etiquette", "SE-038"),
    PlannedItem("stress", "ST-041", "hard"),          # a training-hours rule few remember
    PlannedItem("ethics", "ET-030"),
    PlannedItem("complaints", "CP-022"),
    PlannedItem("satisfaction", "SA-009"),
    PlannedItem("management", "MG-041", "random", rate=0.4),   # trivia: where TQM began
    PlannedItem("stress", "ST-012"),
    PlannedItem("etiquette", "SE-019"),
    PlannedItem("followup", "FU-051"),
    # Experienced agents' habit: "wait until there is news, not to bother the customer".
    PlannedItem("complaints", "CP-030", tempting="等有了结果"),
)


def simulated_people() -> list[SimulatedPerson]:
    """The sixty, with abilities at the normal quantiles (weakest about −2.4, strongest about
    +2.4) dealt out at random, so employee numbers say nothing of ability."""
    rng = random.Random(f"{SEED}:people")
    count = len(NAMES)
    abilities = [round(NormalDist().inv_cdf((k + 0.5) / count), 2) for k in range(count)]
    rng.shuffle(abilities)
    return [SimulatedPerson(f"K{FIRST_NUMBER + index}", name, ability,
                            rng.randint(*HIRED_DAYS_AGO), index % len(SITTINGS))
            for index, (name, ability) in enumerate(zip(NAMES, abilities))]


# -- the simulation (pure) ----------------------------------------------------------------------

@dataclass(frozen=True)
class SimulatedQuestion:
    """What the simulation needs of a question: its type, its choices' weights (percent) and
    texts in the bank's order, its difficulty, and the plan for it."""

    qtype: str
    weights: tuple[float, ...]
    texts: tuple[str, ...]
    difficulty: int
    plan: PlannedItem


def location(question: SimulatedQuestion) -> float:
    if question.plan.kind == "easy":
        return EASY_LOCATION
    if question.plan.kind == "hard":
        return HARD_LOCATION
    return LOCATION.get(question.difficulty, 0.0)


def p_correct(ability: float, where: float) -> float:
    return 1 / (1 + math.exp(-SLOPE * (ability - where)))


def simulate(people: Sequence[tuple[str, float]],
             questions: Sequence[SimulatedQuestion]) -> dict[tuple[str, int], list[int]]:
    """Each person's answer to each question: {(employee_no, question index): the choices
    ticked, as indices into the question's choices}. `people` are (employee_no, ability).
    Deterministic: the same people and questions give the same answers."""
    ordered = sorted(people)
    answers: dict[tuple[str, int], list[int]] = {}
    for index, question in enumerate(questions):
        rng = random.Random(f"{SEED}:item:{index}")
        right = _who_is_right(ordered, question, rng)
        keys = [i for i, w in enumerate(question.weights) if w > 0]
        best = [max(range(len(question.weights)), key=lambda i: question.weights[i])]
        for number, _ability in ordered:
            if number in right:
                answers[number, index] = keys if question.qtype == "multiple" else best
        wrong = sorted(((a, n) for n, a in ordered if n not in right))
        for number, selected in _wrong_answers(wrong, question, rng).items():
            answers[number, index] = selected
    return answers


def _who_is_right(ordered: Sequence[tuple[str, float]], question: SimulatedQuestion,
                  rng: random.Random) -> set[str]:
    if question.plan.kind == "random":
        # In each block of people of like ability the same share is right: answered at
        # random, with no tilt towards the strong by the luck of the draw.
        by_ability = sorted(ordered, key=lambda p: (p[1], p[0]))
        right: set[str] = set()
        for start in range(0, len(by_ability), RANDOM_BLOCK):
            block = by_ability[start:start + RANDOM_BLOCK]
            right |= {n for n, _a in rng.sample(block, round(question.plan.rate * len(block)))}
        return right
    where = location(question)
    return {n for n, a in ordered if rng.random() < p_correct(a, where)}


def _choice_with(texts: Sequence[str], among: Sequence[int], part: str) -> int | None:
    if not part:
        return None
    return next((i for i in among if part in texts[i]), None)


def _wrong_answers(wrong: Sequence[tuple[float, str]], question: SimulatedQuestion,
                   rng: random.Random) -> dict[str, list[int]]:
    """The answers of those who miss the question (given weakest first). Their picks are
    spread evenly over the wrong choices (in an order drawn per question), except the one
    nobody picks; the stronger half who miss a question with a tempting choice pick that one.
    A multiple-answer question missed leaves one right choice out, and the weaker also tick a
    wrong one."""
    keys = [i for i, w in enumerate(question.weights) if w > 0]
    others = [i for i, w in enumerate(question.weights) if w <= 0]
    plan = question.plan
    if plan.unpicked and len(others) > 1:
        unpicked = _choice_with(question.texts, others, plan.unpicked)
        others.remove(others[-1] if unpicked is None else unpicked)
    tempting = _choice_with(question.texts, others, plan.tempting) if plan.tempting else None
    if plan.tempting and tempting is None and others:
        tempting = others[0]
    spread = [i for i in others if i != tempting] or others
    rng.shuffle(spread)
    answers: dict[str, list[int]] = {}
    where = location(question)
    for n, (ability, number) in enumerate(wrong):
        if question.qtype == "multiple":
            left_out = keys[n % len(keys)] if keys else None
            chosen = [k for k in keys if k != left_out]
            if (ability < where or not chosen) and spread:
                chosen.append(spread[n % len(spread)])
            answers[number] = sorted(chosen)
        elif tempting is not None and ability > 0:
            answers[number] = [tempting]
        elif spread:
            answers[number] = [spread[n % len(spread)]]
        else:   # a question with no wrong choice: nothing to pick but the key
            answers[number] = keys[:1]
    return answers


# -- the demo -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class StatisticsDemo:
    quiz: Quiz
    staff_created: int
    attempts_made: int


def demo_exam() -> Quiz | None:
    """The demo's statistics exam, by title (None before `trainer setup --demo`)."""
    return db.session.scalar(select(Quiz).where(Quiz.title == EXAM_TITLE).order_by(Quiz.id)
                             .limit(1))


def create_statistics_demo(*, now: datetime) -> StatisticsDemo | None:
    """Create what is missing of the demo (idempotent); None when the demo trainer or the
    shipped banks are missing. Runs after the demo's staff and exam exist."""
    trainer = get_staff_by_employee_no(TRAINER)
    if trainer is None:
        return None
    quiz = demo_exam()
    questions = _fixed_questions(quiz) if quiz is not None else _planned_questions()
    if questions is None:
        return None
    entered = now - timedelta(days=ENTERED_DAYS_AGO)
    if active_entry_named(Department, DEPARTMENT) is None:
        create_list_entry(None, Department, name=DEPARTMENT, code=DEPARTMENT_CODE, now=entered)
    people, created = _staff(now=now, entered=entered)
    if quiz is None:
        quiz = _create_exam(trainer, questions, now=now)
    assigned = set(db.session.scalars(select(QuizAssignment.staff_id).where(
        QuizAssignment.quiz_id == quiz.id)))
    missing = [member.id for member, _p in people if member.id not in assigned]
    if missing:
        assign_quiz(trainer, quiz, missing, now=_at(CREATED, now=now) + timedelta(minutes=30))
    made = _sit_the_exam(quiz, questions, people, now=now)
    return StatisticsDemo(quiz, created, made)


def _at(when: tuple[int, int, int], *, now: datetime) -> datetime:
    """(day offset, hour, minute) local time, as an aware UTC moment."""
    day_offset, hour, minute = when
    tz = zone(centre_timezone())
    day = now.astimezone(tz).date() + timedelta(days=day_offset)
    return datetime.combine(day, time(hour, minute), tzinfo=tz).astimezone(now.tzinfo)


def _current(bank_id: int, id_number: str) -> Question | None:
    return db.session.scalar(select(Question).where(
        Question.bank_id == bank_id, Question.id_number == id_number,
        Question.is_current.is_(True), Question.retired.is_(False)))


def _planned_questions() -> list[tuple[PlannedItem, Question]] | None:
    """The plan's questions; one that is gone (retired, renumbered) is replaced by a current
    single-answer question of the same bank. None when a bank is missing."""
    banks = {b.key: b.id for b in db.session.scalars(select(QuestionBank).where(
        QuestionBank.key.in_({p.bank for p in PLAN})))}
    if len(banks) < len({p.bank for p in PLAN}):
        return None
    chosen: list[tuple[PlannedItem, Question]] = []
    for plan in PLAN:
        question = _current(banks[plan.bank], plan.id_number)
        if question is None or question.lineage_id in {q.lineage_id for _p, q in chosen}:
            used = [q.lineage_id for _p, q in chosen]
            question = db.session.scalar(select(Question).where(
                Question.bank_id == banks[plan.bank], Question.qtype == "single",
                Question.is_current.is_(True), Question.retired.is_(False),
                Question.lineage_id.not_in(used)).order_by(Question.id_number).limit(1))
        if question is None:
            return None
        chosen.append((plan, question))
    return chosen


def _fixed_questions(quiz: Quiz) -> list[tuple[PlannedItem, Question]] | None:
    """The exam's questions (current versions of its fixed list), each with its plan."""
    current = {q.lineage_id: q for q in db.session.scalars(select(Question).where(
        Question.lineage_id.in_([f.lineage_id for f in quiz.fixed]),
        Question.is_current.is_(True)))}
    if len(quiz.fixed) != len(PLAN) or any(f.lineage_id not in current for f in quiz.fixed):
        return None
    return [(plan, current[f.lineage_id]) for plan, f in zip(PLAN, quiz.fixed)]


def _staff(*, now: datetime, entered: datetime
           ) -> tuple[list[tuple[StaffMember, SimulatedPerson]], int]:
    """The sixty as staff members (created when missing); a number someone else holds (not
    the simulated person's name) is left out."""
    today = local_date(now, centre_timezone())
    people, created = [], 0
    for person in simulated_people():
        member = get_staff_by_employee_no(person.employee_no)
        if member is None:
            member, _ = create_staff(
                None, employee_no=person.employee_no, name=person.name, department=DEPARTMENT,
                position=POSITION, hire_date=today - timedelta(days=person.hired_days_ago),
                roles=("learner",), now=entered, password=DEMO_PASSWORD)
            created += 1
        elif member.name != person.name:
            continue
        people.append((member, person))
    return people, created


def _create_exam(trainer: StaffMember, questions: list[tuple[PlannedItem, Question]], *,
                 now: datetime) -> Quiz:
    (opens, closes) = (_at(w, now=now) for w in WINDOW)
    return save_quiz(trainer, None, QuizSettings(
        title=EXAM_TITLE, description=EXAM_DESCRIPTION, mode="exam", time_limit_s=TIME_LIMIT_S,
        open_at=opens, close_at=closes, pass_mark=PASS_MARK, attempts_allowed=1,
        grading="highest", review_what="full", review_when="after_close"),
        fixed=[(q.lineage_id, POINTS) for _p, q in questions], now=_at(CREATED, now=now))


def _simulated(question: Question, plan: PlannedItem) -> SimulatedQuestion:
    return SimulatedQuestion(question.qtype, tuple(float(c.weight) for c in question.choices),
                             tuple(c.text for c in question.choices), question.difficulty, plan)


def _sit_the_exam(quiz: Quiz, questions: list[tuple[PlannedItem, Question]],
                  people: list[tuple[StaffMember, SimulatedPerson]], *, now: datetime) -> int:
    """Each of the people without a finished attempt sits the exam in their sitting: starts,
    answers the questions in the order shown (one autosave each), submits."""
    done = set(db.session.scalars(select(Attempt.staff_id).where(
        Attempt.quiz_id == quiz.id, Attempt.state.in_(FINISHED_STATES))))
    to_sit = [(m, p) for m, p in people if m.id not in done]
    if not to_sit:
        return 0
    answers = simulate([(p.employee_no, p.ability) for _m, p in people],
                       [_simulated(q, plan) for plan, q in questions])
    index_of = {q.lineage_id: i for i, (_plan, q) in enumerate(questions)}
    for member, person in to_sit:
        rng = random.Random(f"{SEED}:sitting:{person.employee_no}")
        moment = _at(SITTINGS[person.sitting], now=now) + timedelta(seconds=rng.randint(0, 180))
        attempt = start_attempt(member, quiz, now=moment,
                                rng=random.Random(f"{SEED}:draw:{person.employee_no}"))
        for item in sorted(attempt.items, key=lambda i: i.position):
            moment += timedelta(seconds=rng.randint(20, 60))
            save_answer(member, attempt.id, item.position,
                        answers[person.employee_no, index_of[item.lineage_id]], item.version,
                        now=moment)
        submit_attempt(member, attempt, now=moment + timedelta(seconds=rng.randint(30, 150)))
    return len(to_sit)


def summary(quiz: Quiz) -> str:
    """Setup's line about the exam: who sat it, the mean and how many passed."""
    count, mean, passed = db.session.execute(select(
        func.count(), func.avg(Attempt.percent),
        func.sum(case((Attempt.passed, 1), else_=0))).where(
        Attempt.quiz_id == quiz.id, Attempt.state.in_(FINISHED_STATES))).one()
    people = simulated_people()
    return (f"Item statistics demo: {quiz.title} (trainer {TRAINER}), sat by {count} simulated "
            f"agents of {DEPARTMENT} ({people[0].employee_no}-{people[-1].employee_no}): mean "
            f"{float(mean or 0):.1f} %, {int(passed or 0)} passed.")
