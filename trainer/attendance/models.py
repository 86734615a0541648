"""Classes, sessions, rosters with their history, leave requests, attendance marks and the
training survey. Marks and sign-up changes are appended, never updated."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Index, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from trainer.core.db import db

SIGNUP_MODES = ("open", "invitation")
ROSTER_STATES = ("booked", "waitlisted", "cancelled")
SIGNUP_ACTIONS = ("invited", "signed_up", "waitlisted", "promoted", "cancelled", "removed")
LEAVE_STATES = ("pending", "approved", "declined")
MARK_KINDS = ("check_in", "check_out", "present", "absent", "correction")
MARK_VIA = ("code", "qr", "grid", "sheet", "correction")


class TrainingClass(db.Model):
    """A class (培训班): one or more sessions, a roster, a survey."""

    __tablename__ = "classes"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    # The course whose classroom requirement attending it satisfies (learning's requirements).
    course_id: Mapped[int | None] = mapped_column(ForeignKey("courses.id", ondelete="SET NULL"))
    hours_category: Mapped[str] = mapped_column(String(20))
    place: Mapped[str] = mapped_column(String(200), default="")
    link: Mapped[str] = mapped_column(String(500), default="")
    capacity: Mapped[int | None]
    cost: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    signup_mode: Mapped[str] = mapped_column(String(12), default="invitation")
    # Share of the class's minutes a person must attend to complete it (percent).
    completion_share: Mapped[int] = mapped_column(default=80)
    # Completing the class issues a 结业证书 (the certificates area reads it).
    issues_certificate: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_members.id",
                                                                 ondelete="SET NULL"))
    closed_at: Mapped[datetime | None]        # roster and marks frozen
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_members.id",
                                                                ondelete="SET NULL"))
    # Made when the class is closed (attendance.paper); loaded only when asked for.
    evidence_pdf: Mapped[bytes | None] = mapped_column(deferred=True)

    sessions: Mapped[list[ClassSession]] = relationship(
        back_populates="training_class", order_by="ClassSession.starts_at",
        cascade="all, delete-orphan")
    trainers: Mapped[list[ClassTrainer]] = relationship(cascade="all, delete-orphan",
                                                        lazy="selectin")

    __table_args__ = (
        CheckConstraint(f"signup_mode IN {SIGNUP_MODES}", name="signup_mode_valid"),
        CheckConstraint("capacity IS NULL OR capacity > 0", name="capacity_positive"),
        CheckConstraint("completion_share BETWEEN 1 AND 100", name="share_valid"),
    )

    @property
    def trainer_ids(self) -> set[int]:
        return {t.staff_id for t in self.trainers}


class ClassTrainer(db.Model):
    __tablename__ = "class_trainers"

    class_id: Mapped[int] = mapped_column(ForeignKey("classes.id", ondelete="CASCADE"),
                                          primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_members.id", ondelete="CASCADE"),
                                          primary_key=True)


class ClassSession(db.Model):
    """A session (课次): its times, windows and thresholds, and the secret its codes are made
    from."""

    __tablename__ = "class_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    class_id: Mapped[int] = mapped_column(ForeignKey("classes.id", ondelete="CASCADE"),
                                          index=True)
    starts_at: Mapped[datetime] = mapped_column(index=True)
    ends_at: Mapped[datetime]
    place: Mapped[str] = mapped_column(String(200), default="")  # when not the class's
    checkin_opens_min: Mapped[int]
    checkin_closes_min: Mapped[int]
    checkout_opens_min: Mapped[int]
    checkout_closes_min: Mapped[int]
    late_after_min: Mapped[int]
    early_leave_min: Mapped[int]
    checkout_required: Mapped[bool]
    secret: Mapped[str] = mapped_column(String(64))          # hex; codes are HMACs with it
    uid: Mapped[str] = mapped_column(String(80), unique=True)  # the calendar's stable UID
    sequence: Mapped[int] = mapped_column(default=0)           # raised on every change
    cancelled_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_members.id",
                                                                ondelete="SET NULL"))
    updated_at: Mapped[datetime]

    training_class: Mapped[TrainingClass] = relationship(back_populates="sessions")

    __table_args__ = (CheckConstraint("ends_at > starts_at", name="ends_after_start"),)


class RosterEntry(db.Model):
    """Where a person stands on a class's roster now (the history is in SignupChange)."""

    __tablename__ = "class_roster"

    class_id: Mapped[int] = mapped_column(ForeignKey("classes.id", ondelete="CASCADE"),
                                          primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_members.id", ondelete="CASCADE"),
                                          primary_key=True, index=True)
    state: Mapped[str] = mapped_column(String(12))
    since: Mapped[datetime]                    # wait-list order: first come, first promoted

    __table_args__ = (CheckConstraint(f"state IN {ROSTER_STATES}", name="state_valid"),)


class SignupChange(db.Model):
    """One change to a roster: who, when, why. Never updated."""

    __tablename__ = "class_signup_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    class_id: Mapped[int] = mapped_column(ForeignKey("classes.id", ondelete="CASCADE"),
                                          index=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_members.id", ondelete="CASCADE"))
    action: Mapped[str] = mapped_column(String(12))
    at: Mapped[datetime]
    by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_members.id", ondelete="SET NULL"))
    reason: Mapped[str] = mapped_column(Text, default="")
    # A conflict the actor saw and overrode (a person in two sessions at once), and why.
    override: Mapped[str] = mapped_column(Text, default="")

    __table_args__ = (CheckConstraint(f"action IN {SIGNUP_ACTIONS}", name="action_valid"),)


class LeaveRequest(db.Model):
    """请假 for one session: asked before it by the agent, or recorded after its start by the
    class's trainer or HR; decided once."""

    __tablename__ = "leave_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("class_sessions.id", ondelete="CASCADE"))
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_members.id", ondelete="CASCADE"))
    reason: Mapped[str] = mapped_column(Text)
    requested_at: Mapped[datetime]
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_members.id",
                                                                   ondelete="SET NULL"))
    state: Mapped[str] = mapped_column(String(10), default="pending")
    decided_at: Mapped[datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_members.id",
                                                                 ondelete="SET NULL"))
    decision_note: Mapped[str] = mapped_column(Text, default="")

    __table_args__ = (
        CheckConstraint(f"state IN {LEAVE_STATES}", name="state_valid"),
        Index("ix_leave_requests_session_staff", "session_id", "staff_id"),
    )


class AttendanceMark(db.Model):
    """One mark of one person at one session, appended: a scan, a typed code, the trainer's
    grid, a paper sheet, or a correction with its reason. Status and minutes are derived
    (attendance.rules.derive)."""

    __tablename__ = "attendance_marks"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("class_sessions.id", ondelete="CASCADE"))
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_members.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(12))
    via: Mapped[str] = mapped_column(String(12))
    at: Mapped[datetime | None]                   # the scan's time
    check_in_at: Mapped[datetime | None]          # a correction's times
    check_out_at: Mapped[datetime | None]
    recorded_at: Mapped[datetime]
    author_id: Mapped[int | None] = mapped_column(ForeignKey("staff_members.id",
                                                             ondelete="SET NULL"))
    reason: Mapped[str] = mapped_column(Text, default="")
    # Only for flags (one device for two people, an address outside the centre's ranges);
    # addresses are cleared after a while (trainer attendance prune).
    address: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str] = mapped_column(String(255), default="")
    device_hash: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (
        CheckConstraint(f"kind IN {MARK_KINDS}", name="kind_valid"),
        CheckConstraint(f"via IN {MARK_VIA}", name="via_valid"),
        Index("ix_attendance_marks_session_staff", "session_id", "staff_id"),
        Index("ix_attendance_marks_staff", "staff_id"),
    )


class ClassCompletion(db.Model):
    """A person completed a class (attended enough of its minutes): what the class's
    requirement of a course and its 结业证书 follow."""

    __tablename__ = "class_completions"

    class_id: Mapped[int] = mapped_column(ForeignKey("classes.id", ondelete="CASCADE"),
                                          primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_members.id", ondelete="CASCADE"),
                                          primary_key=True, index=True)
    completed_at: Mapped[datetime]
    minutes: Mapped[int]


class SurveyAnswer(db.Model):
    """培训效果调查表: kept without the person or the time, so answers cannot be traced back."""

    __tablename__ = "survey_answers"

    # A random key, not a counter: the order of answers must not line up with anything else.
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    class_id: Mapped[int] = mapped_column(ForeignKey("classes.id", ondelete="CASCADE"),
                                          index=True)
    content: Mapped[int]
    trainer: Mapped[int]
    organisation: Mapped[int]
    overall: Mapped[int]
    suggestions: Mapped[str] = mapped_column(Text, default="")

    __table_args__ = (
        CheckConstraint("content BETWEEN 1 AND 5 AND trainer BETWEEN 1 AND 5 AND "
                        "organisation BETWEEN 1 AND 5 AND overall BETWEEN 1 AND 5",
                        name="ratings_valid"),
    )


class SurveyReceipt(db.Model):
    """That a person answered a class's survey (stops doubles), apart from the answer."""

    __tablename__ = "survey_receipts"

    class_id: Mapped[int] = mapped_column(ForeignKey("classes.id", ondelete="CASCADE"),
                                          primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_members.id", ondelete="CASCADE"),
                                          primary_key=True)


class CalendarFeed(db.Model):
    """A person's calendar feed: a random token in its URL, regenerated at will."""

    __tablename__ = "calendar_feeds"

    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_members.id", ondelete="CASCADE"),
                                          primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]

