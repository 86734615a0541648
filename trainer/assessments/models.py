"""Practical assessments (实操考评): forms a trainer writes, and the assessments an assessor records
against them.

A form is edited in place (a fixed wording is a new version number); an assessment keeps a
snapshot of the form as it was scored (title, items, points, pass mark) and of the points given,
so a later edit never rewrites a past result. An assessment is never deleted: a mistake is voided
with a reason, and the voided record stays in the history."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from trainer.accounts.models import StaffMember
from trainer.core.db import db

# What a form is for: the checks seed 004 names before duty (上岗测试), after re-entry (复职鉴定)
# and after a promotion's internship (实习考评, with the 内训师's 公开课考评 among them).
PURPOSES = ("duty", "reentry", "internship", "other")
SOURCES = ("shipped", "web")


class AssessmentForm(db.Model):
    """A form (考评表): items with points, some critical, a pass mark, a wait before a retake."""

    __tablename__ = "assessment_forms"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Shipped forms are keyed by their file name; forms written in the site have none.
    key: Mapped[str | None] = mapped_column(String(80), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    purpose: Mapped[str] = mapped_column(String(12), default="other")
    pass_percent: Mapped[int]
    retake_wait_days: Mapped[int] = mapped_column(default=7)
    version: Mapped[int] = mapped_column(default=1)
    source: Mapped[str] = mapped_column(String(8), default="web")
    content_hash: Mapped[str] = mapped_column(String(64), default="")
    retired: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime]
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_members.id",
                                                                 ondelete="SET NULL"))

    items: Mapped[list[FormItem]] = relationship(
        back_populates="form", order_by="FormItem.position", cascade="all, delete-orphan",
        lazy="selectin")

    __table_args__ = (
        CheckConstraint(f"purpose IN {PURPOSES}", name="purpose_valid"),
        CheckConstraint(f"source IN {SOURCES}", name="source_valid"),
        CheckConstraint("pass_percent BETWEEN 1 AND 100", name="pass_percent_valid"),
        CheckConstraint("retake_wait_days BETWEEN 0 AND 90", name="retake_wait_valid"),
    )

    @property
    def total(self) -> Decimal:
        return sum((item.points for item in self.items), Decimal(0))


class FormItem(db.Model):
    __tablename__ = "assessment_form_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    form_id: Mapped[int] = mapped_column(ForeignKey("assessment_forms.id", ondelete="CASCADE"))
    position: Mapped[int]
    section: Mapped[str] = mapped_column(String(80), default="")
    text: Mapped[str] = mapped_column(String(500))
    points: Mapped[Decimal] = mapped_column(Numeric(5, 1))
    critical: Mapped[bool] = mapped_column(default=False)

    form: Mapped[AssessmentForm] = relationship(back_populates="items")

    __table_args__ = (
        CheckConstraint("points > 0 AND points <= 100", name="points_valid"),
        Index("ix_assessment_form_items_form", "form_id", "position"),
    )


class Assessment(db.Model):
    """One assessment of a person on a form, as recorded by an assessor."""

    __tablename__ = "assessments"

    id: Mapped[int] = mapped_column(primary_key=True)
    form_id: Mapped[int] = mapped_column(ForeignKey("assessment_forms.id", ondelete="RESTRICT"))
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_members.id", ondelete="RESTRICT"))
    assessor_id: Mapped[int] = mapped_column(ForeignKey("staff_members.id",
                                                        ondelete="RESTRICT"))
    assessed_on: Mapped[date]            # the centre's local date it took place
    context: Mapped[str] = mapped_column(String(300), default="")   # a call id, a scene
    # {"title", "version", "pass_percent", "items": [{"key", "section", "text", "points",
    #  "critical", "awarded", "note"}]} as scored (points as strings: exact decimals)
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON)
    total: Mapped[Decimal] = mapped_column(Numeric(7, 1))
    out_of: Mapped[Decimal] = mapped_column(Numeric(7, 1))
    passed: Mapped[bool]
    comments: Mapped[str] = mapped_column(Text, default="")
    recorded_at: Mapped[datetime]
    # The person's acknowledgement (确认知悉: acknowledging is not agreeing) and their comment.
    acknowledged_at: Mapped[datetime | None]
    person_comment: Mapped[str] = mapped_column(Text, default="")
    voided_at: Mapped[datetime | None]
    voided_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_members.id",
                                                                ondelete="SET NULL"))
    void_reason: Mapped[str] = mapped_column(Text, default="")

    form: Mapped[AssessmentForm] = relationship()
    staff: Mapped[StaffMember] = relationship(foreign_keys=[staff_id])
    assessor: Mapped[StaffMember] = relationship(foreign_keys=[assessor_id])

    __table_args__ = (
        CheckConstraint("staff_id <> assessor_id", name="not_self"),
        Index("ix_assessments_staff_form", "staff_id", "form_id", "assessed_on"),
        Index("ix_assessments_assessor", "assessor_id", "recorded_at"),
    )

    @property
    def percent(self) -> Decimal:
        return (self.total * 100 / self.out_of).quantize(Decimal("0.1"), rounding="ROUND_DOWN")

    @property
    def critical_failed(self) -> list[dict[str, Any]]:
        return [item for item in self.snapshot.get("items", [])
                if item.get("critical") and Decimal(item["awarded"]) < Decimal(item["points"])]
