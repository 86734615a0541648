"""Quiz results for HR and trainers: every quiz's figures, and one quiz's by department, read
from the quizzes' tables in a few set-based statements (never a loop over people).

Definitions (issue 17): the results of a quiz are its finished exam-mode attempts (a personal
practice quiz, 错题本, has none); each person's *kept grade* is the one the quiz's grading
method keeps — the last finished attempt, or the highest (a passed one before an equal failed
one, then the earliest) — ranked here in SQL exactly as quizzes' `kept_grade_among` picks it in
Python (the tests hold them equal for both methods). *Pass rate* = share of the people whose
kept grade passed; *mean* and *median* are of the kept grades; the *distribution* counts people
by kept grade in ten bands. A date range keeps the attempts finished within it (local dates of
the centre, both ends included), and the kept grade is taken among those; a department filter
keeps the people now in it."""
from __future__ import annotations

import dataclasses
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.sql import Select, Subquery

from trainer.accounts.models import Department, StaffMember
from trainer.core.db import db
from trainer.core.pages import PAGE_SIZE, Page
from trainer.core.timeutil import local_midnight_utc
from trainer.learning.models import Course, Track
from trainer.quizzes import services as quizzes
from trainer.quizzes.models import Attempt, Quiz
from trainer.records import rules


@dataclass(frozen=True)
class ResultsFilter:
    """What HR narrowed the results to (local dates, both included; a department id)."""

    start: date | None = None
    end: date | None = None
    department_id: int | None = None

    def as_details(self) -> dict[str, Any]:
        """The filter as an audit event's details record it."""
        return {"from": self.start.isoformat() if self.start else None,
                "to": self.end.isoformat() if self.end else None,
                "department": self.department_id}


# -- the statements ------------------------------------------------------------------------------

def _results_quizzes() -> Any:
    """The quizzes that have results: exam mode, not a person's own practice."""
    return and_(Quiz.mode == "exam", Quiz.personal_for_id.is_(None))


def _finished(flt: ResultsFilter, tz: str, *, quiz_id: int | None = None,
              quiz_ids: Select | None = None) -> Subquery:
    """The finished attempts in scope, with the quiz's grading method and the person's
    department."""
    query = (select(Attempt.id, Attempt.quiz_id, Attempt.staff_id, Attempt.number,
                    Attempt.percent, Attempt.passed, Attempt.submitted_at, Quiz.grading,
                    StaffMember.department_id)
             .join(Quiz, Quiz.id == Attempt.quiz_id)
             .join(StaffMember, StaffMember.id == Attempt.staff_id)
             .where(Attempt.state.in_(quizzes.FINISHED_STATES), _results_quizzes()))
    if quiz_id is not None:
        query = query.where(Attempt.quiz_id == quiz_id)
    if quiz_ids is not None:
        query = query.where(Attempt.quiz_id.in_(quiz_ids))
    if flt.start is not None:
        query = query.where(Attempt.submitted_at >= local_midnight_utc(flt.start, tz))
    if flt.end is not None:
        query = query.where(Attempt.submitted_at <
                            local_midnight_utc(flt.end + timedelta(days=1), tz))
    if flt.department_id is not None:
        query = query.where(StaffMember.department_id == flt.department_id)
    return query.subquery("finished")


def kept(flt: ResultsFilter, tz: str, *, quiz_id: int | None = None,
         quiz_ids: Select | None = None) -> Subquery:
    """One row per (quiz, person) with finished attempts in scope: the kept grade (attempt id,
    percent, passed), how many attempts were finished, the last finished at, the department.

    The ranking is quizzes' rule: with the "last" method the highest number first, else the
    highest percent, a passed attempt before an equal failed one, then the earliest."""
    f = _finished(flt, tz, quiz_id=quiz_id, quiz_ids=quiz_ids)
    person = (f.c.quiz_id, f.c.staff_id)
    last_first = case((f.c.grading == "last", f.c.number), else_=0)
    ranked = select(
        f.c.quiz_id, f.c.staff_id, f.c.department_id, f.c.id.label("attempt_id"),
        f.c.percent, f.c.passed,
        func.row_number().over(partition_by=person, order_by=(
            last_first.desc(), f.c.percent.desc(), f.c.passed.desc(), f.c.number)
        ).label("rank"),
        func.count().over(partition_by=person).label("attempts"),
        func.max(f.c.submitted_at).over(partition_by=person).label("last_finished"),
    ).subquery("ranked")
    return select(ranked.c.quiz_id, ranked.c.staff_id, ranked.c.department_id,
                  ranked.c.attempt_id, ranked.c.percent, ranked.c.passed, ranked.c.attempts,
                  ranked.c.last_finished).where(ranked.c.rank == 1).subquery("kept")


def _passes(k: Subquery):
    return func.sum(case((k.c.passed.is_(True), 1), else_=0))


def band_case(percent):
    """The SQL of rules.score_band: 0..9 by tens of percent, 100 % in the last band."""
    return case(*((percent >= 10 * band, band) for band in range(rules.BANDS - 1, 0, -1)),
                else_=0)


# -- every quiz ----------------------------------------------------------------------------------

@dataclass
class QuizFigures:
    quiz_id: int
    title: str
    grading: str
    course: str | None
    track: str | None
    people: int
    attempts: int
    passed: int
    mean: Decimal | None
    last_finished: datetime | None

    @property
    def pass_rate(self) -> Decimal | None:
        return rules.rate(self.passed, self.people)


    def stored(self) -> dict[str, Any]:
        """As `records.cache` stores it (JSON)."""
        values = dataclasses.asdict(self)
        values["mean"] = None if self.mean is None else str(self.mean)
        values["last_finished"] = (None if self.last_finished is None
                                   else self.last_finished.isoformat())
        return values

    @classmethod
    def from_stored(cls, values: dict[str, Any]) -> QuizFigures:
        values = dict(values)
        values["mean"] = None if values["mean"] is None else Decimal(values["mean"])
        if values["last_finished"] is not None:
            values["last_finished"] = datetime.fromisoformat(values["last_finished"])
        return cls(**values)


def reads_every_quiz(viewer: StaffMember | None) -> bool:
    return viewer is None or viewer.has_role("admin") or viewer.has_role("hr")


def readable_quiz_ids(viewer: StaffMember | None) -> Select | None:
    """The quizzes whose results the viewer reads (None: every quiz, for HR and
    administrators, and for the stored list); a trainer's, as quizzes' `may_manage` decides:
    their own and the system's (course quizzes)."""
    if reads_every_quiz(viewer):
        return None
    return select(Quiz.id).where(Quiz.personal_for_id.is_(None),
                                 or_(Quiz.owner_id.is_(None), Quiz.owner_id == viewer.id))


def _quiz_rows(flt: ResultsFilter, tz: str, viewer: StaffMember | None) -> Select:
    k = kept(flt, tz, quiz_ids=readable_quiz_ids(viewer))
    figures = select(k.c.quiz_id, func.count().label("people"),
                     func.sum(k.c.attempts).label("attempts"), _passes(k).label("passed"),
                     func.sum(k.c.percent).label("total"),
                     func.max(k.c.last_finished).label("last_finished")
                     ).group_by(k.c.quiz_id).subquery("figures")
    first_course = select(Course.quiz_id, func.min(Course.id).label("course_id")).where(
        Course.quiz_id.is_not(None)).group_by(Course.quiz_id).subquery("first_course")
    return (select(figures, Quiz.title, Quiz.grading, Course.title.label("course"),
                   Track.title.label("track"))
            .join(Quiz, Quiz.id == figures.c.quiz_id)
            .outerjoin(first_course, first_course.c.quiz_id == Quiz.id)
            .outerjoin(Course, Course.id == first_course.c.course_id)
            .outerjoin(Track, Track.id == Course.track_id)
            .order_by(figures.c.last_finished.desc(), Quiz.id.desc()))


def _quiz_figures(row) -> QuizFigures:
    return QuizFigures(row.quiz_id, row.title, row.grading, row.course, row.track,
                       int(row.people), int(row.attempts), int(row.passed),
                       rules.mean(row.total, int(row.people)), row.last_finished)


def quiz_list(flt: ResultsFilter, tz: str, viewer: StaffMember, *, page: int = 1,
              per_page: int = PAGE_SIZE) -> Page:
    """One page of the quizzes with results, the most recently sat first."""
    query = _quiz_rows(flt, tz, viewer)
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    rows = db.session.execute(query.limit(per_page).offset((page - 1) * per_page))
    return Page([_quiz_figures(row) for row in rows], page, per_page, int(total or 0))


def stored_quiz_list(stored: list[QuizFigures], viewer: StaffMember, *, page: int = 1,
                     per_page: int = PAGE_SIZE) -> Page:
    """One page of the stored list (every quiz's figures over all time, records.cache), cut to
    the quizzes the viewer reads; the same order as the live list."""
    if not reads_every_quiz(viewer):
        readable = set(db.session.scalars(readable_quiz_ids(viewer)))
        stored = [q for q in stored if q.quiz_id in readable]
    return Page(stored[(page - 1) * per_page:page * per_page], page, per_page, len(stored))


def quiz_page(flt: ResultsFilter, tz: str, viewer: StaffMember, *, now: datetime,
              page: int = 1) -> tuple[Page, datetime | None]:
    """(one page of the quiz list, as of when it was stored or None when live): the stored
    list (records.cache) without a filter while it is fresh, else computed now."""
    from trainer.records import cache

    stored = cache.fresh_results(now) if flt == ResultsFilter() else None
    if stored is not None:
        stored_at, every_quiz = stored
        return stored_quiz_list(every_quiz, viewer, page=page), stored_at
    return quiz_list(flt, tz, viewer, page=page), None


def iter_quiz_list(flt: ResultsFilter, tz: str, viewer: StaffMember | None):
    """Every quiz's figures, for an export (rows as they come)."""
    for row in db.session.execute(_quiz_rows(flt, tz, viewer)):
        yield _quiz_figures(row)


# -- one quiz ------------------------------------------------------------------------------------

@dataclass
class GroupFigures:
    """One department's figures (department_id None: no department; `total`: everyone)."""

    department_id: int | None
    name: str
    people: int
    attempts: int
    passed: int
    mean: Decimal | None
    median: Decimal | None = None

    @property
    def pass_rate(self) -> Decimal | None:
        return rules.rate(self.passed, self.people)


@dataclass
class PersonLine:
    staff_id: int
    employee_no: str
    name: str
    department: str | None
    percent: Decimal
    passed: bool
    attempts: int
    last_finished: datetime
    kept_attempt_id: int
    finished: list = field(default_factory=list)    # (attempt id, number, percent, passed)


@dataclass
class QuizResults:
    quiz: Quiz
    departments: list[GroupFigures]
    total: GroupFigures
    bands: list[int]                 # people per band, rules.BANDS of them


def _medians(k: Subquery, by_department: bool) -> dict[int | None, Decimal | None]:
    """The median kept grade per department (or of everyone, under the key None): the middle
    row or two of each ordered group, summed in SQL, halved here."""
    partition = {"partition_by": k.c.department_id} if by_department else {}
    ordered = select(k.c.department_id, k.c.percent,
                     func.row_number().over(order_by=k.c.percent, **partition).label("pos"),
                     func.count().over(**partition).label("n")).subquery("ordered")
    middle = or_(ordered.c.pos == (ordered.c.n + 1) // 2,
                 ordered.c.pos == (ordered.c.n + 2) // 2)
    if by_department:
        query = select(ordered.c.department_id, func.sum(ordered.c.percent), func.count()
                       ).where(middle).group_by(ordered.c.department_id)
        return {dept: rules.mean(total, count)
                for dept, total, count in db.session.execute(query)}
    total, count = db.session.execute(select(func.sum(ordered.c.percent), func.count())
                                      .where(middle)).one()
    return {None: rules.mean(total, count)}


def quiz_results(quiz: Quiz, flt: ResultsFilter, tz: str) -> QuizResults:
    """A quiz's figures by department and in all, and its distribution of kept grades: one
    aggregate statement per family (counts and sums, medians by department, the median in all,
    bands)."""
    k = kept(flt, tz, quiz_id=quiz.id)
    rows = db.session.execute(
        select(k.c.department_id, Department.name, func.count(), func.sum(k.c.attempts),
               _passes(k), func.sum(k.c.percent))
        .outerjoin(Department, Department.id == k.c.department_id)
        .group_by(k.c.department_id, Department.name, Department.sort_order)
        .order_by(Department.sort_order, Department.name)).all()
    medians = _medians(k, by_department=True)
    departments = [GroupFigures(dept, name or "", int(people), int(attempts), int(passed),
                                rules.mean(total, int(people)), medians.get(dept))
                   for dept, name, people, attempts, passed, total in rows]
    people = sum(d.people for d in departments)
    total_sum = sum((Decimal(str(t)) for *_rest, t in rows if t is not None), Decimal(0))
    total = GroupFigures(None, "", people, sum(d.attempts for d in departments),
                         sum(d.passed for d in departments), rules.mean(total_sum, people),
                         _medians(k, by_department=False).get(None) if people else None)
    bands = [0] * rules.BANDS
    # (Banded in a subquery: PostgreSQL groups by a column, not by a CASE whose literals are
    # bound as parameters anew in the GROUP BY.)
    banded = select(band_case(k.c.percent).label("band")).subquery("banded")
    for number, count in db.session.execute(
            select(banded.c.band, func.count()).group_by(banded.c.band)):
        bands[int(number)] = int(count)
    return QuizResults(quiz, departments, total, bands)


def _people_query(quiz: Quiz, flt: ResultsFilter, tz: str) -> Select:
    k = kept(flt, tz, quiz_id=quiz.id)
    return (select(k, StaffMember.employee_no, StaffMember.name,
                   Department.name.label("department"))
            .join(StaffMember, StaffMember.id == k.c.staff_id)
            .outerjoin(Department, Department.id == k.c.department_id)
            .order_by(Department.sort_order, Department.name, StaffMember.employee_no))


def _person(row) -> PersonLine:
    return PersonLine(row.staff_id, row.employee_no, row.name, row.department,
                      Decimal(str(row.percent)).quantize(rules.CENT), bool(row.passed),
                      int(row.attempts), row.last_finished, row.attempt_id)


def people(quiz: Quiz, flt: ResultsFilter, tz: str, *, page: int = 1,
           per_page: int = PAGE_SIZE) -> Page:
    """One page of the people who sat the quiz (by department, then employee number), each
    with their finished attempts in scope (one more statement for the page's people)."""
    query = _people_query(quiz, flt, tz)
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    lines = [_person(row) for row in db.session.execute(
        query.limit(per_page).offset((page - 1) * per_page))]
    if lines:
        f = _finished(flt, tz, quiz_id=quiz.id)
        by_person: dict[int, list] = defaultdict(list)
        for row in db.session.execute(
                select(f.c.id, f.c.staff_id, f.c.number, f.c.percent, f.c.passed)
                .where(f.c.staff_id.in_([line.staff_id for line in lines]))
                .order_by(f.c.number)):
            by_person[row.staff_id].append((row.id, row.number,
                                            Decimal(str(row.percent)).quantize(rules.CENT),
                                            bool(row.passed)))
        for line in lines:
            line.finished = by_person[line.staff_id]
    return Page(lines, page, per_page, int(total or 0))


def iter_people(quiz: Quiz, flt: ResultsFilter, tz: str):
    """Every person's line, for an export (rows as they come)."""
    for row in db.session.execute(_people_query(quiz, flt, tz)):
        yield _person(row)
