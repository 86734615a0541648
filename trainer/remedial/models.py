"""The records of a remedial case, all hung on the remedial enrolment (learning.Enrolment)."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from trainer.accounts.models import StaffMember
from trainer.core.db import db

OUTCOMES = ("reinstated", "lower_post", "extended")


class RemedialPlan(db.Model):
    """The improvement plan (改进计划): goals, the courses and dates as agreed. A revision after
    the agent acknowledged it is a new number, acknowledged again; the old ones stay."""

    __tablename__ = "remedial_plans"

    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("enrolments.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(default=1)
    goals: Mapped[str] = mapped_column(Text)
    schedule: Mapped[str] = mapped_column(Text, default="")
    review_on: Mapped[date]          # when the overall evaluation is planned
    written_at: Mapped[datetime]
    written_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_members.id",
                                                                 ondelete="SET NULL"))
    acknowledged_at: Mapped[datetime | None]
    agent_comment: Mapped[str] = mapped_column(Text, default="")

    written_by: Mapped[StaffMember | None] = relationship(foreign_keys=[written_by_id])

    __table_args__ = (UniqueConstraint("enrolment_id", "number"),)


class CounsellingTalk(db.Model):
    """A face-to-face counselling talk (面谈 / 心理辅导): its date and who held it are part of the
    record; its notes are read only by HR and their writer (each read audited)."""

    __tablename__ = "remedial_counselling"

    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("enrolments.id", ondelete="CASCADE"))
    held_on: Mapped[date]
    counsellor: Mapped[str] = mapped_column(String(80))
    notes: Mapped[str] = mapped_column(Text, default="")
    written_at: Mapped[datetime]
    written_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_members.id",
                                                                 ondelete="SET NULL"))

    written_by: Mapped[StaffMember | None] = relationship(foreign_keys=[written_by_id])

    __table_args__ = (Index("ix_remedial_counselling_enrolment", "enrolment_id", "held_on"),)


class RemedialEvaluation(db.Model):
    """The overall evaluation (综合评价): reinstated, moved to a lower post (both end the
    stand-down and write the staff record), or extended to a new due date (the case goes on)."""

    __tablename__ = "remedial_evaluations"

    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("enrolments.id", ondelete="CASCADE"))
    outcome: Mapped[str] = mapped_column(String(12))
    decided_on: Mapped[date]
    notes: Mapped[str] = mapped_column(Text, default="")
    previous_due_on: Mapped[date]
    new_due_on: Mapped[date | None]
    position: Mapped[str] = mapped_column(String(80), default="")   # the lower post, as named
    # The staff events it recorded (a reinstatement; a lower post's position change).
    reinstated_event_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_events.id", ondelete="SET NULL"))
    position_event_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_events.id", ondelete="SET NULL"))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_members.id",
                                                                 ondelete="SET NULL"))
    recorded_at: Mapped[datetime]

    decided_by: Mapped[StaffMember | None] = relationship(foreign_keys=[decided_by_id])

    __table_args__ = (
        CheckConstraint(f"outcome IN {OUTCOMES}", name="outcome_valid"),
        CheckConstraint("outcome != 'extended' OR new_due_on IS NOT NULL", name="extended_due"),
        Index("ix_remedial_evaluations_enrolment", "enrolment_id", "decided_on"),
    )
