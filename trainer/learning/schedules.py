"""The monthly business exam (月度业务考试): schedules trainers keep, the daily run that creates
each month's sittings (`trainer learning schedule`, idempotent), the results as attempts finish,
missed sittings, and the follow-up after a fail. Pure rules: learning.exams.

Services flush and never commit; they take the actor and the clock as arguments."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from trainer.accounts.models import Department, Position, StaffMember
from trainer.accounts.rules import derive_status, effective_events
from trainer.core.audit import record_event
from trainer.core.db import db
from trainer.core.errors import DomainError, Forbidden
from trainer.core.settings import centre_timezone, get_setting
from trainer.core.timeutil import local_midnight_utc
from trainer.core.todos import add_todo, close_todos
from trainer.learning import exams, rules
from trainer.learning.models import FOLLOW_UPS, ExamSchedule, ExamSitting, Track
from trainer.learning.remedial import stood_down_on
from trainer.quizzes import services as quizzes
from trainer.quizzes.models import Attempt, Quiz, QuizAssignment

WRITERS = ("trainer", "admin")
REFRESHER_DAYS = 14
SITTING_TODO = "exam.sitting"


def may_write(actor: StaffMember) -> bool:
    return any(actor.has_role(r) for r in WRITERS)


@dataclass
class ScheduleFields:
    title: str
    quiz_id: int
    day_of_month: int
    window_days: int
    pass_mark: Decimal
    follow_up: str = "none"
    department_ids: list[int] = field(default_factory=list)
    position_ids: list[int] = field(default_factory=list)
    active: bool = True


def spec_of(schedule: ExamSchedule) -> exams.ScheduleSpec:
    return exams.ScheduleSpec(schedule.day_of_month, schedule.window_days,
                              frozenset(schedule.department_ids or ()),
                              frozenset(schedule.position_ids or ()))


def save_schedule(actor: StaffMember, schedule: ExamSchedule | None, fields: ScheduleFields, *,
                  now: datetime) -> ExamSchedule:
    if not may_write(actor):
        raise Forbidden("Only trainers keep exam schedules.")
    title = fields.title.strip()
    if not title or len(title) > 200:
        raise DomainError("Give the exam a title (at most 200 characters).")
    quiz = db.session.get(Quiz, fields.quiz_id)
    if quiz is None or quiz.mode != "exam" or quiz.personal_for_id is not None:
        raise DomainError("Choose an exam-mode quiz to copy each month.")
    if not 1 <= fields.day_of_month <= 31:
        raise DomainError("The day of the month is 1 to 31 (past a short month's end: its last "
                          "day).")
    if not 1 <= fields.window_days <= 28:
        raise DomainError("The window is 1 to 28 days.")
    if not Decimal(0) < fields.pass_mark <= Decimal(100):
        raise DomainError("The pass mark is above 0 and at most 100.")
    if fields.follow_up not in FOLLOW_UPS:
        raise DomainError("Choose what follows a failed sitting.")
    for model, ids in ((Department, fields.department_ids), (Position, fields.position_ids)):
        if ids and len(db.session.scalars(select(model.id).where(model.id.in_(ids))).all()) \
                != len(set(ids)):
            raise DomainError("A chosen department or position no longer exists.")
    created = schedule is None
    if schedule is None:
        schedule = ExamSchedule(created_at=now, created_by_id=actor.id, title=title,
                                quiz_id=quiz.id, day_of_month=1, window_days=1)
        db.session.add(schedule)
    schedule.title, schedule.quiz_id = title, quiz.id
    schedule.day_of_month, schedule.window_days = fields.day_of_month, fields.window_days
    schedule.pass_mark, schedule.follow_up = fields.pass_mark, fields.follow_up
    schedule.department_ids = sorted(set(fields.department_ids))
    schedule.position_ids = sorted(set(fields.position_ids))
    schedule.active, schedule.updated_at = fields.active, now
    db.session.flush()
    record_event(actor.id, "exam_schedule.created" if created else "exam_schedule.updated",
                 "exam_schedule", schedule.id, now=now, details={"title": title})
    return schedule


def person_on(person: StaffMember, day: date, facts: rules.PersonFacts,
              settings: rules.LifecycleSettings) -> exams.PersonOnDay:
    """The person as they stood on `day`: status from the events up to it, cleared by then,
    stood down that day."""
    events = [e for e in effective_events(person.events) if e.occurred_on <= day]
    status = derive_status(events) if events else person.status
    cleared = rules.cleared_on(facts, settings)
    return exams.PersonOnDay(person.id, person.department_id, person.position_id, status,
                             cleared is not None and cleared <= day,
                             stood_down_on(facts.events, day))


def _month_quiz(schedule: ExamSchedule, month: date, *, now: datetime) -> Quiz:
    """The month's copy of the schedule's quiz (its rules, time limit and review settings), open
    over the window, with one attempt (two when a failed sitting may be retaken)."""
    existing = db.session.scalar(select(ExamSitting.quiz_id).where(
        ExamSitting.schedule_id == schedule.id, ExamSitting.month == month).limit(1))
    if existing is not None:
        return db.session.get(Quiz, existing)
    template = db.session.get(Quiz, schedule.quiz_id)
    tz = centre_timezone()
    spec = spec_of(schedule)
    settings = quizzes.QuizSettings(
        title=f"{schedule.title}（{month.year}-{month.month:02d}）",
        description=template.description, mode="exam", time_limit_s=template.time_limit_s,
        open_at=local_midnight_utc(exams.sitting_day(month, spec.day_of_month), tz),
        close_at=local_midnight_utc(exams.due_on(spec, month) + timedelta(days=1), tz),
        pass_mark=schedule.pass_mark,
        attempts_allowed=2 if schedule.follow_up == "retake" else 1, grading="highest",
        shuffle_questions=template.shuffle_questions, shuffle_choices=template.shuffle_choices,
        layout=template.layout, navigation=template.navigation,
        review_what=template.review_what, review_when=template.review_when)
    specs = [quizzes.RuleSpec(bank_id=r.bank_id, count=r.count, points=r.points,
                              category_id=r.category_id, tag=r.tag, difficulty=r.difficulty,
                              qtype=r.qtype) for r in template.rules]
    quiz = quizzes.save_quiz(None, None, settings, rule_specs=specs, now=now)
    quiz.owner_id = template.owner_id
    return quiz


@dataclass
class RunReport:
    created: int = 0
    missed: int = 0
    schedules: int = 0

    def summary(self) -> str:
        return (f"Monthly exams: {self.schedules} schedules, {self.created} sittings created, "
                f"{self.missed} closed as missed.")


def run(*, now: datetime, today: date) -> RunReport:
    """The daily run (cron): each active schedule's sittings for this month, from its sitting
    day until its window closes, for every person who sits it (exams.sits); then sittings past
    their window with no finished attempt closed as missed. Idempotent: a sitting exists once
    per (schedule, month, person)."""
    from trainer.learning.services import _facts
    from trainer.learning.settings import lifecycle_settings

    report = RunReport()
    settings = lifecycle_settings()
    people = None
    for schedule in db.session.scalars(select(ExamSchedule).where(ExamSchedule.active.is_(True))
                                       .order_by(ExamSchedule.id)):
        report.schedules += 1
        spec = spec_of(schedule)
        month = exams.month_to_create(spec, today)
        if month is None:
            continue
        day = exams.sitting_day(month, spec.day_of_month)
        have = set(db.session.scalars(select(ExamSitting.staff_id).where(
            ExamSitting.schedule_id == schedule.id, ExamSitting.month == month)))
        if people is None:
            people = list(db.session.scalars(select(StaffMember).options(
                selectinload(StaffMember.events)).where(StaffMember.status != "left")))
        due = [p for p in people if p.id not in have and exams.sits(
            spec, person_on(p, day, _facts(p), settings))]
        if not due:
            continue
        quiz = _month_quiz(schedule, month, now=now)
        for person in due:
            sitting = ExamSitting(schedule_id=schedule.id, month=month, staff_id=person.id,
                                  quiz_id=quiz.id, sits_on=day, due_on=exams.due_on(spec, month),
                                  created_at=now)
            try:
                with db.session.begin_nested():
                    db.session.add(sitting)
                    if db.session.get(QuizAssignment, (quiz.id, person.id)) is None:
                        db.session.add(QuizAssignment(quiz_id=quiz.id, staff_id=person.id,
                                                      assigned_at=now))
            except IntegrityError:
                continue   # created meanwhile by another run
            add_todo(person.id, SITTING_TODO, sitting.id, now=now, due_on=sitting.due_on,
                     params={"title": quiz.title, "quiz": quiz.id})
            report.created += 1
        record_event(None, "exam_schedule.sittings_created", "exam_schedule", schedule.id,
                     now=now, details={"month": month.isoformat(), "count": len(due)})
    report.missed = mark_missed(today=today, now=now)
    db.session.flush()
    return report


def mark_missed(*, today: date, now: datetime) -> int:
    rows = db.session.scalars(select(ExamSitting).where(ExamSitting.state == "assigned",
                                                        ExamSitting.due_on < today)).all()
    for sitting in rows:
        sitting.state = "missed"
        close_todos(sitting.staff_id, SITTING_TODO, sitting.id, now=now)
    return len(rows)


def on_attempt_finished(attempt: Attempt, now: datetime) -> None:
    """A finished attempt on a month's quiz: the sitting's result (the grade kept), and after a
    fail with no attempt left, the follow-up the schedule names."""
    sitting = db.session.scalar(select(ExamSitting).where(
        ExamSitting.quiz_id == attempt.quiz_id, ExamSitting.staff_id == attempt.staff_id))
    if sitting is None:
        return
    schedule = db.session.get(ExamSchedule, sitting.schedule_id)
    quiz = db.session.get(Quiz, sitting.quiz_id)
    kept = quizzes.kept_grade(sitting.staff_id, quiz)
    if kept is None:
        return
    sitting.percent, sitting.finished_at = kept.percent, now
    sitting.state = "passed" if kept.passed else "failed"
    close_todos(sitting.staff_id, SITTING_TODO, sitting.id, now=now)
    used = len([a for a in quizzes.attempts_of(sitting.staff_id, quiz)
                if a.state in quizzes.FINISHED_STATES])
    left = (quiz.attempts_allowed or used) - used
    if exams.follow_up(schedule.follow_up, passed=kept.passed, attempts_left=left) \
            == "refresher" and sitting.follow_up_enrolment_id is None:
        _assign_refresher(sitting, now=now)
    db.session.flush()


def _assign_refresher(sitting: ExamSitting, *, now: datetime) -> None:
    from trainer.learning.services import _create, today_local

    track = db.session.scalar(select(Track).where(Track.key == "refresher"))
    person = db.session.get(StaffMember, sitting.staff_id)
    if track is None or person is None:
        return
    days = int(get_setting("refresher_due_days") or REFRESHER_DAYS)
    enrolment = _create(person, track, reason="exam_failed",
                        due_on=today_local(now) + timedelta(days=days), now=now, actor_id=None)
    if enrolment is not None:
        sitting.follow_up_enrolment_id = enrolment.id


def schedules() -> list[ExamSchedule]:
    return list(db.session.scalars(select(ExamSchedule).order_by(ExamSchedule.active.desc(),
                                                                 ExamSchedule.title)))


def sittings_of_month(schedule_id: int, month: date) -> list[ExamSitting]:
    return list(db.session.scalars(select(ExamSitting).where(
        ExamSitting.schedule_id == schedule_id, ExamSitting.month == month)
        .order_by(ExamSitting.staff_id)))



def templates() -> list[Quiz]:
    """The quizzes a schedule may copy: exam mode, not one person's, not a month's own copy."""
    copies = select(ExamSitting.quiz_id).distinct()
    return list(db.session.scalars(select(Quiz).where(
        Quiz.mode == "exam", Quiz.personal_for_id.is_(None), Quiz.id.not_in(copies))
        .order_by(Quiz.title)))


@dataclass
class MonthView:
    months: list[date]                  # the months with sittings, newest first
    month: date                         # the one shown
    sittings: list[ExamSitting]
    people: dict[int, StaffMember]


def month_view(schedule: ExamSchedule, wanted: str, today: date) -> MonthView:
    """A schedule's page: the month asked for ("YYYY-MM"), else the latest with sittings, else
    this one; its sittings and their people."""
    months = sorted(set(db.session.scalars(select(ExamSitting.month).where(
        ExamSitting.schedule_id == schedule.id))), reverse=True)
    month = next((m for m in months if m.strftime("%Y-%m") == wanted),
                 months[0] if months else exams.month_start(today))
    sittings = sittings_of_month(schedule.id, month)
    people = {p.id: p for p in db.session.scalars(select(StaffMember).where(
        StaffMember.id.in_([s.staff_id for s in sittings])))} if sittings else {}
    return MonthView(months, month, sittings, people)
