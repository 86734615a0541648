"""A training record as a workbook (xlsxwriter) and as a PDF (core.pdf, WeasyPrint).

The workbook is written in constant-memory mode (rows go to disk as they are written, one sheet
after another), and with `strings_to_formulas` and `strings_to_urls` off: a name or a note
typed as "=HYPERLINK(…)" stays text in Excel and WPS, never a formula. Every text cell is
written as a string, every figure as a number."""
from __future__ import annotations

import io
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from flask import render_template
from flask_babel import format_date, format_datetime
from flask_babel import gettext as _

from trainer.records.services import Record

WORKBOOK_OPTIONS = {"constant_memory": True, "strings_to_formulas": False,
                    "strings_to_urls": False, "strings_to_numbers": False}


def _labels() -> dict[str, dict[str, Any]]:
    # The areas' own wording of their states (their routes hold it), read, not repeated.
    from trainer.accounts.routes import EVENT_LABELS
    from trainer.attendance.routes import LEAVE_LABELS, ROSTER_LABELS
    from trainer.attendance.routes import STATUS_LABELS as ATTENDANCE
    from trainer.certificates.routes import EXTERNAL_LABELS
    from trainer.certificates.routes import STATUS_LABELS as CERTIFICATE
    from trainer.learning.routes import HOURS_SOURCE_LABELS, REASON_LABELS, STATE_LABELS

    return {"event": EVENT_LABELS, "attendance": ATTENDANCE, "leave": LEAVE_LABELS,
            "roster": ROSTER_LABELS, "external": EXTERNAL_LABELS, "certificate": CERTIFICATE,
            "source": HOURS_SOURCE_LABELS, "reason": REASON_LABELS, "state": STATE_LABELS}


def _label(labels: dict[str, Any], key: str | None) -> str:
    return str(labels.get(key, key)) if key else ""


def _when(value: datetime | date | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return format_datetime(value, "yyyy-MM-dd HH:mm")
    return format_date(value, "yyyy-MM-dd")


def _yes(flag: bool) -> str:
    return _("Yes") if flag else _("No")


class _Sheet:
    """One worksheet written row by row: text as strings, figures as numbers."""

    def __init__(self, workbook, name: str, header: list[str]) -> None:
        self.sheet = workbook.add_worksheet(name[:31])
        self.bold = workbook.add_format({"bold": True})
        self.row = 0
        self.write(header, bold=True)

    def write(self, values: list[Any], bold: bool = False) -> None:
        for column, value in enumerate(values):
            if value is None or value == "":
                continue
            if isinstance(value, bool):
                self.sheet.write_string(self.row, column, _yes(value))
            elif isinstance(value, (int, float, Decimal)):
                self.sheet.write_number(self.row, column, float(value))
            else:
                self.sheet.write_string(self.row, column, str(value),
                                        self.bold if bold else None)
        self.row += 1


def workbook(record: Record) -> bytes:
    import xlsxwriter

    labels = _labels()
    output = io.BytesIO()
    book = xlsxwriter.Workbook(output, WORKBOOK_OPTIONS)
    person = record.person
    summary = _Sheet(book, _("Record"), [_("Training record"), person.name])
    summary.write([_("Employee number"), person.employee_no])
    summary.write([_("Department"), person.department_name])
    summary.write([_("Position"), person.position_name])
    summary.write([_("Hired on"), _when(person.hire_date)])
    summary.write([_("As of"), _when(record.today)])
    if record.full:
        summary.write([])
        summary.write([_("Year"), _("Counted 学时"), _("Minimum to date"), _("Annual minimum"),
                       _("Annual maximum"), _("Other 学时 (not counted)"), _("Behind")],
                      bold=True)
        for year in record.years:
            summary.write([year.year, year.standing.counted, year.standing.minimum_to_date,
                           year.standing.minimum, year.standing.maximum, year.beside_hours,
                           year.standing.behind])
        events = _Sheet(book, _("Working life"),
                        [_("Date"), _("Event"), _("Position"), _("Note"), _("Voided")])
        for event in record.events:
            events.write([_when(event.occurred_on), _label(labels["event"], event.kind),
                          event.position, event.note, event.id in record.voided_ids])
        training = _Sheet(book, _("Training"), [
            _("Track"), _("Why"), _("Assigned on"), _("Due on"), _("State"), _("Completed on"),
            _("Waived because"), _("Course"), _("Lessons read"), _("Lessons"),
            _("Course completed"), _("Quiz"), _("Grade kept (%)"), _("Passed")])
        for line in record.enrolments:
            e = line.enrolment
            head = [line.track.title, _label(labels["reason"], e.reason), _when(e.assigned_at),
                    _when(e.due_on), _label(labels["state"], e.state), _when(e.completed_at),
                    e.waived_reason]
            if not line.courses:
                training.write(head)
            for course in line.courses:
                quiz = course.quiz
                training.write(head + [
                    course.title, sum(1 for lesson in course.lessons if lesson.read_revision),
                    len(course.lessons), course.complete, quiz.quiz.title if quiz else "",
                    quiz.kept.percent if quiz and quiz.kept else None,
                    quiz.kept.passed if quiz and quiz.kept else None])
    attempts = _Sheet(book, _("Quizzes"), [
        _("Quiz"), _("Course"), _("Attempt"), _("Submitted"), _("Score"), _("Out of"),
        _("Percent"), _("Passed"), _("Grade kept")])
    for course_title, quiz in _all_quizzes(record):
        for attempt in quiz.finished:
            attempts.write([quiz.quiz.title, course_title, attempt.number,
                            _when(attempt.submitted_at), attempt.score, attempt.max_score,
                            attempt.percent, bool(attempt.passed),
                            bool(quiz.kept and quiz.kept.attempt_id == attempt.id)])
    header = [_("Class"), _("Session"), _("Place"), _("Status"), _("Minutes")]
    if record.full:
        header += [_("Leave"), _("Leave reason")]
    classes = _Sheet(book, _("Classes"), header + [_("学时 credited")])
    for line in record.classes:
        for index, session in enumerate(line.sessions):
            row = [line.cls.title, _when(session.session.starts_at),
                   session.session.place or line.cls.place,
                   _label(labels["attendance"], session.status), session.minutes]
            if record.full:
                row += [_label(labels["leave"], session.leave_state), session.leave_reason]
            classes.write(row + [line.hours if index == 0 else None])
    if record.full:
        certificates = _Sheet(book, _("Certificates"), [
            _("Certificate"), _("For"), _("Serial"), _("Issued"), _("Valid until"),
            _("Status")])
        for certificate, status in record.certificates:
            certificates.write([certificate.snapshot.get("title", ""),
                                certificate.snapshot.get("track", ""), certificate.serial,
                                _when(certificate.issued_at), _when(certificate.expires_at),
                                _label(labels["certificate"], status)])
        for external in record.externals:
            certificates.write([external.title, external.issuer, "", _when(external.finished_on),
                                "", _label(labels["external"], external.state)])
        hours = _Sheet(book, _("学时"), [_("Year"), _("Source"), _("Category"), _("Minutes"),
                                         _("学时"), _("Counted")])
        for year in record.years:
            for h in year.lines:
                hours.write([year.year, _label(labels["source"], h.source_kind), h.category,
                             h.minutes, h.hours, h.counted])
    book.close()
    return output.getvalue()


def _all_quizzes(record: Record):
    for line in record.enrolments:
        for course in line.courses:
            if course.quiz is not None:
                yield course.title, course.quiz
    for quiz in record.quizzes:
        yield "", quiz


# The PDF lists the last few finished attempts of each exam (the page and the workbook list
# them all): WeasyPrint lays out about 55 ms of CPU per page of small Chinese text here, and a
# line per attempt made a long record (300 attempts, 12 tracks) 18 pages and 2.5 s.
PDF_ATTEMPTS = 5


def pdf(record: Record) -> bytes:
    from trainer.core import pdf as core_pdf

    html = render_template("pdf/record.html", record=record, quiz_lines=list(_all_quizzes(record)),
                           pdf_attempts=PDF_ATTEMPTS)
    return core_pdf.render(html, stylesheets=("css/record-pdf.css",))
