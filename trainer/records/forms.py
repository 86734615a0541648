"""The records area's list filters, read from a query string: every value checked, and each one
that does not make sense named in a message (the page then shows nothing rather than guess)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from trainer.accounts.models import Department
from trainer.core.db import db
from trainer.core.params import db_int
from trainer.records.auditlog import ACTION_LABELS, AuditFilter
from trainer.records.results import ResultsFilter


@dataclass
class Parsed:
    """A filter read from the query string, the messages of what was wrong in it, and the
    values to put back in the form."""

    flt: object
    errors: list[str] = field(default_factory=list)
    values: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors


def _date(args: MultiDict, name: str, label: str, errors: list[str]) -> date | None:
    text = (args.get(name) or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        errors.append(_("%(field)s is not a date (year-month-day, e.g. 2026-03-31).",
                        field=label))
        return None


def _range(args: MultiDict, errors: list[str]) -> tuple[date | None, date | None]:
    start = _date(args, "from", _("From"), errors)
    end = _date(args, "to", _("To"), errors)
    if start and end and start > end:
        errors.append(_("The start of the period comes after its end."))
    return start, end


def _department(args: MultiDict, errors: list[str]) -> int | None:
    text = (args.get("department") or "").strip()
    if not text:
        return None
    try:
        department_id = db_int(text)
    except ValueError:
        department_id = None
    if department_id is None or db.session.get(Department, department_id) is None:
        errors.append(_("There is no such department."))
        return None
    return department_id


def _person(args: MultiDict, name: str, errors: list[str]) -> int | None:
    from trainer.accounts.services import get_staff_by_employee_no

    text = (args.get(name) or "").strip()
    if not text:
        return None
    person = get_staff_by_employee_no(text[:64])
    if person is None:
        errors.append(_("No staff member has the employee number %(no)s.", no=text[:64]))
        return None
    return person.id


def _kept(args: MultiDict, names: tuple[str, ...]) -> dict[str, str]:
    return {name: (args.get(name) or "").strip()[:64] for name in names}


def results_filter(args: MultiDict) -> Parsed:
    errors: list[str] = []
    start, end = _range(args, errors)
    department_id = _department(args, errors)
    return Parsed(ResultsFilter(start, end, department_id), errors,
                  _kept(args, ("from", "to", "department")))


def audit_filter(args: MultiDict) -> Parsed:
    errors: list[str] = []
    person_id = _person(args, "person", errors)
    actor_id = _person(args, "actor", errors)
    action = (args.get("action") or "").strip()
    if action and action not in ACTION_LABELS:
        errors.append(_("There is no such action."))
        action = ""
    start, end = _range(args, errors)
    return Parsed(AuditFilter(person_id, actor_id, action, start, end), errors,
                  _kept(args, ("person", "actor", "action", "from", "to")))


def page_number(args: MultiDict) -> int:
    try:
        return max(db_int(args.get("page", "1")), 1)
    except ValueError:
        return 1
