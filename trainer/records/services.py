"""One person's training record (培训档案), put together from what the other areas hold.

Records reads: accounts (identity, working-life events), learning (enrolments, their progress,
lesson reads, the 学时 ledger), quizzes (attempts and the grade each quiz keeps, by the quizzes'
own helper), attendance (each class's grid: status and minutes by attendance's own rules) and
certificates (their status by the certificates' own rule). It writes nothing of theirs: only the
audit event of an export. A page costs a handful of statements plus three or four per class the
person attended (attendance's grid), never one per row.

Who sees what: the person their own, HR and administrators everyone's, whole; a trainer only
what concerns their own classes and quizzes (identity, those classes' sessions without leave
reasons, those quizzes' attempts: no working-life events, no enrolments, no certificates), and
only of people on a roster of their classes or who attempted their quizzes."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from trainer.accounts.models import StaffMember
from trainer.accounts.rules import effective_events
from trainer.attendance import services as attendance
from trainer.attendance.models import (
    AttendanceMark,
    ClassCompletion,
    ClassSession,
    ClassTrainer,
    RosterEntry,
    TrainingClass,
)
from trainer.certificates import services as certificates
from trainer.certificates.models import Certificate, ExternalCertificate
from trainer.core.audit import record_event
from trainer.core.db import db
from trainer.core.errors import NotFound
from trainer.core.settings import centre_timezone
from trainer.core.timeutil import local_date
from trainer.learning import services as learning
from trainer.learning.models import Enrolment, HoursEntry, LessonRead, LessonRevision, Track
from trainer.quizzes import services as quizzes
from trainer.quizzes.grading import KeptGrade
from trainer.quizzes.models import Attempt, Quiz
from trainer.records import rules
from trainer.records import settings as record_settings

FULL, TRAINER = "full", "trainer"
MANAGERS = ("hr", "admin")
EXPORT_FORMATS = ("pdf", "xlsx")
LIST_FORMATS = ("csv", "xlsx")


# -- who may read whose record ---------------------------------------------------------------------

def _trainer_knows(trainer_id: int, person_id: int) -> bool:
    """Whether the person is on a roster of (or checked in to) a class this trainer teaches, or
    attempted a quiz this trainer owns."""
    taught = select(ClassTrainer.class_id).where(ClassTrainer.staff_id == trainer_id)
    on_roster = select(RosterEntry.class_id).where(
        RosterEntry.staff_id == person_id, RosterEntry.class_id.in_(taught)).exists()
    marked = select(AttendanceMark.id).join(
        ClassSession, ClassSession.id == AttendanceMark.session_id).where(
        AttendanceMark.staff_id == person_id, ClassSession.class_id.in_(taught)).exists()
    examined = select(Attempt.id).join(Quiz, Quiz.id == Attempt.quiz_id).where(
        Attempt.staff_id == person_id, Quiz.owner_id == trainer_id).exists()
    return bool(db.session.scalar(select(or_(on_roster, marked, examined))))


def scope_for(viewer: StaffMember, person: StaffMember) -> str:
    """FULL or TRAINER; NotFound when the viewer may not read this person's record (as if it
    did not exist: a trainer learns nothing of people outside their classes)."""
    if viewer.id == person.id or viewer.role_names & set(MANAGERS):
        return FULL
    if "trainer" in viewer.role_names and _trainer_knows(viewer.id, person.id):
        return TRAINER
    raise NotFound("No such training record.")


def get_person(staff_id: int) -> StaffMember:
    person = db.session.get(StaffMember, staff_id)
    if person is None:
        raise NotFound("No such training record.")
    return person


# -- the record ------------------------------------------------------------------------------------

@dataclass
class LessonLine:
    title: str
    read_revision: int | None     # the revision last read (None: not read)
    current_revision: int
    read_at: datetime | None
    new_since_away: bool = False

    @property
    def read_current(self) -> bool:
        return self.read_revision is not None and self.read_revision >= self.current_revision


@dataclass
class QuizLine:
    quiz: Quiz
    attempts: list[Attempt]            # oldest first
    kept: KeptGrade | None             # under the quiz's grading method (quizzes' helper)

    @property
    def finished(self) -> list[Attempt]:
        return [a for a in self.attempts if a.state in quizzes.FINISHED_STATES]


@dataclass
class CourseLine:
    title: str
    lessons: list[LessonLine]
    quiz: QuizLine | None
    complete: bool
    completed_at: datetime | None


@dataclass
class EnrolmentLine:
    enrolment: Enrolment
    track: Track
    courses: list[CourseLine]
    percent: int


@dataclass
class SessionLine:
    session: ClassSession
    status: str
    flags: list[str]
    minutes: int
    leave_state: str | None
    leave_reason: str | None            # None when the viewer may not read it


@dataclass
class ClassLine:
    cls: TrainingClass
    roster_state: str | None
    sessions: list[SessionLine]
    credited_minutes: int               # the ledger's entry (closed sessions only)
    hours: Decimal                      # that entry in 学时
    completed_at: datetime | None

    @property
    def minutes(self) -> int:
        return sum(s.minutes for s in self.sessions)


@dataclass
class HoursLine:
    category: str
    source_kind: str
    minutes: int
    hours: Decimal
    counted: bool


@dataclass
class YearHours:
    year: int
    lines: list[HoursLine]
    counted_minutes: int
    beside_minutes: int
    standing: rules.HoursStanding
    beside_hours: Decimal


@dataclass
class Record:
    person: StaffMember
    scope: str
    now: datetime
    today: date
    events: list = field(default_factory=list)
    voided_ids: set[int] = field(default_factory=set)
    enrolments: list[EnrolmentLine] = field(default_factory=list)
    quizzes: list[QuizLine] = field(default_factory=list)
    classes: list[ClassLine] = field(default_factory=list)
    certificates: list[tuple[Certificate, str]] = field(default_factory=list)
    externals: list[ExternalCertificate] = field(default_factory=list)
    years: list[YearHours] = field(default_factory=list)
    exams: list = field(default_factory=list)   # (ExamSitting, ExamSchedule), newest first
    exam_chart: str | None = None               # their monthly scores as lines (SVG)

    @property
    def full(self) -> bool:
        return self.scope == FULL

    @property
    def this_year(self) -> YearHours | None:
        return next((y for y in self.years if y.year == self.today.year), None)


def build_record(person: StaffMember, viewer: StaffMember, *, now: datetime) -> Record:
    """The record of `person` as `viewer` may read it (scope_for decides; NotFound otherwise)."""
    scope = scope_for(viewer, person)
    record = Record(person, scope, now, local_date(now, centre_timezone()))
    if scope == FULL:
        record.events = list(person.events)
        record.voided_ids = {e.voids_event_id for e in record.events if e.kind == "void"}
        record.enrolments = _enrolments(person.id)
        record.quizzes = _quizzes(person.id, standalone_only=True)
        record.classes = _classes(person.id, now=now, leave_reasons=True)
        record.certificates = [(c, certificates.status_of(c, now)) for c in db.session.scalars(
            select(Certificate).where(Certificate.staff_id == person.id)
            .order_by(Certificate.issued_at))]
        record.externals = list(db.session.scalars(select(ExternalCertificate).where(
            ExternalCertificate.staff_id == person.id).order_by(ExternalCertificate.started_on)))
        record.years = _hours(person, record.today)
        from trainer.records.exam_trend import person_chart, person_scores

        record.exams = person_scores(person.id)
        record.exam_chart = person_chart(record.exams)
    else:
        record.quizzes = _quizzes(person.id, owner_id=viewer.id)
        record.classes = _classes(person.id, now=now, leave_reasons=False, trainer_id=viewer.id)
    return record


def _enrolments(staff_id: int) -> list[EnrolmentLine]:
    enrolments = list(db.session.scalars(select(Enrolment).options(
        selectinload(Enrolment.track)).where(Enrolment.staff_id == staff_id)
        .order_by(Enrolment.assigned_at, Enrolment.id)))
    progress = learning.progress_many(enrolments)
    lesson_ids = {s.lesson.id for p in progress.values() for c in p.courses for s in c.lessons}
    reads: dict[int, tuple[int, datetime]] = {}
    current: dict[int, int] = {}
    if lesson_ids:
        for lesson_id, number, read_at in db.session.execute(
                select(LessonRead.lesson_id, LessonRevision.number, LessonRead.read_at)
                .join(LessonRevision, LessonRevision.id == LessonRead.revision_id)
                .where(LessonRead.staff_id == staff_id, LessonRead.lesson_id.in_(lesson_ids))
                .order_by(LessonRead.read_at, LessonRead.id)):
            reads[lesson_id] = (number, read_at)     # the last read wins
        current = dict(db.session.execute(
            select(LessonRevision.lesson_id, func.max(LessonRevision.number))
            .where(LessonRevision.lesson_id.in_(lesson_ids))
            .group_by(LessonRevision.lesson_id)).all())
    lines = []
    for enrolment in enrolments:
        own = progress[enrolment.id]
        courses = []
        for course in own.courses:
            lessons = []
            for status in course.lessons:
                number, read_at = reads.get(status.lesson.id, (None, None))
                lessons.append(LessonLine(status.lesson.title, number if status.read else None,
                                          current.get(status.lesson.id, 1),
                                          read_at if status.read else None,
                                          status.new_since_away))
            state = course.quiz_state
            quiz = None
            if state is not None:
                quiz = QuizLine(state.quiz, state.attempts,
                                quizzes.kept_grade_among(state.attempts, state.quiz.grading))
            courses.append(CourseLine(course.course.title, lessons, quiz, course.complete,
                                      course.completed_at))
        lines.append(EnrolmentLine(enrolment, enrolment.track, courses, own.percent))
    return lines


def _quizzes(staff_id: int, *, standalone_only: bool = False,
             owner_id: int | None = None) -> list[QuizLine]:
    """Attempts grouped by quiz (and by enrolment: a course quiz keeps a grade per enrolment),
    each group's kept grade by the quizzes' own helper. The full record lists here the exam
    quizzes taken outside any training track (the course quizzes are under their courses); a
    trainer's view, the attempts at the quizzes they own."""
    # (A quiz's draw rules and fixed questions load with it by default: a record needs neither,
    # and they were two statements more for every record.)
    query = select(Attempt).join(Quiz, Quiz.id == Attempt.quiz_id).options(
        selectinload(Attempt.quiz).lazyload(Quiz.rules),
        selectinload(Attempt.quiz).lazyload(Quiz.fixed)).where(Attempt.staff_id == staff_id)
    if standalone_only:
        query = query.where(Attempt.enrolment_id.is_(None), Quiz.mode == "exam")
    if owner_id is not None:
        query = query.where(Quiz.owner_id == owner_id)
    groups: dict[tuple[int, int | None], list[Attempt]] = defaultdict(list)
    for attempt in db.session.scalars(query.order_by(Attempt.started_at, Attempt.number)):
        groups[(attempt.quiz_id, attempt.enrolment_id)].append(attempt)
    return [QuizLine(attempts[0].quiz, attempts,
                     quizzes.kept_grade_among(attempts, attempts[0].quiz.grading))
            for attempts in groups.values()]


def _classes(staff_id: int, *, now: datetime, leave_reasons: bool,
             trainer_id: int | None = None) -> list[ClassLine]:
    roster = {r.class_id: r.state for r in db.session.scalars(select(RosterEntry).where(
        RosterEntry.staff_id == staff_id))}
    marked = set(db.session.scalars(select(ClassSession.class_id).join(
        AttendanceMark, AttendanceMark.session_id == ClassSession.id).where(
        AttendanceMark.staff_id == staff_id).distinct()))
    ids = set(roster) | marked
    if not ids:
        return []
    query = select(TrainingClass).options(selectinload(TrainingClass.sessions)).where(
        TrainingClass.id.in_(ids))
    if trainer_id is not None:
        query = query.where(TrainingClass.id.in_(select(ClassTrainer.class_id).where(
            ClassTrainer.staff_id == trainer_id)))
    classes = list(db.session.scalars(query))
    credited = dict(db.session.execute(select(
        HoursEntry.source_id, HoursEntry.minutes).where(
        HoursEntry.staff_id == staff_id, HoursEntry.source_kind == "class",
        HoursEntry.source_id.in_([c.id for c in classes]))).all()) if classes else {}
    completions = dict(db.session.execute(select(
        ClassCompletion.class_id, ClassCompletion.completed_at).where(
        ClassCompletion.staff_id == staff_id)).all())
    per_hour = learning.minutes_per_hour()
    lines = []
    for cls in classes:
        cells = attendance.grid(cls, now=now, staff_ids=[staff_id])
        sessions = []
        for session in attendance.live_sessions(cls):
            cell = cells.get((session.id, staff_id))
            if cell is None:
                continue
            leave = cell.leave
            sessions.append(SessionLine(
                session, cell.attendance.status, sorted(cell.flags), cell.attendance.minutes,
                leave.state if leave else None,
                leave.reason if leave and leave_reasons else None))
        minutes = int(credited.get(cls.id, 0))
        lines.append(ClassLine(cls, roster.get(cls.id), sessions, minutes,
                               learning.to_hours(minutes, per_hour),
                               completions.get(cls.id)))
    lines.sort(key=lambda line: (line.sessions[0].session.starts_at if line.sessions
                                 else line.cls.created_at))
    return lines


def _hours(person: StaffMember, today: date) -> list[YearHours]:
    per_hour = learning.minutes_per_hour()
    sources = record_settings.counted_sources()
    categories = record_settings.counted_categories()
    minimum, maximum = record_settings.annual_minimum(), record_settings.annual_maximum()
    periods = rules.active_periods(
        [(e.kind, e.occurred_on) for e in effective_events(person.events)], person.hire_date)
    by_year: dict[int, list[HoursLine]] = defaultdict(list)
    for line in learning.hours_of(person.id):
        by_year[line.year].append(HoursLine(
            line.category, line.source_kind, line.minutes, line.hours,
            rules.counts(line.source_kind, line.category, sources, categories)))
    by_year.setdefault(today.year, [])
    years = []
    for year in sorted(by_year, reverse=True):
        lines = sorted(by_year[year], key=lambda h: (not h.counted, h.source_kind, h.category))
        counted = sum(h.minutes for h in lines if h.counted)
        beside = sum(h.minutes for h in lines if not h.counted)
        standing = rules.HoursStanding(learning.to_hours(counted, per_hour),
                                       rules.minimum_to_date(minimum, year, today, periods),
                                       minimum, maximum)
        years.append(YearHours(year, lines, counted, beside, standing,
                               learning.to_hours(beside, per_hour)))
    return years


# -- exports ---------------------------------------------------------------------------------------

def record_export(viewer: StaffMember, person: StaffMember, fmt: str, scope: str, *,
                  now: datetime) -> None:
    """An export of a record is itself an event: who took whose record, in what form. Flushes;
    the caller commits."""
    if fmt not in EXPORT_FORMATS:
        raise ValueError(fmt)
    record_event(viewer.id, "record.exported", "staff", person.id, now=now,
                 details={"format": fmt, "scope": scope})
    db.session.flush()


def record_results_export(viewer: StaffMember, quiz_id: int | None, fmt: str,
                          flt: dict[str, Any], *, now: datetime) -> None:
    """An export of quiz results (one quiz's people, or every quiz's figures) is an event:
    who took which results, in what form, narrowed how. Flushes; the caller commits."""
    if fmt not in LIST_FORMATS:
        raise ValueError(fmt)
    record_event(viewer.id, "results.exported", "quiz", quiz_id, now=now,
                 details={"format": fmt, "filter": flt})
    db.session.flush()


def record_audit_export(viewer: StaffMember, fmt: str, flt: dict[str, Any], *,
                        now: datetime) -> None:
    """An export of the audit log is itself in the log. Flushes; the caller commits."""
    if fmt not in LIST_FORMATS:
        raise ValueError(fmt)
    record_event(viewer.id, "audit.exported", "audit", None, now=now,
                 details={"format": fmt, "filter": flt})
    db.session.flush()
