"""The audit log for HR and administrators: every area's events, filtered by the person they
affect, the actor, the action and the date, a page at a time, each action named in the reader's
language and its details laid out readably.

Every action name any area writes has a label here (a test collects the names from the code and
fails on one without). Audit details never hold survey answers (a survey answer's event says
only that a class's survey was answered, by no one)."""
from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from sqlalchemy import String, cast, exists, func, literal, or_, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.sql import Select

from trainer.accounts.models import StaffMember
from trainer.certificates.models import Certificate
from trainer.core.db import db
from trainer.core.models import AuditEvent
from trainer.core.timeutil import local_midnight_utc
from trainer.learning.models import Enrolment
from trainer.quizzes.models import Attempt
from trainer.core.pages import Page

PAGE_SIZE = 50

# Every action any area writes (core.audit.record_event), in the reader's language.
ACTION_LABELS: dict[str, Any] = {
    # accounts
    "staff.created": _l("Staff member added"),
    "staff.updated": _l("Staff member edited"),
    "staff.activated": _l("Sign-in enabled"),
    "staff.deactivated": _l("Sign-in disabled"),
    "staff.password_reset": _l("Password reset by HR"),
    "staff.password_changed": _l("Password changed"),
    "staff.imported": _l("Staff imported"),
    "staff_event.hire": _l("Hire recorded"),
    "staff_event.leave_start": _l("Leave start recorded"),
    "staff_event.leave_return": _l("Return from leave recorded"),
    "staff_event.nomination": _l("Nomination recorded"),
    "staff_event.position_change": _l("Position change recorded"),
    "staff_event.leaving": _l("Leaving recorded"),
    "staff_event.stood_down": _l("Stand-down recorded"),
    "staff_event.reinstated": _l("Reinstatement recorded"),
    "staff_event.voided": _l("Working-life event voided"),
    "login.ended": _l("Sign-in ended"),
    "login.account_slowed": _l("Sign-ins to an account slowed"),
    "login.password_spraying": _l("Password spraying refused"),
    "department.created": _l("Department added"),
    "department.updated": _l("Department edited"),
    "department.activated": _l("Department back in use"),
    "department.deactivated": _l("Department no longer in use"),
    "department.deleted": _l("Department deleted"),
    "position.created": _l("Position added"),
    "position.updated": _l("Position edited"),
    "position.activated": _l("Position back in use"),
    "position.deactivated": _l("Position no longer in use"),
    "position.deleted": _l("Position deleted"),
    "setting.changed": _l("Setting changed"),
    # banks
    "bank.created": _l("Question bank created"),
    "bank.updated": _l("Question bank edited"),
    "bank.imported": _l("Questions imported"),
    "question.created": _l("Question added"),
    "question.edited": _l("Question edited"),
    "question.retired": _l("Question retired"),
    "question.restored": _l("Question restored"),
    "question.moved": _l("Questions moved"),
    "content.banks_synced": _l("Shipped question banks synchronised"),
    "content.courses_synced": _l("Shipped courses synchronised"),
    "content.posts_synced": _l("Shipped post training synchronised"),
    # quizzes
    "quiz.created": _l("Quiz created"),
    "quiz.updated": _l("Quiz edited"),
    "quiz.override_set": _l("Quiz override set"),
    "quiz.assigned": _l("Quiz assigned"),
    "attempt.started": _l("Attempt started"),
    "attempt.submitted": _l("Attempt submitted"),
    "attempt.expired": _l("Attempt submitted when time ran out"),
    "attempt.deadline_changed": _l("Attempt deadline changed"),
    # learning
    "enrolment.assigned": _l("Training assigned"),
    "enrolment.overdue": _l("Training overdue"),
    "enrolment.extended": _l("Training due date extended"),
    "enrolment.waived": _l("Training waived"),
    "enrolment.not_passed": _l("Training ended as not passed"),
    "enrolment.completed": _l("Training completed"),
    "course.completed": _l("Course completed"),
    "course.requirement_added": _l("Course requirement added"),
    "exam_schedule.created": _l("Monthly exam schedule created"),
    "exam_schedule.updated": _l("Monthly exam schedule edited"),
    "exam_schedule.sittings_created": _l("Monthly exam sittings created"),
    "course.requirement_removed": _l("Course requirement removed"),
    # attendance
    "class.created": _l("Class created"),
    "class.updated": _l("Class edited"),
    "class.invited": _l("People invited to a class"),
    "class.signed_up": _l("Signed up for a class"),
    "class.cancelled": _l("Class place cancelled"),
    "class.completed": _l("Class completed"),
    "class.completion_withdrawn": _l("Class completion withdrawn (attendance corrected)"),
    "class.closed": _l("Class closed"),
    "session.created": _l("Session added"),
    "session.moved": _l("Session moved"),
    "session.cancelled": _l("Session cancelled"),
    "session.closed": _l("Session closed"),
    "leave.requested": _l("Leave requested"),
    "leave.approved": _l("Leave approved"),
    "leave.declined": _l("Leave declined"),
    "leave.recorded": _l("Leave recorded"),
    "attendance.all_present": _l("Everyone marked present"),
    "attendance.corrected": _l("Attendance corrected"),
    "attendance.sheet_imported": _l("Sign-in sheet imported"),
    "survey.answered": _l("Class survey answered"),
    "calendar.feed_created": _l("Calendar feed created"),
    "calendar.feed_regenerated": _l("Calendar feed renewed"),
    # certificates
    "assessment_form.created": _l("Assessment form written"),
    "assessment_form.revised": _l("Assessment form revised"),
    "assessment_form.retired": _l("Assessment form retired"),
    "assessment.recorded": _l("Practical assessment recorded"),
    "assessment.acknowledged": _l("Practical assessment acknowledged"),
    "assessment.voided": _l("Practical assessment voided"),
    # remedial
    "remedial.assessor_named": _l("Assessor named on a remedial case"),
    "remedial.plan_written": _l("Improvement plan written"),
    "remedial.plan_acknowledged": _l("Improvement plan acknowledged"),
    "remedial.talk_recorded": _l("Counselling talk recorded"),
    "remedial.talk_read": _l("Counselling notes read"),
    "remedial.evaluated": _l("Remedial evaluation recorded"),
    "certificate.issued": _l("Certificate issued"),
    "certificate.revoked": _l("Certificate revoked"),
    "certificate.reissued": _l("Certificate reissued"),
    "external_certificate.added": _l("External certificate handed in"),
    "external_certificate.approved": _l("External certificate approved"),
    "external_certificate.declined": _l("External certificate declined"),
    # records
    "record.exported": _l("Training record downloaded"),
    "results.exported": _l("Quiz results exported"),
    "audit.exported": _l("Audit log exported"),
    "records.dashboard_exported": _l("Compliance figures exported"),
    "records.people_exported": _l("People list exported"),
    "records.month_stored": _l("Month-end figures stored"),
    "records.monthly_exported": _l("Month-end report downloaded"),
    "records.evidence_exported": _l("Remedial evidence pack downloaded"),
}

OBJECT_LABELS: dict[str, Any] = {
    "staff": lazy_pgettext("audit object", "Staff member"),
    "login": lazy_pgettext("audit object", "Sign-in"),
    "department": lazy_pgettext("audit object", "Department"),
    "position": lazy_pgettext("audit object", "Position"),
    "setting": lazy_pgettext("audit object", "Setting"),
    "bank": lazy_pgettext("audit object", "Question bank"),
    "question": lazy_pgettext("audit object", "Question"),
    "content": lazy_pgettext("audit object", "Shipped content"),
    "quiz": lazy_pgettext("audit object", "Quiz"),
    "attempt": lazy_pgettext("audit object", "Attempt"),
    "enrolment": lazy_pgettext("audit object", "Training"),
    "course": lazy_pgettext("audit object", "Course"),
    "exam_schedule": lazy_pgettext("audit object", "Monthly exam schedule"),
    "class": lazy_pgettext("audit object", "Class"),
    "certificate": lazy_pgettext("audit object", "Certificate"),
    "assessment": lazy_pgettext("audit object", "Practical assessment"),
    "assessment_form": lazy_pgettext("audit object", "Assessment form"),
    "audit": lazy_pgettext("audit object", "Audit log"),
    "records": lazy_pgettext("audit object", "Training statistics"),
}

# The keys details use, named for the reader (a key not here is shown as it is).
DETAIL_LABELS: dict[str, Any] = {
    "staff": lazy_pgettext("audit detail", "Person"),
    "employee_no": lazy_pgettext("audit detail", "Employee number"),
    "name": lazy_pgettext("audit detail", "Name"),
    "roles": lazy_pgettext("audit detail", "Roles"),
    "department": lazy_pgettext("audit detail", "Department"),
    "position": lazy_pgettext("audit detail", "Position"),
    "hire_date": lazy_pgettext("audit detail", "Hired on"),
    "locale": lazy_pgettext("audit detail", "Language"),
    "timezone": lazy_pgettext("audit detail", "Time zone"),
    "code": lazy_pgettext("audit detail", "Code"),
    "sort_order": lazy_pgettext("audit detail", "Order"),
    "active": lazy_pgettext("audit detail", "In use"),
    "changed": lazy_pgettext("audit detail", "Changed"),
    "event_id": lazy_pgettext("audit detail", "Event"),
    "on": lazy_pgettext("audit detail", "Date"),
    "note": lazy_pgettext("audit detail", "Note"),
    "login_id": lazy_pgettext("audit detail", "Sign-in"),
    "count": lazy_pgettext("audit detail", "Count"),
    "filename": lazy_pgettext("audit detail", "File"),
    "failures_today": lazy_pgettext("audit detail", "Failures today"),
    "address": lazy_pgettext("audit detail", "Address"),
    "accounts": lazy_pgettext("audit detail", "Accounts"),
    "old": lazy_pgettext("audit detail", "Before"),
    "new": lazy_pgettext("audit detail", "After"),
    "bank": lazy_pgettext("audit detail", "Question bank"),
    "version": lazy_pgettext("audit detail", "Version"),
    "origin": lazy_pgettext("audit detail", "Origin"),
    "questions": lazy_pgettext("audit detail", "Questions"),
    "category": lazy_pgettext("audit detail", "Category"),
    "source": lazy_pgettext("audit detail", "Source"),
    "format": lazy_pgettext("audit detail", "Format"),
    "imported": lazy_pgettext("audit detail", "Imported"),
    "duplicates": lazy_pgettext("audit detail", "Duplicates"),
    "id_clashes": lazy_pgettext("audit detail", "Id clashes"),
    "invalid": lazy_pgettext("audit detail", "Invalid"),
    "created": lazy_pgettext("audit detail", "Created"),
    "updated": lazy_pgettext("audit detail", "Updated"),
    "revised": lazy_pgettext("audit detail", "Revised"),
    "retired": lazy_pgettext("audit detail", "Retired"),
    "conflicts": lazy_pgettext("audit detail", "Conflicts"),
    "title": lazy_pgettext("audit detail", "Title"),
    "quiz": lazy_pgettext("audit detail", "Quiz"),
    "number": lazy_pgettext("audit detail", "Attempt"),
    "enrolment": lazy_pgettext("audit detail", "Training"),
    "score": lazy_pgettext("audit detail", "Score"),
    "percent": lazy_pgettext("audit detail", "Percent"),
    "passed": lazy_pgettext("audit detail", "Passed"),
    "submitted_at": lazy_pgettext("audit detail", "Submitted"),
    "extra_time_s": lazy_pgettext("audit detail", "Extra time (seconds)"),
    "extra_attempts": lazy_pgettext("audit detail", "Extra attempts"),
    "from": lazy_pgettext("audit detail", "From"),
    "to": lazy_pgettext("audit detail", "To"),
    "track": lazy_pgettext("audit detail", "Track"),
    "reason": lazy_pgettext("audit detail", "Reason"),
    "due_on": lazy_pgettext("audit detail", "Due on"),
    "course": lazy_pgettext("audit detail", "Course"),
    "kind": lazy_pgettext("audit detail", "Kind"),
    "session": lazy_pgettext("audit detail", "Session"),
    "starts_at": lazy_pgettext("audit detail", "Starts"),
    "override": lazy_pgettext("audit detail", "Override"),
    "booked": lazy_pgettext("audit detail", "Booked"),
    "waitlisted": lazy_pgettext("audit detail", "Wait-listed"),
    "state": lazy_pgettext("audit detail", "State"),
    "request": lazy_pgettext("audit detail", "Request"),
    "minutes": lazy_pgettext("audit detail", "Minutes"),
    "rows": lazy_pgettext("audit detail", "Rows"),
    "serial": lazy_pgettext("audit detail", "Serial"),
    "external": lazy_pgettext("audit detail", "External certificate"),
    "scope": lazy_pgettext("audit detail", "Scope"),
    "filter": lazy_pgettext("audit detail", "Filter"),
    "department_id": lazy_pgettext("audit detail", "Department"),
    "action": lazy_pgettext("audit detail", "Action"),
    "actor": lazy_pgettext("audit detail", "Actor"),
    "person": lazy_pgettext("audit detail", "Person affected"),
    "by": lazy_pgettext("audit detail", "Grouped by"),
    "flag": lazy_pgettext("audit detail", "Figure"),
    "q": lazy_pgettext("audit detail", "Search"),
    "no_department": lazy_pgettext("audit detail", "No department"),
    "month": lazy_pgettext("audit detail", "Month"),
    "live": lazy_pgettext("audit detail", "Live (month not ended)"),
    "total": lazy_pgettext("audit detail", "Points"),
    "out_of": lazy_pgettext("audit detail", "Out of"),
    "critical_failed": lazy_pgettext("audit detail", "Critical items not met"),
    "commented": lazy_pgettext("audit detail", "With a comment"),
    "assessor": lazy_pgettext("audit detail", "Assessor"),
    "plan": lazy_pgettext("audit detail", "Improvement plan"),
    "review_on": lazy_pgettext("audit detail", "Evaluation planned on"),
    "talk": lazy_pgettext("audit detail", "Counselling talk"),
    "outcome": lazy_pgettext("audit detail", "Outcome"),
    "due": lazy_pgettext("audit detail", "New due date"),
    "notes": lazy_pgettext("audit detail", "Notes included"),
}

_ISO_MOMENT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")


def action_label(action: str) -> str:
    label = ACTION_LABELS.get(action)
    return str(label) if label is not None else action


# -- the filter ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class AuditFilter:
    person_id: int | None = None      # the person the event is about
    actor_id: int | None = None
    action: str = ""
    start: date | None = None         # local dates, both included
    end: date | None = None

    def as_details(self) -> dict[str, Any]:
        return {"person": self.person_id, "actor": self.actor_id, "action": self.action or None,
                "from": self.start.isoformat() if self.start else None,
                "to": self.end.isoformat() if self.end else None}


def _mentions(staff_id: int) -> Any:
    """Details naming the person (`staff`: one id, or a list of them)."""
    if db.session.get_bind().dialect.name == "postgresql":
        # (jsonb containment: an array holds the id, or the value is the id.)
        return cast(AuditEvent.details, JSONB)["staff"].op("@>")(
            cast(literal(str(staff_id)), JSONB))
    each = func.json_each(AuditEvent.details, "$.staff").table_valued("value")
    return exists(select(1).select_from(each).where(each.c.value == staff_id))


def affecting(staff_id: int) -> Any:
    """The events about a person: on their staff record, their attempts, enrolments and
    certificates, or naming them in their details (a class's roster, a leave, an issue)."""
    def ids(column, owner) -> Select:
        return select(cast(column, String)).where(owner == staff_id)

    return or_(
        (AuditEvent.object_type == "staff") & (AuditEvent.object_id == str(staff_id)),
        (AuditEvent.object_type == "attempt") & AuditEvent.object_id.in_(
            ids(Attempt.id, Attempt.staff_id)),
        (AuditEvent.object_type == "enrolment") & AuditEvent.object_id.in_(
            ids(Enrolment.id, Enrolment.staff_id)),
        (AuditEvent.object_type == "certificate") & AuditEvent.object_id.in_(
            ids(Certificate.id, Certificate.staff_id)),
        _mentions(staff_id))


def events_query(flt: AuditFilter, tz: str) -> Select:
    query = select(AuditEvent)
    if flt.person_id is not None:
        query = query.where(affecting(flt.person_id))
    if flt.actor_id is not None:
        query = query.where(AuditEvent.actor_id == flt.actor_id)
    if flt.action:
        query = query.where(AuditEvent.action == flt.action)
    if flt.start is not None:
        query = query.where(AuditEvent.at >= local_midnight_utc(flt.start, tz))
    if flt.end is not None:
        query = query.where(AuditEvent.at < local_midnight_utc(flt.end + timedelta(days=1), tz))
    return query.order_by(AuditEvent.at.desc(), AuditEvent.id.desc())


def page_of(flt: AuditFilter, tz: str, *, page: int = 1, per_page: int = PAGE_SIZE) -> Page:
    query = events_query(flt, tz)
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    events = list(db.session.scalars(query.limit(per_page).offset((page - 1) * per_page)))
    return Page(describe(events), page, per_page, int(total or 0))


# -- the events, readably ------------------------------------------------------------------------

@dataclass
class EventLine:
    event: AuditEvent
    action: str                       # the label
    actor: StaffMember | None
    person: StaffMember | None        # the staff member it is about, when it names one
    object_label: str
    details: list[tuple[str, str]]    # (label, value)

    @property
    def details_text(self) -> str:
        return "; ".join(f"{label}: {value}" for label, value in self.details)


def _staff_ids(event: AuditEvent) -> set[int]:
    found = set()
    if event.actor_id:
        found.add(event.actor_id)
    if event.object_type == "staff" and (event.object_id or "").isdigit():
        found.add(int(event.object_id))
    staff = (event.details or {}).get("staff")
    for value in staff if isinstance(staff, list) else [staff]:
        if isinstance(value, int) and not isinstance(value, bool):
            found.add(value)
    return found


def _who(person: StaffMember | None, staff_id: Any) -> str:
    if person is None:
        return f"#{staff_id}"
    return f"{person.name}（{person.employee_no}）"


MARK_KIND_LABELS = {"check_in": _l("check-in"), "check_out": _l("check-out"),
                    "present": _l("marked present"), "absent": _l("marked absent"),
                    "correction": _l("correction")}
SCOPE_LABELS = {"full": _l("the whole record"), "trainer": _l("a trainer's part")}
CONTENT_LABELS = {"question_banks": _l("Shipped question banks"),
                  "courses": _l("Shipped courses"), "posts": _l("Shipped post training")}
RECORDS_LABELS = {"dashboard": lazy_pgettext("audit object", "Compliance dashboard"),
                  "people": lazy_pgettext("audit object", "People behind a figure"),
                  "monthly": lazy_pgettext("audit object", "Month-end report")}


def _vocabularies() -> dict[str, dict[str, Any]]:
    """The areas' own wording of the codes details hold (their routes hold it), read, not
    repeated."""
    from trainer.accounts.routes import ROLE_LABELS, STAND_DOWN_LABELS
    from trainer.attendance.routes import ROSTER_LABELS
    from trainer.banks.routes import ORIGIN_LABELS
    from trainer.certificates.routes import REVOKE_LABELS, SOURCE_LABELS
    from trainer.core.i18n import LANGUAGE_NAMES
    from trainer.learning.routes import REASON_LABELS
    from trainer.records.compliance import FLAG_LABELS, GROUP_LABELS
    from trainer.remedial.routes import OUTCOME_LABELS

    return {"roles": ROLE_LABELS,
            "reason": {**REASON_LABELS, **REVOKE_LABELS, **STAND_DOWN_LABELS},
            "outcome": OUTCOME_LABELS,
            "state": ROSTER_LABELS, "source": SOURCE_LABELS, "track": SOURCE_LABELS,
            "origin": ORIGIN_LABELS, "scope": SCOPE_LABELS, "locale": LANGUAGE_NAMES,
            "by": GROUP_LABELS, "flag": FLAG_LABELS}


# staff.updated's details are {field: [before, after]}, as are `changed`'s of a list entry.
_PAIRS = ("staff.updated",)


class _Reader:
    """Turns one page's details into text: names for ids of people, labels for codes."""

    def __init__(self, people: dict[int, StaffMember]) -> None:
        self.people = people
        self.words = _vocabularies()

    def value(self, action: str, key: str, value: Any, *, pair: bool = False) -> str:
        if pair and isinstance(value, list) and len(value) == 2:
            return (f"{self.value(action, key, value[0])} → "
                    f"{self.value(action, key, value[1])}")
        if value is None or value == "" or value == []:
            return "—"
        if isinstance(value, bool):
            return _("Yes") if value else _("No")
        if isinstance(value, list):
            return "、".join(self.value(action, key, v) for v in value)
        if isinstance(value, dict):
            return "; ".join(f"{DETAIL_LABELS.get(k, k)}: "
                             f"{self.value(action, k, v, pair=key == 'changed')}"
                             for k, v in value.items())
        if key in ("staff", "person", "actor") and isinstance(value, int):
            return _who(self.people.get(value), value)
        if key == "action":
            return action_label(str(value))
        if key == "format":
            return str(value).upper()
        if key == "kind":
            if action.startswith("course."):
                from trainer.learning.requirements import label_of

                return str(label_of(str(value)))
            return str(MARK_KIND_LABELS.get(value, value))
        if key == "timezone" and isinstance(value, str):
            from babel.dates import get_timezone_location
            from flask_babel import get_locale

            try:
                return get_timezone_location(value, locale=get_locale())
            except LookupError:
                return value
        vocabulary = self.words.get(key)
        if vocabulary is not None and isinstance(value, str) and value in vocabulary:
            return str(vocabulary[value])
        if isinstance(value, str) and _ISO_MOMENT.match(value):
            try:
                return format_datetime(datetime.fromisoformat(value), "yyyy-MM-dd HH:mm")
            except ValueError:
                return value
        return str(value)

    def details(self, event: AuditEvent) -> list[tuple[str, str]]:
        pair = event.action in _PAIRS
        return [(str(DETAIL_LABELS.get(key, key)),
                 self.value(event.action, key, value, pair=pair))
                for key, value in (event.details or {}).items()]

    def subject(self, event: AuditEvent, person: StaffMember | None) -> str:
        kind = str(OBJECT_LABELS.get(event.object_type, event.object_type))
        if event.object_type == "staff" and person is not None:
            return f"{kind} {_who(person, event.object_id)}"
        if event.object_type == "content":
            return str(CONTENT_LABELS.get(event.object_id, event.object_id))
        if event.object_type == "records":
            return str(RECORDS_LABELS.get(event.object_id, event.object_id))
        if event.object_type == "setting":
            from trainer.core.settings import REGISTRY

            definition = REGISTRY.get(event.object_id or "")
            return f"{kind}：{definition.label if definition else event.object_id}"
        return f"{kind} {event.object_id}" if event.object_id else kind


def describe(events: Iterable[AuditEvent]) -> list[EventLine]:
    """Each event with its labels, its actor and person by name (one statement for the page's
    people), and its details as (label, value) pairs."""
    events = list(events)
    ids = set().union(*(_staff_ids(e) for e in events)) if events else set()
    people = {p.id: p for p in db.session.scalars(
        select(StaffMember).where(StaffMember.id.in_(ids)))} if ids else {}
    reader = _Reader(people)
    lines = []
    for event in events:
        person = None
        if event.object_type == "staff" and (event.object_id or "").isdigit():
            person = people.get(int(event.object_id))
        elif isinstance((event.details or {}).get("staff"), int):
            person = people.get(event.details["staff"])
        lines.append(EventLine(event, action_label(event.action), people.get(event.actor_id),
                               person, reader.subject(event, person), reader.details(event)))
    return lines


def iter_lines(flt: AuditFilter, tz: str, *, batch: int = 500) -> Iterator[EventLine]:
    """Every event the filter keeps, described a batch at a time (an export)."""
    query = events_query(flt, tz)
    offset = 0
    while True:
        events = list(db.session.scalars(query.limit(batch).offset(offset)))
        yield from describe(events)
        if len(events) < batch:
            return
        offset += batch
