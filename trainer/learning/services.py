"""Tracks, courses and enrolments. The lifecycle rules (learning.rules) decide what is due;
these services apply them, keep progress and record completions. They flush, never commit."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_FLOOR, Decimal

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from trainer.accounts.models import StaffEvent, StaffMember
from trainer.accounts.rules import effective_events
from trainer.core.audit import record_event
from trainer.core.db import db
from trainer.core.errors import N_, DomainError, Forbidden, Notice
from trainer.core.settings import centre_timezone, get_setting
from trainer.core.timeutil import local_date, local_midnight_utc
from trainer.core.todos import add_todo, close_todos
from trainer.learning import requirements as reqs
from trainer.learning import rules
from trainer.learning.models import (
    OPEN_STATES,
    Course,
    CourseCompletion,
    CourseRequirement,
    Enrolment,
    EnrolmentRequirement,
    HoursEntry,
    Lesson,
    LessonRead,
    PostTraining,
    Track,
)
from trainer.learning.settings import lifecycle_settings
from trainer.learning.signals import course_completed, track_completed
from trainer.quizzes import services as quizzes
from trainer.quizzes.models import Attempt, Quiz

MANAGERS = ("hr", "trainer", "admin")


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
    events = [rules.EventFact(e.id, e.kind, e.occurred_on, e.position,
                              local_date(e.recorded_at, tz), e.reason)
              for e in effective_events(person.events)]
    rows = db.session.execute(select(Enrolment, Track.key).join(Track).where(
        Enrolment.staff_id == person.id)).all()
    enrolments = [rules.EnrolmentFact(
        e.id, key, e.state, local_date(e.assigned_at, tz), e.due_on,
        local_date(e.completed_at, tz) if e.completed_at else None, e.source_event_id,
        e.target_position)
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
    copy_requirements(enrolment, track)
    record_event(actor_id, "enrolment.assigned", "enrolment", enrolment.id, now=now,
                 details={"staff": person.id, "track": track.key, "reason": reason,
                          "due_on": due_on.isoformat()})
    if away_from is not None:
        _note_revised_lessons(enrolment, now=now)
    return enrolment


def _note_revised_lessons(enrolment: Enrolment, *, now: datetime) -> None:
    """Back from leave: each lesson revised while the person was away is on their to-do list
    until they read it."""
    for course_progress in progress(enrolment).courses:
        for status in course_progress.lessons:
            if status.new_since_away:
                add_todo(enrolment.staff_id, "lesson.revised", status.lesson.id, now=now,
                         params={"enrolment": enrolment.id, "title": status.lesson.title},
                         due_on=enrolment.due_on)


def assign_due(person: StaffMember, *, now: datetime,
               settings: rules.LifecycleSettings | None = None) -> list[Enrolment]:
    """Apply the lifecycle rules to one person (idempotent)."""
    today = today_local(now)
    created = []
    settings = settings or lifecycle_settings()
    for assignment in rules.assignments_due(_facts(person), settings, today):
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
    settings = lifecycle_settings()
    for person in db.session.scalars(select(StaffMember).where(StaffMember.status != "left")):
        created += len(assign_due(person, now=now, settings=settings))
    return created, mark_overdue(now=now)


def assign_manual(actor: StaffMember, people: list[StaffMember], track: Track, *, due_on: date,
                  now: datetime, note: str = "") -> tuple[int, list[str]]:
    """HR or a trainer assigns a track by hand (a person or a whole department)."""
    if not any(actor.has_role(r) for r in MANAGERS):
        raise Forbidden("You may not assign training.")
    if due_on < today_local(now):
        raise DomainError("The due date is in the past.")
    if track.key in ("transfer", "remedial"):
        raise DomainError("%(track)s follows an event on the staff record (a position change, "
                          "a stand-down): record the event on the person's staff page.",
                          track=track.title)
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


def failed_assessments_of(enrolments: Iterable[Enrolment]) -> dict[int, int]:
    """Per enrolment: the most failed tries of one practical assessment it still waits for
    (progress_many: a constant number of queries for any number of enrolments)."""
    return {enrolment_id: max((other.status.failures for course in state.courses
                               for other in course.others if not other.status.done), default=0)
            for enrolment_id, state in progress_many(enrolments).items()}


def failed_assessments(enrolment: Enrolment) -> int:
    return failed_assessments_of([enrolment])[enrolment.id]


def extend_due(actor: StaffMember, enrolment: Enrolment, due_on: date, *, now: datetime) -> None:
    """A new due date. After a failed practical assessment, HR (not a trainer) extends once
    for the retake, as seed 004 allows (two more weeks); a second failure ends the training as
    not passed (end_not_passed)."""
    if not any(actor.has_role(r) for r in MANAGERS):
        raise Forbidden("You may not change training.")
    if not enrolment.is_open:
        raise DomainError("Only open training can get a new due date.")
    if due_on <= enrolment.due_on:
        raise DomainError("The new due date must be later than %(due)s.",
                          due=enrolment.due_on.isoformat())
    if failed_assessments(enrolment) >= 1:
        if not (actor.has_role("hr") or actor.has_role("admin")):
            raise Forbidden("After a failed practical assessment only HR extends the training.")
        if enrolment.retake_extended_on is not None:
            raise DomainError("This training was already extended once for a retake (on "
                              "%(day)s); after a failed retake it ends as not passed.",
                              day=enrolment.retake_extended_on.isoformat())
        enrolment.retake_extended_on = today_local(now)
    old = enrolment.due_on
    enrolment.due_on = due_on
    if enrolment.state == "overdue" and due_on >= today_local(now):
        enrolment.state = "in_progress" if _has_progress(enrolment) else "assigned"
    record_event(actor.id, "enrolment.extended", "enrolment", enrolment.id, now=now,
                 details={"from": old.isoformat(), "to": due_on.isoformat()})
    db.session.flush()


def end_not_passed(actor: StaffMember, enrolment: Enrolment, note: str, *,
                   now: datetime) -> None:
    """The retake failed too: an assessor or HR records the outcome and the training ends as
    not passed (never reopened; the person's next step is HR's decision)."""
    if not any(actor.has_role(r) for r in ("hr", "admin", "assessor")):
        raise Forbidden("Only HR or an assessor ends training as not passed.")
    if not enrolment.is_open:
        raise DomainError("Only open training can end as not passed.")
    if actor.id == enrolment.staff_id:
        raise Forbidden("Nobody records their own outcome.")
    if failed_assessments(enrolment) < 2:
        raise DomainError("Training ends as not passed only after a practical assessment and "
                          "its retake both failed.")
    if not note.strip():
        raise DomainError("Say what was decided (back to the old post, another post …).")
    enrolment.state, enrolment.completed_at = "not_passed", now
    enrolment.waived_reason = note.strip()[:1000]
    record_event(actor.id, "enrolment.not_passed", "enrolment", enrolment.id, now=now,
                 details={"staff": enrolment.staff_id, "note": enrolment.waived_reason})
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


# -- requirements and progress ------------------------------------------------------------------

def posts() -> list[PostTraining]:
    return list(db.session.scalars(select(PostTraining).where(
        PostTraining.retired.is_(False)).order_by(PostTraining.key)))


def post_named(name: str) -> PostTraining | None:
    """The post with its own training that a position's name (or an alias) names."""
    if not name:
        return None
    return next((p for p in posts() if name in p.names), None)


def post_courses(post: PostTraining | None) -> list[Course]:
    """A post's own courses (of the transfer track), in the post file's order."""
    if post is None or not post.course_keys:
        return []
    found = {c.key: c for c in db.session.scalars(select(Course).join(Track).where(
        Track.key == "transfer", Course.key.in_(post.course_keys), Course.retired.is_(False)))}
    return [found[key] for key in post.course_keys if key in found]


def courses_for(enrolment: Enrolment, track: Track) -> tuple[list[Course], PostTraining | None,
                                                           set[int]]:
    """What an enrolment in the track takes: (its courses, the target post with its own
    training, the ids of that post's courses). Transfer (转岗): the new post's own courses.
    Promotion (晋升): the track's common courses, then the target post's own (its internship
    考评 last). Re-entry: its courses, the extended content only after a long leave. Every other
    track: its courses."""
    from trainer.learning.exams import extended_reentry

    post = post_named(enrolment.target_position or "") \
        if track.key in ("transfer", "promotion") else None
    own = post_courses(post)
    if track.key == "transfer":
        return own, post, {c.id for c in own}
    courses = list(db.session.scalars(select(Course).where(
        Course.track_id == track.id, Course.retired.is_(False)).order_by(Course.position)))
    if track.key == "reentry" and not extended_reentry(
            enrolment.away_from, enrolment.away_until,
            int(get_setting("reentry_extended_leave_days"))):
        courses = [c for c in courses if not c.extended]
    return courses + own, post, {c.id for c in own}


def copy_requirements(enrolment: Enrolment, track: Track) -> None:
    """Copy what the enrolment's courses (courses_for) ask today onto a new enrolment: later
    changes to a course apply to new enrolments only. "lessons" keeps the lesson ids of today;
    the post's 实习考评 counts only after its internship (from the assignment)."""
    courses, post, internship = courses_for(enrolment, track)
    course_ids = [c.id for c in courses]
    lessons: dict[int, list[int]] = {}
    for course_id, lesson_id in db.session.execute(
            select(Lesson.course_id, Lesson.id).where(Lesson.course_id.in_(course_ids),
                                                      Lesson.retired.is_(False))
            .order_by(Lesson.position, Lesson.id)):
        lessons.setdefault(course_id, []).append(lesson_id)
    asked = db.session.scalars(select(CourseRequirement).where(
        CourseRequirement.course_id.in_(course_ids)).order_by(CourseRequirement.position,
                                                              CourseRequirement.id)).all()
    order = {course_id: index for index, course_id in enumerate(course_ids)}
    rows = []
    for requirement in asked:
        params = dict(requirement.params or {})
        if requirement.kind == "lessons":
            params["lesson_ids"] = lessons.get(requirement.course_id, [])
        elif requirement.kind == "assessment" and requirement.course_id in internship:
            params["after_days"] = post.internship_days
        rows.append(EnrolmentRequirement(
            enrolment_id=enrolment.id, course_id=requirement.course_id, kind=requirement.kind,
            ref_id=requirement.ref_id, params=params,
            position=order[requirement.course_id] * 100 + requirement.position))
    db.session.add_all(rows)
    db.session.flush()


def ensure_course_requirements(course: Course, *, now: datetime) -> None:
    """A course asks for its lessons and its quiz (content sync keeps these two in step with
    the course); other kinds are added by trainers in the site."""
    rows = {r.kind: r for r in db.session.scalars(select(CourseRequirement).where(
        CourseRequirement.course_id == course.id,
        CourseRequirement.kind.in_(("lessons", "quiz"))))}
    if "lessons" not in rows:
        db.session.add(CourseRequirement(course_id=course.id, kind="lessons", position=0,
                                         created_at=now))
    quiz_row = rows.get("quiz")
    if course.quiz_id is None and quiz_row is not None:
        db.session.delete(quiz_row)
    elif course.quiz_id is not None and quiz_row is None:
        db.session.add(CourseRequirement(course_id=course.id, kind="quiz",
                                         ref_id=course.quiz_id, position=50, created_at=now))
    elif quiz_row is not None:
        quiz_row.ref_id = course.quiz_id
    db.session.flush()


def add_course_requirement(actor: StaffMember | None, course: Course, kind: str, *,
                           now: datetime, ref_id: int | None = None) -> CourseRequirement:
    """A trainer or HR adds a requirement of a kind an area registered as addable (a class
    attended, a practical assessment passed); it applies to enrolments assigned from now on.
    A kind that names something (`choices`: a form) needs one of its choices as `ref_id`.
    actor=None: the system (demo)."""
    if actor is not None and not any(actor.has_role(r) for r in MANAGERS):
        raise Forbidden("You may not change courses.")
    registered = reqs.KINDS.get(kind)
    if registered is None or not getattr(registered, "addable", False):
        raise DomainError("This kind of requirement cannot be added here.")
    if hasattr(registered, "choices"):
        if ref_id not in dict(registered.choices()):
            raise DomainError("Choose what the course asks for from the list.")
    else:
        ref_id = None
    exists = db.session.scalar(select(CourseRequirement).where(
        CourseRequirement.course_id == course.id, CourseRequirement.kind == kind))
    if exists is not None:
        return exists
    requirement = CourseRequirement(course_id=course.id, kind=kind, ref_id=ref_id, position=80,
                                    created_at=now, created_by_id=actor.id if actor else None)
    db.session.add(requirement)
    db.session.flush()
    record_event(actor.id if actor else None, "course.requirement_added", "course", course.id,
                 now=now, details={"kind": kind, **({"ref": ref_id} if ref_id else {})})
    return requirement


def remove_course_requirement(actor: StaffMember, requirement: CourseRequirement, *,
                              now: datetime) -> None:
    """Remove an added requirement (the lessons and the quiz follow the course's files);
    enrolments assigned before keep their copy."""
    if not any(actor.has_role(r) for r in MANAGERS):
        raise Forbidden("You may not change courses.")
    if requirement.kind in ("lessons", "quiz"):
        raise DomainError("The lessons and the quiz come with the course itself.")
    record_event(actor.id, "course.requirement_removed", "course", requirement.course_id,
                 now=now, details={"kind": requirement.kind})
    db.session.delete(requirement)
    db.session.flush()


@dataclass
class LessonStatus:
    lesson: Lesson
    read: bool
    new_since_away: bool


@dataclass
class OtherRequirement:
    """A requirement of a kind a higher area added (a class, an assessment)."""

    kind: str
    status: reqs.Status


@dataclass
class CourseProgress:
    course: Course
    lessons: list[LessonStatus]
    quiz_state: reqs.QuizState | None = None
    others: list[OtherRequirement] = field(default_factory=list)
    completed_at: datetime | None = None
    complete: bool = False
    steps: int = 0
    steps_done: int = 0

    @property
    def lessons_read(self) -> int:
        return sum(1 for s in self.lessons if s.read)

    @property
    def quiz(self) -> Quiz | None:
        return self.quiz_state.quiz if self.quiz_state else None

    @property
    def passed(self) -> bool:
        return bool(self.quiz_state and self.quiz_state.passed)

    @property
    def attempts(self) -> list[Attempt]:
        return self.quiz_state.attempts if self.quiz_state else []

    @property
    def kept_percent(self) -> Decimal | None:
        return self.quiz_state.kept_percent if self.quiz_state else None


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
    def complete(self) -> bool:
        return bool(self.courses) and all(c.complete for c in self.courses)

    @property
    def next_step(self) -> tuple[CourseProgress, LessonStatus | None] | None:
        """The first unread lesson, or else the course page, of the first incomplete course."""
        for course in self.courses:
            if course.complete:
                continue
            for status in course.lessons:
                if not status.read:
                    return course, status
            return course, None
        return None


def revised_between(revised_at: list[datetime], start: date | None, end: date | None,
                    tz: str) -> bool:
    """Was the lesson revised (a second or later revision) while the person was away?"""
    if start is None or end is None:
        return False
    low, high = local_midnight_utc(start, tz), local_midnight_utc(end + timedelta(days=1), tz)
    return any(low <= at < high for at in revised_at)


def progress_many(enrolments: Iterable[Enrolment]) -> dict[int, EnrolmentProgress]:
    """Progress of many enrolments in a constant number of queries: their requirement rows,
    their courses and completions, then one evaluation per requirement kind. Only reads and
    attempts made for an enrolment (after it was assigned) count."""
    enrolments = list(enrolments)
    if not enrolments:
        return {}
    tz = centre_timezone()
    ids = [e.id for e in enrolments]
    by_id = {e.id: e for e in enrolments}
    rows = db.session.scalars(select(EnrolmentRequirement).where(
        EnrolmentRequirement.enrolment_id.in_(ids))
        .order_by(EnrolmentRequirement.position, EnrolmentRequirement.id)).all()
    plain = [reqs.Requirement(r.id, r.enrolment_id, by_id[r.enrolment_id].staff_id,
                              by_id[r.enrolment_id].assigned_at, r.course_id, r.kind, r.ref_id,
                              r.params or {}, r.position) for r in rows]
    statuses = reqs.evaluate(plain)
    courses = {c.id: c for c in db.session.scalars(select(Course).where(
        Course.id.in_({r.course_id for r in rows})))}
    completions = {(c.enrolment_id, c.course_id): c.completed_at for c in db.session.scalars(
        select(CourseCompletion).where(CourseCompletion.enrolment_id.in_(ids)))}
    result = {e.id: EnrolmentProgress(e, []) for e in enrolments}
    by_course: dict[tuple[int, int], CourseProgress] = {}
    for requirement in plain:
        key = (requirement.enrolment_id, requirement.course_id)
        course_progress = by_course.get(key)
        if course_progress is None:
            course_progress = by_course[key] = CourseProgress(
                courses[requirement.course_id], [], completed_at=completions.get(key))
            result[requirement.enrolment_id].courses.append(course_progress)
        status = statuses[requirement.id]
        course_progress.steps += status.steps
        course_progress.steps_done += status.steps_done
        if requirement.kind == "lessons":
            enrolment = by_id[requirement.enrolment_id]
            course_progress.lessons = [
                LessonStatus(state.lesson, state.read,
                             revised_between(state.revised_at, enrolment.away_from,
                                             enrolment.away_until, tz))
                for state in status.detail or []]
        elif requirement.kind == "quiz":
            course_progress.quiz_state = status.detail
        else:
            course_progress.others.append(OtherRequirement(requirement.kind, status))
    for (enrolment_id, course_id), course_progress in by_course.items():
        mine = [statuses[r.id] for r in plain
                if r.enrolment_id == enrolment_id and r.course_id == course_id]
        # A completed course stays completed (a lesson added later does not undo it).
        course_progress.complete = course_progress.completed_at is not None or \
            all(s.done for s in mine)
    return result


def progress(enrolment: Enrolment) -> EnrolmentProgress:
    return progress_many([enrolment])[enrolment.id]


def refresh_enrolment(enrolment: Enrolment, *, now: datetime) -> None:
    """Record course and track completions (each once: announced to the areas above, 学时
    credited); move assigned → in progress → completed. A completed enrolment is never
    reopened."""
    if not enrolment.is_open:
        return
    state = progress(enrolment)
    for course_progress in state.courses:
        if course_progress.complete and course_progress.completed_at is None:
            course = course_progress.course
            db.session.add(CourseCompletion(enrolment_id=enrolment.id, course_id=course.id,
                                            completed_at=now))
            course_progress.completed_at = now
            record_event(None, "course.completed", "enrolment", enrolment.id, now=now,
                         details={"course": course.key})
            if course.hours:
                credit_hours(enrolment.staff_id, "course", course.id, on=today_local(now),
                             category=course.hours_category or _default_category(),
                             minutes=int(course.hours * minutes_per_hour()),
                             title=course.title, now=now)
            db.session.flush()
            course_completed.send(enrolment, course=course, now=now)
    if state.complete:
        enrolment.state = "completed"
        enrolment.completed_at = now
        record_event(None, "enrolment.completed", "enrolment", enrolment.id, now=now,
                     details={"track": enrolment.track.key})
        db.session.flush()
        track_completed.send(enrolment, now=now)
    elif enrolment.state == "assigned" and any(c.steps_done for c in state.courses):
        enrolment.state = "in_progress"
    db.session.flush()


def _has_progress(enrolment: Enrolment) -> bool:
    return any(c.steps_done for c in progress(enrolment).courses)


def refresh_for(staff_id: int, *, now: datetime) -> None:
    """Something a requirement depends on changed for this person (a lesson read, a quiz
    finished, a class attended, an assessment recorded): refresh their open enrolments."""
    for enrolment in db.session.scalars(select(Enrolment).where(
            Enrolment.staff_id == staff_id, Enrolment.state.in_(OPEN_STATES))):
        refresh_enrolment(enrolment, now=now)


# -- 学时 ---------------------------------------------------------------------------------------

def minutes_per_hour() -> int:
    return int(get_setting("minutes_per_hour"))


def hours_categories() -> list[str]:
    return list(get_setting("hours_categories"))


def _default_category() -> str:
    categories = hours_categories()
    return categories[-1] if categories else "其他"


def credit_hours(staff_id: int, source_kind: str, source_id: int, *, on: date, category: str,
                 minutes: int, now: datetime, title: str = "") -> HoursEntry | None:
    """Credit (or correct) the 学时 one source gives one person: one entry per source and
    person, so each source credits without knowing the others and crediting twice changes
    nothing. Zero minutes removes the entry."""
    entry = db.session.scalar(select(HoursEntry).where(
        HoursEntry.staff_id == staff_id, HoursEntry.source_kind == source_kind,
        HoursEntry.source_id == source_id))
    if minutes <= 0:
        if entry is not None:
            db.session.delete(entry)
            db.session.flush()
        return None
    if entry is None:
        entry = HoursEntry(staff_id=staff_id, source_kind=source_kind, source_id=source_id,
                           credited_at=now)
        db.session.add(entry)
    elif (entry.on_date, entry.category, entry.minutes, entry.title) == (on, category, minutes,
                                                                          title[:200]):
        return entry
    entry.on_date, entry.category, entry.minutes = on, category, minutes
    entry.title, entry.updated_at = title[:200], now
    db.session.flush()
    return entry


def to_hours(minutes: int, per_hour: int) -> Decimal:
    """Minutes as 学时, rounded down to a half (what is not a whole half 学时 is not counted)."""
    return (Decimal(minutes) / per_hour * 2).to_integral_value(rounding=ROUND_FLOOR) / 2


@dataclass(frozen=True)
class HoursLine:
    year: int
    category: str
    source_kind: str
    minutes: int
    hours: Decimal


def hours_of(staff_id: int) -> list[HoursLine]:
    """A person's 学时 by year, category and source (one query; rounded when read)."""
    per_hour = minutes_per_hour()
    year = func.extract("year", HoursEntry.on_date)
    rows = db.session.execute(
        select(year, HoursEntry.category, HoursEntry.source_kind, func.sum(HoursEntry.minutes))
        .where(HoursEntry.staff_id == staff_id)
        .group_by(year, HoursEntry.category, HoursEntry.source_kind)).all()
    return sorted((HoursLine(int(y), category, kind, int(m), to_hours(int(m), per_hour))
                   for y, category, kind, m in rows), key=lambda h: (-h.year, h.category))


def open_enrolments_with_course(person_id: int, course: Course) -> list[Enrolment]:
    return list(db.session.scalars(select(Enrolment).where(
        Enrolment.staff_id == person_id, Enrolment.track_id == course.track_id,
        Enrolment.state.in_(OPEN_STATES))))


def mark_lesson_read(person: StaffMember, lesson: Lesson, *, now: datetime) -> LessonRead:
    read = LessonRead(staff_id=person.id, lesson_id=lesson.id, revision_id=lesson.current.id,
                      read_at=now)
    db.session.add(read)
    db.session.flush()
    close_todos(person.id, "lesson.revised", lesson.id, now=now)
    for enrolment in open_enrolments_with_course(person.id, lesson.course):
        refresh_enrolment(enrolment, now=now)
    return read


def course_of_quiz(enrolment_id: int, quiz_id: int) -> int | None:
    """The course of an enrolment whose quiz this is."""
    return db.session.scalar(select(EnrolmentRequirement.course_id).where(
        EnrolmentRequirement.enrolment_id == enrolment_id, EnrolmentRequirement.kind == "quiz",
        EnrolmentRequirement.ref_id == quiz_id).limit(1))


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


def _end_remedial(event: StaffEvent, now: datetime) -> list[Notice]:
    """A reinstatement or a leaving recorded on the staff record ends the stand-down: remedial
    training still open is closed as waived (the evaluation path completes or ends it first)."""
    open_rows = db.session.scalars(select(Enrolment).join(Track).where(
        Enrolment.staff_id == event.staff_id, Track.key == "remedial",
        Enrolment.state.in_(OPEN_STATES))).all()
    for enrolment in open_rows:
        enrolment.state, enrolment.completed_at = "waived", now
        enrolment.waived_reason = event.note or event.kind
        record_event(event.recorded_by_id, "enrolment.waived", "enrolment", enrolment.id,
                     now=now, details={"reason": enrolment.waived_reason,
                                       "event_id": event.id})
    db.session.flush()
    return [Notice(N_("The open remedial training ends with the stand-down."))] if open_rows \
        else []


def on_staff_event(event: StaffEvent, now: datetime) -> list[Notice]:
    """Subscribed to accounts.staff_event_recorded: a hire, a return, a nomination, a
    stand-down assign a track; a reinstatement or a leaving ends open remedial training. Says
    which (with its due date), or that none was, for the person who recorded it."""
    ended = _end_remedial(event, now) if event.kind in ("reinstated", "leaving") else []
    notices = ended + [Notice(N_("%(track)s assigned, due on %(due)s."), track=e.track.title,
                      due=e.due_on.isoformat()) for e in assign_due(event.staff, now=now)]
    if not notices and event.kind in ("hire", "leave_return", "nomination", "stood_down"):
        notices.append(Notice(N_("No training was assigned for this event.")))
    return notices


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
