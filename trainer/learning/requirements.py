"""Course requirements as data, and the kinds that evaluate them.

A course asks for its lessons read and its quiz passed; higher areas add kinds of their own (a
class attended, a practical assessment passed) by registering them here, so learning never
imports them. Each kind evaluates every requirement of its kind at once, for any number of
enrolments, in a constant number of queries: a track's progress costs one query per kind,
whatever the number of courses, lessons and people."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, tuple_

from trainer.core.db import db
from trainer.learning.models import Lesson, LessonRead, LessonRevision
from trainer.quizzes import services as quiz_services
from trainer.quizzes.models import Attempt, Quiz


@dataclass(frozen=True)
class Requirement:
    """One requirement of one enrolment (an EnrolmentRequirement row, as plain values)."""

    id: int
    enrolment_id: int
    staff_id: int
    assigned_at: datetime
    course_id: int
    kind: str
    ref_id: int | None
    params: dict[str, Any]
    position: int = 0


@dataclass
class Status:
    done: bool
    steps: int = 1
    steps_done: int = 0
    detail: Any = None          # what the kind's pages show (lessons read, the kept grade …)
    label: str = ""             # a short description for generic listings
    url: str | None = None      # where the learner acts on it
    failures: int = 0           # tries that failed (a practical assessment not passed)


class Kind(Protocol):
    key: str
    label: Any   # a lazy gettext string: what the learner is asked to do

    def evaluate(self, requirements: list[Requirement]) -> dict[int, Status]:
        """Status by requirement id, for every requirement given (all of this kind)."""


KINDS: dict[str, Kind] = {}


def register(kind: Kind) -> None:
    KINDS[kind.key] = kind


def label_of(kind: str) -> Any:
    registered = KINDS.get(kind)
    return registered.label if registered is not None else kind


def evaluate(requirements: Iterable[Requirement]) -> dict[int, Status]:
    """Every requirement's status: one evaluation (a query or two) per kind present. A kind no
    area registers any more reads as not done."""
    by_kind: dict[str, list[Requirement]] = {}
    for requirement in requirements:
        by_kind.setdefault(requirement.kind, []).append(requirement)
    statuses: dict[int, Status] = {}
    for key, items in by_kind.items():
        kind = KINDS.get(key)
        if kind is None:
            statuses.update({r.id: Status(done=False, label=key) for r in items})
        else:
            statuses.update(kind.evaluate(items))
    return statuses


# -- lessons ------------------------------------------------------------------------------------

@dataclass
class LessonState:
    lesson: Lesson
    read: bool
    revised_at: list[datetime] = field(default_factory=list)  # revisions after the first


class LessonsKind:
    """All the lessons the course had when the enrolment was assigned, read since then (a
    lesson retired since is no longer asked)."""

    key = "lessons"
    label = _l("Read the lessons")

    def evaluate(self, requirements: list[Requirement]) -> dict[int, Status]:
        lesson_ids = {i for r in requirements for i in r.params.get("lesson_ids", [])}
        staff_ids = {r.staff_id for r in requirements}
        if not lesson_ids:
            return {r.id: Status(done=True, steps=0) for r in requirements}
        lessons = {lesson.id: lesson for lesson in db.session.scalars(
            select(Lesson).where(Lesson.id.in_(lesson_ids)))}
        revised: dict[int, list[datetime]] = {}
        for lesson_id, at in db.session.execute(
                select(LessonRevision.lesson_id, LessonRevision.revised_at).where(
                    LessonRevision.lesson_id.in_(lesson_ids), LessonRevision.number > 1)):
            revised.setdefault(lesson_id, []).append(at)
        last_read = {(staff, lesson): at for staff, lesson, at in db.session.execute(
            select(LessonRead.staff_id, LessonRead.lesson_id, func.max(LessonRead.read_at))
            .where(LessonRead.staff_id.in_(staff_ids), LessonRead.lesson_id.in_(lesson_ids))
            .group_by(LessonRead.staff_id, LessonRead.lesson_id))}
        statuses = {}
        for r in requirements:
            states = []
            for lesson_id in r.params.get("lesson_ids", []):
                lesson = lessons.get(lesson_id)
                if lesson is None or lesson.retired:
                    continue
                at = last_read.get((r.staff_id, lesson_id))
                states.append(LessonState(lesson, at is not None and at >= r.assigned_at,
                                          revised.get(lesson_id, [])))
            done = sum(1 for s in states if s.read)
            statuses[r.id] = Status(done=done == len(states), steps=len(states),
                                    steps_done=done, detail=states)
        return statuses


# -- the course quiz ----------------------------------------------------------------------------

@dataclass
class QuizState:
    quiz: Quiz
    attempts: list[Attempt]            # this enrolment's attempts, oldest first
    kept_percent: Decimal | None       # under the quiz's grading method (highest or last)
    passed: bool

    @property
    def in_progress(self) -> Attempt | None:
        return next((a for a in self.attempts if a.state == "in_progress"), None)

    @property
    def finished_count(self) -> int:
        return sum(1 for a in self.attempts if a.finished)


class QuizKind:
    """The course quiz passed, for this enrolment, under the quiz's grading method: with "last
    attempt", a later failed attempt means the kept grade fails."""

    key = "quiz"
    label = _l("Pass the quiz")

    def evaluate(self, requirements: list[Requirement]) -> dict[int, Status]:
        quiz_ids = {r.ref_id for r in requirements if r.ref_id is not None}
        quizzes = {q.id: q for q in db.session.scalars(select(Quiz).where(Quiz.id.in_(quiz_ids)))}
        attempts: dict[tuple[int, int], list[Attempt]] = {}
        pairs = {(r.enrolment_id, r.ref_id) for r in requirements if r.ref_id is not None}
        if pairs:
            # The plain IN is what finds the rows by the enrolment_id index: SQLite (3.40)
            # scans the whole attempts table for a row-value IN over two or more pairs
            # (bench/records_bench.py: 15 ms of a record page at 100,000 attempts).
            for attempt in db.session.scalars(select(Attempt).where(
                    Attempt.enrolment_id.in_({e for e, _ in pairs}),
                    tuple_(Attempt.enrolment_id, Attempt.quiz_id).in_(pairs))
                    .order_by(Attempt.number)):
                attempts.setdefault((attempt.enrolment_id, attempt.quiz_id), []).append(attempt)
        statuses = {}
        for r in requirements:
            quiz = quizzes.get(r.ref_id)
            if quiz is None:  # the quiz is gone: nothing left to pass
                statuses[r.id] = Status(done=True, steps=0)
                continue
            own = attempts.get((r.enrolment_id, quiz.id), [])
            kept = quiz_services.kept_grade_among(own, quiz.grading)
            passed = kept is not None and kept.passed
            statuses[r.id] = Status(done=passed, steps=1, steps_done=1 if passed else 0,
                                    detail=QuizState(quiz, own, kept.percent if kept else None,
                                                     passed))
        return statuses


register(LessonsKind())
register(QuizKind())
