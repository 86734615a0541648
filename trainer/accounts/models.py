"""Staff members, their roles and their working-life history."""
from __future__ import annotations

from datetime import date, datetime

from flask_login import UserMixin
from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from trainer.core.db import db

STATUSES = ("active", "on_leave", "left")
EVENT_KINDS = ("hire", "leave_start", "leave_return", "nomination", "position_change", "leaving", "void")


class StaffMember(UserMixin, db.Model):
    __tablename__ = "staff_members"

    id: Mapped[int] = mapped_column(primary_key=True)
    employee_no: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    department: Mapped[str] = mapped_column(String(80), default="", index=True)
    position: Mapped[str] = mapped_column(String(80), default="")
    hire_date: Mapped[date | None]
    locale: Mapped[str] = mapped_column(String(10), default="zh_CN")
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    password_hash: Mapped[str] = mapped_column(String(255))
    must_change_password: Mapped[bool] = mapped_column(default=True)
    login_enabled: Mapped[bool] = mapped_column(default=True)
    # Derived from the staff events (accounts.rules.derive_status); kept here for queries.
    status: Mapped[str] = mapped_column(String(16), default="active", index=True)
    # Part of the login cookie's identity: rotating it signs the person out everywhere.
    session_token: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    roles: Mapped[list[StaffRole]] = relationship(
        back_populates="staff", cascade="all, delete-orphan", lazy="selectin"
    )
    events: Mapped[list[StaffEvent]] = relationship(
        back_populates="staff",
        foreign_keys="StaffEvent.staff_id",
        order_by="(StaffEvent.occurred_on, StaffEvent.id)",
        lazy="select",
    )

    __table_args__ = (
        CheckConstraint(f"status IN {STATUSES}", name="status_valid"),
    )

    @property
    def role_names(self) -> set[str]:
        return {r.role for r in self.roles}

    def has_role(self, role: str) -> bool:
        return role in self.role_names

    @property
    def is_active(self) -> bool:  # Flask-Login: may this person sign in?
        return self.login_enabled and self.status != "left"

    def get_id(self) -> str:
        return f"{self.id}:{self.session_token}"

    def __repr__(self) -> str:
        return f"<StaffMember {self.employee_no}>"


class StaffRole(db.Model):
    __tablename__ = "staff_roles"

    staff_id: Mapped[int] = mapped_column(
        ForeignKey("staff_members.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[str] = mapped_column(String(16), primary_key=True)

    staff: Mapped[StaffMember] = relationship(back_populates="roles")

    __table_args__ = (
        CheckConstraint("role IN ('learner', 'trainer', 'hr', 'admin')", name="role_valid"),
    )


class StaffEvent(db.Model):
    """One fact of a working life. Never updated: a mistake is undone by a later 'void' event."""

    __tablename__ = "staff_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_members.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    occurred_on: Mapped[date]
    position: Mapped[str] = mapped_column(String(80), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    voids_event_id: Mapped[int | None] = mapped_column(ForeignKey("staff_events.id"))
    recorded_at: Mapped[datetime]
    recorded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_members.id", ondelete="SET NULL")
    )

    staff: Mapped[StaffMember] = relationship(back_populates="events", foreign_keys=[staff_id])
    recorded_by: Mapped[StaffMember | None] = relationship(foreign_keys=[recorded_by_id])

    __table_args__ = (
        CheckConstraint(f"kind IN {EVENT_KINDS}", name="kind_valid"),
        Index("ix_staff_events_staff_date", "staff_id", "occurred_on"),
    )
