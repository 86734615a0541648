"""Quizzes, draw rules, per-person overrides, attempts with snapshotted items, and the
mistakes notebook."""
from __future__ import annotations

from datetime import datetime
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


class Quiz(db.Model):
    __tablename__ = "quizzes"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    mode: Mapped[str] = mapped_column(String(10), default="exam")  # exam | practice
    # Trainers manage the quizzes they own; system quizzes (courses, shipped) have no owner.
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("staff_members.id",
                                                            ondelete="SET NULL"))
    # A personal practice quiz (错题本) belongs to one learner and is listed to nobody else.
    personal_for_id: Mapped[int | None] = mapped_column(ForeignKey("staff_members.id",
                                                                   ondelete="CASCADE"))
    open_to_all: Mapped[bool] = mapped_column(default=False)
    time_limit_s: Mapped[int | None]
    open_at: Mapped[datetime | None]
    close_at: Mapped[datetime | None]
    pass_mark: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=Decimal(60))
    attempts_allowed: Mapped[int | None]
    grading: Mapped[str] = mapped_column(String(10), default="highest")  # highest | last
    delay_s: Mapped[int] = mapped_column(default=0)
    shuffle_questions: Mapped[bool] = mapped_column(default=True)
    shuffle_choices: Mapped[bool] = mapped_column(default=True)
    layout: Mapped[str] = mapped_column(String(10), default="all")  # all | paged
    navigation: Mapped[str] = mapped_column(String(12), default="free")  # free | sequential
    all_or_nothing: Mapped[bool] = mapped_column(default=False)
    review_what: Mapped[str] = mapped_column(String(8), default="full")  # score | wrong | full
    review_when: Mapped[str] = mapped_column(String(12), default="immediately")
    fixed_list: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    rules: Mapped[list[DrawRule]] = relationship(
        back_populates="quiz", order_by="DrawRule.position", cascade="all, delete-orphan",
        lazy="selectin")
    fixed: Mapped[list[FixedQuestion]] = relationship(
        order_by="FixedQuestion.position", cascade="all, delete-orphan", lazy="selectin")

    __table_args__ = (
        CheckConstraint("mode IN ('exam', 'practice')", name="mode_valid"),
        CheckConstraint("grading IN ('highest', 'last')", name="grading_valid"),
        CheckConstraint("review_what IN ('score', 'wrong', 'full')", name="review_what_valid"),
        CheckConstraint("review_when IN ('immediately', 'after_close')",
                        name="review_when_valid"),
        CheckConstraint("layout IN ('all', 'paged')", name="layout_valid"),
        CheckConstraint("navigation IN ('free', 'sequential')", name="navigation_valid"),
    )

    @property
    def question_count(self) -> int:
        if self.fixed_list:
            return len(self.fixed)
        return sum(r.count for r in self.rules)


class DrawRule(db.Model):
    __tablename__ = "quiz_draw_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    quiz_id: Mapped[int] = mapped_column(ForeignKey("quizzes.id", ondelete="CASCADE"),
                                         index=True)
    position: Mapped[int]
    bank_id: Mapped[int] = mapped_column(ForeignKey("question_banks.id", ondelete="CASCADE"))
    category_id: Mapped[int | None] = mapped_column(ForeignKey("bank_categories.id",
                                                               ondelete="CASCADE"))
    tag: Mapped[str] = mapped_column(String(64), default="")
    difficulty: Mapped[int | None]
    qtype: Mapped[str] = mapped_column(String(16), default="")
    count: Mapped[int]
    points: Mapped[Decimal] = mapped_column(Numeric(8, 2), default=Decimal(1))

    quiz: Mapped[Quiz] = relationship(back_populates="rules")

    __table_args__ = (CheckConstraint("count > 0", name="count_positive"),)


class FixedQuestion(db.Model):
    """A question chosen by hand (by lineage, so its current version is used)."""

    __tablename__ = "quiz_fixed_questions"

    quiz_id: Mapped[int] = mapped_column(ForeignKey("quizzes.id", ondelete="CASCADE"),
                                         primary_key=True)
    lineage_id: Mapped[int] = mapped_column(primary_key=True)
    position: Mapped[int]
    points: Mapped[Decimal] = mapped_column(Numeric(8, 2), default=Decimal(1))


class QuizAssignment(db.Model):
    """Who may take a standalone quiz (besides open-to-all quizzes and course enrolments)."""

    __tablename__ = "quiz_assignments"

    quiz_id: Mapped[int] = mapped_column(ForeignKey("quizzes.id", ondelete="CASCADE"),
                                         primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_members.id", ondelete="CASCADE"),
                                          primary_key=True, index=True)
    assigned_at: Mapped[datetime]


class QuizOverride(db.Model):
    """Per-person exceptions: extra time, extra attempts, other dates."""

    __tablename__ = "quiz_overrides"

    quiz_id: Mapped[int] = mapped_column(ForeignKey("quizzes.id", ondelete="CASCADE"),
                                         primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_members.id", ondelete="CASCADE"),
                                          primary_key=True)
    extra_time_s: Mapped[int] = mapped_column(default=0)
    extra_attempts: Mapped[int] = mapped_column(default=0)
    open_at: Mapped[datetime | None]
    close_at: Mapped[datetime | None]
    updated_at: Mapped[datetime]


ATTEMPT_STATES = ("in_progress", "submitted", "expired", "abandoned")
# The partial unique index that keeps one attempt in progress per person and quiz; starting an
# attempt names it in its ON CONFLICT clause.
ONE_IN_PROGRESS = ("quiz_id", "staff_id")
IN_PROGRESS = text("state = 'in_progress'")


class Attempt(db.Model):
    __tablename__ = "attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    quiz_id: Mapped[int] = mapped_column(ForeignKey("quizzes.id", ondelete="CASCADE"))
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_members.id", ondelete="CASCADE"))
    # Set when the attempt is taken for a track enrolment (learning); limits count per enrolment.
    enrolment_id: Mapped[int | None] = mapped_column(index=True)
    number: Mapped[int]
    state: Mapped[str] = mapped_column(String(12), default="in_progress")
    started_at: Mapped[datetime]
    deadline_at: Mapped[datetime | None]
    submitted_at: Mapped[datetime | None]
    score: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    max_score: Mapped[Decimal] = mapped_column(Numeric(10, 2), default=Decimal(0))
    percent: Mapped[Decimal | None] = mapped_column(Numeric(6, 2))
    passed: Mapped[bool | None]
    mistakes_collected: Mapped[bool] = mapped_column(default=False)
    # Sequential navigation: the first position still open. Saves to earlier positions are
    # refused (inside the autosave's UPDATE); only a POST that moves to the next page moves it.
    open_from: Mapped[int] = mapped_column(default=0, server_default="0")

    quiz: Mapped[Quiz] = relationship()
    items: Mapped[list[AttemptItem]] = relationship(
        back_populates="attempt", order_by="AttemptItem.position", cascade="all, delete-orphan")

    __table_args__ = (
        CheckConstraint(f"state IN {ATTEMPT_STATES}", name="state_valid"),
        # At most one attempt in progress per person and quiz, enforced by the database.
        Index("uq_attempts_one_in_progress", *ONE_IN_PROGRESS, unique=True,
              sqlite_where=IN_PROGRESS, postgresql_where=IN_PROGRESS),
        Index("ix_attempts_staff_quiz", "staff_id", "quiz_id"),
        Index("ix_attempts_state_deadline", "state", "deadline_at"),
        # HR's figures (records): this year's finished attempts, ranked per person and quiz.
        Index("ix_attempts_submitted_at", "submitted_at"),
        # One quiz's attempts: its attempts page (the latest first, a page at a time), its
        # results and statistics (per person). Without them each read scanned every attempt.
        Index("ix_attempts_quiz_started", "quiz_id", "started_at"),
        Index("ix_attempts_quiz_staff", "quiz_id", "staff_id"),
    )

    @property
    def finished(self) -> bool:
        return self.state in ("submitted", "expired")

    @property
    def ended_by_time(self) -> bool:
        """Submitted because the time ran out: finalised by the server (expired), or by the
        page's own timer at zero (a submit at or after the deadline, within the grace)."""
        return self.state == "expired" or (
            self.state == "submitted" and self.deadline_at is not None and
            self.submitted_at is not None and self.submitted_at >= self.deadline_at)


class AttemptItem(db.Model):
    """One drawn question, snapshotted: later bank edits change nothing here."""

    __tablename__ = "attempt_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("attempts.id", ondelete="CASCADE"))
    position: Mapped[int]
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id"))
    lineage_id: Mapped[int] = mapped_column(index=True)
    # qtype, stem, text_format, explanation, choices [{text, weight, feedback}], points
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON)
    # Indexes into snapshot["choices"], in the order shown to the person.
    choice_order: Mapped[list[int]] = mapped_column(JSON)
    # Indexes into snapshot["choices"] the person ticked (last saved).
    selected: Mapped[list[int]] = mapped_column(JSON, default=list)
    # Bumped by every accepted save; a save based on an older version is refused.
    version: Mapped[int] = mapped_column(default=0)
    saved_at: Mapped[datetime | None]
    locked: Mapped[bool] = mapped_column(default=False)  # practice: answer locked, key shown
    mark: Mapped[Decimal | None] = mapped_column(Numeric(8, 2))
    max_mark: Mapped[Decimal] = mapped_column(Numeric(8, 2))

    attempt: Mapped[Attempt] = relationship(back_populates="items")

    __table_args__ = (UniqueConstraint("attempt_id", "position"),)


class MistakeEntry(db.Model):
    """错题本: a question a person got wrong, until two full-mark practice answers in a row."""

    __tablename__ = "mistake_entries"

    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_members.id", ondelete="CASCADE"),
                                          primary_key=True)
    lineage_id: Mapped[int] = mapped_column(primary_key=True)
    added_at: Mapped[datetime]
    last_wrong_at: Mapped[datetime]
    streak: Mapped[int] = mapped_column(default=0)
    times_wrong: Mapped[int] = mapped_column(default=1)
    cleared_at: Mapped[datetime | None]
