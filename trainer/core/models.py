"""Models shared by every area: the audit log and the centre's settings."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from trainer.core.db import db


class AuditEvent(db.Model):
    """Who did what to which object, and when. Written by every area, read by records."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime]
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("staff_members.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    __table_args__ = (
        Index("ix_audit_events_object", "object_type", "object_id"),
        Index("ix_audit_events_at", "at"),
    )


class Setting(db.Model):
    """One centre-wide setting (time zone, go-live date, per-track due days …) as JSON."""

    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON)
    updated_at: Mapped[datetime]


class TodoItem(db.Model):
    """What awaits a person (待办): an invitation, a leave decision, a survey, an assessment to
    acknowledge, a lesson revised while they were away. Each area adds and closes its own
    (core.todos); 我的培训 lists the open ones and the navigation bar counts them."""

    __tablename__ = "todo_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_members.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))        # e.g. "lesson.revised"
    ref: Mapped[str] = mapped_column(String(64))         # the object it is about, per kind
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime]
    due_on: Mapped[date | None]
    done_at: Mapped[datetime | None]

    __table_args__ = (
        UniqueConstraint("staff_id", "kind", "ref"),
        Index("ix_todo_items_open", "staff_id", "done_at"),
    )
