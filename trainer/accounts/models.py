"""Staff members, their roles, their working-life history, and the lists of departments and
positions HR keeps."""
from __future__ import annotations

import hashlib
import secrets
from datetime import date, datetime, timedelta

from flask_login import UserMixin
from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from trainer.core.db import db

STATUSES = ("active", "on_leave", "left")
EVENT_KINDS = ("hire", "leave_start", "leave_return", "nomination", "position_change", "leaving",
               "stood_down", "reinstated", "void")
# Why an agent is stood down (待岗): not meeting the post's requirements, or a serious violation.
STAND_DOWN_REASONS = ("performance", "violation")


class _ListEntry:
    """An entry of a list HR keeps (a department, a position). Staff records point at it, so a
    rename shows everywhere at once; an entry in use is deactivated, never deleted, and stays on
    the records that hold it. Names are unique among the active entries only, so a retired name
    can be used again."""

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    code: Mapped[str | None] = mapped_column(String(32))
    active: Mapped[bool] = mapped_column(default=True)
    sort_order: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"


def _unique_among_active(table: str) -> tuple[Index, Index]:
    return (Index(f"uq_{table}_active_name", "name", unique=True,
                  sqlite_where=text("active"), postgresql_where=text("active")),
            Index(f"uq_{table}_active_code", "code", unique=True,
                  sqlite_where=text("active"), postgresql_where=text("active")))


class Department(_ListEntry, db.Model):
    __tablename__ = "departments"
    __table_args__ = _unique_among_active("departments")


class Position(_ListEntry, db.Model):
    """A post (坐席, 班组长, 质检员 …). Posts will name their courses, internship length, due days
    and final assessment; those columns belong here when they come."""

    __tablename__ = "positions"
    __table_args__ = _unique_among_active("positions")


class StaffMember(UserMixin, db.Model):
    __tablename__ = "staff_members"

    id: Mapped[int] = mapped_column(primary_key=True)
    employee_no: Mapped[str] = mapped_column(String(32), unique=True)
    # What employee numbers are compared by (accounts.rules.employee_no_key): unique, so ÄSEC1
    # and äsec1 cannot both exist on any database, and sign-in looks people up by it.
    employee_no_key: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    # Some people have neither (an administrator, an external trainer).
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    position_id: Mapped[int | None] = mapped_column(ForeignKey("positions.id"), index=True)
    hire_date: Mapped[date | None]
    locale: Mapped[str] = mapped_column(String(10), default="zh_CN")
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    password_hash: Mapped[str] = mapped_column(String(255))
    must_change_password: Mapped[bool] = mapped_column(default=True)
    login_enabled: Mapped[bool] = mapped_column(default=True)
    # Derived from the staff events (accounts.rules.derive_status); kept here for queries.
    status: Mapped[str] = mapped_column(String(16), default="active", index=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    roles: Mapped[list[StaffRole]] = relationship(
        back_populates="staff", cascade="all, delete-orphan", lazy="selectin"
    )
    # Loaded when read (a many-to-one: once per entry and session), not joined into the
    # statement every signed-in request runs to load the person.
    department: Mapped[Department | None] = relationship()
    position: Mapped[Position | None] = relationship()
    events: Mapped[list[StaffEvent]] = relationship(
        back_populates="staff",
        foreign_keys="StaffEvent.staff_id",
        order_by="(StaffEvent.occurred_on, StaffEvent.id)",
        lazy="select",
    )

    __table_args__ = (
        CheckConstraint(f"status IN {STATUSES}", name="status_valid"),
        # A department's people in employee-number order (HR's lists, one page at a time):
        # a range of this index, no sort, whichever numbers the department holds.
        Index("ix_staff_members_department_employee_no", "department_id", "employee_no"),
    )

    @property
    def department_name(self) -> str:
        return self.department.name if self.department is not None else ""

    @property
    def position_name(self) -> str:
        return self.position.name if self.position is not None else ""

    @property
    def role_names(self) -> set[str]:
        return {r.role for r in self.roles}

    def has_role(self, role: str) -> bool:
        return role in self.role_names

    @property
    def is_active(self) -> bool:  # Flask-Login: may this person sign in?
        return self.login_enabled and self.status != "left"

    # The key of the login this request is signed in with (Login), set when the person signs in
    # or is loaded from a cookie; Flask-Login keeps get_id() in the session and the remember
    # cookie, so each cookie names its own login and ending that login refuses the cookie.
    # (Plain class attributes, not mapped: set per request.)
    login_key = None
    login_id = None
    login_last_seen = None
    notices = ()  # what recording its hire made happen (create_staff), for the one who did

    def get_id(self) -> str:
        return f"{self.id}:{self.login_key}"

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
        CheckConstraint("role IN ('learner', 'trainer', 'assessor', 'hr', 'admin')",
                        name="role_valid"),
    )


class StaffEvent(db.Model):
    """One fact of a working life. Never updated: a mistake is undone by a later 'void' event."""

    __tablename__ = "staff_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_members.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    occurred_on: Mapped[date]
    # A nomination or position change names a Position; its name as it was then is kept
    # beside it, since the event is never rewritten and a later rename must not change it.
    position_id: Mapped[int | None] = mapped_column(ForeignKey("positions.id"))
    position: Mapped[str] = mapped_column(String(80), default="")
    # A position change: the position the staff record held when it was recorded, put back if
    # the change is voided while still in force (None: none, or recorded before this column).
    previous_position_id: Mapped[int | None] = mapped_column(ForeignKey("positions.id"))
    note: Mapped[str] = mapped_column(Text, default="")
    # A stand-down: why (STAND_DOWN_REASONS); a position change a remedial evaluation decided
    # (a lower post): "remedial", so no transfer training follows; empty otherwise.
    reason: Mapped[str] = mapped_column(String(20), default="", server_default="")
    voids_event_id: Mapped[int | None] = mapped_column(ForeignKey("staff_events.id"))
    recorded_at: Mapped[datetime]
    recorded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_members.id", ondelete="SET NULL")
    )

    staff: Mapped[StaffMember] = relationship(back_populates="events", foreign_keys=[staff_id])
    recorded_by: Mapped[StaffMember | None] = relationship(foreign_keys=[recorded_by_id])
    position_entry: Mapped[Position | None] = relationship(foreign_keys=[position_id])

    # (Not mapped.) What the areas that reacted want the recorder told: "onboarding assigned,
    # due on …" (core.errors.Notice), set by accounts.services.record_staff_event.
    notices = ()

    __table_args__ = (
        CheckConstraint(f"kind IN {EVENT_KINDS}", name="kind_valid"),
        CheckConstraint(f"reason = '' OR (kind = 'stood_down' AND reason IN {STAND_DOWN_REASONS})"
                        " OR (kind = 'position_change' AND reason = 'remedial')",
                        name="reason_valid"),
        Index("ix_staff_events_staff_date", "staff_id", "occurred_on"),
    )


def login_key_hash(key: str) -> str:
    """What the database keeps of a login's key: its SHA-256, so the table alone cannot sign in."""
    return hashlib.sha256(key.encode()).hexdigest()


class Login(db.Model):
    """One sign-in: its cookies carry its key. Ending it (sign-out, a device ended, a password
    changed or reset, the account deactivated) refuses those cookies wherever they went."""

    __tablename__ = "logins"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_members.id", ondelete="CASCADE"),
                                          index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    remember: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(index=True)
    expires_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    address: Mapped[str] = mapped_column(String(45), default="")
    user_agent: Mapped[str] = mapped_column(String(255), default="")
    ended_at: Mapped[datetime | None]
    end_reason: Mapped[str | None] = mapped_column(String(20))
    ended_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_members.id", ondelete="SET NULL"))

    __table_args__ = (
        CheckConstraint("end_reason IN ('signed_out', 'ended', 'password_changed', "
                        "'password_reset', 'deactivated')", name="end_reason_valid"),
    )

    @classmethod
    def new(cls, staff_id: int, *, now: datetime, remember: bool, lifetime: timedelta,
            address: str, user_agent: str) -> tuple[Login, str]:
        """A login and its key (the key goes to the cookies; only its hash is stored)."""
        key = secrets.token_urlsafe(24)
        login = cls(staff_id=staff_id, key_hash=login_key_hash(key), remember=remember,
                    created_at=now, expires_at=now + lifetime, last_seen_at=now,
                    address=address[:45], user_agent=user_agent[:255])
        return login, key

    def is_open(self, now: datetime) -> bool:
        return self.ended_at is None and self.expires_at > now
