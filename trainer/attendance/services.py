"""Classes, rosters, leave, check-in and check-out, closing and the survey. Services flush, never
commit; they take the actor and the clock explicitly. Statuses and minutes are derived from the
appended marks (attendance.rules); closing a session credits the class's 学时 to learning's
ledger and, at the last one, records who completed the class."""
from __future__ import annotations

import hashlib
import ipaddress
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import selectinload

from trainer.accounts.models import StaffMember
from trainer.attendance import rules
from trainer.attendance.models import (
    AttendanceMark,
    CalendarFeed,
    ClassCompletion,
    ClassSession,
    ClassTrainer,
    LeaveRequest,
    RosterEntry,
    SignupChange,
    SurveyAnswer,
    SurveyReceipt,
    TrainingClass,
)
from trainer.attendance.settings import session_defaults
from trainer.attendance.signals import class_completed, class_completion_withdrawn
from trainer.core.audit import record_event
from trainer.core.db import db
from trainer.core.errors import N_, DomainError, Forbidden, NotFound
from trainer.core.settings import centre_timezone, get_setting
from trainer.core.timeutil import local_date, zone
from trainer.core.todos import add_todo, close_todos
from trainer.learning import services as learning
from trainer.learning.models import Course, Enrolment, EnrolmentRequirement

MANAGERS = ("hr", "admin")


# -- who may do what ------------------------------------------------------------------------------

def may_manage(actor: StaffMember, cls: TrainingClass) -> bool:
    """HR and admins manage every class; a trainer manages the classes they teach."""
    roles = actor.role_names
    return bool(roles & set(MANAGERS)) or ("trainer" in roles and actor.id in cls.trainer_ids)


def check_may_manage(actor: StaffMember, cls: TrainingClass) -> None:
    if not may_manage(actor, cls):
        raise Forbidden("You do not teach this class.")


def sees_addresses(actor: StaffMember) -> bool:
    """Trainers see flags; HR sees the addresses behind them too."""
    return bool(actor.role_names & set(MANAGERS))


# -- classes and sessions -------------------------------------------------------------------------

@dataclass
class ClassFields:
    title: str
    hours_category: str
    description: str = ""
    course_id: int | None = None
    place: str = ""
    link: str = ""
    capacity: int | None = None
    cost: Decimal | None = None
    signup_mode: str = "invitation"
    completion_share: int | None = None
    issues_certificate: bool = False
    trainer_ids: list[int] = field(default_factory=list)


def _check_fields(values: ClassFields) -> None:
    if not values.title.strip():
        raise DomainError("The class needs a title.")
    if values.hours_category not in learning.hours_categories():
        raise DomainError("Choose a category of 学时 from the settings' list.")
    if values.capacity is not None and values.capacity < 1:
        raise DomainError("The capacity is at least one person (or empty: no limit).")
    if values.course_id is not None and db.session.get(Course, values.course_id) is None:
        raise DomainError("No such course.")
    if values.link and not values.link.startswith(("https://", "http://")):
        raise DomainError("The link must start with https:// or http://.")
    if values.signup_mode not in ("open", "invitation"):
        raise DomainError("Unknown sign-up mode.")
    trainers = db.session.scalars(select(StaffMember).where(
        StaffMember.id.in_(values.trainer_ids))).all() if values.trainer_ids else []
    if len(trainers) != len(set(values.trainer_ids)) or \
            any("trainer" not in t.role_names for t in trainers):
        raise DomainError("Every trainer of a class must hold the trainer role.")


def save_class(actor: StaffMember, cls: TrainingClass | None, values: ClassFields, *,
               now: datetime) -> TrainingClass:
    """Create a class (a trainer who creates one teaches it) or change one."""
    if not (actor.role_names & {"trainer", *MANAGERS}):
        raise Forbidden("You may not run classes.")
    if cls is not None:
        check_may_manage(actor, cls)
        if cls.closed_at is not None:
            raise DomainError("This class is closed: its record is frozen.")
    _check_fields(values)
    trainer_ids = set(values.trainer_ids)
    if cls is None and "trainer" in actor.role_names:
        trainer_ids.add(actor.id)
    if not trainer_ids:
        raise DomainError("Name at least one trainer.")
    created = cls is None
    if created:
        cls = TrainingClass(created_at=now, created_by_id=actor.id)
        db.session.add(cls)
    cls.title, cls.description = values.title.strip(), values.description.strip()
    cls.course_id, cls.hours_category = values.course_id, values.hours_category
    cls.place, cls.link = values.place.strip(), values.link.strip()
    cls.capacity, cls.cost, cls.signup_mode = values.capacity, values.cost, values.signup_mode
    cls.completion_share = values.completion_share or get_setting("completion_share")
    cls.issues_certificate = values.issues_certificate
    cls.trainers[:] = [t for t in cls.trainers if t.staff_id in trainer_ids]
    for staff_id in sorted(trainer_ids - {t.staff_id for t in cls.trainers}):
        cls.trainers.append(ClassTrainer(staff_id=staff_id))
    db.session.flush()
    record_event(actor.id, "class.created" if created else "class.updated", "class", cls.id,
                 now=now, details={"title": cls.title})
    return cls


def local_moment(day: date, at: time) -> datetime:
    """A local date and time in the centre's zone, as aware UTC."""
    from datetime import timezone

    return datetime.combine(day, at, tzinfo=zone(centre_timezone())).astimezone(timezone.utc)


@dataclass
class SessionFields:
    day: date
    starts: time
    ends: time
    place: str = ""
    end_day: date | None = None      # a session that runs past midnight (the form: same day)
    checkin_opens_min: int | None = None
    checkin_closes_min: int | None = None
    checkout_opens_min: int | None = None
    checkout_closes_min: int | None = None
    late_after_min: int | None = None
    early_leave_min: int | None = None
    checkout_required: bool | None = None


@dataclass(frozen=True)
class Conflict:
    """A double booking the actor must override with a reason."""

    what: str            # "trainer", "place" or "person"
    name: str
    other: ClassSession


def save_session(actor: StaffMember, cls: TrainingClass, session: ClassSession | None,
                 values: SessionFields, *, now: datetime, override: str = ""
                 ) -> ClassSession:
    """Add or move a session (local times in the centre's zone). A trainer or a room booked
    twice at once is a conflict that needs a reason to override."""
    check_may_manage(actor, cls)
    if cls.closed_at is not None:
        raise DomainError("This class is closed: its record is frozen.")
    starts_at = local_moment(values.day, values.starts)
    ends_at = local_moment(values.end_day or values.day, values.ends)
    if ends_at <= starts_at:
        raise DomainError("A session ends after it starts.")
    if session is not None and session.closed_at is not None:
        raise DomainError("This session is closed.")
    defaults = session_defaults()
    chosen = {key: getattr(values, key) if getattr(values, key) is not None else defaults[key]
              for key in defaults}
    for key, value in chosen.items():
        if key != "checkout_required" and not 0 <= int(value) <= 480:
            raise DomainError("Windows and thresholds are between 0 and 480 minutes.")
    place = values.place.strip() or cls.place
    conflicts = session_conflicts(cls, starts_at, ends_at, place,
                                  exclude=session.id if session else None)
    if conflicts and not override.strip():
        raise ConflictsFound(conflicts)
    created = session is None
    if created:
        session = ClassSession(secret=secrets.token_hex(32),
                               uid=f"{secrets.token_hex(16)}@trainer", sequence=0)
        cls.sessions.append(session)
    else:
        session.sequence += 1          # calendars see the change
    session.starts_at, session.ends_at, session.place = starts_at, ends_at, values.place.strip()
    for key, value in chosen.items():
        setattr(session, key, value)
    session.updated_at = now
    db.session.flush()
    record_event(actor.id, "session.created" if created else "session.moved", "class", cls.id,
                 now=now, details={"session": session.id, "starts_at": starts_at.isoformat(),
                                   "override": override.strip()})
    return session


class ConflictsFound(DomainError):
    def __init__(self, conflicts: list[Conflict]) -> None:
        super().__init__(N_("Double bookings: %(list)s. Give a reason to go ahead anyway."),
                         list="; ".join(f"{c.name} · {c.other.training_class.title}"
                                        for c in conflicts))
        self.conflicts = conflicts


def _overlapping(starts_at: datetime, ends_at: datetime):
    return [ClassSession.cancelled_at.is_(None), ClassSession.starts_at < ends_at,
            ClassSession.ends_at > starts_at]


def session_conflicts(cls: TrainingClass, starts_at: datetime, ends_at: datetime, place: str,
                      exclude: int | None = None) -> list[Conflict]:
    """Sessions of other classes at the same time with one of this class's trainers or in the
    same place."""
    query = select(ClassSession, TrainingClass).join(TrainingClass).where(
        *_overlapping(starts_at, ends_at), ClassSession.class_id != cls.id)
    if exclude is not None:
        query = query.where(ClassSession.id != exclude)
    found = []
    mine = cls.trainer_ids
    names = {s.id: s.name for s in db.session.scalars(
        select(StaffMember).where(StaffMember.id.in_(mine)))} if mine else {}
    for other, other_class in db.session.execute(query):
        for trainer_id in mine & other_class.trainer_ids:
            found.append(Conflict("trainer", names.get(trainer_id, "?"), other))
        other_place = other.place or other_class.place
        if place and other_place and other_place == place:
            found.append(Conflict("place", place, other))
    return found


def cancel_session(actor: StaffMember, session: ClassSession, *, now: datetime,
                   reason: str) -> None:
    """A cancelled session stays (in calendars: STATUS:CANCELLED); no one is marked at it."""
    cls = session.training_class
    check_may_manage(actor, cls)
    if not reason.strip():
        raise DomainError("Say why the session is cancelled.")
    if session.cancelled_at is None:
        session.cancelled_at, session.sequence = now, session.sequence + 1
        session.updated_at = now
        record_event(actor.id, "session.cancelled", "class", cls.id, now=now,
                     details={"session": session.id, "reason": reason.strip()})
        db.session.flush()


def times_of(session: ClassSession) -> rules.SessionTimes:
    return rules.SessionTimes(
        session.starts_at, session.ends_at, session.checkin_opens_min,
        session.checkin_closes_min, session.checkout_opens_min, session.checkout_closes_min,
        session.late_after_min, session.early_leave_min, session.checkout_required)


def live_sessions(cls: TrainingClass) -> list[ClassSession]:
    """The class's sessions that are not cancelled, in time order."""
    return sorted((s for s in cls.sessions if s.cancelled_at is None),
                  key=lambda s: s.starts_at)


# -- rosters --------------------------------------------------------------------------------------

def _roster(cls_id: int) -> dict[int, RosterEntry]:
    return {r.staff_id: r for r in db.session.scalars(
        select(RosterEntry).where(RosterEntry.class_id == cls_id))}


def _roster_entry(cls_id: int, staff_id: int) -> RosterEntry | None:
    """One person's entry (a check-in asks this: not the whole roster of 300)."""
    return db.session.get(RosterEntry, (cls_id, staff_id))


def _change(cls: TrainingClass, staff_id: int, action: str, *, by: StaffMember | None,
            now: datetime, reason: str = "", override: str = "") -> None:
    db.session.add(SignupChange(class_id=cls.id, staff_id=staff_id, action=action, at=now,
                                by_id=by.id if by else None, reason=reason.strip(),
                                override=override.strip()))


def booked_count(cls_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(RosterEntry).where(
        RosterEntry.class_id == cls_id, RosterEntry.state == "booked")) or 0


def person_conflicts(cls: TrainingClass, staff_ids: Iterable[int]) -> dict[int, list[ClassSession]]:
    """People booked on another class with a session at the same time as one of this one's."""
    staff_ids = list(staff_ids)
    found: dict[int, list[ClassSession]] = {}
    for mine in live_sessions(cls):
        rows = db.session.execute(
            select(RosterEntry.staff_id, ClassSession).join(
                ClassSession, ClassSession.class_id == RosterEntry.class_id).where(
                RosterEntry.staff_id.in_(staff_ids), RosterEntry.state == "booked",
                RosterEntry.class_id != cls.id, *_overlapping(mine.starts_at, mine.ends_at)))
        for staff_id, other in rows:
            found.setdefault(staff_id, []).append(other)
    return found


@dataclass
class RosterOutcome:
    booked: list[int] = field(default_factory=list)
    waitlisted: list[int] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)   # already on it, or left


def invite(actor: StaffMember, cls: TrainingClass, people: list[StaffMember], *, now: datetime,
           reason: str = "", override: str = "") -> RosterOutcome:
    """Put people on the roster (booked, or wait-listed once the class is full). A person booked
    elsewhere at the same time is a conflict that needs a reason to override."""
    check_may_manage(actor, cls)
    if cls.closed_at is not None:
        raise DomainError("This class is closed: its record is frozen.")
    candidates = [p for p in people if p.status != "left"]
    conflicts = person_conflicts(cls, [p.id for p in candidates])
    if conflicts and not override.strip():
        names = {p.id: p.name for p in candidates}
        raise DomainError("Booked elsewhere at the same time: %(names)s. Give a reason to go "
                          "ahead anyway.", names="、".join(names[i] for i in conflicts))
    roster = _roster(cls.id)
    outcome = RosterOutcome(skipped=[p.id for p in people if p.status == "left"])
    free = None if cls.capacity is None else cls.capacity - booked_count(cls.id)
    for person in candidates:
        entry = roster.get(person.id)
        if entry is not None and entry.state != "cancelled":
            outcome.skipped.append(person.id)
            continue
        state = "booked" if free is None or free > 0 else "waitlisted"
        if state == "booked" and free is not None:
            free -= 1
        _set_state(cls, person.id, state, entry, now)
        _change(cls, person.id, "invited", by=actor, now=now, reason=reason,
                override=override if person.id in conflicts else "")
        if state == "waitlisted":
            _change(cls, person.id, "waitlisted", by=actor, now=now)
            outcome.waitlisted.append(person.id)
        else:
            outcome.booked.append(person.id)
        add_todo(person.id, "class.invited", cls.id, now=now,
                 params={"title": cls.title, "state": state},
                 due_on=_first_day(cls))
    record_event(actor.id, "class.invited", "class", cls.id, now=now,
                 details={"booked": outcome.booked, "waitlisted": outcome.waitlisted,
                          "override": override.strip()})
    db.session.flush()
    return outcome


def _set_state(cls: TrainingClass, staff_id: int, state: str, entry: RosterEntry | None,
               now: datetime) -> None:
    if entry is None:
        db.session.add(RosterEntry(class_id=cls.id, staff_id=staff_id, state=state, since=now))
    else:
        entry.state, entry.since = state, now


def _first_day(cls: TrainingClass) -> date | None:
    sessions = live_sessions(cls)
    return local_date(sessions[0].starts_at, centre_timezone()) if sessions else None


def sign_up(person: StaffMember, cls: TrainingClass, *, now: datetime) -> str:
    """Self sign-up on an open class: booked, or wait-listed when full. Returns the state."""
    if cls.signup_mode != "open":
        raise DomainError("This class is by invitation only.")
    if cls.closed_at is not None or not _before_first_session(cls, now):
        raise DomainError("Sign-up for this class has closed.")
    entry = _roster_entry(cls.id, person.id)
    if entry is not None and entry.state != "cancelled":
        return entry.state
    if person_conflicts(cls, [person.id]):
        raise DomainError("You are booked on another class at the same time.")
    full = cls.capacity is not None and booked_count(cls.id) >= cls.capacity
    state = "waitlisted" if full else "booked"
    _set_state(cls, person.id, state, entry, now)
    _change(cls, person.id, "waitlisted" if full else "signed_up", by=person, now=now)
    record_event(person.id, "class.signed_up", "class", cls.id, now=now,
                 details={"state": state})
    db.session.flush()
    return state


def _before_first_session(cls: TrainingClass, now: datetime) -> bool:
    sessions = live_sessions(cls)
    return not sessions or now < sessions[0].starts_at


def cancel_booking(actor: StaffMember, cls: TrainingClass, person: StaffMember, *,
                   now: datetime, reason: str = "") -> None:
    """A person cancels their place (or a trainer or HR removes them, with a reason); the
    wait-list moves up in order until the cut-off before the first session."""
    by_self = actor.id == person.id
    if not by_self:
        check_may_manage(actor, cls)
        if not reason.strip():
            raise DomainError("Say why the person is taken off the roster.")
    if cls.closed_at is not None:
        raise DomainError("This class is closed: its record is frozen.")
    entry = _roster_entry(cls.id, person.id)
    if entry is None or entry.state == "cancelled":
        raise DomainError("Not on this class's roster.")
    was_booked = entry.state == "booked"
    entry.state, entry.since = "cancelled", now
    _change(cls, person.id, "cancelled" if by_self else "removed", by=actor, now=now,
            reason=reason)
    close_todos(person.id, "class.invited", cls.id, now=now)
    if not by_self:
        add_todo(person.id, "class.removed", cls.id, now=now,
                 params={"title": cls.title, "reason": reason.strip()})
    record_event(actor.id, "class.cancelled", "class", cls.id, now=now,
                 details={"staff": person.id, "reason": reason.strip()})
    db.session.flush()
    if was_booked:
        promote_waitlist(cls, now=now)


def promote_waitlist(cls: TrainingClass, *, now: datetime) -> list[int]:
    """Fill free places from the wait-list, first come first served, until the cut-off."""
    sessions = live_sessions(cls)
    cutoff = timedelta(hours=get_setting("waitlist_cutoff_hours"))
    if sessions and now > sessions[0].starts_at - cutoff:
        return []
    promoted = []
    while cls.capacity is None or booked_count(cls.id) < cls.capacity:
        entry = db.session.scalar(select(RosterEntry).where(
            RosterEntry.class_id == cls.id, RosterEntry.state == "waitlisted")
            .order_by(RosterEntry.since, RosterEntry.staff_id).limit(1))
        if entry is None:
            break
        entry.state, entry.since = "booked", now
        _change(cls, entry.staff_id, "promoted", by=None, now=now)
        add_todo(entry.staff_id, "class.promoted", cls.id, now=now,
                 params={"title": cls.title}, due_on=_first_day(cls))
        promoted.append(entry.staff_id)
        db.session.flush()
    return promoted


def people_needing(cls: TrainingClass) -> list[StaffMember]:
    """Everyone whose open enrolment asks for a class of this class's course and who has not
    completed one (one query)."""
    if cls.course_id is None:
        return []
    done = select(ClassCompletion.staff_id).join(
        TrainingClass, TrainingClass.id == ClassCompletion.class_id).where(
        TrainingClass.course_id == cls.course_id)
    return list(db.session.scalars(
        select(StaffMember).join(Enrolment, Enrolment.staff_id == StaffMember.id).join(
            EnrolmentRequirement, EnrolmentRequirement.enrolment_id == Enrolment.id).where(
            EnrolmentRequirement.kind == "class",
            EnrolmentRequirement.course_id == cls.course_id,
            Enrolment.state.in_(("assigned", "in_progress", "overdue")),
            StaffMember.status != "left", StaffMember.id.not_in(done))
        .distinct().order_by(StaffMember.employee_no)))


# -- leave ----------------------------------------------------------------------------------------

def _on_roster(cls: TrainingClass, staff_id: int) -> bool:
    entry = _roster_entry(cls.id, staff_id)
    return entry is not None and entry.state == "booked"


def request_leave(person: StaffMember, session: ClassSession, reason: str, *,
                  now: datetime) -> LeaveRequest:
    """Before a session starts, an agent asks for leave (请假) with a reason."""
    cls = session.training_class
    if not _on_roster(cls, person.id):
        raise DomainError("You are not booked on this class.")
    if now >= session.starts_at:
        raise DomainError("The session has started: ask the trainer to record your leave.")
    if not reason.strip():
        raise DomainError("Give a reason for the leave.")
    if _leave_of(session.id, person.id, ("pending", "approved")) is not None:
        raise DomainError("You have already asked for leave from this session.")
    request = LeaveRequest(session_id=session.id, staff_id=person.id, reason=reason.strip(),
                           requested_at=now, requested_by_id=person.id, state="pending")
    db.session.add(request)
    db.session.flush()
    record_event(person.id, "leave.requested", "class", cls.id, now=now,
                 details={"session": session.id, "request": request.id})
    return request


def _leave_of(session_id: int, staff_id: int, states: tuple[str, ...]) -> LeaveRequest | None:
    return db.session.scalar(select(LeaveRequest).where(
        LeaveRequest.session_id == session_id, LeaveRequest.staff_id == staff_id,
        LeaveRequest.state.in_(states)).limit(1))


def decide_leave(actor: StaffMember, request: LeaveRequest, approve: bool, *, now: datetime,
                 note: str = "") -> None:
    """The class's trainer or HR approves or declines; the decision reaches the agent's
    to-do list."""
    session = db.session.get(ClassSession, request.session_id)
    check_may_manage(actor, session.training_class)
    if request.state != "pending":
        raise DomainError("This leave request is already decided.")
    if not approve and not note.strip():
        raise DomainError("Say why the leave is declined.")
    request.state = "approved" if approve else "declined"
    request.decided_at, request.decided_by_id = now, actor.id
    request.decision_note = note.strip()
    add_todo(request.staff_id, "leave.decided", request.id, now=now,
             params={"title": session.training_class.title, "state": request.state,
                     "note": request.decision_note,
                     "starts": session.starts_at.isoformat()})
    record_event(actor.id, f"leave.{request.state}", "class", session.class_id, now=now,
                 details={"request": request.id, "staff": request.staff_id})
    db.session.flush()
    _recredit(session.training_class, [request.staff_id], now=now)


def record_leave(actor: StaffMember, session: ClassSession, person: StaffMember, reason: str,
                 *, now: datetime) -> LeaveRequest:
    """After the start, only the trainer or HR records 请假, with a reason (approved at once)."""
    check_may_manage(actor, session.training_class)
    if not reason.strip():
        raise DomainError("Give a reason for the leave.")
    existing = _leave_of(session.id, person.id, ("pending", "approved"))
    if existing is not None and existing.state == "approved":
        return existing
    request = existing or LeaveRequest(session_id=session.id, staff_id=person.id,
                                       reason=reason.strip(), requested_at=now,
                                       requested_by_id=actor.id)
    request.state, request.decided_at, request.decided_by_id = "approved", now, actor.id
    db.session.add(request)
    db.session.flush()
    record_event(actor.id, "leave.recorded", "class", session.class_id, now=now,
                 details={"session": session.id, "staff": person.id, "reason": reason.strip()})
    _recredit(session.training_class, [person.id], now=now)
    return request


# -- marks ----------------------------------------------------------------------------------------

def device_hash(device_token: str | None) -> str | None:
    return hashlib.sha256(device_token.encode()).hexdigest() if device_token else None


@dataclass(frozen=True)
class Scan:
    """What the browser told us when someone scanned or typed a code (for flags only)."""

    address: str = ""
    user_agent: str = ""
    device_token: str | None = None


def record_scan(session: ClassSession, person: StaffMember, *, at: datetime, now: datetime,
                via: str, scan: Scan) -> str:
    """The check-in or check-out a scan at `at` makes, once its code has been checked (by the
    two functions below; the demo replays yesterday's scans through it). Returns "check_in",
    "check_out" or "already"."""
    cls = session.training_class
    if cls.closed_at is not None or session.closed_at is not None:
        raise DomainError("This session is closed; ask the trainer to correct your "
                          "attendance.")
    if session.cancelled_at is not None:
        raise DomainError("This session is cancelled.")
    if not _on_roster(cls, person.id):
        raise DomainError("You are not on this class's roster: ask the trainer.")
    marks = _marks(session.id, person.id)
    checked_in = rules.times_from(marks, times_of(session))[0] is not None
    kind = rules.scan_kind(times_of(session), at, checked_in)
    if kind is None:
        if checked_in and at <= times_of(session).checkin_window[1]:
            return "already"
        raise DomainError("Check-in is not open now: it opens %(minutes)d minutes before the "
                          "start.", minutes=session.checkin_opens_min)
    db.session.add(AttendanceMark(
        session_id=session.id, staff_id=person.id, kind=kind, via=via, at=at, recorded_at=now,
        author_id=person.id, address=scan.address[:45] or None,
        user_agent=scan.user_agent[:255], device_hash=device_hash(scan.device_token)))
    db.session.flush()
    return kind


def check_in_with_code(person: StaffMember, code: str, *, now: datetime, scan: Scan
                       ) -> tuple[ClassSession, str]:
    """A typed 6-digit code: the session is the one (among this person's, open now) whose
    current or previous code it is. Returns (session, "check_in" / "check_out" / "already")."""
    code = "".join(ch for ch in str(code) if ch.isdigit())
    if len(code) != rules.CODE_DIGITS:
        raise DomainError("Type the 6 digits shown in the classroom.")
    step_s = get_setting("code_step_s")
    soon = now + timedelta(hours=8)
    candidates = db.session.scalars(select(ClassSession).join(
        RosterEntry, RosterEntry.class_id == ClassSession.class_id).where(
        RosterEntry.staff_id == person.id, RosterEntry.state == "booked",
        ClassSession.cancelled_at.is_(None), ClassSession.closed_at.is_(None),
        ClassSession.starts_at <= soon, ClassSession.ends_at >= now - timedelta(hours=8)))
    for session in candidates:
        if rules.matching_step(session.secret, code, now, step_s) is not None:
            return session, record_scan(session, person, at=now, now=now, via="code", scan=scan)
    raise DomainError("That code is not valid now: codes change every %(s)d seconds. Type the "
                      "one on the screen.", s=step_s)


def check_in_with_scan(person: StaffMember, session: ClassSession, *, step: int, code: str,
                       scanned_at: datetime, now: datetime, scan: Scan) -> str:
    """A scanned QR code (its step and code, and when it was scanned: a person who signed in
    first is recorded at the time of the scan)."""
    step_s = get_setting("code_step_s")
    if not rules.code_matches(session.secret, code, step, scanned_at, step_s):
        raise DomainError("That code is not valid now: scan the one on the screen.")
    return record_scan(session, person, at=scanned_at, now=now, via="qr", scan=scan)


def scan_is_valid(session: ClassSession, step: int, code: str, now: datetime) -> bool:
    return rules.code_matches(session.secret, code, step, now, get_setting("code_step_s"))


def current_code(session: ClassSession, now: datetime) -> tuple[str, int, int]:
    """(code, step, seconds until it changes) the kiosk shows: computed here, from the server's
    clock, so the display PC's clock and a refresh change nothing."""
    step_s = get_setting("code_step_s")
    step = rules.step_of(now, step_s)
    return rules.code_for(session.secret, step), step, step_s - int(now.timestamp()) % step_s


def mark_all_present(actor: StaffMember, session: ClassSession, *, now: datetime) -> int:
    """The roster grid's one click: everyone booked and not yet marked is present."""
    cls = session.training_class
    check_may_manage(actor, cls)
    _check_open(cls, session)
    marked = set(db.session.scalars(select(AttendanceMark.staff_id).where(
        AttendanceMark.session_id == session.id)))
    leave = set(db.session.scalars(select(LeaveRequest.staff_id).where(
        LeaveRequest.session_id == session.id, LeaveRequest.state == "approved")))
    people = [s for s, r in _roster(cls.id).items() if r.state == "booked"
              and s not in marked and s not in leave]
    for staff_id in people:
        db.session.add(AttendanceMark(session_id=session.id, staff_id=staff_id, kind="present",
                                      via="grid", recorded_at=now, author_id=actor.id))
    record_event(actor.id, "attendance.all_present", "class", cls.id, now=now,
                 details={"session": session.id, "count": len(people)})
    db.session.flush()
    _recredit(cls, people, now=now)
    return len(people)


def _check_open(cls: TrainingClass, session: ClassSession) -> None:
    if cls.closed_at is not None:
        raise DomainError("This class is closed: its record is frozen.")
    if session.cancelled_at is not None:
        raise DomainError("This session is cancelled.")


def correct(actor: StaffMember, session: ClassSession, person: StaffMember, *, kind: str,
            now: datetime, reason: str, check_in_at: datetime | None = None,
            check_out_at: datetime | None = None, via: str = "correction") -> AttendanceMark:
    """The trainer's exception or correction: a new mark with its reason and author (nothing
    is overwritten), audited; the class's 学时 are credited again."""
    cls = session.training_class
    check_may_manage(actor, cls)
    _check_open(cls, session)
    if kind not in ("present", "absent", "correction"):
        raise DomainError("Unknown kind of mark.")
    if not reason.strip() and via != "grid":
        raise DomainError("Say why the attendance is corrected.")
    if kind == "correction":
        if check_in_at is None and check_out_at is None:
            kind = "absent"
        elif check_in_at is not None and check_out_at is not None and check_out_at <= check_in_at:
            raise DomainError("The check-out comes after the check-in.")
    if not _on_roster(cls, person.id) and not db.session.scalar(
            select(func.count()).select_from(AttendanceMark).where(
                AttendanceMark.session_id == session.id,
                AttendanceMark.staff_id == person.id)):
        raise DomainError("Not on this class's roster.")
    mark = AttendanceMark(session_id=session.id, staff_id=person.id, kind=kind, via=via,
                          check_in_at=check_in_at, check_out_at=check_out_at, recorded_at=now,
                          author_id=actor.id, reason=reason.strip())
    db.session.add(mark)
    db.session.flush()
    record_event(actor.id, "attendance.corrected", "class", cls.id, now=now,
                 details={"session": session.id, "staff": person.id, "kind": kind,
                          "reason": reason.strip()})
    _recredit(cls, [person.id], now=now)
    return mark


def _marks(session_id: int, staff_id: int) -> list[rules.Mark]:
    return [_plain(m) for m in db.session.scalars(select(AttendanceMark).where(
        AttendanceMark.session_id == session_id, AttendanceMark.staff_id == staff_id))]


def _plain(mark: AttendanceMark) -> rules.Mark:
    return rules.Mark(mark.kind, mark.recorded_at, mark.at, mark.check_in_at, mark.check_out_at)


# -- the roster grid: everyone's status at every session, in a few queries ------------------------

@dataclass
class Cell:
    attendance: rules.Attendance
    flags: set[str] = field(default_factory=set)      # + "shared_device", "outside_address"
    leave: LeaveRequest | None = None
    addresses: list[str] = field(default_factory=list)


def grid(cls: TrainingClass, *, now: datetime, staff_ids: Iterable[int] | None = None,
         as_closed: bool = False) -> dict[tuple[int, int], Cell]:
    """(session id, staff id) → the derived cell, for the class's booked people and anyone
    marked at a session (or only those given: one person's check-in page derives one person's
    cells, not the session's 300) and live sessions: three queries whatever the size.
    `as_closed`: as if every session were closed (what closing the class will freeze)."""
    sessions = live_sessions(cls)
    everyone = staff_ids is None
    if staff_ids is None:
        staff_ids = [s for s, r in _roster(cls.id).items() if r.state == "booked"]
    staff_ids = set(staff_ids)
    session_ids = [s.id for s in sessions]
    marks: dict[tuple[int, int], list[AttendanceMark]] = {}
    for mark in db.session.scalars(select(AttendanceMark).where(
            AttendanceMark.session_id.in_(session_ids))):
        marks.setdefault((mark.session_id, mark.staff_id), []).append(mark)
    leaves: dict[tuple[int, int], LeaveRequest] = {}
    for request in db.session.scalars(select(LeaveRequest).where(
            LeaveRequest.session_id.in_(session_ids), LeaveRequest.state != "declined")
            .order_by(LeaveRequest.requested_at)):
        leaves[(request.session_id, request.staff_id)] = request
    ranges = _ranges()
    cells = {}
    for session in sessions:
        times = times_of(session)
        devices: dict[str, set[int]] = {}
        for (session_id, staff_id), own in marks.items():
            if session_id == session.id:
                for mark in own:
                    if mark.device_hash:
                        devices.setdefault(mark.device_hash, set()).add(staff_id)
        shared = {s for people in devices.values() if len(people) > 1 for s in people}
        marked = {k[1] for k in marks if k[0] == session.id} if everyone else set()
        for staff_id in staff_ids | marked:
            own = marks.get((session.id, staff_id), [])
            leave = leaves.get((session.id, staff_id))
            attendance = rules.derive(times, [_plain(m) for m in own], now=now,
                                      leave_approved=leave is not None and
                                      leave.state == "approved",
                                      closed=as_closed or session.closed_at is not None)
            cell = Cell(attendance, set(attendance.flags), leave)
            if staff_id in shared:
                cell.flags.add("shared_device")
            addresses = [m.address for m in own if m.address]
            if ranges and any(not _inside(a, ranges) for a in addresses):
                cell.flags.add("outside_address")
            cell.addresses = addresses
            cells[(session.id, staff_id)] = cell
    return cells


def _ranges() -> list:
    return [ipaddress.ip_network(r, strict=False) for r in get_setting("centre_addresses")]


def _inside(address: str, ranges: list) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in ranges)


def minutes_by_person(cls: TrainingClass, *, now: datetime,
                      staff_ids: Iterable[int] | None = None) -> dict[int, int]:
    totals: dict[int, int] = {}
    for (_session, staff_id), cell in grid(cls, now=now, staff_ids=staff_ids).items():
        totals[staff_id] = totals.get(staff_id, 0) + cell.attendance.minutes
    return totals


# -- closing: 学时 and completion -----------------------------------------------------------------

def _recredit(cls: TrainingClass, staff_ids: Iterable[int], *, now: datetime) -> None:
    """Credit the class's minutes so far (its closed sessions) to each person's ledger entry:
    one entry per person and class, corrected in place."""
    staff_ids = list(staff_ids)
    closed = [s for s in live_sessions(cls) if s.closed_at is not None]
    if not closed or not staff_ids:
        return
    cells = grid(cls, now=now, staff_ids=staff_ids)
    closed_ids = {s.id for s in closed}
    day = local_date(closed[-1].starts_at, centre_timezone())
    for staff_id in staff_ids:
        minutes = sum(cell.attendance.minutes for (sid, pid), cell in cells.items()
                      if pid == staff_id and sid in closed_ids)
        learning.credit_hours(staff_id, "class", cls.id, on=day, category=cls.hours_category,
                              minutes=minutes, title=cls.title, now=now)
    if len(closed) == len(live_sessions(cls)):
        _record_completions(cls, staff_ids, cells, now=now)


def recredit(cls: TrainingClass, staff_ids: Iterable[int], *, now: datetime) -> None:
    """Credit these people's 学时 of the class again after marks were added (the paper
    sheet's import, attendance.paper)."""
    _recredit(cls, staff_ids, now=now)


def _record_completions(cls: TrainingClass, staff_ids: list[int], cells, *,
                        now: datetime) -> None:
    total = sum(times_of(s).minutes for s in live_sessions(cls))
    done = {c.staff_id: c for c in db.session.scalars(select(ClassCompletion).where(
        ClassCompletion.class_id == cls.id, ClassCompletion.staff_id.in_(staff_ids)))}
    for staff_id in staff_ids:
        minutes = sum(cell.attendance.minutes for (_sid, pid), cell in cells.items()
                      if pid == staff_id)
        if rules.completed(minutes, total, cls.completion_share):
            if staff_id not in done:
                db.session.add(ClassCompletion(class_id=cls.id, staff_id=staff_id,
                                               completed_at=now, minutes=minutes))
                db.session.flush()
                record_event(None, "class.completed", "class", cls.id, now=now,
                             details={"staff": staff_id, "minutes": minutes})
                class_completed.send(cls, staff_id=staff_id, now=now)
            else:
                done[staff_id].minutes = minutes
        elif staff_id in done:
            # A correction took the person below the share: no longer completed (a course
            # completed meanwhile stays completed: learning never reopens one), said in the
            # audit log, and certificates revoke the class's 结业证书.
            db.session.delete(done[staff_id])
            db.session.flush()
            record_event(None, "class.completion_withdrawn", "class", cls.id, now=now,
                         details={"staff": staff_id, "minutes": minutes})
            class_completion_withdrawn.send(cls, staff_id=staff_id, now=now)
        db.session.flush()
        learning.refresh_for(staff_id, now=now)


def close_session(actor: StaffMember | None, session: ClassSession, *, now: datetime) -> bool:
    """Close a session (the trainer's button, or `trainer attendance close` once its windows
    are over): who never checked in is absent, and the class's 学时 are credited. Idempotent:
    returns whether it closed now."""
    cls = session.training_class
    if actor is not None:
        check_may_manage(actor, cls)
    if session.closed_at is not None or session.cancelled_at is not None:
        return False
    session.closed_at, session.closed_by_id = now, actor.id if actor else None
    db.session.flush()
    record_event(actor.id if actor else None, "session.closed", "class", cls.id, now=now,
                 details={"session": session.id})
    people = set(_roster(cls.id)) | set(db.session.scalars(
        select(AttendanceMark.staff_id).where(AttendanceMark.session_id == session.id)))
    _recredit(cls, sorted(people), now=now)
    if all(s.closed_at is not None for s in live_sessions(cls)):
        _open_survey(cls, now=now)
    return True


def close_due_sessions(*, now: datetime) -> int:
    """`trainer attendance close` (cron): every session whose windows are over."""
    count = 0
    for session in db.session.scalars(select(ClassSession).where(
            ClassSession.closed_at.is_(None), ClassSession.cancelled_at.is_(None),
            ClassSession.ends_at < now)):
        if now > times_of(session).closes_at and close_session(None, session, now=now):
            count += 1
    return count


def prune_addresses(*, now: datetime) -> int:
    """Addresses of check-ins are kept for the flags only so long (a setting), then cleared."""
    cutoff = now - timedelta(days=get_setting("mark_address_days"))
    return db.session.execute(update(AttendanceMark).where(
        AttendanceMark.recorded_at < cutoff, AttendanceMark.address.is_not(None))
        .values(address=None)).rowcount


# -- the survey -----------------------------------------------------------------------------------

def survey_window(cls: TrainingClass) -> tuple[datetime, datetime] | None:
    sessions = live_sessions(cls)
    if not sessions:
        return None
    last_end = sessions[-1].ends_at
    return last_end, last_end + timedelta(days=get_setting("survey_days"))


def attendees(cls: TrainingClass, *, now: datetime) -> set[int]:
    """Who attended at least one session (present, late or early)."""
    return {staff_id for (_sid, staff_id), cell in grid(cls, now=now).items()
            if cell.attendance.status in (rules.PRESENT, rules.LATE, rules.EARLY)}


def _open_survey(cls: TrainingClass, *, now: datetime) -> None:
    window = survey_window(cls)
    if window is None or now >= window[1]:
        return
    for staff_id in attendees(cls, now=now):
        add_todo(staff_id, "survey.open", cls.id, now=now, params={"title": cls.title},
                 due_on=local_date(window[1], centre_timezone()))


def answer_survey(person: StaffMember, cls: TrainingClass, *, content: int, trainer: int,
                  organisation: int, overall: int, suggestions: str, now: datetime) -> None:
    """One answer per attendee while the survey is open, kept without the person or the time;
    the audit log records only that the class's survey was answered."""
    window = survey_window(cls)
    if window is None or not window[0] <= now < window[1]:
        raise DomainError("This survey is not open.")
    if person.id not in attendees(cls, now=now):
        raise DomainError("Only those who attended answer this survey.")
    ratings = (content, trainer, organisation, overall)
    if not all(isinstance(r, int) and 1 <= r <= 5 for r in ratings):
        raise DomainError("Rate each from 1 to 5.")
    if db.session.get(SurveyReceipt, (cls.id, person.id)) is not None:
        raise DomainError("You have already answered this survey. Thank you.")
    db.session.add(SurveyReceipt(class_id=cls.id, staff_id=person.id))
    db.session.add(SurveyAnswer(id=secrets.token_hex(16), class_id=cls.id, content=content,
                                trainer=trainer, organisation=organisation, overall=overall,
                                suggestions=suggestions.strip()[:2000]))
    close_todos(person.id, "survey.open", cls.id, now=now)
    record_event(None, "survey.answered", "class", cls.id, now=now)
    db.session.flush()


MIN_ANSWERS = 3


@dataclass(frozen=True)
class SurveyResult:
    answers: int
    means: dict[str, Decimal]
    suggestions: list[str]


def survey_result(cls_ids: Iterable[int], *, now: datetime) -> SurveyResult | None:
    """Means of the closed surveys of these classes, shown only with at least three answers,
    never with names."""
    cls_ids = list(cls_ids)
    classes = db.session.scalars(select(TrainingClass).where(
        TrainingClass.id.in_(cls_ids))).all()
    closed = [c.id for c in classes if (w := survey_window(c)) is not None and now >= w[1]]
    if not closed:
        return None
    rows = db.session.execute(select(
        func.count(), func.avg(SurveyAnswer.content), func.avg(SurveyAnswer.trainer),
        func.avg(SurveyAnswer.organisation), func.avg(SurveyAnswer.overall)).where(
        SurveyAnswer.class_id.in_(closed))).one()
    if rows[0] < MIN_ANSWERS:
        return None
    names = ("content", "trainer", "organisation", "overall")
    means = {n: Decimal(str(v)).quantize(Decimal("0.1")) for n, v in zip(names, rows[1:])}
    suggestions = [s for s in db.session.scalars(select(SurveyAnswer.suggestions).where(
        SurveyAnswer.class_id.in_(closed), SurveyAnswer.suggestions != "")) if s]
    return SurveyResult(rows[0], means, sorted(suggestions))


def check_may_close(actor: StaffMember, cls: TrainingClass, *, now: datetime) -> None:
    """A class is closed by its trainer or HR, once its survey has closed."""
    check_may_manage(actor, cls)
    if cls.closed_at is not None:
        raise DomainError("This class is closed: its record is frozen.")
    window = survey_window(cls)
    if window is None or now < window[1]:
        raise DomainError("A class is closed once its survey has closed (%(when)s).",
                          when=local_date(window[1], centre_timezone()).isoformat()
                          if window else "—")


def close_class(actor: StaffMember, cls: TrainingClass, *, now: datetime) -> None:
    """Freeze the roster and the marks once the survey has closed (the evidence PDF is made
    beside it: attendance.paper.close_with_evidence)."""
    if cls.closed_at is not None:
        check_may_manage(actor, cls)
        return
    check_may_close(actor, cls, now=now)
    for session in live_sessions(cls):
        close_session(actor, session, now=now)
    cls.closed_at, cls.closed_by_id = now, actor.id
    record_event(actor.id, "class.closed", "class", cls.id, now=now)
    db.session.flush()


# -- calendars ------------------------------------------------------------------------------------

# A feed shows the sessions of the last 90 days and every one to come.
FEED_PAST_DAYS = 90


def may_see_session(actor: StaffMember, session: ClassSession) -> bool:
    """A session's calendar entry is for those on its class's roster (booked or wait-listed),
    its trainers, HR and admins."""
    cls = session.training_class
    if may_manage(actor, cls):
        return True
    entry = db.session.get(RosterEntry, (cls.id, actor.id))
    return entry is not None and entry.state != "cancelled"


def check_may_see_session(actor: StaffMember, session: ClassSession) -> None:
    if not may_see_session(actor, session):
        raise Forbidden("You are not on this class.")


@dataclass(frozen=True)
class CalendarEntry:
    """What a calendar shows of one session, read in a few queries for a whole feed."""

    session: ClassSession
    training_class: TrainingClass
    number: int | None          # 第n课次, when the class has several sessions
    trainers: list[str]         # names
    teaches: bool               # the person the calendar is for teaches the class


def calendar_entries(person: StaffMember, sessions: list[ClassSession]) -> list[CalendarEntry]:
    """Each session with its number in its class (counting cancelled sessions too, so that
    cancelling one renumbers nothing) and its trainers' names."""
    trainer_ids = {t.staff_id for s in sessions for t in s.training_class.trainers}
    names = dict(db.session.execute(select(StaffMember.id, StaffMember.name).where(
        StaffMember.id.in_(trainer_ids))).all()) if trainer_ids else {}
    entries = []
    for session in sessions:
        cls = session.training_class
        ordered = sorted(cls.sessions, key=lambda s: (s.starts_at, s.id))
        number = ordered.index(session) + 1 if len(ordered) > 1 else None
        entries.append(CalendarEntry(
            session, cls, number,
            [names[t.staff_id] for t in sorted(cls.trainers, key=lambda t: t.staff_id)
             if t.staff_id in names],
            "trainer" in person.role_names and person.id in cls.trainer_ids))
    return entries


def feed_sessions(person: StaffMember, *, now: datetime) -> list[ClassSession]:
    """A person's feed: every session of the classes they hold a place on (booked: invited,
    signed up or promoted; not wait-listed, not cancelled), and of the classes they teach when
    they are a trainer, from 90 days ago on. Cancelled sessions stay (STATUS:CANCELLED)."""
    classes = [select(RosterEntry.class_id).where(RosterEntry.staff_id == person.id,
                                                  RosterEntry.state == "booked")]
    if "trainer" in person.role_names:
        classes.append(select(ClassTrainer.class_id).where(ClassTrainer.staff_id == person.id))
    return list(db.session.scalars(
        select(ClassSession).where(
            or_(*(ClassSession.class_id.in_(q) for q in classes)),
            ClassSession.ends_at >= now - timedelta(days=FEED_PAST_DAYS))
        .options(selectinload(ClassSession.training_class).selectinload(TrainingClass.sessions))
        .order_by(ClassSession.starts_at, ClassSession.id)))


def _feed_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def feed_of(person: StaffMember) -> CalendarFeed | None:
    return db.session.get(CalendarFeed, person.id)


def create_feed(person: StaffMember, *, now: datetime) -> str:
    """A new address for the person's calendar feed; the one before stops working at once.
    Returns the token, which is kept only as its SHA-256: the person sees it this once."""
    token = secrets.token_urlsafe(32)
    feed = feed_of(person)
    renewed = feed is not None
    if feed is None:
        feed = CalendarFeed(staff_id=person.id)
        db.session.add(feed)
    feed.token_hash, feed.created_at = _feed_token_hash(token), now
    db.session.flush()
    record_event(person.id, "calendar.feed_regenerated" if renewed else "calendar.feed_created",
                 "staff", person.id, now=now)
    return token


def feed_owner(token: str) -> StaffMember | None:
    """Whose feed this token opens: nobody's when it is unknown (or replaced), or when its
    owner may no longer sign in (left the centre, or sign-in turned off)."""
    if not token or len(token) > 128:
        return None
    feed = db.session.scalar(select(CalendarFeed).where(
        CalendarFeed.token_hash == _feed_token_hash(token)))
    if feed is None:
        return None
    person = db.session.get(StaffMember, feed.staff_id)
    return person if person is not None and person.is_active else None


def get_class(class_id: int) -> TrainingClass:
    cls = db.session.get(TrainingClass, class_id)
    if cls is None:
        raise NotFound("No such class.")
    return cls


def get_session(session_id: int) -> ClassSession:
    session = db.session.get(ClassSession, session_id)
    if session is None:
        raise NotFound("No such session.")
    return session

