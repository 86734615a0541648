"""Taking an attempt: starting it (the draw, the snapshots, one attempt in progress per person
and quiz), what the pages read, and saving answers (exam day's one statement per save, and
sequential navigation)."""
from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Text, bindparam, cast, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import joinedload, lazyload, selectinload

from trainer.accounts.models import Login, StaffMember, login_key_hash
from trainer.banks.models import Choice, Question
from trainer.core.audit import record_event
from trainer.core.db import bulk_insert, db
from trainer.core.errors import N_, DomainError, Forbidden, NotFound
from trainer.quizzes import draw as drawing
from trainer.quizzes import rules
from trainer.quizzes.models import (
    IN_PROGRESS,
    ONE_IN_PROGRESS,
    Attempt,
    AttemptItem,
    Quiz,
    QuizOverride,
)
from trainer.quizzes.services.definitions import (
    DEFAULT_GRACE_S,
    candidates_for_rules,
    get_override,
    is_assigned,
    window,
)
from trainer.quizzes.services.errors import (
    MOVED_ON,
    AttemptClosed,
    QuestionClosed,
    StaleAnswer,
    TimeUp,
)
from trainer.quizzes.services.finishing import finalize_if_overdue

MAX_CHOICE_INDEX = 20


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
             for r, candidates in zip(quiz.rules, candidates_for_rules(quiz.rules))]
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
