"""Staff accounts and the staff record. Services flush, never commit; routes commit once."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Iterable

from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.orm import joinedload

from trainer.accounts import rules
from trainer.accounts.models import Login, StaffEvent, StaffMember, StaffRole, login_key_hash
from trainer.accounts.passwords import (
    burn_verification_time,
    hash_password,
    needs_rehash,
    verify_password,
)
from trainer.accounts.signals import staff_event_recorded
from trainer.accounts.staff_import import RowError, StaffImport, parse_staff_table, read_table
from trainer.core.audit import record_event
from trainer.core.db import db
from trainer.core.errors import DomainError, Forbidden, NotFound
from trainer.core.permissions import ROLES
from trainer.core.textfiles import DecodeError
from trainer.core.timeutil import is_valid_timezone, utcnow

PRIVILEGED_ROLES = {"admin", "hr"}


def _check_may_grant(actor: StaffMember, old: set[str], new: set[str]) -> None:
    unknown = new - set(ROLES)
    if unknown:
        raise DomainError("Unknown role %(role)s.", role=", ".join(sorted(unknown)))
    if (old ^ new) & PRIVILEGED_ROLES and not actor.has_role("admin"):
        raise Forbidden("Only an administrator may grant or remove the HR and admin roles.")


def may_manage(actor: StaffMember, target: StaffMember) -> bool:
    """HR manages staff; only an admin manages an admin's account."""
    return actor.has_role("admin") or (actor.has_role("hr") and not target.has_role("admin"))


def check_may_manage(actor: StaffMember, target: StaffMember) -> None:
    if not may_manage(actor, target):
        raise Forbidden("You may not change this account.")


def _set_roles(staff: StaffMember, roles: Iterable[str]) -> None:
    wanted = set(roles)
    staff.roles[:] = [r for r in staff.roles if r.role in wanted]
    for role in sorted(wanted - staff.role_names):
        staff.roles.append(StaffRole(role=role))


def _validate_profile(name: str, locale: str, timezone: str) -> None:
    if not name.strip():
        raise DomainError("The name is required.")
    if locale not in ("zh_CN", "en"):
        raise DomainError("Unknown language %(locale)s.", locale=locale)
    if not is_valid_timezone(timezone):
        raise DomainError("Unknown time zone %(tz)s.", tz=timezone)


def get_staff_by_employee_no(employee_no: str) -> StaffMember | None:
    """The person with this employee number, however it is cased or (NFKC) written. With the
    roles joined: a sign-in needs them for the landing page (one statement, not two)."""
    return db.session.execute(
        select(StaffMember).where(StaffMember.employee_no_key == rules.employee_no_key(
            employee_no)).options(joinedload(StaffMember.roles))
    ).unique().scalar()


def create_staff(
    actor: StaffMember | None,
    *,
    employee_no: str,
    name: str,
    department: str = "",
    position: str = "",
    hire_date: date,
    roles: Iterable[str] = ("learner",),
    locale: str = "zh_CN",
    timezone: str = "Asia/Shanghai",
    now: datetime,
    password: str | None = None,
) -> tuple[StaffMember, str]:
    """Create a staff member with a hire event. Returns (staff, one-time password).

    actor=None is the system itself (setup). The password must be changed at first login
    unless one was given (demo accounts)."""
    employee_no = rules.normalise_employee_no(employee_no)
    _validate_profile(name, locale, timezone)
    roles = set(roles) or {"learner"}
    if actor is not None:
        _check_may_grant(actor, set(), roles)
    if get_staff_by_employee_no(employee_no) is not None:
        raise DomainError("Employee number %(no)s is already in use.", no=employee_no)
    # An explicit password is the system's own (demo accounts, tests), not a person's choice.
    otp = password or rules.one_time_password(name=name, employee_no=employee_no,
                                              department=department)
    staff = StaffMember(
        employee_no=employee_no, employee_no_key=rules.employee_no_key(employee_no),
        name=name.strip(), department=department.strip(),
        position=position.strip(), hire_date=hire_date, locale=locale, timezone=timezone,
        password_hash=hash_password(otp), must_change_password=password is None,
        login_enabled=True, status="active",
        created_at=now, updated_at=now,
    )
    _set_roles(staff, roles)
    db.session.add(staff)
    db.session.flush()
    record_event(actor.id if actor else None, "staff.created", "staff", staff.id, now=now,
                 details={"employee_no": employee_no, "roles": sorted(roles)})
    record_staff_event(actor, staff, kind="hire", occurred_on=hire_date, now=now,
                       note="", audit=False)
    return staff, otp


def update_staff(
    actor: StaffMember,
    staff: StaffMember,
    *,
    name: str,
    department: str,
    position: str,
    hire_date: date | None,
    roles: Iterable[str],
    locale: str,
    timezone: str,
    now: datetime,
) -> None:
    """Edit a staff member's profile and roles (audited with the fields that changed)."""
    check_may_manage(actor, staff)
    _validate_profile(name, locale, timezone)
    new_roles = set(roles)
    if not new_roles:
        raise DomainError("A person needs at least one role.")
    _check_may_grant(actor, staff.role_names, new_roles)
    if staff.id == actor.id and "admin" in staff.role_names and "admin" not in new_roles:
        raise DomainError("You cannot remove your own administrator role.")
    before = {"name": staff.name, "department": staff.department, "position": staff.position,
              "hire_date": staff.hire_date.isoformat() if staff.hire_date else None,
              "roles": sorted(staff.role_names), "locale": staff.locale,
              "timezone": staff.timezone}
    staff.name, staff.department, staff.position = name.strip(), department.strip(), position.strip()
    staff.hire_date, staff.locale, staff.timezone = hire_date, locale, timezone
    _set_roles(staff, new_roles)
    staff.updated_at = now
    after = {"name": staff.name, "department": staff.department, "position": staff.position,
             "hire_date": hire_date.isoformat() if hire_date else None,
             "roles": sorted(new_roles), "locale": locale, "timezone": timezone}
    changed = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
    if changed:
        record_event(actor.id, "staff.updated", "staff", staff.id, now=now, details=changed)
    db.session.flush()


def set_login_enabled(actor: StaffMember, staff: StaffMember, enabled: bool, *,
                      now: datetime) -> None:
    """Deactivate (or reactivate) an account; deactivation signs the person out everywhere."""
    check_may_manage(actor, staff)
    if staff.id == actor.id and not enabled:
        raise DomainError("You cannot deactivate your own account.")
    if staff.login_enabled == enabled:
        return
    staff.login_enabled = enabled
    if not enabled:
        end_logins(actor, staff, reason="deactivated", now=now)
    staff.updated_at = now
    record_event(actor.id, "staff.activated" if enabled else "staff.deactivated", "staff",
                 staff.id, now=now)
    db.session.flush()


def reset_password(actor: StaffMember, staff: StaffMember, *, now: datetime) -> str:
    """Give the person a new one-time password, to be changed at their next login."""
    check_may_manage(actor, staff)
    otp = rules.one_time_password(name=staff.name, employee_no=staff.employee_no,
                                  department=staff.department)
    staff.password_hash = hash_password(otp)
    staff.must_change_password = True
    end_logins(actor, staff, reason="password_reset", now=now)
    staff.updated_at = now
    record_event(actor.id, "staff.password_reset", "staff", staff.id, now=now)
    db.session.flush()
    return otp


def change_password(staff: StaffMember, current: str, new: str, *, now: datetime) -> None:
    """The person chooses their own password (required after a one-time password)."""
    if not verify_password(staff.password_hash, current):
        raise DomainError("The current password is wrong.")
    if current == new:
        raise DomainError("The new password must differ from the current one.")
    problems = rules.password_problems(new, name=staff.name, employee_no=staff.employee_no,
                                       department=staff.department)
    if problems:
        raise rules.PasswordRefused(problems)
    staff.password_hash = hash_password(new)
    staff.must_change_password = False
    end_logins(staff, staff, reason="password_changed", now=now)
    staff.updated_at = now
    record_event(staff.id, "staff.password_changed", "staff", staff.id, now=now)
    db.session.flush()


def authenticate(employee_no: str, password: str, *, now: datetime) -> StaffMember | None:
    """The staff member these credentials belong to, or None. Disabled accounts never pass.
    Reads only (the sign-in's writes come after, in a short write transaction)."""
    staff = get_staff_by_employee_no(employee_no.strip()) if employee_no else None
    if staff is None:
        burn_verification_time()
        return None
    if not verify_password(staff.password_hash, password) or not staff.is_active:
        return None
    return staff


def needs_new_hash(staff: StaffMember) -> bool:
    """Whether the stored hash is weaker than today's parameters (rehashed at sign-in)."""
    return needs_rehash(staff.password_hash)


def store_new_hash(staff_id: int, password: str) -> None:
    db.session.execute(update(StaffMember).where(StaffMember.id == staff_id)
                       .values(password_hash=hash_password(password)))


def record_sign_in_alarm(action: str, details: dict, *, now: datetime) -> None:
    """A lockout rule started slowing an account or refusing a sprayed password (throttle)."""
    record_event(None, action, "login", None, now=now, details=details)


# Logins. Each sign-in is a row; its key travels in the session and remember cookies
# (StaffMember.get_id), and only its hash is stored.

# "Last seen" moves at most this often per login: a write per request would queue every page
# behind SQLite's one write lock.
LAST_SEEN_EVERY = timedelta(minutes=10)
# Login records are kept this long (`trainer accounts prune`), then deleted.
LOGINS_KEPT = timedelta(days=180)


def start_login(staff: StaffMember, *, remember: bool, lifetime: timedelta, address: str,
                user_agent: str, now: datetime) -> str:
    """Record a sign-in of this person; returns its key and makes it the person's current login
    (what get_id() hands to the cookies)."""
    login, key = Login.new(staff.id, now=now, remember=remember, lifetime=lifetime,
                           address=address, user_agent=user_agent)
    db.session.add(login)
    db.session.flush()
    staff.login_key, staff.login_id, staff.login_last_seen = key, login.id, now
    return key


def _end(query, *, reason: str, actor: StaffMember | None, now: datetime) -> int:
    return db.session.execute(query.where(Login.ended_at.is_(None)).values(
        ended_at=now, end_reason=reason, ended_by_id=actor.id if actor else None)
    ).rowcount


def end_login(actor: StaffMember, login: Login, *, now: datetime,
              reason: str = "ended") -> None:
    """End one login: its cookies are refused from the next request on. The person ends their
    own; HR ends anyone's but an admin's (check_may_manage)."""
    if login.staff_id != actor.id:
        check_may_manage(actor, db.session.get(StaffMember, login.staff_id))
    if _end(update(Login).where(Login.id == login.id), reason=reason, actor=actor, now=now) \
            and reason != "signed_out":
        record_event(actor.id, "login.ended", "staff", login.staff_id, now=now,
                     details={"login_id": login.id})
    db.session.flush()


def end_logins(actor: StaffMember | None, staff: StaffMember, *, reason: str, now: datetime,
               keep_id: int | None = None) -> int:
    """End every open login of a person (but `keep_id`, this device); returns how many."""
    if actor is not None and actor.id != staff.id:
        check_may_manage(actor, staff)
    query = update(Login).where(Login.staff_id == staff.id)
    if keep_id is not None:
        query = query.where(Login.id != keep_id)
    ended = _end(query, reason=reason, actor=actor, now=now)
    if ended and reason == "ended":
        record_event(actor.id if actor else None, "login.ended", "staff", staff.id, now=now,
                     details={"count": ended})
    db.session.flush()
    return ended


def logins_of(staff_id: int, *, now: datetime, ended_within: timedelta = timedelta(days=30)
              ) -> tuple[list[Login], list[Login]]:
    """(open logins, logins ended or expired recently) of a person, newest first."""
    rows = db.session.scalars(select(Login).where(
        Login.staff_id == staff_id, Login.created_at >= now - LOGINS_KEPT,
        func.coalesce(Login.ended_at, Login.expires_at) >= now - ended_within)
        .order_by(Login.created_at.desc())).all()
    return [r for r in rows if r.is_open(now)], [r for r in rows if not r.is_open(now)]


def own_login(staff: StaffMember, login_id: int) -> Login:
    login = db.session.get(Login, login_id)
    if login is None or login.staff_id != staff.id:
        raise NotFound("No such sign-in.")
    return login


def needs_touch(staff: StaffMember, now: datetime) -> bool:
    seen = getattr(staff, "login_last_seen", None)
    return staff.login_id is not None and seen is not None and now - seen >= LAST_SEEN_EVERY


def touch_login(login_id: int, *, now: datetime) -> None:
    """Move a login's "last seen" (conditional, so requests racing to do it write once)."""
    db.session.execute(update(Login).where(
        Login.id == login_id, Login.last_seen_at <= now - LAST_SEEN_EVERY
    ).values(last_seen_at=now))


def prune_logins(*, now: datetime) -> int:
    """Delete login records older than LOGINS_KEPT (cron, idempotent); returns how many."""
    return db.session.execute(
        delete(Login).where(Login.created_at < now - LOGINS_KEPT)).rowcount


# Every signed-in request runs this: one statement (the login and the roles joined), built once.
# Loading the roles with a second SELECT (the relationship's selectin default) cost as much
# again (bench/profile_exam.py).
_USER_BY_LOGIN = select(StaffMember, Login.id, Login.last_seen_at).join(
    Login, Login.staff_id == StaffMember.id).where(
    StaffMember.id == bindparam("staff_id"), Login.key_hash == bindparam("key_hash"),
    Login.ended_at.is_(None), Login.expires_at > bindparam("now")).options(
    joinedload(StaffMember.roles))


def load_user(user_id: str) -> StaffMember | None:
    """Flask-Login's loader: the cookie holds id:login key, so an ended or expired login signs
    that cookie out, wherever it was copied to."""
    staff_id, _, key = user_id.partition(":")
    if not staff_id.isdigit() or not key or len(staff_id) > 18:
        return None
    row = db.session.execute(_USER_BY_LOGIN, {
        "staff_id": int(staff_id), "key_hash": login_key_hash(key), "now": utcnow()}
    ).unique().first()
    if row is None:
        return None
    staff, staff.login_id, staff.login_last_seen = row
    staff.login_key = key
    return staff


def record_staff_event(
    actor: StaffMember | None,
    staff: StaffMember,
    *,
    kind: str,
    occurred_on: date,
    now: datetime,
    today: date | None = None,
    note: str = "",
    position: str = "",
    audit: bool = True,
) -> StaffEvent:
    """Add a fact to the staff record, re-derive the status and tell subscribers (learning)."""
    if actor is not None:
        check_may_manage(actor, staff)
    if kind not in rules.RECORDABLE_KINDS:
        raise DomainError("Unknown event type %(kind)s.", kind=kind)
    if today is not None and occurred_on > today:
        raise DomainError("An event is recorded once it has happened: %(date)s is in the future.",
                          date=occurred_on.isoformat())
    position = position.strip()
    if kind in ("nomination", "position_change") and not position:
        raise DomainError("Name the position.")
    existing = list(staff.events)
    rules.check_sequence(existing + [rules.NewEvent(kind, occurred_on)])
    event = StaffEvent(staff=staff, kind=kind, occurred_on=occurred_on, note=note.strip(),
                       position=position, recorded_at=now,
                       recorded_by_id=actor.id if actor else None)
    db.session.add(event)
    db.session.flush()
    _apply_derived(staff, now)
    if audit:
        record_event(actor.id if actor else None, f"staff_event.{kind}", "staff", staff.id,
                     now=now, details={"event_id": event.id, "on": occurred_on.isoformat(),
                                       "position": position, "note": note.strip()})
    staff_event_recorded.send(event, now=now)
    return event


def void_staff_event(actor: StaffMember, event: StaffEvent, *, note: str,
                     now: datetime) -> StaffEvent:
    """Cancel a recorded event by adding a 'void' event; the original stays in the history."""
    staff = event.staff
    check_may_manage(actor, staff)
    if event.kind in ("void",):
        raise DomainError("A correction cannot itself be voided.")
    if any(e.kind == "void" and e.voids_event_id == event.id for e in staff.events):
        raise DomainError("This event is already voided.")
    if not note.strip():
        raise DomainError("Say why the event is voided.")
    remaining = [e for e in staff.events if e.id != event.id]
    rules.check_sequence(remaining)
    void = StaffEvent(staff=staff, kind="void", occurred_on=event.occurred_on,
                      voids_event_id=event.id, note=note.strip(), recorded_at=now,
                      recorded_by_id=actor.id)
    db.session.add(void)
    db.session.flush()
    _apply_derived(staff, now)
    record_event(actor.id, "staff_event.voided", "staff", staff.id, now=now,
                 details={"event_id": event.id, "note": note.strip()})
    staff_event_recorded.send(void, now=now)
    return void


def _apply_derived(staff: StaffMember, now: datetime) -> None:
    db.session.refresh(staff, ["events"])
    effective = rules.effective_events(staff.events)
    staff.status = rules.derive_status(effective)
    for event in effective:
        if event.kind == "position_change":
            staff.position = event.position
        if event.kind == "hire" and staff.hire_date is None:
            staff.hire_date = event.occurred_on
    staff.updated_at = now
    db.session.flush()


@dataclass
class ImportOutcome:
    created: list[tuple[StaffMember, str]]
    errors: list[RowError]
    rows_read: int


def import_staff(actor: StaffMember, data: bytes, filename: str, *, now: datetime,
                 today: date) -> ImportOutcome:
    """Validate a whole staff list first; create everyone, or nobody when any row is bad."""
    try:
        table = read_table(data, filename)
    except DecodeError as exc:
        row = exc.params.get("row", 0)  # known when the damage is inside the sheet
        return ImportOutcome([], [RowError(row if isinstance(row, int) else 0, "", exc.message,
                                           exc.params, brace=True)], 0)
    parsed: StaffImport = parse_staff_table(table, today)
    errors = list(parsed.errors)
    keys = [rules.employee_no_key(r.employee_no) for r in parsed.rows]
    if keys:
        taken = set(db.session.scalars(
            select(StaffMember.employee_no_key).where(StaffMember.employee_no_key.in_(keys))))
        for row in parsed.rows:
            if rules.employee_no_key(row.employee_no) in taken:
                errors.append(RowError(row.row, "工号", "Employee number %(value)s is already in "
                                       "use.", {"value": row.employee_no}))
            if PRIVILEGED_ROLES & set(row.roles) and not actor.has_role("admin"):
                errors.append(RowError(row.row, "角色", "Only an administrator may grant the HR "
                                       "and admin roles."))
    if errors:
        errors.sort(key=lambda e: (e.row, e.column))
        return ImportOutcome([], errors, len(parsed.rows))
    created = []
    for row in parsed.rows:
        try:
            created.append(create_staff(
                actor, employee_no=row.employee_no, name=row.name, department=row.department,
                position=row.position, hire_date=row.hire_date, roles=row.roles, now=now))
        except DomainError as exc:
            # Every row passed the checks above, so only a change made meanwhile (another import
            # of the same person) gets here; the caller rolls back the rows already written.
            return ImportOutcome([], [RowError(row.row, "", exc.message, exc.params)],
                                 len(parsed.rows))
    record_event(actor.id, "staff.imported", "staff", None, now=now,
                 details={"filename": filename, "count": len(created)})
    return ImportOutcome(created, [], len(parsed.rows))
