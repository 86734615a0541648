"""The paper side of a class: a session's printable sign-in sheet (签到表), the import of marks
from a filled one (a preview first, every bad row at once, all or nothing), and the evidence PDF
a class keeps once it is closed.

Rendering reads and never writes, so the routes render outside the transaction that writes
(a PDF takes tens of milliseconds to a second; SQLite's write lock is not held meanwhile). The
functions that write flush and never commit, like the area's services."""
from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from trainer.accounts.models import StaffMember
from trainer.accounts.rules import employee_no_key
from trainer.accounts.staff_import import RowError, read_table
from trainer.attendance import rules, services
from trainer.attendance.models import (
    AttendanceMark,
    ClassSession,
    LeaveRequest,
    RosterEntry,
    SignupChange,
    TrainingClass,
)
from trainer.attendance.sheet_import import (
    ABSENT,
    LEAVE,
    PRESENT,
    TIMES,
    SheetLine,
    SheetRow,
    SheetSpan,
    StaffRef,
    check_lines,
    read_lines,
)
from trainer.core.audit import record_event
from trainer.core.db import db
from trainer.core.errors import N_, DomainError
from trainer.core.settings import centre_timezone
from trainer.core.textfiles import DecodeError
from trainer.core.timeutil import zone
from trainer.learning import services as learning

STYLESHEET = "css/pdf-attendance.css"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
TEMPLATE_HEADER = ["工号", "姓名", "部门", "签到时间", "签退时间", "状态", "备注"]


# -- the people of a sheet ------------------------------------------------------------------------

def _natural(text: str) -> tuple:
    """K2 before K10: digits compared as numbers."""
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part)
                 for part in re.split(r"(\d+)", text) if part)


def roster_people(cls: TrainingClass) -> list[StaffMember]:
    """Everyone booked on the class, by department in the order HR keeps the departments (the
    list's order, then the name), then by employee number: the order a sign-in sheet is filled
    in the room. Nobody's department last."""
    people = db.session.scalars(select(StaffMember).options(joinedload(StaffMember.department))
                                .join(RosterEntry, RosterEntry.staff_id == StaffMember.id)
                                .where(RosterEntry.class_id == cls.id,
                                       RosterEntry.state == "booked"))
    return sorted(people, key=lambda p: (
        p.department is None, p.department.sort_order if p.department else 0,
        p.department_name, _natural(p.employee_no)))


def trainer_names(cls: TrainingClass) -> list[str]:
    ids = cls.trainer_ids
    if not ids:
        return []
    return list(db.session.scalars(select(StaffMember.name).where(
        StaffMember.id.in_(ids)).order_by(StaffMember.employee_no)))


def qr_data_url(url: str) -> str:
    """The QR code of `url` as an SVG data: URL (the only kind of resource a PDF may embed)."""
    import segno

    return segno.make(url, error="m").svg_data_uri(scale=4, border=2, dark="#000")


def _render(template: str, **context) -> bytes:
    """A PDF from a template, in the language of the request (the centre's default outside
    one: the demo's set-up)."""
    from flask import current_app, has_request_context, render_template

    from trainer.core.pdf import render

    if not has_request_context():
        with current_app.test_request_context():
            return _render(template, **context)
    return render(render_template(template, **context, centre_zone=centre_timezone(),
                                  local=_local_text),
                  stylesheets=(STYLESHEET,))


def _local_text(moment: datetime | None, fmt: str = "short") -> str:
    """A moment in the centre's zone (a printed sheet belongs to the room, not to the
    trainer's own zone), in the page's language."""
    if moment is None:
        return ""
    from babel.dates import format_date, format_datetime
    from flask_babel import get_locale

    local = moment.astimezone(zone(centre_timezone()))
    if fmt == "time":
        return local.strftime("%H:%M")
    if fmt == "date":
        return format_date(local.date(), "full", locale=get_locale())
    return format_datetime(local, fmt, tzinfo=local.tzinfo, locale=get_locale())


# -- the sign-in sheet ----------------------------------------------------------------------------

def sheet_pdf(session: ClassSession, *, page_url: str, now: datetime) -> bytes:
    """The session's sign-in sheet: the class, the session's date, time and place, its
    trainers; one row per person on the roster with blank 签到 and 签退 columns to sign; a QR
    code of the session's page (`page_url`, absolute: it opens the page and checks no one in);
    page numbers in the footer."""
    cls = session.training_class
    sessions = services.live_sessions(cls)
    number = next((n for n, s in enumerate(sessions, 1) if s.id == session.id), None)
    return _render("attendance/sheet_pdf.html", cls=cls, session=session,
                   people=roster_people(cls), trainers=trainer_names(cls),
                   number=number, count=len(sessions), qr=qr_data_url(page_url),
                   page_url=page_url, now=now)


def sheet_template(session: ClassSession) -> bytes:
    """An XLSX to type a filled sheet into: the import's columns, the roster filled in."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "签到表"
    sheet.append(TEMPLATE_HEADER)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row, person in enumerate(roster_people(session.training_class), start=2):
        for column, value in enumerate((person.employee_no, person.name,
                                        person.department_name), start=1):
            cell = sheet.cell(row=row, column=column, value=value)
            cell.data_type = "s"        # "=…" stays text, never a formula
        for column in range(1, len(TEMPLATE_HEADER) + 1):
            # Text cells: 0012 keeps its zeros and 09:05 stays as typed.
            sheet.cell(row=row, column=column).number_format = "@"
    for letter, width in zip("ABCDEFG", (12, 12, 16, 10, 10, 8, 30)):
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


# -- importing a filled sheet ---------------------------------------------------------------------

@dataclass(frozen=True)
class PlannedRow:
    """A good row and what it changes: the person's attendance before and after."""

    sheet: SheetRow
    before: rules.Attendance | None
    after: rules.Attendance
    check_in_at: datetime | None = None       # the times the mark records (blank: kept)
    check_out_at: datetime | None = None


@dataclass
class ImportPlan:
    filename: str
    lines: list[SheetLine] = field(default_factory=list)
    rows: list[PlannedRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)
    version: str = ""        # the session's record the plan was made from (record_version)

    @property
    def ok(self) -> bool:
        return not self.errors and bool(self.rows)


class SheetRefused(DomainError):
    """The sheet had problems when it was to be recorded (something changed since its
    preview): nothing was recorded."""

    def __init__(self, errors: list[RowError]) -> None:
        super().__init__(N_("Nothing was recorded: %(n)d problems were found in the sheet. "
                            "Upload it again to see them."), n=len(errors))
        self.errors = errors


def span_of(session: ClassSession) -> SheetSpan:
    times = services.times_of(session)
    return SheetSpan(session.starts_at, session.ends_at, centre_timezone(),
                     times.checkin_window[0], times.checkout_window[1])


def record_version(session: ClassSession) -> str:
    """The state of the session's attendance record: it changes with every mark and leave
    request, so a preview confirmed after a change (or twice) is refused, not recorded."""
    marks = db.session.execute(select(func.count(), func.max(AttendanceMark.id)).where(
        AttendanceMark.session_id == session.id)).one()
    leave = db.session.execute(select(func.count(), func.max(LeaveRequest.id),
                                      func.max(LeaveRequest.decided_at)).where(
        LeaveRequest.session_id == session.id)).one()
    roster = db.session.execute(select(func.count(), func.max(SignupChange.id)).where(
        SignupChange.class_id == session.class_id)).one()
    return ":".join(str(v.timestamp() if isinstance(v, datetime) else v or 0)
                    for v in (*marks, *leave, *roster))


def check_importable(actor: StaffMember, session: ClassSession, *, now: datetime) -> None:
    cls = session.training_class
    services.check_may_manage(actor, cls)
    if cls.closed_at is not None:
        raise DomainError("This class is closed: its record is frozen.")
    if session.cancelled_at is not None:
        raise DomainError("This session is cancelled.")
    if now < session.starts_at:
        raise DomainError("The session has not started yet: a sign-in sheet is imported after "
                          "it.")


def read_sheet(data: bytes, filename: str) -> tuple[list[SheetLine], list[RowError]]:
    """The filled rows of an uploaded XLSX or CSV (UTF-8 with or without BOM, GB18030/GBK)."""
    try:
        table = read_table(data, filename)
    except DecodeError as exc:
        row = exc.params.get("row", 0)     # known when the damage is inside the sheet
        return [], [RowError(row if isinstance(row, int) else 0, "", exc.message, exc.params,
                             brace=True)]
    return read_lines(table)


def plan_import(actor: StaffMember, session: ClassSession, lines: list[SheetLine], *,
                filename: str, now: datetime, read_errors: list[RowError] | None = None
                ) -> ImportPlan:
    """What recording these rows would do, person by person, with every problem found (reads
    only). Raises DomainError when no sheet may be imported for this session at all;
    `read_errors` are the file's own (read_sheet), reported as they are."""
    check_importable(actor, session, now=now)
    plan = ImportPlan(filename, list(lines), version=record_version(session))
    if read_errors:
        plan.errors = list(read_errors)
        return plan
    cls = session.training_class
    keys = {employee_no_key(line.employee_no) for line in lines} - {""}
    people = db.session.scalars(select(StaffMember).where(
        StaffMember.employee_no_key.in_(keys))).all() if keys else []
    booked = {p.id for p in roster_people(cls)}
    staff = {p.employee_no_key: StaffRef(p.id, p.name, p.employee_no, p.id in booked)
             for p in people}
    checked = check_lines(lines, span_of(session), staff)
    plan.errors, plan.skipped = list(checked.errors), checked.skipped
    ids = [row.staff.id for row in checked.rows]
    cells = services.grid(cls, now=now, staff_ids=ids)
    marks: dict[int, list[rules.Mark]] = {}
    for mark in db.session.scalars(select(AttendanceMark).where(
            AttendanceMark.session_id == session.id, AttendanceMark.staff_id.in_(ids))):
        marks.setdefault(mark.staff_id, []).append(rules.Mark(
            mark.kind, mark.recorded_at, mark.at, mark.check_in_at, mark.check_out_at))
    times = services.times_of(session)
    span = span_of(session)
    for row in checked.rows:
        cell = cells.get((session.id, row.staff.id))
        own = marks.get(row.staff.id, [])
        on_leave = cell is not None and cell.leave is not None and cell.leave.state == "approved"
        check_in = check_out = None
        if row.action == LEAVE:
            after = rules.Attendance(rules.LEAVE)
        else:
            if row.action == TIMES:
                # A time left blank keeps the one already recorded (a scan, an earlier mark).
                recorded_in, recorded_out, _absent = rules.times_from(own, times)
                check_in = row.check_in_at or recorded_in
                check_out = row.check_out_at or recorded_out
                problem = _times_problem(row, check_in, check_out, span)
                if problem is not None:
                    plan.errors.append(problem)
                    continue
            new = rules.Mark(_KIND[row.action], now, None, check_in, check_out)
            after = rules.derive(times, [*own, new], now=now, leave_approved=on_leave,
                                 closed=session.closed_at is not None)
        plan.rows.append(PlannedRow(row, cell.attendance if cell else None, after,
                                    check_in, check_out))
    if not plan.errors and not plan.rows:
        plan.errors.append(RowError(0, "", "No row records anything: fill in times or a "
                                    "status."))
    plan.errors.sort(key=lambda e: (e.row, e.column))
    return plan


_KIND = {TIMES: "correction", PRESENT: "present", ABSENT: "absent"}


def _times_problem(row: SheetRow, check_in: datetime | None, check_out: datetime | None,
                   span: SheetSpan) -> RowError | None:
    if check_in is None:
        return RowError(row.row, "签到时间", "A check-out without a check-in: give the check-in "
                        "time too (none is recorded).")
    if check_out is not None and check_out <= check_in:
        return RowError(row.row, "签退时间", "With the time already recorded, the check-out "
                        "%(out)s is not after the check-in %(in)s.",
                        {"out": f"{span.local(check_out):%H:%M}",
                         "in": f"{span.local(check_in):%H:%M}"})
    return None


def record_import(actor: StaffMember, session: ClassSession, lines: list[SheetLine], *,
                  filename: str, reason: str, now: datetime, version: str | None = None
                  ) -> ImportPlan:
    """Record a checked sheet: every row, or nothing when any row has a problem now. Each row
    is a new mark (via "sheet", with its author and `reason`, plus the row's note), or 请假
    recorded by the trainer; audited once; the class's 学时 credited again. With `version`
    (the preview's), nothing is recorded when the session's record changed since."""
    plan = plan_import(actor, session, lines, filename=filename, now=now)
    if version is not None and version != plan.version:
        raise DomainError("The session's attendance changed since the preview (or the sheet "
                          "was recorded already): upload it again to see what it records now.")
    if not plan.ok:
        raise SheetRefused(plan.errors)
    cls = session.training_class
    recorded, marked = [], []
    for planned in plan.rows:
        row = planned.sheet
        why = f"{reason}：{row.note}" if row.note else reason
        if row.action == LEAVE:
            person = db.session.get(StaffMember, row.staff.id)
            services.record_leave(actor, session, person, why, now=now)
        else:
            db.session.add(AttendanceMark(
                session_id=session.id, staff_id=row.staff.id, kind=_KIND[row.action],
                via="sheet", check_in_at=planned.check_in_at,
                check_out_at=planned.check_out_at, recorded_at=now, author_id=actor.id,
                reason=why))
            marked.append(row.staff.id)
        recorded.append({"row": row.row, "staff": row.staff.id, "action": row.action,
                         "in": planned.check_in_at.isoformat() if planned.check_in_at else None,
                         "out": planned.check_out_at.isoformat()
                         if planned.check_out_at else None})
    db.session.flush()
    record_event(actor.id, "attendance.sheet_imported", "class", cls.id, now=now,
                 details={"session": session.id, "filename": filename[:200],
                          "reason": reason, "rows": recorded})
    services.recredit(cls, marked, now=now)
    return plan


# -- the evidence of a closed class ---------------------------------------------------------------

@dataclass(frozen=True)
class EvidenceCell:
    status: str
    flags: tuple[str, ...]
    check_in_at: datetime | None
    check_out_at: datetime | None
    minutes: int


@dataclass(frozen=True)
class EvidencePerson:
    id: int
    name: str
    employee_no: str
    department: str
    cells: tuple[EvidenceCell | None, ...]      # one per session, in order
    minutes: int
    hours: Decimal
    completed: bool


@dataclass(frozen=True)
class EvidenceSession:
    id: int
    starts_at: datetime
    ends_at: datetime
    place: str
    minutes: int


@dataclass(frozen=True)
class Evidence:
    """What a closed class's record says: the roster, each session's status, times and minutes
    per person, their 学时, and the survey's summary (no names). Compared before it is stored,
    so the PDF shows exactly what was frozen."""

    class_id: int
    title: str
    category: str
    place: str
    link: str
    trainers: tuple[str, ...]
    sessions: tuple[EvidenceSession, ...]
    people: tuple[EvidencePerson, ...]
    total_minutes: int
    share: int
    minutes_per_hour: int
    survey: services.SurveyResult | None
    closed_at: datetime
    closed_by: str


_FLAGS = (rules.LATE, rules.EARLY, rules.MISSING_CHECKOUT)


def evidence_of(actor: StaffMember, cls: TrainingClass, *, now: datetime) -> Evidence:
    """The class's record as closing it at `now` freezes it (its open sessions counted as
    closed: no check-in is an absence). Reads only."""
    sessions = services.live_sessions(cls)
    cells = services.grid(cls, now=now, as_closed=True)
    ids = sorted({staff_id for _session, staff_id in cells})
    people = sorted(db.session.scalars(select(StaffMember).where(StaffMember.id.in_(ids)))
                    if ids else [],
                    key=lambda p: (p.department_name == "", p.department_name,
                                   _natural(p.employee_no)))
    total = sum(services.times_of(s).minutes for s in sessions)
    per_hour = learning.minutes_per_hour()
    rows = []
    for person in people:
        own = []
        for session in sessions:
            cell = cells.get((session.id, person.id))
            own.append(None if cell is None else EvidenceCell(
                cell.attendance.status, tuple(f for f in _FLAGS if f in cell.attendance.flags),
                cell.attendance.check_in_at, cell.attendance.check_out_at,
                cell.attendance.minutes))
        minutes = sum(c.minutes for c in own if c is not None)
        rows.append(EvidencePerson(person.id, person.name, person.employee_no,
                                   person.department_name, tuple(own), minutes,
                                   learning.to_hours(minutes, per_hour),
                                   rules.completed(minutes, total, cls.completion_share)))
    return Evidence(
        cls.id, cls.title, cls.hours_category, cls.place, cls.link,
        tuple(trainer_names(cls)),
        tuple(EvidenceSession(s.id, s.starts_at, s.ends_at, s.place or cls.place,
                              services.times_of(s).minutes) for s in sessions),
        tuple(rows), total, cls.completion_share, per_hour,
        services.survey_result([cls.id], now=now), now, actor.name)


def render_evidence(evidence: Evidence) -> bytes:
    return _render("attendance/evidence_pdf.html", e=evidence)


@dataclass(frozen=True)
class PreparedEvidence:
    evidence: Evidence
    pdf: bytes


def prepare_evidence(actor: StaffMember, cls: TrainingClass, *, now: datetime
                     ) -> PreparedEvidence:
    """Check the class may be closed now, and render its evidence (reads only: run it before
    the transaction that closes the class)."""
    services.check_may_close(actor, cls, now=now)
    evidence = evidence_of(actor, cls, now=now)
    return PreparedEvidence(evidence, render_evidence(evidence))


def close_with_evidence(actor: StaffMember, cls: TrainingClass, prepared: PreparedEvidence, *,
                        now: datetime) -> bool:
    """Close the class and keep its evidence PDF, in one transaction: when the record is no
    longer what the PDF shows (a mark came in meanwhile), nothing is closed and the caller
    tries again. Returns whether it closed now (a class already closed keeps its PDF)."""
    if cls.closed_at is not None:
        return False
    services.close_class(actor, cls, now=now)
    if evidence_of(actor, cls, now=now) != prepared.evidence:
        raise DomainError("The class's record changed while its evidence was being made. "
                          "Close it again.")
    cls.evidence_pdf = prepared.pdf
    db.session.flush()
    return True
