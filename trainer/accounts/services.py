"""Staff accounts and the staff record. Services flush, never commit; routes commit once."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Iterable

from sqlalchemy import and_, bindparam, delete, func, or_, select, update
from sqlalchemy.orm import joinedload

from trainer.accounts import rules
from trainer.accounts.models import (
    STAND_DOWN_REASONS,
    Department,
    Login,
    Position,
    StaffEvent,
    StaffMember,
    StaffRole,
    login_key_hash,
)
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
from trainer.core.errors import DomainError, Forbidden, N_, NotFound
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


# The lists HR keeps: departments and positions. Staff records point at an entry; an entry in
# use is deactivated, never deleted, and stays on the records that hold it.

ListEntry = Department | Position
ListModel = type[Department] | type[Position]
# Given to create_staff, update_staff and record_staff_event: an entry, its id (the HR forms) or
# its name (the staff import, setup, the demo, tests); None or "" for none.
EntryRef = Department | Position | int | str | None

_KIND = {Department: "department", Position: "position"}
_UNKNOWN = {Department: N_("There is no department named %(name)s. The departments are: "
                           "%(known)s."),
            Position: N_("There is no position named %(name)s. The positions are: "
                         "%(known)s.")}
_NO_SUCH = {Department: N_("There is no such department."),
            Position: N_("There is no such position.")}
_RETIRED = {Department: N_("The department %(name)s is no longer in use."),
            Position: N_("The position %(name)s is no longer in use.")}
_NAME_TAKEN = {Department: N_("There is already a department named %(name)s."),
               Position: N_("There is already a position named %(name)s.")}
_CODE_TAKEN = {Department: N_("The code %(code)s is already used by the department %(name)s."),
               Position: N_("The code %(code)s is already used by the position %(name)s.")}
_IN_USE = {Department: N_("The department %(name)s is in use (%(people)d people, %(events)d "
                          "events): deactivate it instead."),
           Position: N_("The position %(name)s is in use (%(people)d people, %(events)d "
                        "events): deactivate it instead.")}
# Enough for a message to show what is there without turning into a page.
_KNOWN_SHOWN = 30


def _check_may_keep_lists(actor: StaffMember | None) -> None:
    if actor is not None and not (actor.has_role("hr") or actor.has_role("admin")):
        raise Forbidden("Only HR keeps the lists of departments and positions.")


def list_entries(model: ListModel, *, active_only: bool = False) -> list[ListEntry]:
    """The entries of one list in the order HR gave them (active ones first)."""
    query = select(model).order_by(model.active.desc(), model.sort_order, model.name)
    if active_only:
        query = query.where(model.active.is_(True))
    return list(db.session.scalars(query))


def entry_choices(model: ListModel, *, keep: ListEntry | None = None) -> list[ListEntry]:
    """What a form offers: the active entries, and the one a record already holds even when it
    has been deactivated since (it stays on that record)."""
    entries = list_entries(model, active_only=True)
    if keep is not None and not keep.active:
        entries.append(keep)
    return entries


def people_per_entry(model: ListModel, *, include_left: bool = False) -> dict[int, int]:
    """How many staff members each entry holds (one grouped query)."""
    column = StaffMember.department_id if model is Department else StaffMember.position_id
    query = select(column, func.count()).where(column.is_not(None)).group_by(column)
    if not include_left:
        query = query.where(StaffMember.status != "left")
    return dict(db.session.execute(query).all())


def entries_in_use(model: ListModel) -> set[int]:
    """The entries some staff record or event points at (those may not be deleted)."""
    if model is Department:
        return set(db.session.scalars(select(StaffMember.department_id).where(
            StaffMember.department_id.is_not(None)).distinct()))
    return set(db.session.scalars(select(StaffMember.position_id).where(
        StaffMember.position_id.is_not(None)).union(select(StaffEvent.position_id).where(
            StaffEvent.position_id.is_not(None)))))


def known_names(model: ListModel) -> str:
    """The active entries' names, for a message saying which ones exist."""
    return _known_text([e.name for e in list_entries(model, active_only=True)])


def _known_text(names: list[str]) -> str:
    if not names:
        return "—"
    more = len(names) - _KNOWN_SHOWN
    return ", ".join(names[:_KNOWN_SHOWN]) + (f" … (+{more})" if more > 0 else "")


def active_entry_named(model: ListModel, name: str) -> ListEntry | None:
    return db.session.scalar(select(model).where(
        model.name == rules.list_entry_name(name), model.active.is_(True)))


def _clean_entry_fields(model: ListModel, name: str, code: str, *, entry_id: int | None,
                        among_active: bool = True) -> tuple[str, str | None]:
    """The name and code as stored, refused when empty, too long or (for an active entry) taken
    by another active entry of the list. An inactive entry may share them: they are unique
    among the active entries only, and checked again when it is brought back."""
    name = rules.list_entry_name(name)
    if not name:
        raise DomainError("Give the entry a name.")
    if len(name) > rules.LIST_NAME_MAX:
        raise DomainError("A name is at most 80 characters.")
    clean_code = rules.list_entry_name(code) or None
    if clean_code is not None and len(clean_code) > rules.LIST_CODE_MAX:
        raise DomainError("A code is at most 32 characters.")
    if not among_active:
        return name, clean_code
    others = select(model).where(model.active.is_(True))
    if entry_id is not None:
        others = others.where(model.id != entry_id)
    if db.session.scalar(others.where(model.name == name)) is not None:
        raise DomainError(_NAME_TAKEN[model], name=name)
    if clean_code is not None:
        holder = db.session.scalar(others.where(model.code == clean_code))
        if holder is not None:
            raise DomainError(_CODE_TAKEN[model], code=clean_code, name=holder.name)
    return name, clean_code


def _entry_details(entry: ListEntry) -> dict:
    return {"name": entry.name, "code": entry.code, "sort_order": entry.sort_order,
            "active": entry.active}


def create_list_entry(actor: StaffMember | None, model: ListModel, *, name: str,
                      code: str = "", sort_order: int | None = None,
                      now: datetime) -> ListEntry:
    """Add a department or position (audited). Without an order it goes last."""
    _check_may_keep_lists(actor)
    name, clean_code = _clean_entry_fields(model, name, code, entry_id=None)
    if sort_order is None:
        sort_order = (db.session.scalar(select(func.max(model.sort_order))) or 0) + 1
    entry = model(name=name, code=clean_code, active=True, sort_order=sort_order,
                  created_at=now, updated_at=now)
    db.session.add(entry)
    db.session.flush()
    kind = _KIND[model]
    record_event(actor.id if actor else None, f"{kind}.created", kind, entry.id, now=now,
                 details=_entry_details(entry))
    return entry


def update_list_entry(actor: StaffMember, entry: ListEntry, *, name: str, code: str,
                      sort_order: int, now: datetime) -> None:
    """Rename an entry, change its code or its place in the list (audited with what changed).
    Every record pointing at it shows the new name; recorded events keep the name they were
    recorded with."""
    _check_may_keep_lists(actor)
    model = type(entry)
    name, clean_code = _clean_entry_fields(model, name, code, entry_id=entry.id,
                                           among_active=entry.active)
    before = _entry_details(entry)
    entry.name, entry.code, entry.sort_order = name, clean_code, sort_order
    after = _entry_details(entry)
    changed = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
    if changed:
        entry.updated_at = now
        kind = _KIND[model]
        record_event(actor.id, f"{kind}.updated", kind, entry.id, now=now,
                     details={"name": entry.name, "changed": changed})
    db.session.flush()


def set_list_entry_active(actor: StaffMember, entry: ListEntry, active: bool, *,
                          now: datetime) -> None:
    """Deactivate an entry (no longer offered for new staff or events; it stays on the records
    that hold it) or bring it back (if no active entry has taken its name or code meanwhile)."""
    _check_may_keep_lists(actor)
    if entry.active == active:
        return
    model = type(entry)
    if active:
        _clean_entry_fields(model, entry.name, entry.code or "", entry_id=entry.id)
    entry.active = active
    entry.updated_at = now
    kind = _KIND[model]
    record_event(actor.id, f"{kind}.{'activated' if active else 'deactivated'}", kind,
                 entry.id, now=now, details={"name": entry.name})
    db.session.flush()


def delete_list_entry(actor: StaffMember, entry: ListEntry, *, now: datetime) -> None:
    """Remove an entry nobody holds and no event names (one added by mistake); one in use is
    refused: deactivate it instead."""
    _check_may_keep_lists(actor)
    model = type(entry)
    if model is Department:
        people = db.session.scalar(select(func.count()).where(
            StaffMember.department_id == entry.id))
        events = 0
    else:
        people = db.session.scalar(select(func.count()).where(
            StaffMember.position_id == entry.id))
        events = db.session.scalar(select(func.count()).where(
            StaffEvent.position_id == entry.id))
    if people or events:
        raise DomainError(_IN_USE[model], name=entry.name, people=people, events=events)
    kind = _KIND[model]
    record_event(actor.id, f"{kind}.deleted", kind, entry.id, now=now,
                 details=_entry_details(entry))
    db.session.delete(entry)
    db.session.flush()


def resolve_entry(actor: StaffMember | None, model: ListModel, ref: EntryRef, *,
                  now: datetime, keep: ListEntry | None = None) -> ListEntry | None:
    """The entry a form or a caller names: an entry, its id, or its name (None or "": none).

    An unknown name is an error naming the entries that exist, unless the actor is None (the
    system itself: setup, the demo, tests), for which the entry is created. An inactive entry
    is refused, unless it is `keep` (the one the record already holds)."""
    if ref is None or ref == "" or ref == 0:
        return None
    if isinstance(ref, model):
        entry: ListEntry | None = ref
    elif isinstance(ref, int) and not isinstance(ref, bool):
        entry = db.session.get(model, ref)
        if entry is None:
            raise DomainError(_NO_SUCH[model])
    elif isinstance(ref, str):
        name = rules.list_entry_name(ref)
        if not name:
            return None
        entry = active_entry_named(model, name)
        if entry is None:
            if actor is not None:
                raise DomainError(_UNKNOWN[model], name=name, known=known_names(model))
            entry = create_list_entry(None, model, name=name, now=now)
    else:
        raise TypeError(f"not a {_KIND[model]}: {ref!r}")
    assert entry is not None
    if not entry.active and (keep is None or entry.id != keep.id):
        raise DomainError(_RETIRED[model], name=entry.name)
    return entry


# Looking staff up by employee numbers or departments (assigning training or a quiz, rosters).

@dataclass(frozen=True)
class StaffLookup:
    people: list[StaffMember]      # found, by employee number
    unknown_numbers: list[str]     # numbers nobody has (as typed)
    unknown_departments: list[str]  # names no department has
    left_numbers: list[str]        # numbers of people who left (left out unless include_left)


def find_staff(*, employee_nos: Iterable[str] = (), department_ids: Iterable[int] = (),
               department_names: Iterable[str] = (), include_left: bool = False) -> StaffLookup:
    """Everyone named by an employee number (read as sign-in reads it: accounts.rules.
    employee_no_key) or belonging to one of the departments, in one query.

    Department names are those of the active entries, or else of inactive ones of that name.
    People who left are left out unless include_left; those named by number are reported."""
    typed: dict[str, str] = {}
    for number in employee_nos:
        key = rules.employee_no_key(number)
        if key:
            typed.setdefault(key, number.strip())
    ids = set(department_ids)
    unknown_departments = []
    names = {rules.list_entry_name(n) for n in department_names} - {""}
    if names:
        found = db.session.execute(select(Department.id, Department.name, Department.active)
                                   .where(Department.name.in_(names))).all()
        active_names = {name for _id, name, active in found if active}
        ids |= {i for i, name, active in found if active or name not in active_names}
        unknown_departments = sorted(names - {name for _id, name, _a in found})
    conditions = []
    if typed:
        conditions.append(StaffMember.employee_no_key.in_(typed))
    if ids:
        in_department = StaffMember.department_id.in_(ids)
        conditions.append(in_department if include_left
                          else and_(in_department, StaffMember.status != "left"))
    people = list(db.session.scalars(select(StaffMember).where(or_(*conditions))
                                     .order_by(StaffMember.employee_no))) if conditions else []
    found_keys = {p.employee_no_key for p in people}
    left_numbers = []
    if not include_left:
        left_numbers = [p.employee_no for p in people if p.status == "left"]
        people = [p for p in people if p.status != "left"]
    return StaffLookup(people=people,
                       unknown_numbers=[n for k, n in typed.items() if k not in found_keys],
                       unknown_departments=unknown_departments, left_numbers=left_numbers)


def create_staff(
    actor: StaffMember | None,
    *,
    employee_no: str,
    name: str,
    department: EntryRef = None,
    position: EntryRef = None,
    hire_date: date,
    roles: Iterable[str] = ("learner",),
    locale: str = "zh_CN",
    timezone: str = "Asia/Shanghai",
    now: datetime,
    password: str | None = None,
) -> tuple[StaffMember, str]:
    """Create a staff member with a hire event. Returns (staff, one-time password).

    actor=None is the system itself (setup, the demo, tests, benchmarks). The department and
    position are an entry, its id or its name (resolve_entry): a name nobody keeps is created
    in the list only for the system; for HR it is an error naming the entries that exist, and
    a deactivated entry is refused. The password must be changed at first login unless one was
    given (demo accounts)."""
    employee_no = rules.normalise_employee_no(employee_no)
    _validate_profile(name, locale, timezone)
    roles = set(roles) or {"learner"}
    if actor is not None:
        _check_may_grant(actor, set(), roles)
    if get_staff_by_employee_no(employee_no) is not None:
        raise DomainError("Employee number %(no)s is already in use.", no=employee_no)
    department_entry = resolve_entry(actor, Department, department, now=now)
    position_entry = resolve_entry(actor, Position, position, now=now)
    # An explicit password is the system's own (demo accounts, tests), not a person's choice.
    otp = password or rules.one_time_password(
        name=name, employee_no=employee_no,
        department=department_entry.name if department_entry else "")
    staff = StaffMember(
        employee_no=employee_no, employee_no_key=rules.employee_no_key(employee_no),
        name=name.strip(), department=department_entry, position=position_entry,
        hire_date=hire_date, locale=locale, timezone=timezone,
        password_hash=hash_password(otp), must_change_password=password is None,
        login_enabled=True, status="active",
        created_at=now, updated_at=now,
    )
    _set_roles(staff, roles)
    db.session.add(staff)
    db.session.flush()
    record_event(actor.id if actor else None, "staff.created", "staff", staff.id, now=now,
                 details={"employee_no": employee_no, "roles": sorted(roles),
                          "department": staff.department_name,
                          "position": staff.position_name})
    staff.notices = record_staff_event(actor, staff, kind="hire", occurred_on=hire_date,
                                       now=now, note="", audit=False).notices
    return staff, otp


def update_staff(
    actor: StaffMember,
    staff: StaffMember,
    *,
    name: str,
    department: EntryRef,
    position: EntryRef,
    hire_date: date | None,
    roles: Iterable[str],
    locale: str,
    timezone: str,
    now: datetime,
) -> None:
    """Edit a staff member's profile and roles (audited with the fields that changed). The
    department and position are resolved as for create_staff; an entry deactivated since it
    was given stays allowed on this record."""
    check_may_manage(actor, staff)
    _validate_profile(name, locale, timezone)
    new_roles = set(roles)
    if not new_roles:
        raise DomainError("A person needs at least one role.")
    _check_may_grant(actor, staff.role_names, new_roles)
    if staff.id == actor.id and "admin" in staff.role_names and "admin" not in new_roles:
        raise DomainError("You cannot remove your own administrator role.")
    department_entry = resolve_entry(actor, Department, department, now=now,
                                     keep=staff.department)
    position_entry = resolve_entry(actor, Position, position, now=now, keep=staff.position)
    before = {"name": staff.name, "department": staff.department_name,
              "position": staff.position_name,
              "hire_date": staff.hire_date.isoformat() if staff.hire_date else None,
              "roles": sorted(staff.role_names), "locale": staff.locale,
              "timezone": staff.timezone}
    staff.name, staff.department, staff.position = name.strip(), department_entry, position_entry
    staff.hire_date, staff.locale, staff.timezone = hire_date, locale, timezone
    _set_roles(staff, new_roles)
    staff.updated_at = now
    after = {"name": staff.name, "department": staff.department_name,
             "position": staff.position_name,
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
                                  department=staff.department_name)
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
                                       department=staff.department_name)
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
    position: EntryRef = None,
    reason: str = "",
    audit: bool = True,
) -> StaffEvent:
    """Add a fact to the staff record, re-derive the status and tell subscribers (learning).

    A nomination or position change names a position (an entry, its id or its name, resolved
    as for create_staff: created only for the system, never for HR; an active one)."""
    if actor is not None:
        check_may_manage(actor, staff)
    if kind not in rules.RECORDABLE_KINDS:
        raise DomainError("Unknown event type %(kind)s.", kind=kind)
    if today is not None and occurred_on > today:
        raise DomainError("An event is recorded once it has happened: %(date)s is in the future.",
                          date=occurred_on.isoformat())
    if kind == "stood_down" and reason not in STAND_DOWN_REASONS:
        raise DomainError("Say why the person is stood down: performance or a violation.")
    if kind != "stood_down" and not (kind == "position_change" and reason == "remedial"):
        reason = ""
    names_position = kind in ("nomination", "position_change")
    entry = resolve_entry(actor, Position, position, now=now) if names_position else None
    if names_position and entry is None:
        raise DomainError("Name the position.")
    existing = list(staff.events)
    rules.check_sequence(existing + [rules.NewEvent(kind, occurred_on)])
    event = StaffEvent(staff=staff, kind=kind, occurred_on=occurred_on, note=note.strip(),
                       reason=reason, position_entry=entry, position=entry.name if entry else "",
                       recorded_at=now, recorded_by_id=actor.id if actor else None)
    if kind == "position_change":
        event.previous_position_id = staff.position_id
        # The record takes the new position unless a later change is already in force (a
        # change recorded late, after the one that followed it).
        if not any(e.kind == "position_change" and e.occurred_on > occurred_on
                   for e in rules.effective_events(existing)):
            staff.position = entry
    db.session.add(event)
    db.session.flush()
    _apply_derived(staff, now)
    if audit:
        record_event(actor.id if actor else None, f"staff_event.{kind}", "staff", staff.id,
                     now=now, details={"event_id": event.id, "on": occurred_on.isoformat(),
                                       "position": event.position, "note": note.strip(),
                                       **({"reason": reason} if reason else {})})
    event.notices = _notices(staff_event_recorded.send(event, now=now))
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
    if event.kind == "position_change" and staff.position_id == event.position_id:
        before = _position_before(event, remaining)
        staff.position = db.session.get(Position, before) if before is not None else None
    void = StaffEvent(staff=staff, kind="void", occurred_on=event.occurred_on,
                      voids_event_id=event.id, note=note.strip(), recorded_at=now,
                      recorded_by_id=actor.id)
    db.session.add(void)
    db.session.flush()
    _apply_derived(staff, now)
    record_event(actor.id, "staff_event.voided", "staff", staff.id, now=now,
                 details={"event_id": event.id, "note": note.strip()})
    void.notices = _notices(staff_event_recorded.send(void, now=now))
    return void


def _notices(replies) -> list:
    """What the subscribers of a signal answered (each a list of core.errors.Notice)."""
    return [notice for _receiver, answer in replies for notice in (answer or [])]


def _position_before(voided: StaffEvent, remaining: list[StaffEvent]) -> int | None:
    """The position a staff record goes back to when the position change in force is voided:
    the latest change still in force, else the position the voided one replaced (kept since
    migration 5ad332b7fde6; an older change did not keep it, and the record stays as it is)."""
    changes = [e for e in rules.effective_events(remaining) if e.kind == "position_change"]
    if changes:
        return max(changes, key=lambda e: (e.occurred_on, e.id)).position_id
    if voided.previous_position_id is not None:
        return voided.previous_position_id
    return voided.position_id


def _apply_derived(staff: StaffMember, now: datetime) -> None:
    """The status (and the hire date) from the events in force. The position is not derived:
    HR may correct it on the staff form, and a position change sets it when recorded (and gives
    it back when voided)."""
    db.session.refresh(staff, ["events"])
    effective = rules.effective_events(staff.events)
    staff.status = rules.derive_status(effective)
    for event in effective:
        if event.kind == "hire" and staff.hire_date is None:
            staff.hire_date = event.occurred_on
    staff.updated_at = now
    db.session.flush()


@dataclass
class ImportOutcome:
    created: list[tuple[StaffMember, str]]
    errors: list[RowError]
    rows_read: int


def _entries_of_rows(model: ListModel, column: str, attribute: str, rows: list
                     ) -> tuple[dict[str, ListEntry], list[RowError]]:
    """The list's active entries by the names the rows give, and an error for each row naming
    one nobody keeps or one no longer in use: an import never adds to HR's lists."""
    entries = list_entries(model)
    active = {e.name: e for e in entries if e.active}
    retired = {e.name for e in entries if not e.active}
    known = _known_text(list(active))
    by_name: dict[str, ListEntry] = {}
    errors = []
    for row in rows:
        given = getattr(row, attribute)
        name = rules.list_entry_name(given)
        if not name:
            continue
        if name in active:
            by_name[given] = active[name]
        elif name in retired:
            errors.append(RowError(row.row, column, _RETIRED[model], {"name": name}))
        else:
            errors.append(RowError(row.row, column, _UNKNOWN[model],
                                   {"name": name, "known": known}))
    return by_name, errors


def import_staff(actor: StaffMember, data: bytes, filename: str, *, now: datetime,
                 today: date) -> ImportOutcome:
    """Validate a whole staff list first; create everyone, or nobody when any row is bad.
    Departments and positions are matched by name to HR's lists; a name nobody keeps is an
    error on its row (naming those that exist), never a new entry."""
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
    entries = {}
    for model, column, attribute in ((Department, "部门", "department"),
                                     (Position, "岗位", "position")):
        entries[model], list_errors = _entries_of_rows(model, column, attribute, parsed.rows)
        errors.extend(list_errors)
    if errors:
        errors.sort(key=lambda e: (e.row, e.column))
        return ImportOutcome([], errors, len(parsed.rows))
    created = []
    for row in parsed.rows:
        try:
            created.append(create_staff(
                actor, employee_no=row.employee_no, name=row.name,
                department=entries[Department].get(row.department),
                position=entries[Position].get(row.position), hire_date=row.hire_date,
                roles=row.roles, now=now))
        except DomainError as exc:
            # Every row passed the checks above, so only a change made meanwhile (another import
            # of the same person) gets here; the caller rolls back the rows already written.
            return ImportOutcome([], [RowError(row.row, "", exc.message, exc.params)],
                                 len(parsed.rows))
    record_event(actor.id, "staff.imported", "staff", None, now=now,
                 details={"filename": filename, "count": len(created)})
    return ImportOutcome(created, [], len(parsed.rows))

