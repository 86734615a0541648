"""Tracks → courses → lessons (with revisions), enrolments and lesson reads."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from trainer.core.db import db

TRACK_KEYS = ("onboarding", "inservice", "reentry", "promotion", "remedial", "transfer",
              "refresher")
REASONS = ("hire", "return", "nomination", "renewal", "manual", "stood_down", "transfer",
           "exam_failed")
# not_passed: ended without passing (a remedial evaluation that moved the person to a lower
# post); never reopened.
ENROLMENT_STATES = ("assigned", "in_progress", "completed", "overdue", "waived", "not_passed")
OPEN_STATES = ("assigned", "in_progress", "overdue")


class Track(db.Model):
    __tablename__ = "tracks"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(32), unique=True)
    title: Mapped[str] = mapped_column(String(120))
    title_en: Mapped[str] = mapped_column(String(120), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(default=0)
    # Completing the track issues a certificate (the certificates area reads it).
    issues_certificate: Mapped[bool] = mapped_column(default=True)

    courses: Mapped[list[Course]] = relationship(
        back_populates="track", order_by="Course.position",
        primaryjoin="and_(Track.id == Course.track_id, Course.retired.is_(False))",
        viewonly=True)


class Course(db.Model):
    __tablename__ = "courses"

    id: Mapped[int] = mapped_column(primary_key=True)
    track_id: Mapped[int] = mapped_column(ForeignKey("tracks.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(120))  # folder name, the sync key
    title: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(200), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(default=0)
    quiz_id: Mapped[int | None] = mapped_column(ForeignKey("quizzes.id", ondelete="SET NULL"))
    # Fingerprint of the quiz section of course.toml at the last sync: the quiz is rewritten
    # only when the file changes, so a trainer's edits in the site survive unchanged syncs.
    quiz_hash: Mapped[str] = mapped_column(String(64), default="")
    retired: Mapped[bool] = mapped_column(default=False)
    # 学时 credited to the learner's ledger when the course is completed, in its category.
    hours: Mapped[Decimal] = mapped_column(Numeric(5, 1), default=Decimal(0))
    hours_category: Mapped[str] = mapped_column(String(20), default="")
    # Re-entry's extended content: taken only after a long leave (learning setting
    # reentry_extended_leave_days, 90 by default).
    extended: Mapped[bool] = mapped_column(default=False, server_default=text("false"))

    track: Mapped[Track] = relationship(back_populates="courses")
    lessons: Mapped[list[Lesson]] = relationship(
        order_by="Lesson.position",
        primaryjoin="and_(Course.id == Lesson.course_id, Lesson.retired.is_(False))",
        viewonly=True)

    __table_args__ = (UniqueConstraint("track_id", "key"),)


class Lesson(db.Model):
    __tablename__ = "lessons"

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    path: Mapped[str] = mapped_column(String(300), unique=True)  # courses/… path: the sync key
    title: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(default=0)
    retired: Mapped[bool] = mapped_column(default=False)

    course: Mapped[Course] = relationship()
    revisions: Mapped[list[LessonRevision]] = relationship(
        back_populates="lesson", order_by="LessonRevision.number",
        cascade="all, delete-orphan")

    @property
    def current(self) -> LessonRevision:
        return self.revisions[-1]


class LessonRevision(db.Model):
    """Lesson text as of one revision; a changed text adds a revision, the old one stays."""

    __tablename__ = "lesson_revisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    lesson_id: Mapped[int] = mapped_column(ForeignKey("lessons.id", ondelete="CASCADE"))
    number: Mapped[int]
    content: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64))
    revised_at: Mapped[datetime]
    source: Mapped[str] = mapped_column(String(10), default="shipped")  # shipped | web
    note: Mapped[str] = mapped_column(Text, default="")

    lesson: Mapped[Lesson] = relationship(back_populates="revisions")

    __table_args__ = (UniqueConstraint("lesson_id", "number"),)


class Enrolment(db.Model):
    """A person's assignment to a track, with why, when it is due and how it ended."""

    __tablename__ = "enrolments"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_members.id", ondelete="CASCADE"),
                                          index=True)
    track_id: Mapped[int] = mapped_column(ForeignKey("tracks.id", ondelete="CASCADE"))
    reason: Mapped[str] = mapped_column(String(12))
    assigned_at: Mapped[datetime]
    due_on: Mapped[date]
    state: Mapped[str] = mapped_column(String(12), default="assigned")
    completed_at: Mapped[datetime | None]
    waived_reason: Mapped[str] = mapped_column(Text, default="")
    # The staff event that started it (a return, a nomination); none for manual assignments.
    source_event_id: Mapped[int | None] = mapped_column(ForeignKey("staff_events.id",
                                                                   ondelete="SET NULL"))
    # Re-entry: the leave, so lessons revised while the person was away can be marked.
    away_from: Mapped[date | None]
    away_until: Mapped[date | None]
    target_position: Mapped[str] = mapped_column(String(80), default="")
    assigned_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_members.id",
                                                                  ondelete="SET NULL"))
    # The one extension HR may give after a failed practical assessment (seed 004: two more
    # weeks, then a retake), when it was given.
    retake_extended_on: Mapped[date | None]
    # The assessor HR names on a remedial enrolment: may record its counselling talks.
    assessor_id: Mapped[int | None] = mapped_column(ForeignKey("staff_members.id",
                                                               ondelete="SET NULL"))

    track: Mapped[Track] = relationship()

    __table_args__ = (
        CheckConstraint(f"state IN {ENROLMENT_STATES}", name="state_valid"),
        CheckConstraint(f"reason IN {REASONS}", name="reason_valid"),
        # Never two open enrolments in one track for one person.
        Index("uq_enrolments_one_open", "staff_id", "track_id", unique=True,
              sqlite_where=text("state IN ('assigned', 'in_progress', 'overdue')"),
              postgresql_where=text("state IN ('assigned', 'in_progress', 'overdue')")),
        Index("ix_enrolments_state_due", "state", "due_on"),
        # HR's figures and lists (records): a person's open, overdue or due-soon enrolments.
        Index("ix_enrolments_staff_state_due", "staff_id", "state", "due_on"),
    )

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES


class CourseCompletion(db.Model):
    """When a course of an enrolment was completed (its lessons read, its quiz passed)."""

    __tablename__ = "course_completions"

    enrolment_id: Mapped[int] = mapped_column(ForeignKey("enrolments.id", ondelete="CASCADE"),
                                              primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"),
                                           primary_key=True)
    completed_at: Mapped[datetime]


class LessonRead(db.Model):
    __tablename__ = "lesson_reads"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_members.id", ondelete="CASCADE"))
    lesson_id: Mapped[int] = mapped_column(ForeignKey("lessons.id", ondelete="CASCADE"))
    revision_id: Mapped[int] = mapped_column(ForeignKey("lesson_revisions.id",
                                                        ondelete="CASCADE"))
    read_at: Mapped[datetime]

    __table_args__ = (Index("ix_lesson_reads_staff_lesson", "staff_id", "lesson_id"),)


class CourseRequirement(db.Model):
    """What completing a course asks, as data: "lessons" (all of its lessons read), "quiz" (its
    quiz passed under the quiz's grading method), and kinds higher areas register (a class
    attended, an assessment passed) without learning importing them (learning.requirements).
    Copied onto each enrolment when it is assigned (EnrolmentRequirement)."""

    __tablename__ = "course_requirements"

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"),
                                           index=True)
    kind: Mapped[str] = mapped_column(String(20))
    ref_id: Mapped[int | None]          # what it names: a quiz, a class, a form …
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    position: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_members.id",
                                                                 ondelete="SET NULL"))


class EnrolmentRequirement(db.Model):
    """One requirement of one course as it stood when the enrolment was assigned: later
    changes to the course apply to new enrolments only, and a completed enrolment is never
    reopened. "lessons" keeps the lesson ids of that day in params."""

    __tablename__ = "enrolment_requirements"

    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("enrolments.id", ondelete="CASCADE"),
                                              index=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    ref_id: Mapped[int | None]
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    position: Mapped[int] = mapped_column(default=0)


class PostTraining(db.Model):
    """A post with its own training (posts/*.toml): the courses (of the transfer track) that a
    person moved to it takes, and a person promoted to it takes after the promotion track's
    common courses; its internship length, due days and final assessment (the last course's
    requirement). Matched to HR's positions by name or alias."""

    __tablename__ = "post_trainings"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(80), unique=True)   # the file's name
    name: Mapped[str] = mapped_column(String(80))
    aliases: Mapped[list[str]] = mapped_column(JSON, default=list)
    title_en: Mapped[str] = mapped_column(String(120), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    internship_days: Mapped[int] = mapped_column(default=30)
    due_days: Mapped[int] = mapped_column(default=90)
    final_assessment: Mapped[str] = mapped_column(String(80), default="")
    course_keys: Mapped[list[str]] = mapped_column(JSON, default=list)
    retired: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime]

    @property
    def names(self) -> list[str]:
        return [self.name, *(self.aliases or [])]


FOLLOW_UPS = ("none", "retake", "refresher")
SITTING_STATES = ("assigned", "passed", "failed", "missed")


class ExamSchedule(db.Model):
    """The monthly business exam (月度业务考试): a quiz to copy each month (its banks and draw
    rules), the day of the month (past a short month's end: its last day), the window in days,
    the departments and posts it covers (none: all), the pass mark, and what follows a failed
    sitting."""

    __tablename__ = "exam_schedules"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    quiz_id: Mapped[int] = mapped_column(ForeignKey("quizzes.id", ondelete="RESTRICT"))
    day_of_month: Mapped[int]
    window_days: Mapped[int]
    department_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    position_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    pass_mark: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=Decimal(60))
    follow_up: Mapped[str] = mapped_column(String(12), default="none")
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_members.id",
                                                                 ondelete="SET NULL"))

    __table_args__ = (
        CheckConstraint("day_of_month BETWEEN 1 AND 31", name="day_valid"),
        CheckConstraint("window_days BETWEEN 1 AND 28", name="window_valid"),
        CheckConstraint("pass_mark > 0 AND pass_mark <= 100", name="pass_mark_valid"),
        CheckConstraint(f"follow_up IN {FOLLOW_UPS}", name="follow_up_valid"),
    )


class ExamSitting(db.Model):
    """One person's sitting of one month's exam: a record of its own (not a track enrolment,
    no certificate), keyed by (schedule, month, person). The month's quiz is a copy of the
    schedule's, so each attempt draws afresh and a later edit of the schedule's quiz does not
    change a month already set."""

    __tablename__ = "exam_sittings"

    id: Mapped[int] = mapped_column(primary_key=True)
    schedule_id: Mapped[int] = mapped_column(ForeignKey("exam_schedules.id", ondelete="CASCADE"))
    month: Mapped[date]                   # the first day of the month
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_members.id", ondelete="CASCADE"),
                                          index=True)
    quiz_id: Mapped[int] = mapped_column(ForeignKey("quizzes.id", ondelete="RESTRICT"))
    sits_on: Mapped[date]
    due_on: Mapped[date]
    state: Mapped[str] = mapped_column(String(10), default="assigned")
    percent: Mapped[Decimal | None] = mapped_column(Numeric(6, 2))
    finished_at: Mapped[datetime | None]
    follow_up_enrolment_id: Mapped[int | None] = mapped_column(
        ForeignKey("enrolments.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]

    __table_args__ = (
        UniqueConstraint("schedule_id", "month", "staff_id"),
        CheckConstraint(f"state IN {SITTING_STATES}", name="state_valid"),
        Index("ix_exam_sittings_quiz_staff", "quiz_id", "staff_id"),
        Index("ix_exam_sittings_month", "month", "state"),
    )


HOURS_SOURCES = ("course", "class", "external")


class HoursEntry(db.Model):
    """The 学时 ledger: one entry per source and person (a course completed, a class attended,
    an approved external training), in raw minutes; credited and corrected by one idempotent
    service (learning.services.credit_hours). Rounding to half a 学时 happens when read."""

    __tablename__ = "hours_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_members.id", ondelete="CASCADE"))
    source_kind: Mapped[str] = mapped_column(String(12))
    source_id: Mapped[int]
    on_date: Mapped[date]                # local date in the centre's zone
    category: Mapped[str] = mapped_column(String(20))
    minutes: Mapped[int]
    title: Mapped[str] = mapped_column(String(200), default="")  # what it was, for the record
    credited_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    __table_args__ = (
        UniqueConstraint("staff_id", "source_kind", "source_id"),
        CheckConstraint(f"source_kind IN {HOURS_SOURCES}", name="source_kind_valid"),
        CheckConstraint("minutes >= 0", name="minutes_not_negative"),
        Index("ix_hours_entries_staff_date", "staff_id", "on_date"),
        Index("ix_hours_entries_date_category", "on_date", "category"),
    )
