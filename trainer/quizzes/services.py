"""Quizzes: building, the timed attempt (start, autosave, submit, sweep), grading, practice and
the mistakes notebook. Services flush, never commit; the server owns the clock (`now=`)."""
from __future__ import annotations

import json
import random
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Text, and_, bindparam, case, cast, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import joinedload, lazyload, selectinload
from sqlalchemy.sql import Select

from trainer.accounts.models import Login, StaffMember, login_key_hash
from trainer.banks.models import Category, Choice, Question, QuestionBank, QuestionTag
from trainer.banks.services import category_ids_under
from trainer.core.audit import record_event
from trainer.core.db import bulk_insert, db
from trainer.core.errors import N_, DomainError, Forbidden, NotFound
from trainer.quizzes import draw as drawing
from trainer.quizzes import grading, rules
from trainer.quizzes.models import (
    IN_PROGRESS,
    ONE_IN_PROGRESS,
    Attempt,
    AttemptItem,
    DrawRule,
    FixedQuestion,
    MistakeEntry,
    Quiz,
    QuizAssignment,
    QuizOverride,
)
from trainer.quizzes.grading import KeptGrade
from trainer.quizzes.signals import attempt_finished

DEFAULT_GRACE_S = 30
MAX_CHOICE_INDEX = 20


class TimeUp(DomainError):
    status_code = 409


class AttemptClosed(DomainError):
    status_code = 409


class QuestionClosed(DomainError):
    """Sequential navigation: the person has moved on from this question."""

    status_code = 409


MOVED_ON = N_("You have moved on from question %(n)d: this quiz goes forward only, and its "
              "answer can no longer be changed.")


class StaleAnswer(DomainError):
    """The save was based on an older version of the answer (another tab, a delayed retry)."""

    status_code = 409

    def __init__(self, version: int, selected: list[int]) -> None:
        super().__init__(N_("This answer was changed elsewhere; the page shows the latest "
                            "answer."))
        self.version, self.selected = version, selected


# -- who may do what -----------------------------------------------------------------------------

def may_manage(actor: StaffMember, quiz: Quiz) -> bool:
    """Admins manage every quiz; trainers their own and the system's (course quizzes)."""
    if actor.has_role("admin"):
        return True
    return actor.has_role("trainer") and quiz.personal_for_id is None and \
        quiz.owner_id in (None, actor.id)


def check_may_manage(actor: StaffMember, quiz: Quiz) -> None:
    if not may_manage(actor, quiz):
        raise Forbidden("You may not manage this quiz.")


def is_assigned(person: StaffMember, quiz: Quiz) -> bool:
    if quiz.personal_for_id is not None:
        return quiz.personal_for_id == person.id
    if quiz.open_to_all:
        return True
    return db.session.get(QuizAssignment, (quiz.id, person.id)) is not None


def get_override(quiz: Quiz, staff_id: int) -> QuizOverride | None:
    return db.session.get(QuizOverride, (quiz.id, staff_id))


def window(quiz: Quiz, override: QuizOverride | None) -> tuple[datetime | None, datetime | None]:
    if override is None:
        return quiz.open_at, quiz.close_at
    return (override.open_at or quiz.open_at, override.close_at or quiz.close_at)


# -- building -----------------------------------------------------------------------------------

@dataclass
class RuleSpec:
    bank_id: int
    count: int
    points: Decimal = Decimal(1)
    category_id: int | None = None
    tag: str = ""
    difficulty: int | None = None
    qtype: str = ""


@dataclass
class QuizSettings:
    title: str
    description: str = ""
    mode: str = "exam"
    time_limit_s: int | None = None
    open_at: datetime | None = None
    close_at: datetime | None = None
    pass_mark: Decimal = Decimal(60)
    attempts_allowed: int | None = None
    grading: str = "highest"
    delay_s: int = 0
    shuffle_questions: bool = True
    shuffle_choices: bool = True
    layout: str = "all"
    navigation: str = "free"
    all_or_nothing: bool = False
    review_what: str = "full"
    review_when: str = "immediately"
    open_to_all: bool = False


def candidates_for(rule: RuleSpec | DrawRule) -> list[drawing.Candidate]:
    """Current, non-retired questions a rule may draw."""
    query = select(Question.id, Question.lineage_id).where(
        Question.bank_id == rule.bank_id, Question.is_current.is_(True),
        Question.retired.is_(False))
    if rule.category_id:
        category = db.session.get(Category, rule.category_id)
        if category is None:
            return []
        query = query.where(Question.category_id.in_(category_ids_under(category)))
    if rule.tag:
        query = query.where(Question.id.in_(
            select(QuestionTag.question_id).where(QuestionTag.tag == rule.tag)))
    if rule.difficulty:
        query = query.where(Question.difficulty == rule.difficulty)
    if rule.qtype:
        query = query.where(Question.qtype == rule.qtype)
    return [drawing.Candidate(qid, lid) for qid, lid in db.session.execute(query)]


def _candidates_for_rules(rules_: list[DrawRule]) -> list[list[drawing.Candidate]]:
    """`candidates_for` each rule; rules that take a whole bank share one query (an exam drawn
    from six banks cost six queries per start)."""
    plain = {r.bank_id for r in rules_
             if not (r.category_id or r.tag or r.difficulty or r.qtype)}
    by_bank: dict[int, list[drawing.Candidate]] = {bank: [] for bank in plain}
    if plain:
        for qid, lid, bank in db.session.execute(
                select(Question.id, Question.lineage_id, Question.bank_id).where(
                    Question.bank_id.in_(plain), Question.is_current.is_(True),
                    Question.retired.is_(False))):
            by_bank[bank].append(drawing.Candidate(qid, lid))
    return [list(by_bank[r.bank_id]) if r.bank_id in plain and not (
        r.category_id or r.tag or r.difficulty or r.qtype) else candidates_for(r)
        for r in rules_]


def describe_rule(rule: RuleSpec | DrawRule) -> str:
    bank = db.session.get(QuestionBank, rule.bank_id)
    parts = [bank.name if bank else str(rule.bank_id)]
    if rule.category_id:
        category = db.session.get(Category, rule.category_id)
        parts.append(category.path if category else "?")
    if rule.tag:
        parts.append(f"#{rule.tag}")
    if rule.difficulty:
        parts.append(f"难度{rule.difficulty}")
    if rule.qtype:
        parts.append(rule.qtype)
    return " / ".join(parts)


def check_rules(rule_specs: list[RuleSpec]) -> None:
    """Refuse rules the banks cannot fill, naming the shortfall (at save time, not at start)."""
    needs = [drawing.RuleNeed(candidates_for(r), r.count, r.points) for r in rule_specs]
    problems = drawing.check_fill(needs)
    if problems:
        first = problems[0]
        raise DomainError("Rule %(n)d (%(rule)s) needs %(need)d questions but only %(have)d "
                          "can be drawn.", n=first.rule_index + 1,
                          rule=describe_rule(rule_specs[first.rule_index]),
                          need=first.needed, have=first.available)


def _validate_settings(s: QuizSettings) -> None:
    if not s.title.strip():
        raise DomainError("The quiz needs a title.")
    if s.time_limit_s is not None and not 60 <= s.time_limit_s <= 24 * 3600:
        raise DomainError("The time limit must be between 1 minute and 24 hours.")
    if not Decimal(0) <= s.pass_mark <= Decimal(100):
        raise DomainError("The pass mark must be between 0 and 100 %.")
    if s.attempts_allowed is not None and s.attempts_allowed < 1:
        raise DomainError("Allow at least one attempt, or leave it empty for no limit.")
    if s.open_at and s.close_at and s.close_at <= s.open_at:
        raise DomainError("The quiz must close after it opens.")
    if s.delay_s < 0:
        raise DomainError("The delay between attempts cannot be negative.")


def save_quiz(actor: StaffMember | None, quiz: Quiz | None, settings: QuizSettings, *,
              rule_specs: list[RuleSpec] | None = None, fixed: list[tuple[int, Decimal]] | None
              = None, now: datetime, personal_for: StaffMember | None = None) -> Quiz:
    """Create or change a quiz. Rules are checked against the banks; changing the time limit or
    the close time recomputes the deadlines of attempts in progress (audited)."""
    _validate_settings(settings)
    if quiz is not None and actor is not None:
        check_may_manage(actor, quiz)
    if fixed is None:
        if not rule_specs:
            raise DomainError("Add at least one draw rule.")
        check_rules(rule_specs)
    elif not fixed:
        raise DomainError("Choose at least one question.")
    created = quiz is None
    if quiz is None:
        quiz = Quiz(created_at=now, owner_id=actor.id if actor and personal_for is None else None,
                    personal_for_id=personal_for.id if personal_for else None)
        db.session.add(quiz)
    timing_before = (quiz.time_limit_s, quiz.close_at)
    for name, value in settings.__dict__.items():
        setattr(quiz, name, value.strip() if isinstance(value, str) and name == "title" else value)
    quiz.updated_at = now
    quiz.fixed_list = fixed is not None
    quiz.rules = [DrawRule(position=i, bank_id=r.bank_id, category_id=r.category_id,
                           tag=r.tag, difficulty=r.difficulty, qtype=r.qtype, count=r.count,
                           points=r.points) for i, r in enumerate(rule_specs or [])]
    quiz.fixed = [FixedQuestion(lineage_id=lineage, position=i, points=points)
                  for i, (lineage, points) in enumerate(fixed or [])]
    db.session.flush()
    record_event(actor.id if actor else None, "quiz.created" if created else "quiz.updated",
                 "quiz", quiz.id, now=now, details={"title": quiz.title})
    if not created and timing_before != (quiz.time_limit_s, quiz.close_at):
        recompute_deadlines(actor, quiz, now=now)
    return quiz


def set_override(actor: StaffMember, quiz: Quiz, staff: StaffMember, *, extra_time_s: int,
                 extra_attempts: int, open_at: datetime | None, close_at: datetime | None,
                 now: datetime) -> QuizOverride:
    """Extra time, attempts or other dates for one person; their attempt in progress follows."""
    check_may_manage(actor, quiz)
    if extra_time_s < 0 or extra_attempts < 0:
        raise DomainError("Extra time and attempts cannot be negative.")
    if open_at and close_at and close_at <= open_at:
        raise DomainError("The quiz must close after it opens.")
    override = get_override(quiz, staff.id)
    if override is None:
        override = QuizOverride(quiz_id=quiz.id, staff_id=staff.id, updated_at=now)
        db.session.add(override)
    override.extra_time_s, override.extra_attempts = extra_time_s, extra_attempts
    override.open_at, override.close_at, override.updated_at = open_at, close_at, now
    db.session.flush()
    record_event(actor.id, "quiz.override_set", "quiz", quiz.id, now=now,
                 details={"staff": staff.id, "extra_time_s": extra_time_s,
                          "extra_attempts": extra_attempts})
    recompute_deadlines(actor, quiz, now=now, staff_id=staff.id)
    return override


def recompute_deadlines(actor: StaffMember | None, quiz: Quiz, *, now: datetime,
                        staff_id: int | None = None) -> int:
    """Apply the quiz's current limit, close time and overrides to attempts in progress."""
    query = select(Attempt).where(Attempt.quiz_id == quiz.id, Attempt.state == "in_progress")
    if staff_id is not None:
        query = query.where(Attempt.staff_id == staff_id)
    changed = 0
    for attempt in db.session.scalars(query):
        override = get_override(quiz, attempt.staff_id)
        _open, close_at = window(quiz, override)
        deadline = rules.deadline_for(attempt.started_at, quiz.time_limit_s,
                                      override.extra_time_s if override else 0, close_at)
        if deadline != attempt.deadline_at:
            record_event(actor.id if actor else None, "attempt.deadline_changed", "attempt",
                         attempt.id, now=now, details={
                             "from": attempt.deadline_at.isoformat() if attempt.deadline_at
                             else None,
                             "to": deadline.isoformat() if deadline else None})
            attempt.deadline_at = deadline
            changed += 1
    db.session.flush()
    return changed


def assign_quiz(actor: StaffMember, quiz: Quiz, staff_ids: list[int], *, now: datetime) -> int:
    check_may_manage(actor, quiz)
    added = 0
    for staff_id in set(staff_ids):
        if db.session.get(QuizAssignment, (quiz.id, staff_id)) is None:
            db.session.add(QuizAssignment(quiz_id=quiz.id, staff_id=staff_id, assigned_at=now))
            added += 1
    db.session.flush()
    record_event(actor.id, "quiz.assigned", "quiz", quiz.id, now=now,
                 details={"staff": sorted(set(staff_ids))})
    return added


# -- starting -----------------------------------------------------------------------------------

# The start page and the start read the draw rules or the fixed list (whichever the quiz uses),
# when needed, not both on loading the quiz.
QUIZ_TO_TAKE = (lazyload(Quiz.rules), lazyload(Quiz.fixed))


def attempts_of(person_id: int, quiz: Quiz, enrolment_id: int | None = None) -> list[Attempt]:
    """A person's attempts at a quiz, within one enrolment when given (limits count per
    enrolment, so last year's attempts never block this year's refresher)."""
    query = select(Attempt).where(Attempt.quiz_id == quiz.id, Attempt.staff_id == person_id)
    if enrolment_id is not None:
        query = query.where(Attempt.enrolment_id == enrolment_id)
    return list(db.session.scalars(query.order_by(Attempt.number)))


def _in_progress_among(attempts: list[Attempt]) -> Attempt | None:
    return next((a for a in attempts if a.state == "in_progress"), None)


def in_progress(person_id: int, quiz_id: int) -> Attempt | None:
    return db.session.scalar(select(Attempt).where(
        Attempt.quiz_id == quiz_id, Attempt.staff_id == person_id,
        Attempt.state == "in_progress"))


@dataclass
class StartInfo:
    """What the start page shows and whether starting is allowed now."""

    attempts_used: int
    attempts_allowed: int | None
    open_at: datetime | None
    close_at: datetime | None
    time_limit_s: int | None
    reason: str | None  # a gettext msgid when the person may not start now
    reason_params: dict[str, Any]
    resume: Attempt | None
    override: QuizOverride | None = None


_UNKNOWN: Any = object()


def start_info(person: StaffMember, quiz: Quiz, *, now: datetime,
               enrolment_id: int | None = None, resume: Attempt | None = _UNKNOWN,
               attempts: list[Attempt] | None = None) -> StartInfo:
    """`resume`: the attempt in progress, when the caller has just looked it up; `attempts`: all
    of the person's attempts at the quiz (`attempts_of` without an enrolment), when the caller
    has them (the start page and the start read them once, not three times)."""
    override = get_override(quiz, person.id)
    open_at, close_at = window(quiz, override)
    if attempts is None:
        attempts = attempts_of(person.id, quiz)
    finished = [a for a in attempts if a.finished and
                (enrolment_id is None or a.enrolment_id == enrolment_id)]
    allowed = None if quiz.attempts_allowed is None else \
        quiz.attempts_allowed + (override.extra_attempts if override else 0)
    time_limit = quiz.time_limit_s + override.extra_time_s if quiz.time_limit_s and override \
        else quiz.time_limit_s
    reason, params = None, {}
    if open_at and now < open_at:
        reason, params = N_("This quiz opens at %(when)s."), {"when": open_at}
    elif close_at and now >= close_at:
        reason, params = N_("This quiz closed at %(when)s."), {"when": close_at}
    elif allowed is not None and len(finished) >= allowed:
        reason, params = N_("You have used all %(n)d attempts."), {"n": allowed}
    elif quiz.delay_s and finished and finished[-1].submitted_at and \
            (now - finished[-1].submitted_at).total_seconds() < quiz.delay_s:
        wait = quiz.delay_s - int((now - finished[-1].submitted_at).total_seconds())
        reason, params = N_("You can start the next attempt in %(minutes)d minutes."), \
            {"minutes": max(1, (wait + 59) // 60)}
    if resume is _UNKNOWN:
        resume = _in_progress_among(attempts)
    return StartInfo(len(finished), allowed, open_at, close_at, time_limit, reason, params,
                     resume, override)


def _seen_counts(person_id: int, lineages: set[int]) -> dict[int, int]:
    """How often the person was asked each of these questions. (All of the person's counts are
    read and filtered here: an IN list of a few hundred lineages cost more to send and parse
    than the person's few rows.)"""
    if not lineages:
        return {}
    rows = db.session.execute(
        select(AttemptItem.lineage_id, func.count()).join(Attempt)
        .where(Attempt.staff_id == person_id).group_by(AttemptItem.lineage_id))
    return {lineage: count for lineage, count in rows if lineage in lineages}


def _drawn_questions(person: StaffMember, quiz: Quiz, rng: random.Random) -> list[drawing.Drawn]:
    if quiz.fixed_list:
        current = {q.lineage_id: q for q in db.session.scalars(select(Question).where(
            Question.lineage_id.in_([f.lineage_id for f in quiz.fixed]),
            Question.is_current.is_(True)))}
        return [drawing.Drawn(current[f.lineage_id].id, f.lineage_id, f.points)
                for f in quiz.fixed if f.lineage_id in current]
    needs = [drawing.RuleNeed(candidates, r.count, r.points)
             for r, candidates in zip(quiz.rules, _candidates_for_rules(quiz.rules))]
    lineages = {c.lineage_id for need in needs for c in need.candidates}
    try:
        return drawing.draw(needs, _seen_counts(person.id, lineages), rng)
    except drawing.ShortfallError as exc:
        raise DomainError("This quiz cannot be drawn: rule %(n)d needs %(need)d questions and "
                          "only %(have)d are available. Please tell your trainer.",
                          n=exc.rule_index + 1, need=exc.needed, have=exc.available) from exc


def _snapshot(question: Any, choices: list[tuple[str, Decimal, str, bool]],
              points: Decimal) -> dict[str, Any]:
    return {"qtype": question.qtype, "stem": question.stem, "text_format": question.text_format,
            "name": question.name, "explanation": question.explanation,
            "points": str(points), "version": question.version,
            "choices": [{"text": text, "weight": str(weight), "feedback": feedback,
                         "keep": keep} for text, weight, feedback, keep in choices]}


# What a snapshot needs of the drawn questions, in one statement and without building ORM
# objects (30 questions and their ~120 choices were two queries and 150 objects per start).
_SNAPSHOT_ROWS = (
    select(Question.id, Question.qtype, Question.stem, Question.text_format, Question.name,
           Question.explanation, Question.version, Choice.text, Choice.weight, Choice.feedback,
           Choice.keep_in_place)
    .join(Choice, Choice.question_id == Question.id)
    .where(Question.id.in_(bindparam("b_ids", expanding=True)))
    .order_by(Question.id, Choice.position))


def _snapshot_sources(question_ids: list[int]) -> dict[int, tuple[Any, list[tuple]]]:
    """Per question id: (its row, its choices as (text, weight, feedback, keep) in order)."""
    sources: dict[int, tuple[Any, list[tuple]]] = {}
    for row in db.session.execute(_SNAPSHOT_ROWS, {"b_ids": question_ids}):
        if row.id not in sources:
            sources[row.id] = (row, [])
        sources[row.id][1].append((row.text, row.weight, row.feedback, row.keep_in_place))
    return sources


def _insert_attempt(values: dict[str, Any]) -> Attempt | None:
    """Insert the attempt, or None when the person already has one in progress (two tabs
    started at once: the partial unique index keeps one). One statement, not a savepoint."""
    upsert = pg_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = upsert(Attempt).values(**values).on_conflict_do_nothing(
        index_elements=list(ONE_IN_PROGRESS), index_where=IN_PROGRESS)
    return db.session.scalars(statement.returning(Attempt)).one_or_none()


@dataclass
class PreparedStart:
    """A new attempt as `prepare_start` decided it from reads alone; `begin_prepared` writes it."""

    quiz_id: int
    staff_id: int
    enrolment_id: int | None
    number: int
    deadline_at: datetime
    max_score: Decimal
    items: list[dict[str, Any]]   # the rows of attempt_items, without attempt_id


# An attempt in progress whose deadline and grace have passed: finalising it is a write, so
# `prepare_start` leaves it to `start_attempt`.
OVERDUE_IN_PROGRESS: Any = object()


def prepare_start(person: StaffMember, quiz: Quiz, *, now: datetime,
                  enrolment_id: int | None = None, authorised: bool = False,
                  grace_s: int = DEFAULT_GRACE_S,
                  rng: random.Random | None = None) -> Attempt | PreparedStart | Any:
    """Everything starting an attempt reads and decides, and nothing it writes: the attempt in
    progress to resume, OVERDUE_IN_PROGRESS, or the new attempt drawn and snapshotted. (The start
    route writes it in a transaction of its own: on SQLite that holds the write lock for the
    inserts alone, not for the reading and drawing, the larger part; bench/exam_day.py.)"""
    if not (authorised or is_assigned(person, quiz)):
        raise Forbidden("This quiz is not assigned to you.")
    attempts = attempts_of(person.id, quiz)
    existing = _in_progress_among(attempts)
    if existing is not None:
        return OVERDUE_IN_PROGRESS if rules.is_overdue(existing.deadline_at, now, grace_s) \
            else existing
    info = start_info(person, quiz, now=now, enrolment_id=enrolment_id, resume=None,
                      attempts=attempts)
    if info.reason:
        raise DomainError(info.reason, **info.reason_params)
    rng = rng or random.Random()
    drawn = _drawn_questions(person, quiz, rng)
    if quiz.shuffle_questions:
        rng.shuffle(drawn)
    sources = _snapshot_sources([d.question_id for d in drawn])
    override = info.override
    items = []
    for position, d in enumerate(drawn):
        question, choices = sources[d.question_id]
        keep = [c[3] for c in choices]
        items.append(dict(
            position=position, question_id=d.question_id,
            lineage_id=d.lineage_id, snapshot=_snapshot(question, choices, d.points),
            # True/false keeps 正确 before 错误: shuffling two fixed words only confuses.
            choice_order=drawing.choice_order(len(keep), keep, quiz.shuffle_choices
                                              and question.qtype != "truefalse", rng),
            selected=[], version=0, saved_at=None, locked=False, mark=None,
            max_mark=d.points))
    return PreparedStart(
        quiz_id=quiz.id, staff_id=person.id, enrolment_id=enrolment_id,
        number=1 + max((a.number for a in attempts), default=0),
        deadline_at=rules.deadline_for(now, quiz.time_limit_s,
                                       override.extra_time_s if override else 0,
                                       info.close_at),
        max_score=sum((d.points for d in drawn), Decimal(0)), items=items)


def begin_prepared(prepared: PreparedStart, *, now: datetime) -> Attempt:
    """Write a prepared attempt, or return the one in progress when another tab or device
    started one since it was prepared (the one-in-progress index decides)."""
    attempt = _insert_attempt(dict(
        quiz_id=prepared.quiz_id, staff_id=prepared.staff_id,
        enrolment_id=prepared.enrolment_id, number=prepared.number, state="in_progress",
        started_at=now, deadline_at=prepared.deadline_at, max_score=prepared.max_score))
    if attempt is None:
        existing = in_progress(prepared.staff_id, prepared.quiz_id)
        if existing is None:  # pragma: no cover - the conflicting attempt was finished meanwhile
            raise DomainError("The attempt could not be started. Please try again.")
        return existing
    # One statement for the items (COPY on PostgreSQL); the attempt loads them when asked.
    bulk_insert(AttemptItem.__table__, [{**item, "attempt_id": attempt.id}
                                        for item in prepared.items])
    record_event(prepared.staff_id, "attempt.started", "attempt", attempt.id, now=now,
                 details={"quiz": prepared.quiz_id, "number": prepared.number,
                          "enrolment": prepared.enrolment_id})
    return attempt


def start_attempt(person: StaffMember, quiz: Quiz, *, now: datetime,
                  enrolment_id: int | None = None, authorised: bool = False,
                  grace_s: int = DEFAULT_GRACE_S, rng: random.Random | None = None) -> Attempt:
    """Start an attempt, or return the one in progress (a reload, a new login, another device
    resume it with the clock still running), in the caller's transaction."""
    options = dict(now=now, enrolment_id=enrolment_id, authorised=authorised, grace_s=grace_s,
                   rng=rng)
    prepared = prepare_start(person, quiz, **options)
    if prepared is OVERDUE_IN_PROGRESS:
        finalize_if_overdue(in_progress(person.id, quiz.id), now=now, grace_s=grace_s)
        prepared = prepare_start(person, quiz, **options)
    if isinstance(prepared, Attempt):
        return prepared
    return begin_prepared(prepared, now=now)


# -- answering ----------------------------------------------------------------------------------

# The question page needs the attempt, its items and its quiz (not the quiz's draw rules): one
# query for the attempt and quiz, one for the items.
ATTEMPT_PAGE = (selectinload(Attempt.items),
                joinedload(Attempt.quiz).lazyload(Quiz.rules),
                joinedload(Attempt.quiz).lazyload(Quiz.fixed))


def get_own_attempt(person: StaffMember, attempt_id: int, options: tuple = ()) -> Attempt:
    """A learner reads, saves and submits only their own attempts."""
    attempt = db.session.get(Attempt, attempt_id, options=options or None)
    if attempt is None:
        raise NotFound("No such attempt.")
    if attempt.staff_id != person.id:
        raise Forbidden("This is not your attempt.")
    return attempt


def _clean_selection(selected: Any) -> list[int]:
    if not isinstance(selected, list) or len(selected) > MAX_CHOICE_INDEX:
        raise DomainError("The answer is not a list of choices.")
    clean = []
    for value in selected:
        if isinstance(value, bool) or not isinstance(value, int) or \
                not 0 <= value < MAX_CHOICE_INDEX:
            raise DomainError("The answer is not a list of choices.")
        if value not in clean:
            clean.append(value)
    return sorted(clean)


@dataclass
class Saved:
    version: int
    saved_at: datetime
    selected: list[int]


# Exam day's hot path (bench/exam_day.py): the statements are built once, with bound parameters,
# and run on the session's connection, so a save costs the database work and little Python.
_ITEMS = AttemptItem.__table__.c
_CHOICE_ORDER = select(AttemptItem.choice_order).where(
    AttemptItem.attempt_id == bindparam("b_attempt"),
    AttemptItem.position == bindparam("b_position"))
_CHOICE_ORDERS = select(AttemptItem.position, cast(AttemptItem.choice_order, Text)).where(
    AttemptItem.attempt_id == bindparam("b_attempt"))


def _save_statement(check_login: bool):
    owned = select(Attempt.id).where(
        Attempt.id == bindparam("b_attempt"), Attempt.staff_id == bindparam("b_staff"),
        Attempt.state == "in_progress",
        or_(Attempt.deadline_at.is_(None), Attempt.deadline_at >= bindparam("b_cutoff")),
        Attempt.open_from <= bindparam("b_position"))
    item_matches = []
    if check_login:
        # The choice order the caller mapped the answer with (remembered per process, see
        # `remembered_choice_order`) must be the item's: a remembered order that is not (an
        # attempt id reused after a rollback) makes the statement refuse, never store wrongly.
        item_matches.append(cast(AttemptItem.choice_order, Text) == bindparam("b_order"))
        # What loading the person would prove: this login is open (not signed out, ended,
        # expired, or ended by a password change or reset), the account may sign in, and its
        # own password is chosen. Only read: the save writes the answer and nothing else.
        owned = owned.where(select(StaffMember.id).join(
            Login, Login.staff_id == StaffMember.id).where(
            StaffMember.id == Attempt.staff_id,
            Login.key_hash == bindparam("b_key_hash"), Login.ended_at.is_(None),
            Login.expires_at > bindparam("b_now_login"),
            StaffMember.login_enabled.is_(True), StaffMember.status != "left",
            StaffMember.must_change_password.is_(False)).exists())
    return (
        update(AttemptItem)
        # FOR SHARE (PostgreSQL) makes a save and a submit of the same attempt take turns: a
        # save either lands before the submit grades, or sees the attempt closed. SQLite
        # serialises writers anyway (BEGIN IMMEDIATE).
        .where(AttemptItem.attempt_id.in_(owned.with_for_update(read=True)),
               AttemptItem.position == bindparam("b_position"),
               AttemptItem.version == bindparam("b_based_on"), AttemptItem.locked.is_(False),
               *item_matches)
        .values(selected=bindparam("b_selected", type_=_ITEMS.selected.type),
                version=AttemptItem.version + 1,
                saved_at=bindparam("b_now", type_=_ITEMS.saved_at.type)))


_SAVE_ANSWER = _save_statement(check_login=False)
_SAVE_ANSWER_CHECKING_LOGIN = _save_statement(check_login=True)


def choice_order(attempt_id: int, position: int) -> list[int] | None:
    """The order the item's choices are shown in (None: no such item)."""
    return db.session.connection().execute(
        _CHOICE_ORDER, {"b_attempt": attempt_id, "b_position": position}).scalar()


# An item's choice order never changes once the attempt has started, and every autosave needs
# it to map the positions shown to the choices: each worker remembers the orders of the attempts
# it has saved for (one query per attempt instead of one per save). The fast path's UPDATE
# checks the remembered order against the row, so a wrong memory is refused, not stored.
_REMEMBERED_ORDERS: dict[int, dict[int, tuple[list[int], str]]] = {}
_REMEMBERED_MAX = 5000


def chosen_from_shown(shown: list, order: list[int]) -> list[int] | None:
    """The choices picked, from the positions they were shown at in `order`; None if a
    position is not one of them."""
    if not all(isinstance(i, int) and 0 <= i < len(order) for i in shown):
        return None
    return [order[i] for i in shown]


def remembered_choice_order(attempt_id: int, position: int,
                            connection=None) -> tuple[list[int], str] | None:
    """(order, its stored JSON text) of one item, remembered per attempt; None if unknown."""
    orders = _REMEMBERED_ORDERS.get(attempt_id)
    if orders is None:
        rows = (connection or db.session.connection()).execute(
            _CHOICE_ORDERS, {"b_attempt": attempt_id}).all()
        if not rows:
            return None
        orders = {position_: (json.loads(text), text) for position_, text in rows}
        if len(_REMEMBERED_ORDERS) >= _REMEMBERED_MAX:
            _REMEMBERED_ORDERS.clear()
        _REMEMBERED_ORDERS[attempt_id] = orders
    return orders.get(position)


def forget_choice_orders(attempt_id: int | None = None) -> None:
    if attempt_id is None:
        _REMEMBERED_ORDERS.clear()
    else:
        _REMEMBERED_ORDERS.pop(attempt_id, None)


def _run_save(statement, params: dict[str, Any], attempt_id: int, position: int,
              clean: list[int], based_on: int, now: datetime, grace_s: int,
              connection=None) -> bool:
    result = (connection or db.session.connection()).execute(statement, {
        **params, "b_attempt": attempt_id, "b_cutoff": now - timedelta(seconds=grace_s),
        "b_position": position, "b_based_on": based_on, "b_selected": clean, "b_now": now})
    return result.rowcount == 1


def save_answer(person: StaffMember, attempt_id: int, position: int, selected: Any,
                based_on: int, *, now: datetime, grace_s: int = DEFAULT_GRACE_S) -> Saved:
    """Store one answer if it is based on the current version; idempotent for retries of the
    same save. One conditional UPDATE does the checks (owner, state, deadline, version), so
    exam-day traffic costs a single statement per save."""
    clean = _clean_selection(selected)
    if _run_save(_SAVE_ANSWER, {"b_staff": person.id}, attempt_id, position, clean, based_on,
                 now, grace_s):
        return Saved(based_on + 1, now, clean)
    return _explain_refused_save(person, attempt_id, position, clean, now=now, grace_s=grace_s)


def save_answer_for_login(staff_id: int, login_key: str, attempt_id: int, position: int,
                          selected: Any, based_on: int, *, order_text: str, now: datetime,
                          grace_s: int = DEFAULT_GRACE_S, connection=None) -> Saved | None:
    """The autosave's lean path (quizzes.fastsave), for a login not loaded: the same UPDATE
    also proves the login, and that `selected` was mapped with the item's own choice order
    (`order_text`, from `remembered_choice_order`). Runs on `connection`, by default the
    session's. None when it is refused, for whatever reason: the caller then rolls back and
    hands the request to the view, which checks the login in full and calls `save_answer`,
    which explains the refusal."""
    clean = _clean_selection(selected)
    if _run_save(_SAVE_ANSWER_CHECKING_LOGIN,
                 {"b_staff": staff_id, "b_key_hash": login_key_hash(login_key),
                  "b_now_login": now, "b_order": order_text},
                 attempt_id, position, clean, based_on, now, grace_s, connection):
        return Saved(based_on + 1, now, clean)
    forget_choice_orders(attempt_id)
    return None



def _explain_refused_save(person: StaffMember, attempt_id: int, position: int,
                          clean: list[int], *, now: datetime, grace_s: int) -> Saved:
    attempt = get_own_attempt(person, attempt_id)
    if attempt.state == "in_progress" and rules.is_overdue(attempt.deadline_at, now, grace_s):
        finalize_if_overdue(attempt, now=now, grace_s=grace_s)
        raise TimeUp("Time is up: this answer came too late and was not saved. Your answers "
                     "saved before the deadline were submitted.")
    if attempt.state != "in_progress":
        raise AttemptClosed("This attempt is already submitted.")
    item = db.session.scalar(select(AttemptItem).where(AttemptItem.attempt_id == attempt.id,
                                                       AttemptItem.position == position))
    if item is None:
        raise NotFound("No such question in this attempt.")
    db.session.refresh(attempt, ["open_from"])
    if position < attempt.open_from:
        raise QuestionClosed(MOVED_ON, n=position + 1)
    db.session.refresh(item)
    if item.locked:
        raise AttemptClosed("This answer is locked.")
    if item.selected == clean:
        # A retry of a save that already went through: same answer, nothing to change.
        return Saved(item.version, item.saved_at or now, clean)
    raise StaleAnswer(item.version, list(item.selected))


def lock_answer(person: StaffMember, attempt: Attempt, position: int, *, now: datetime,
                grace_s: int = DEFAULT_GRACE_S) -> AttemptItem:
    """Practice: lock an answer; its mark, feedback and key become visible at once."""
    if attempt.staff_id != person.id:
        raise Forbidden("This is not your attempt.")
    if attempt.quiz.mode != "practice":
        raise DomainError("Answers are locked only in practice.")
    if attempt.state != "in_progress" or not rules.accepts_answers(attempt.deadline_at, now,
                                                                   grace_s):
        raise AttemptClosed("This attempt is already submitted.")
    item = next((i for i in attempt.items if i.position == position), None)
    if item is None:
        raise NotFound("No such question in this attempt.")
    if item.locked:
        return item
    if position < attempt.open_from:
        raise QuestionClosed(MOVED_ON, n=position + 1)
    item.locked = True
    _grade_item(item, attempt.quiz.all_or_nothing)
    _note_answer(person.id, item, practice=True, now=now)
    db.session.flush()
    return item


def is_sequential(quiz: Quiz) -> bool:
    """One question a page, forward only (navigation is sequential only when paged)."""
    return quiz.navigation == "sequential" and quiz.layout == "paged"


def move_on(attempt: Attempt, page: int) -> bool:
    """Sequential navigation: leaving the page still open (`page`) for the next closes it, for
    good. Only from that page, never past the last question; whether it moved."""
    if not is_sequential(attempt.quiz) or attempt.state != "in_progress" or \
            page != attempt.open_from or page >= len(attempt.items) - 1:
        return False
    attempt.open_from = page + 1
    db.session.flush()
    return True


def _weights(item: AttemptItem) -> list[Decimal]:
    return [Decimal(c["weight"]) for c in item.snapshot["choices"]]


def _grade_item(item: AttemptItem, all_or_nothing: bool) -> Decimal:
    frac = grading.fraction(item.snapshot["qtype"], _weights(item), item.selected or [],
                            all_or_nothing)
    item.mark = grading.mark(Decimal(item.snapshot["points"]), frac)
    return frac


# -- finishing ----------------------------------------------------------------------------------

def submit_attempt(person: StaffMember | None, attempt: Attempt, *, now: datetime,
                   grace_s: int = DEFAULT_GRACE_S) -> Attempt:
    """Grade and close the attempt. A double submit or a second tab gets the same result; a
    submit after deadline + grace finalises the attempt at its deadline instead."""
    if person is not None and attempt.staff_id != person.id:
        raise Forbidden("This is not your attempt.")
    if attempt.state != "in_progress":
        return attempt
    if rules.is_overdue(attempt.deadline_at, now, grace_s):
        finalize_if_overdue(attempt, now=now, grace_s=grace_s)
        raise TimeUp("Time is up: your answers saved before the deadline were submitted.")
    _finish(attempt, state="submitted", at=now, actor_id=person.id if person else None, now=now)
    return attempt


def is_overdue(attempt: Attempt, *, now: datetime, grace_s: int) -> bool:
    """In progress past deadline + grace: `finalize_if_overdue` would write."""
    return attempt.state == "in_progress" and rules.is_overdue(attempt.deadline_at, now, grace_s)


def finalize_if_overdue(attempt: Attempt, *, now: datetime, grace_s: int) -> bool:
    """Once deadline + grace has passed, submit the last saved answers at the deadline."""
    if not is_overdue(attempt, now=now, grace_s=grace_s):
        return False
    _finish(attempt, state="expired", at=attempt.deadline_at, actor_id=None, now=now)
    return True


def _finish(attempt: Attempt, *, state: str, at: datetime, actor_id: int | None,
            now: datetime) -> None:
    # Compare-and-set: of two concurrent submits (or a submit and the sweep) exactly one wins.
    won = db.session.execute(
        update(Attempt).where(Attempt.id == attempt.id, Attempt.state == "in_progress")
        .values(state=state, submitted_at=at).execution_options(synchronize_session=False)
    ).rowcount == 1
    db.session.refresh(attempt)
    if not won:
        return
    quiz = attempt.quiz
    total = Decimal(0)
    # The answers as saved (autosaves update the rows directly), all items in one query.
    db.session.execute(select(AttemptItem).where(AttemptItem.attempt_id == attempt.id)
                       .execution_options(populate_existing=True)).all()
    for item in attempt.items:
        _grade_item(item, quiz.all_or_nothing)
        total += item.mark or Decimal(0)
    attempt.score = total
    attempt.percent = grading.percent(total, attempt.max_score)
    attempt.passed = attempt.percent >= quiz.pass_mark
    if quiz.mode == "practice":
        _note_answers(attempt.staff_id, [i for i in attempt.items if not i.locked],
                      practice=True, now=now)
        attempt.mistakes_collected = True
    db.session.flush()
    collect_exam_mistakes(attempt, now=now)
    record_event(actor_id, f"attempt.{state}", "attempt", attempt.id, now=now,
                 details={"score": str(total), "percent": str(attempt.percent),
                          "passed": attempt.passed, "submitted_at": at.isoformat()})
    attempt_finished.send(attempt, now=now)


def sweep(*, now: datetime, grace_s: int = DEFAULT_GRACE_S) -> int:
    """Finalise every attempt whose deadline + grace has passed (for cron)."""
    cutoff = now - timedelta(seconds=grace_s)
    overdue = db.session.scalars(select(Attempt).where(
        Attempt.state == "in_progress", Attempt.deadline_at.is_not(None),
        Attempt.deadline_at < cutoff)).all()
    return sum(finalize_if_overdue(a, now=now, grace_s=grace_s) for a in overdue)


def visibility(attempt: Attempt, *, now: datetime) -> rules.ReviewVisibility:
    quiz = attempt.quiz
    if quiz.mode == "practice":
        return rules.review_visibility("full", "immediately", None, now, attempt.finished)
    _open, close_at = window(quiz, get_override(quiz, attempt.staff_id))
    return rules.review_visibility(quiz.review_what, quiz.review_when, close_at, now,
                                   attempt.finished)



# -- the grade a quiz keeps ---------------------------------------------------------------------

FINISHED_STATES = ("submitted", "expired")


def kept_grade_among(attempts: Iterable[Attempt], method: str) -> KeptGrade | None:
    """The grade kept of one person's attempts already loaded (any order, any state), by the
    quiz's grading method (`Quiz.grading`); None before a finished attempt."""
    finished = sorted((a for a in attempts if a.state in FINISHED_STATES),
                      key=lambda a: a.number)
    return grading.kept_grade([KeptGrade(a.percent, bool(a.passed), a.id) for a in finished],
                              method)


def kept_grade(staff_id: int, quiz: Quiz, enrolment_id: int | None = None) -> KeptGrade | None:
    """The grade `quiz` keeps of a person (highest or last finished attempt, as the quiz says),
    of the attempts made for one enrolment when given; None before a finished attempt."""
    return kept_grade_among(attempts_of(staff_id, quiz, enrolment_id), quiz.grading)


def kept_grades(quiz_id: int, staff_ids: Iterable[int] | Select | None = None,
                enrolment_ids: Iterable[int] | Select | None = None) -> dict[int, KeptGrade]:
    """The grade a quiz keeps of many people in one statement: {staff id: KeptGrade}, or, with
    `enrolment_ids`, {enrolment id: KeptGrade} of the attempts made for each enrolment. Either
    filter takes ids or a SELECT of ids; without filters, everyone who finished an attempt.
    The same rule as `grading.kept_grade`, ranked in SQL: the last attempt by number, or the
    highest percent (a passed one before an equal failed one, then the earliest)."""
    key = Attempt.enrolment_id if enrolment_ids is not None else Attempt.staff_id
    last = case((Quiz.grading == "last", Attempt.number), else_=0)
    ranked = (
        select(key.label("key"), Attempt.id, Attempt.percent, Attempt.passed,
               func.row_number().over(partition_by=key, order_by=(
                   last.desc(), Attempt.percent.desc(), Attempt.passed.desc(),
                   Attempt.number)).label("rank"))
        .join(Quiz, Quiz.id == Attempt.quiz_id)
        .where(Attempt.quiz_id == quiz_id, Attempt.state.in_(FINISHED_STATES)))
    if staff_ids is not None:
        ranked = ranked.where(Attempt.staff_id.in_(staff_ids))
    if enrolment_ids is not None:
        ranked = ranked.where(Attempt.enrolment_id.in_(enrolment_ids))
    ranked = ranked.subquery()
    rows = db.session.execute(select(ranked.c.key, ranked.c.percent, ranked.c.passed,
                                     ranked.c.id).where(ranked.c.rank == 1))
    return {row.key: KeptGrade(row.percent, bool(row.passed), row.id) for row in rows}

# -- the mistakes notebook ----------------------------------------------------------------------

def exam_mistakes_due(attempt: Attempt, *, now: datetime) -> bool:
    """Whether the attempt's answers are to enter the notebook now (`collect_exam_mistakes`
    would write)."""
    return not attempt.mistakes_collected and attempt.finished and \
        visibility(attempt, now=now).answers


def collect_exam_mistakes(attempt: Attempt, *, now: datetime) -> None:
    """An exam's wrong answers enter the notebook only once its review policy lets the person
    see the answers, so the notebook never leaks an exam."""
    if not exam_mistakes_due(attempt, now=now):
        return
    _note_answers(attempt.staff_id, attempt.items, practice=False, now=now)
    attempt.mistakes_collected = True
    db.session.flush()


def _note_answer(staff_id: int, item: AttemptItem, *, practice: bool, now: datetime) -> None:
    _note_answers(staff_id, [item], practice=practice, now=now)


def _note_answers(staff_id: int, items: list[AttemptItem], *, practice: bool,
                  now: datetime) -> None:
    """Enter wrong answers in the notebook; count right practice answers towards leaving it.
    The person's entries for these questions are read in one query and written in one flush."""
    if not items:
        return
    lineages = {item.lineage_id for item in items}
    entries = {e.lineage_id: e for e in db.session.scalars(select(MistakeEntry).where(
        MistakeEntry.staff_id == staff_id, MistakeEntry.lineage_id.in_(lineages)))}
    for item in items:
        full = item.mark is not None and item.mark >= item.max_mark
        entry = entries.get(item.lineage_id)
        if not full:
            if entry is None:
                entries[item.lineage_id] = entry = MistakeEntry(
                    staff_id=staff_id, lineage_id=item.lineage_id, added_at=now,
                    last_wrong_at=now, streak=0, times_wrong=1)
                db.session.add(entry)
            else:
                entry.cleared_at, entry.streak, entry.last_wrong_at = None, 0, now
                entry.times_wrong += 1
        elif practice and entry is not None and entry.cleared_at is None:
            entry.streak += 1
            if entry.streak >= 2:
                entry.cleared_at = now
    db.session.flush()


def notebook(person: StaffMember) -> list[tuple[MistakeEntry, Question]]:
    rows = db.session.execute(
        select(MistakeEntry, Question)
        .join(Question, and_(Question.lineage_id == MistakeEntry.lineage_id,
                             Question.is_current.is_(True)))
        .where(MistakeEntry.staff_id == person.id, MistakeEntry.cleared_at.is_(None))
        .order_by(MistakeEntry.last_wrong_at.desc())).all()
    return [(entry, question) for entry, question in rows]


def start_mistakes_practice(person: StaffMember, *, now: datetime,
                            limit: int = 20) -> Attempt:
    """A practice quiz built from the person's notebook (练习错题)."""
    entries = [(e, q) for e, q in notebook(person) if not q.retired][:limit]
    if not entries:
        raise DomainError("Your mistakes notebook is empty.")
    quiz = db.session.scalar(select(Quiz).where(Quiz.personal_for_id == person.id))
    settings = QuizSettings(title="练习错题", mode="practice", attempts_allowed=None,
                            shuffle_questions=True, shuffle_choices=True, review_what="full")
    existing = in_progress(person.id, quiz.id) if quiz else None
    if existing is not None:
        submit_attempt(person, existing, now=now)
    quiz = save_quiz(None, quiz, settings, fixed=[(e.lineage_id, Decimal(1)) for e, _ in entries],
                     now=now, personal_for=person)
    return start_attempt(person, quiz, now=now)
