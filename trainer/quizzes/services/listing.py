"""A quiz's attempts page, read in pages: a course quiz sat by every new hire for years holds
tens of thousands of attempts, and the page once loaded them all (with their people) to show
a table of each — 2.3 s for 6,000 attempts, and growing."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import case, func, select

from trainer.accounts.models import StaffMember
from trainer.core.db import db
from trainer.core.pages import PAGE_SIZE, Page
from trainer.quizzes.models import Attempt, AttemptItem
from trainer.quizzes.services.grades import FINISHED_STATES, kept_grades


@dataclass
class LiveAttempt:
    attempt: Attempt
    person: StaffMember
    answered: int
    items: int


def live_attempts(quiz_id: int) -> list[LiveAttempt]:
    """The attempts in progress now, the latest started first, with how many of their items
    have an answer (counted in SQL, not by loading every item)."""
    counts = (select(AttemptItem.attempt_id, func.count().label("item_count"),
                     func.sum(case((func.json_array_length(AttemptItem.selected) > 0, 1),
                                   else_=0))
                     .label("answered"))
              .join(Attempt, Attempt.id == AttemptItem.attempt_id)
              .where(Attempt.quiz_id == quiz_id, Attempt.state == "in_progress")
              .group_by(AttemptItem.attempt_id).subquery())
    rows = db.session.execute(
        select(Attempt, StaffMember, counts.c.item_count, counts.c.answered)
        .join(StaffMember, StaffMember.id == Attempt.staff_id)
        .outerjoin(counts, counts.c.attempt_id == Attempt.id)
        .where(Attempt.quiz_id == quiz_id, Attempt.state == "in_progress")
        .order_by(Attempt.started_at.desc(), Attempt.id.desc()))
    return [LiveAttempt(attempt, person, int(answered or 0), int(items or 0))
            for attempt, person, items, answered in rows]


def finished_attempts(quiz_id: int, *, page: int = 1, per_page: int = PAGE_SIZE) -> Page:
    """One page of the finished attempts, the latest started first: (attempt, person, whether
    it is the attempt the quiz's grading method keeps of that person)."""
    where = (Attempt.quiz_id == quiz_id, Attempt.state.in_(FINISHED_STATES))
    total = db.session.scalar(select(func.count()).select_from(Attempt).where(*where))
    rows = db.session.execute(
        select(Attempt, StaffMember).join(StaffMember, StaffMember.id == Attempt.staff_id)
        .where(*where).order_by(Attempt.started_at.desc(), Attempt.id.desc())
        .limit(per_page).offset((page - 1) * per_page)).all()
    counted = kept_grades(quiz_id, staff_ids={person.id for _attempt, person in rows}) \
        if rows else {}
    kept_ids = {grade.attempt_id for grade in counted.values()}
    return Page([(attempt, person, attempt.id in kept_ids) for attempt, person in rows], page,
                per_page, int(total or 0))


def kept_grades_page(quiz_id: int, *, page: int = 1, per_page: int = PAGE_SIZE) -> Page:
    """One page of the people who finished an attempt, by employee number, each with the grade
    the quiz keeps: (person, KeptGrade)."""
    people = (select(Attempt.staff_id).where(Attempt.quiz_id == quiz_id,
                                              Attempt.state.in_(FINISHED_STATES))
              .distinct().subquery())
    total = db.session.scalar(select(func.count()).select_from(people))
    persons = list(db.session.scalars(
        select(StaffMember).join(people, people.c.staff_id == StaffMember.id)
        .order_by(StaffMember.employee_no, StaffMember.id)
        .limit(per_page).offset((page - 1) * per_page)))
    grades = kept_grades(quiz_id, staff_ids=[p.id for p in persons]) if persons else {}
    return Page([(p, grades[p.id]) for p in persons if p.id in grades], page, per_page,
                int(total or 0))

