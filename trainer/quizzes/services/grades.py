"""The grade a quiz keeps of a person: the highest or the last finished attempt, as the quiz
says (`Quiz.grading`), for one person or, in one statement, for many."""
from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import case, func, select
from sqlalchemy.sql import Select

from trainer.core.db import db
from trainer.quizzes import grading
from trainer.quizzes.grading import KeptGrade
from trainer.quizzes.models import Attempt, Quiz
from trainer.quizzes.services.attempts import attempts_of


FINISHED_STATES = ("submitted", "expired")
# The kept attempt ranks first: the last by number, or the highest percent (a passed one before
# an equal failed one, then the earliest), as `grading.kept_grade` decides.
_KEPT_FIRST = (case((Quiz.grading == "last", Attempt.number), else_=0).desc(),
               Attempt.percent.desc(), Attempt.passed.desc(), Attempt.number)


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
    ranked = (
        select(key.label("key"), Attempt.id, Attempt.percent, Attempt.passed,
               func.row_number().over(partition_by=key, order_by=_KEPT_FIRST).label("rank"))
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


def kept_attempts(quiz_ids: Iterable[int] | Select) -> Select:
    """A SELECT of (quiz_id, id) of the attempt each quiz keeps of each person who finished
    one, for the quizzes given (ids or a SELECT of ids): the rule of `kept_grades`, for many
    quizzes in one statement, to join or filter by (item statistics read their items)."""
    ranked = (
        select(Attempt.quiz_id, Attempt.id,
               func.row_number().over(partition_by=(Attempt.quiz_id, Attempt.staff_id),
                                      order_by=_KEPT_FIRST).label("rank"))
        .join(Quiz, Quiz.id == Attempt.quiz_id)
        .where(Attempt.quiz_id.in_(quiz_ids), Attempt.state.in_(FINISHED_STATES))
        .subquery())
    return select(ranked.c.quiz_id, ranked.c.id).where(ranked.c.rank == 1)
