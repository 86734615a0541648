"""Tracks, courses and enrolments. The lifecycle rules (learning.rules) decide what is due;
these services apply them, keep progress and record completions. They flush, never commit."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from trainer.accounts.models import StaffEvent, StaffMember
from trainer.accounts.rules import effective_events
from trainer.core.audit import record_event
from trainer.core.db import db
from trainer.core.errors import DomainError, Forbidden
from trainer.core.settings import get_setting
from trainer.core.timeutil import local_date, local_midnight_utc
from trainer.learning import rules
from trainer.learning.models import (
    OPEN_STATES,
    Course,
    CourseCompletion,
    Enrolment,
    Lesson,
    LessonRead,
    Track,
)
from trainer.quizzes import services as quizzes
from trainer.quizzes.models import Attempt, Quiz

MANAGERS = ("hr", "trainer", "admin")


def centre_timezone() -> str:
    return get_setting("timezone") or "Asia/Shanghai"


def lifecycle_settings() -> rules.LifecycleSettings:
    go_live = get_setting("go_live_date")
    defaults = rules.LifecycleSettings()
    return rules.LifecycleSettings(
        go_live=date.fromisoformat(go_live) if go_live else None,
        onboarding_days=int(get_setting("onboarding_due_days", defaults.onboarding_days)),
        reentry_days=int(get_setting("reentry_due_days", defaults.reentry_days)),
        reentry_min_leave_days=int(get_setting("reentry_min_leave_days",
                                               defaults.reentry_min_leave_days)),
        promotion_days=int(get_setting("promotion_due_days", defaults.promotion_days)),
        inservice_cycle_months=int(get_setting("inservice_cycle_months",
                                               defaults.inservice_cycle_months)),
        inservice_window_days=int(get_setting("inservice_window_days",
                                              defaults.inservice_window_days)))


def today_local(now: datetime) -> date:
    return local_date(now, centre_timezone())


def track_by_key(key: str) -> Track:
    track = db.session.scalar(select(Track).where(Track.key == key))
    if track is None:
        raise DomainError("The track %(key)s is not loaded. Run trainer content sync.", key=key)
    return track


# -- assigning ----------------------------------------------------------------------------------

def _facts(person: StaffMember) -> rules.PersonFacts:
    tz = centre_timezone()
    events = [rules.EventFact(e.id, e.kind, e.occurred_on, e.position)
              for e in effective_events(person.events)]
    rows = db.session.execute(select(Enrolment, Track.key).join(Track).where(
        Enrolment.staff_id == person.id)).all()
    enrolments = [rules.EnrolmentFact(
        e.id, key, e.state, local_date(e.assigned_at, tz), e.due_on,
        local_date(e.completed_at, tz) if e.completed_at else None, e.source_event_id)
        for e, key in rows]
    return rules.PersonFacts(person.status, person.hire_date, events, enrolments)


def _create(person: StaffMember, track: Track, *, reason: str, due_on: date, now: datetime,
            actor_id: int | None, source_event_id: int | None = None,
            away_from: date | None = None, away_until: date | None = None,
            target_position: str = "") -> Enrolment | None:
    enrolment = Enrolment(staff_id=person.id, track_id=track.id, reason=reason, assigned_at=now,
                          due_on=due_on, state="assigned", source_event_id=source_event_id,
                          away_from=away_from, away_until=away_until,
                          target_position=target_position, assigned_by_id=actor_id)
    try:
        with db.session.begin_nested():
            db.session.add(enrolment)
    except IntegrityError:
        return None  # an open enrolment in this track already exists (a concurrent assign)
    record_event(actor_id, "enrolment.assigned", "enrolment", enrolment.id, now=now,
                 details={"staff": person.id, "track": track.key, "reason": reason,
                          "due_on": due_on.isoformat()})
    return enrolment


def assign_due(person: StaffMember, *, now: datetime) -> list[Enrolment]:
    """Apply the lifecycle rules to one person (idempotent)."""
    today = today_local(now)
    created = []
    for assignment in rules.assignments_due(_facts(person), lifecycle_settings(), today):
        track = db.session.scalar(select(Track).where(Track.key == assignment.track))
        if track is None:
            continue
        enrolment = _create(person, track, reason=assignment.reason, due_on=assignment.due_on,
                            now=now, actor_id=None, source_event_id=assignment.source_event_id,
                            away_from=assignment.away_from, away_until=assignment.away_until,
                            target_position=assignment.target_position)
        if enrolment is not None:
            created.append(enrolment)
    mark_overdue(now=now, staff_id=person.id)
    return created


def mark_overdue(*, now: datetime, staff_id: int | None = None) -> int:
    today = today_local(now)
    query = select(Enrolment).where(Enrolment.state.in_(("assigned", "in_progress")),
                                    Enrolment.due_on < today)
    if staff_id is not None:
        query = query.where(Enrolment.staff_id == staff_id)
    changed = 0
    for enrolment in db.session.scalars(query):
        if not rules.becomes_overdue(enrolment.state, enrolment.due_on, today):
            continue
        enrolment.state = "overdue"
        record_event(None, "enrolment.overdue", "enrolment", enrolment.id, now=now,
                     details={"due_on": enrolment.due_on.isoformat()})
        changed += 1
    db.session.flush()
    return changed


def assign_all(*, now: datetime) -> tuple[int, int]:
    """`trainer learning assign`: the yearly cycle, events recorded by import, overdue states."""
    created = 0
    for person in db.session.scalars(select(StaffMember).where(StaffMember.status != "left")):
        created += len(assign_due(person, now=now))
    return created, mark_overdue(now=now)


def assign_manual(actor: StaffMember, people: list[StaffMember], track: Track, *, due_on: date,
                  now: datetime, note: str = "") -> tuple[int, list[str]]:
    """HR or a trainer assigns a track by hand (a person or a whole department)."""
    if not any(actor.has_role(r) for r in MANAGERS):
        raise Forbidden("You may not assign training.")
    if due_on < today_local(now):
        raise DomainError("The due date is in the past.")
    skipped = []
    count = 0
    for person in people:
        if person.status == "left":
            skipped.append(person.employee_no)
            continue
        if _create(person, track, reason="manual", due_on=due_on, now=now,
                   actor_id=actor.id) is None:
            skipped.append(person.employee_no)
        else:
            count += 1
    return count, skipped


def extend_due(actor: StaffMember, enrolment: Enrolment, due_on: date, *, now: datetime) -> None:
    if not any(actor.has_role(r) for r in MANAGERS):
        raise Forbidden("You may not change training.")
    if not enrolment.is_open:
        raise DomainError("Only open training can get a new due date.")
    if due_on <= enrolment.due_on:
        raise DomainError("The new due date must be later than %(due)s.",
                          due=enrolment.due_on.isoformat())
    old = enrolment.due_on
    enrolment.due_on = due_on
    if enrolment.state == "overdue" and due_on >= today_local(now):
        enrolment.state = "in_progress" if _has_progress(enrolment) else "assigned"
    record_event(actor.id, "enrolment.extended", "enrolment", enrolment.id, now=now,
                 details={"from": old.isoformat(), "to": due_on.isoformat()})
    db.session.flush()


def waive(actor: StaffMember, enrolment: Enrolment, reason: str, *, now: datetime) -> None:
    if not any(actor.has_role(r) for r in MANAGERS):
        raise Forbidden("You may not change training.")
    if not enrolment.is_open:
        raise DomainError("Only open training can be waived.")
    if not reason.strip():
        raise DomainError("Say why the training is waived.")
    enrolment.state = "waived"
    enrolment.waived_reason = reason.strip()
    enrolment.completed_at = now
    record_event(actor.id, "enrolment.waived", "enrolment", enrolment.id, now=now,
                 details={"reason": reason.strip()})
    db.session.flush()


# -- progress -----------------------------------------------------------------------------------

@dataclass
class LessonStatus:
    lesson: Lesson
    read: bool
    new_since_away: bool


@dataclass
class CourseProgress:
    course: Course
    lessons: list[LessonStatus]
    quiz: Quiz | None
    attempts: list[Attempt] = field(default_factory=list)
    best_percent: Decimal | None = None
    passed: bool = False
    completed_at: datetime | None = None

    @property
    def lessons_read(self) -> int:
        return sum(1 for s in self.lessons if s.read)

    @property
    def complete(self) -> bool:
        return self.lessons_read == len(self.lessons) and (self.quiz is None or self.passed)

    @property
    def steps(self) -> int:
        return len(self.lessons) + (1 if self.quiz else 0)

    @property
    def steps_done(self) -> int:
        return self.lessons_read + (1 if self.quiz and self.passed else 0)


@dataclass
class EnrolmentProgress:
    enrolment: Enrolment
    courses: list[CourseProgress]

    @property
    def percent(self) -> int:
        steps = sum(c.steps for c in self.courses)
        done = sum(c.steps_done for c in self.courses)
        return 100 if not steps else round(100 * done / steps)

    @property
    def next_step(self) -> tuple[CourseProgress, LessonStatus | None] | None:
        """The first unread lesson, or the quiz, of the first incomplete course."""
        for course in self.courses:
            if course.complete:
                continue
            for status in course.lessons:
                if not status.read:
                    return course, status
            return course, None
        return None


def _reads_since(person_id: int, since: datetime) -> set[int]:
    return set(db.session.scalars(select(LessonRead.lesson_id).where(
        LessonRead.staff_id == person_id, LessonRead.read_at >= since)))


def revised_between(lesson: Lesson, start: date | None, end: date | None, tz: str) -> bool:
    """Was the lesson revised (a second or later revision) while the person was away?"""
    if start is None or end is None:
        return False
    low, high = local_midnight_utc(start, tz), local_midnight_utc(end + timedelta(days=1), tz)
    return any(r.number > 1 and low <= r.revised_at < high for r in lesson.revisions)


def progress(enrolment: Enrolment) -> EnrolmentProgress:
    """Only reads and attempts made for this enrolment (after it was assigned) count."""
    tz = centre_timezone()
    reads = _reads_since(enrolment.staff_id, enrolment.assigned_at)
    completions = {c.course_id: c.completed_at for c in db.session.scalars(
        select(CourseCompletion).where(CourseCompletion.enrolment_id == enrolment.id))}
    courses = []
    for course in enrolment.track.courses:
        quiz = db.session.get(Quiz, course.quiz_id) if course.quiz_id else None
        attempts = quizzes.attempts_of(enrolment.staff_id, quiz, enrolment.id) if quiz else []
        finished = [a for a in attempts if a.finished]
        cp = CourseProgress(
            course=course,
            lessons=[LessonStatus(lesson, lesson.id in reads,
                                  revised_between(lesson, enrolment.away_from,
                                                  enrolment.away_until, tz))
                     for lesson in course.lessons],
            quiz=quiz, attempts=attempts,
            best_percent=max((a.percent for a in finished), default=None),
            passed=any(a.passed for a in finished), completed_at=completions.get(course.id))
        courses.append(cp)
    return EnrolmentProgress(enrolment, courses)


def _has_progress(enrolment: Enrolment) -> bool:
    return any(c.steps_done for c in progress(enrolment).courses)


def refresh_enrolment(enrolment: Enrolment, *, now: datetime) -> None:
    """Record course and track completions; move assigned → in progress → completed."""
    if not enrolment.is_open:
        return
    state = progress(enrolment)
    for course in state.courses:
        if course.complete and course.completed_at is None:
            db.session.add(CourseCompletion(enrolment_id=enrolment.id, course_id=course.course.id,
                                            completed_at=now))
            record_event(None, "course.completed", "enrolment", enrolment.id, now=now,
                         details={"course": course.course.key})
    if state.courses and all(c.complete for c in state.courses):
        enrolment.state = "completed"
        enrolment.completed_at = now
        record_event(None, "enrolment.completed", "enrolment", enrolment.id, now=now,
                     details={"track": enrolment.track.key})
    elif enrolment.state == "assigned" and any(c.steps_done for c in state.courses):
        enrolment.state = "in_progress"
    db.session.flush()


def open_enrolments_with_course(person_id: int, course: Course) -> list[Enrolment]:
    return list(db.session.scalars(select(Enrolment).where(
        Enrolment.staff_id == person_id, Enrolment.track_id == course.track_id,
        Enrolment.state.in_(OPEN_STATES))))


def mark_lesson_read(person: StaffMember, lesson: Lesson, *, now: datetime) -> LessonRead:
    read = LessonRead(staff_id=person.id, lesson_id=lesson.id, revision_id=lesson.current.id,
                      read_at=now)
    db.session.add(read)
    db.session.flush()
    for enrolment in open_enrolments_with_course(person.id, lesson.course):
        refresh_enrolment(enrolment, now=now)
    return read


def get_own_enrolment(person: StaffMember, enrolment_id: int) -> Enrolment:
    enrolment = db.session.get(Enrolment, enrolment_id)
    if enrolment is None:
        raise DomainError("No such training.")
    if enrolment.staff_id != person.id:
        raise Forbidden("This training is not yours.")
    return enrolment


def start_course_quiz(person: StaffMember, enrolment: Enrolment, course: Course, *,
                      now: datetime, grace_s: int) -> Attempt:
    """A course quiz taken for an enrolment: its attempts count (and are limited) per
    enrolment, so last year's attempts neither complete nor block this year's refresher."""
    if enrolment.staff_id != person.id:
        raise Forbidden("This training is not yours.")
    if not enrolment.is_open:
        raise DomainError("This training is closed.")
    if course.track_id != enrolment.track_id or course.quiz_id is None:
        raise DomainError("This course has no quiz in this training.")
    quiz = db.session.get(Quiz, course.quiz_id)
    return quizzes.start_attempt(person, quiz, now=now, enrolment_id=enrolment.id,
                                 authorised=True, grace_s=grace_s)


def on_attempt_finished(attempt: Attempt, now: datetime) -> None:
    """Subscribed to quizzes.attempt_finished: a passed course quiz may complete a course."""
    if attempt.enrolment_id is None:
        return
    enrolment = db.session.get(Enrolment, attempt.enrolment_id)
    if enrolment is not None:
        refresh_enrolment(enrolment, now=now)


def on_staff_event(event: StaffEvent, now: datetime) -> None:
    """Subscribed to accounts.staff_event_recorded: a hire, a return, a nomination assign."""
    assign_due(event.staff, now=now)


# -- figures for trainers and HR ----------------------------------------------------------------

def course_figures() -> dict[int, dict[str, int]]:
    """Per course: enrolments that include it, and how many completed it."""
    rows = db.session.execute(select(CourseCompletion.course_id, func.count()).group_by(
        CourseCompletion.course_id)).all()
    return {course_id: {"completed": n} for course_id, n in rows}


def track_figures() -> dict[int, dict[str, int]]:
    rows = db.session.execute(select(Enrolment.track_id, Enrolment.state, func.count())
                              .group_by(Enrolment.track_id, Enrolment.state)).all()
    figures: dict[int, dict[str, int]] = {}
    for track_id, state, n in rows:
        figures.setdefault(track_id, {})[state] = n
    return figures


SETTING_KEYS = ("onboarding_due_days", "reentry_min_leave_days", "reentry_due_days",
                "promotion_due_days", "inservice_cycle_months", "inservice_window_days")


def save_settings(actor: StaffMember, values: dict, *, now: datetime) -> None:
    """Change the centre's training settings (audited one by one), then re-run the rules."""
    from trainer.core.settings import set_setting
    from trainer.core.timeutil import is_valid_timezone

    if not actor.has_role("admin") and not actor.has_role("hr"):
        raise Forbidden("You may not change the settings.")
    if not is_valid_timezone(values["timezone"]):
        raise DomainError("Unknown time zone %(tz)s.", tz=values["timezone"])
    current = lifecycle_settings()
    wanted = {"timezone": values["timezone"],
              "go_live_date": values["go_live_date"].isoformat() if values["go_live_date"]
              else None}
    wanted.update({key: int(values[key]) for key in SETTING_KEYS})
    present = {"timezone": centre_timezone(),
               "go_live_date": current.go_live.isoformat() if current.go_live else None,
               "onboarding_due_days": current.onboarding_days,
               "reentry_min_leave_days": current.reentry_min_leave_days,
               "reentry_due_days": current.reentry_days,
               "promotion_due_days": current.promotion_days,
               "inservice_cycle_months": current.inservice_cycle_months,
               "inservice_window_days": current.inservice_window_days}
    for key, value in wanted.items():
        if present[key] != value:
            set_setting(key, value, actor_id=actor.id, now=now)
    db.session.flush()
