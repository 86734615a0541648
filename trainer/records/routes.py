"""The training record (培训档案): one's own (我的档案), and anyone's for HR, a trainer's part of
it for a trainer; as a page, a PDF and a workbook (each download an audit event)."""
from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import select

from trainer.accounts.models import Department, StaffMember
from trainer.core import charts, tables
from trainer.core.db import db, write_intent
from trainer.core.i18n import select_timezone
from trainer.core.params import db_int
from trainer.core.permissions import roles_required, signed_in
from trainer.core.settings import centre_timezone
from trainer.core.timeutil import utcnow
from trainer.quizzes.models import Quiz
from trainer.records import (
    auditlog,
    compliance,
    exports,
    figures,
    forms,
    results,
    rules,
    services,
)

bp = Blueprint("records", __name__)
READERS = ("trainer", "hr", "admin")
MANAGERS = ("hr", "admin")
MIMETYPES = {"pdf": "application/pdf",
             "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def _page(person: StaffMember, *, own: bool):
    from trainer.quizzes import services as quizzes

    viewer = current_user._get_current_object()
    record = services.build_record(person, viewer, now=utcnow())

    def results_url(quiz) -> str | None:
        """The quiz's results page, for those who may read it (its managers, HR)."""
        if quizzes.may_read_results(viewer, quiz):
            return url_for("quizzes.attempts", quiz_id=quiz.id)
        return None

    return render_template("records/record.html", record=record, own=own,
                           results_url=results_url)


def _download(person: StaffMember, fmt: str, *, own: bool) -> Response:
    """Build the file from the record (reads), then record the export in a short write of its
    own: SQLite's write lock is not held while the PDF renders."""
    viewer = current_user._get_current_object()
    record = services.build_record(person, viewer, now=utcnow())
    data = exports.pdf(record) if fmt == "pdf" else exports.workbook(record)
    person_id, scope = person.id, record.scope
    db.session.rollback()   # (the read ends; the audit event takes the write path)
    with write_intent():
        services.record_export(viewer, db.session.get(StaffMember, person_id), fmt, scope,
                               now=utcnow())
        db.session.commit()
    name = "my-training-record" if own else f"training-record-{person_id}"
    return Response(data, mimetype=MIMETYPES[fmt], headers={
        "Content-Disposition": f'attachment; filename="{name}.{fmt}"',
        "Cache-Control": "no-store"})


@bp.route("/records/me")
@signed_in
def mine():
    return _page(current_user._get_current_object(), own=True)


@bp.route("/records/me.pdf")
@signed_in
def mine_pdf():
    return _download(current_user._get_current_object(), "pdf", own=True)


@bp.route("/records/me.xlsx")
@signed_in
def mine_xlsx():
    return _download(current_user._get_current_object(), "xlsx", own=True)


@bp.route("/records/staff/<int:staff_id>")
@roles_required(*READERS)
def staff_record(staff_id: int):
    return _page(services.get_person(staff_id), own=False)


@bp.route("/records/staff/<int:staff_id>.pdf")
@roles_required(*READERS)
def staff_pdf(staff_id: int):
    return _download(services.get_person(staff_id), "pdf", own=False)


@bp.route("/records/staff/<int:staff_id>.xlsx")
@roles_required(*READERS)
def staff_xlsx(staff_id: int):
    return _download(services.get_person(staff_id), "xlsx", own=False)


@bp.route("/records/exams")
@roles_required(*READERS)
def exam_trend():
    """The monthly business exam by department: average score and pass rate per month."""
    from trainer.learning.services import today_local
    from trainer.records.exam_trend import department_chart, department_trend

    months, rows = department_trend(today_local(utcnow()))
    return render_template("records/exam_trend.html", months=months, rows=rows,
                           chart=department_chart(months, rows))


@bp.route("/records/remedial/<int:case_id>/evidence.pdf")
@roles_required("hr", "admin")
def evidence_pack(case_id: int):
    """The evidence pack of a remedial case (HR): built from reads, then the download (and,
    with ?notes=1, each counselling note read) recorded in a short write of its own."""
    from trainer.records import evidence

    viewer = current_user._get_current_object()
    include_notes = request.args.get("notes") == "1"
    pack = evidence.build(viewer, case_id, include_notes=include_notes, now=utcnow())
    data = evidence.pdf(pack)
    db.session.rollback()
    with write_intent():
        evidence.record_download(db.session.get(StaffMember, viewer.id), case_id,
                                 include_notes=include_notes, now=utcnow())
        db.session.commit()
    return Response(data, mimetype=MIMETYPES["pdf"], headers={
        "Content-Disposition": f'attachment; filename="remedial-evidence-{case_id}.pdf"',
        "Cache-Control": "no-store"})


# -- the compliance dashboard and the people behind its figures ---------------------------------

def _grouping() -> str:
    try:
        return compliance.grouping(request.args.get("by"))
    except compliance.BadFilter:
        flash(_("“%(value)s” is not a valid choice; it was left out.",
                value=request.args.get("by", "")[:40]), "warning")
        return "department"


def _audited(what: str, fmt: str, details: dict) -> None:
    """The export's audit event, in a short write of its own (the reads are done or streamed
    after: SQLite's write lock is not held while a file is built)."""
    viewer_id = current_user.id
    db.session.rollback()
    with write_intent():
        compliance.record_list_export(db.session.get(StaffMember, viewer_id), what, fmt, details,
                                      now=utcnow())
        db.session.commit()


@bp.route("/records/dashboard")
@roles_required(*MANAGERS)
def dashboard():
    by = _grouping()
    board = compliance.dashboard(utcnow(), by)
    return render_template("records/dashboard.html", board=board, columns=compliance.COLUMNS,
                           groupings=compliance.GROUP_LABELS, cell=compliance.cell,
                           link_args=compliance.link_args)


@bp.route("/records/dashboard.pdf", defaults={"fmt": "pdf"})
@bp.route("/records/dashboard.xlsx", defaults={"fmt": "xlsx"})
@bp.route("/records/dashboard.csv", defaults={"fmt": "csv"})
@roles_required(*MANAGERS)
def dashboard_export(fmt: str):
    by = _grouping()
    now = utcnow()
    board = compliance.dashboard(now, by)
    stamp = now.strftime("%Y%m%d")
    if fmt == "pdf":
        data = compliance.dashboard_pdf(board)
        _audited("dashboard", fmt, {"by": by})
        return Response(data, mimetype=MIMETYPES["pdf"], headers={
            "Content-Disposition": f'attachment; filename="compliance-{by}-{stamp}.pdf"',
            "Cache-Control": "no-store"})
    header = compliance.table_header(by)
    rows = list(compliance.table_rows(board))
    _audited("dashboard", fmt, {"by": by})
    response = tables.export_response(fmt, f"compliance-{by}-{stamp}", header, rows,
                                      sheet=_("Compliance"))
    response.headers["Cache-Control"] = "no-store"
    return response


def _people_filter() -> figures.PeopleFilter:
    flt, problems = compliance.people_filter(request.args)
    for problem in problems:
        flash(problem, "warning")
    return flt


@bp.route("/records/people")
@roles_required(*MANAGERS)
def people():
    flt = _people_filter()
    page = request.args.get("page", 1, type=db_int)
    listing = compliance.people_page(utcnow(), flt, page)
    return render_template(
        "records/people.html", listing=listing, flt=flt, title=compliance.filter_title(flt),
        flags=compliance.FLAG_LABELS, args=compliance.filter_details(flt),
        departments=figures.group_names("department"), positions=figures.group_names("position"),
        tracks=figures.group_names("track"), header=compliance.PEOPLE_HEADER)


@bp.route("/records/people.xlsx", defaults={"fmt": "xlsx"})
@bp.route("/records/people.csv", defaults={"fmt": "csv"})
@roles_required(*MANAGERS)
def people_export(fmt: str):
    flt = _people_filter()
    now = utcnow()
    details = compliance.filter_details(flt)
    header = [str(h) for h in compliance.PEOPLE_HEADER]
    if fmt == "csv":
        _audited("people", fmt, details)   # then the rows stream
        response = tables.export_response(fmt, f"people-{now:%Y%m%d}", header,
                                          compliance.people_rows(now, flt))
    else:
        response = tables.export_response(fmt, f"people-{now:%Y%m%d}", header,
                                          compliance.people_rows(now, flt), sheet=_("People"))
        _audited("people", fmt, details)
    response.headers["Cache-Control"] = "no-store"
    return response


# -- quiz results ---------------------------------------------------------------------------------

def _departments() -> list[Department]:
    return list(db.session.scalars(select(Department).order_by(Department.sort_order,
                                                               Department.name)))


def _when(value) -> str:
    return format_datetime(value, "yyyy-MM-dd HH:mm") if value else ""


def _yes(flag: bool) -> str:
    return _("Yes") if flag else _("No")


def _args() -> dict[str, str]:
    return {k: v for k, v in request.args.items() if k != "page"}


def _audited_export(write: Callable[[], None]) -> None:
    """The export's audit event in a short write of its own (SQLite's write lock is not held
    while the file is written), before the file: a download is recorded even if cut short."""
    db.session.rollback()
    with write_intent():
        write()
        db.session.commit()


def _refuse_bad_filter(parsed: forms.Parsed, endpoint: str, **values) -> Response | None:
    """A download asked with a filter that does not make sense: nothing is exported, the page
    says why."""
    if parsed.ok:
        return None
    for error in parsed.errors:
        flash(error, "danger")
    return redirect(url_for(endpoint, **values, **_args()))


def _readable_quiz(quiz_id: int) -> Quiz:
    from trainer.quizzes import services as quizzes

    quiz = db.get_or_404(Quiz, quiz_id)
    quizzes.check_may_read_results(current_user, quiz)
    return quiz


@bp.route("/records/results")
@roles_required(*READERS)
def results_list():
    parsed = forms.results_filter(request.args)
    page = stored_at = None
    if parsed.ok:
        page, stored_at = results.quiz_page(parsed.flt, centre_timezone(), current_user,
                                            now=utcnow(), page=forms.page_number(request.args))
    return render_template("records/results.html", parsed=parsed, page=page, stored_at=stored_at,
                           departments=_departments(), args=_args())


QUIZ_HEADER = (_l("Quiz"), _l("Course"), _l("Track"), _l("People"), _l("Attempts"),
               _l("Passed"), _l("Pass rate (%)"), _l("Mean grade (%)"), _l("Last finished"))


def _quiz_rows(flt):
    for q in results.iter_quiz_list(flt, centre_timezone(), current_user):
        yield (q.title, q.course or "", q.track or "", q.people, q.attempts, q.passed,
               q.pass_rate, q.mean, _when(q.last_finished))


def _export_results_list(fmt: str) -> Response:
    parsed = forms.results_filter(request.args)
    refused = _refuse_bad_filter(parsed, "records.results_list")
    if refused is not None:
        return refused
    viewer = current_user._get_current_object()
    _audited_export(lambda: services.record_results_export(
        viewer, None, fmt, parsed.flt.as_details(), now=utcnow()))
    return tables.export_response(fmt, "quiz-results", [str(h) for h in QUIZ_HEADER],
                                  _quiz_rows(parsed.flt), sheet=_("Quiz results"),
                                  widths=(30, 20, 14, 8, 8, 8, 12, 12, 18))


@bp.route("/records/results.xlsx")
@roles_required(*READERS)
def results_list_xlsx():
    return _export_results_list("xlsx")


@bp.route("/records/results.csv")
@roles_required(*READERS)
def results_list_csv():
    return _export_results_list("csv")


@bp.route("/records/results/<int:quiz_id>")
@roles_required(*READERS)
def quiz_results(quiz_id: int):
    from trainer.quizzes import services as quizzes

    quiz = _readable_quiz(quiz_id)
    parsed = forms.results_filter(request.args)
    figures = people = chart = None
    if parsed.ok:
        tz = centre_timezone()
        figures = results.quiz_results(quiz, parsed.flt, tz)
        people = results.people(quiz, parsed.flt, tz, page=forms.page_number(request.args))
        labels = [rules.band_label(b) for b in range(rules.BANDS)]
        chart = charts.img(charts.bar(
            _("People by kept grade"), labels, figures.bands, no_data=_("No results yet"),
            series=_("People"), formatter=lambda v: f"{v:.0f}"),
            _("The number of people in each band of kept grades, as the table beside it says."))
    viewer = current_user._get_current_object()
    return render_template("records/quiz_results.html", quiz=quiz, parsed=parsed,
                           figures=figures, people=people, chart=chart,
                           departments=_departments(), args=_args(),
                           band_label=rules.band_label,
                           may_review=quizzes.may_read_results(viewer, quiz),
                           # Their records open to HR, and to the trainer whose quiz it is
                           # (records.services.scope_for): a course quiz's takers may not be.
                           link_people=bool(viewer.role_names & set(services.MANAGERS))
                           or quiz.owner_id == viewer.id)


PEOPLE_HEADER = (_l("Employee number"), _l("Name"), _l("Department"), _l("Grade kept (%)"),
                 _l("Passed"), _l("Attempts"), _l("Last finished"))


def _people_rows(quiz, flt):
    for line in results.iter_people(quiz, flt, centre_timezone()):
        yield (line.employee_no, line.name, line.department or "", line.percent,
               _yes(line.passed), line.attempts, _when(line.last_finished))


def _export_quiz(quiz_id: int, fmt: str) -> Response:
    quiz = _readable_quiz(quiz_id)
    parsed = forms.results_filter(request.args)
    refused = _refuse_bad_filter(parsed, "records.quiz_results", quiz_id=quiz_id)
    if refused is not None:
        return refused
    viewer = current_user._get_current_object()
    _audited_export(lambda: services.record_results_export(
        viewer, quiz_id, fmt, parsed.flt.as_details(), now=utcnow()))
    quiz = db.session.get(Quiz, quiz_id)
    # (A fixed sheet name: a title may hold characters a sheet's name may not, such as / or ?.)
    return tables.export_response(fmt, f"quiz-{quiz_id}-results",
                                  [str(h) for h in PEOPLE_HEADER], _people_rows(quiz, parsed.flt),
                                  sheet=_("Quiz results"), widths=(12, 14, 14, 12, 8, 8, 18))


@bp.route("/records/results/<int:quiz_id>.xlsx")
@roles_required(*READERS)
def quiz_results_xlsx(quiz_id: int):
    return _export_quiz(quiz_id, "xlsx")


@bp.route("/records/results/<int:quiz_id>.csv")
@roles_required(*READERS)
def quiz_results_csv(quiz_id: int):
    return _export_quiz(quiz_id, "csv")


# -- the audit log --------------------------------------------------------------------------------

def _action_choices() -> list[tuple[str, str]]:
    return sorted(((name, str(label)) for name, label in auditlog.ACTION_LABELS.items()),
                  key=lambda pair: pair[1])


@bp.route("/records/audit")
@roles_required(*MANAGERS)
def audit_log():
    parsed = forms.audit_filter(request.args)
    page = None
    if parsed.ok:
        page = auditlog.page_of(parsed.flt, select_timezone(),
                                page=forms.page_number(request.args))
    return render_template("records/audit.html", parsed=parsed, page=page, args=_args(),
                           actions=_action_choices())


AUDIT_HEADER = (_l("When"), _l("Action"), _l("Actor"), _l("Employee number"), _l("About"),
                _l("Details"))


def _audit_rows(flt):
    for line in auditlog.iter_lines(flt, select_timezone()):
        yield (_when(line.event.at), line.action, line.actor.name if line.actor else "",
               line.actor.employee_no if line.actor else "", line.object_label,
               line.details_text)


def _export_audit(fmt: str) -> Response:
    parsed = forms.audit_filter(request.args)
    refused = _refuse_bad_filter(parsed, "records.audit_log")
    if refused is not None:
        return refused
    viewer = current_user._get_current_object()
    _audited_export(lambda: services.record_audit_export(
        viewer, fmt, parsed.flt.as_details(), now=utcnow()))
    return tables.export_response(fmt, "audit-log", [str(h) for h in AUDIT_HEADER],
                                  _audit_rows(parsed.flt), sheet=_("Audit log"),
                                  widths=(18, 24, 12, 12, 24, 60))


@bp.route("/records/audit.xlsx")
@roles_required(*MANAGERS)
def audit_xlsx():
    return _export_audit("xlsx")


@bp.route("/records/audit.csv")
@roles_required(*MANAGERS)
def audit_csv():
    return _export_audit("csv")


# -- the month-end report -------------------------------------------------------------------------

@bp.route("/records/monthly")
@roles_required(*MANAGERS)
def monthly_list():
    from trainer.records import monthly

    now = utcnow()
    return render_template("records/monthly_list.html", months=monthly.stored_months(),
                           current=monthly.this_month(now).strftime("%Y-%m"))


def _month_report():
    """The month asked (default: this month, live) and its report; or a redirect to the list
    saying why there is none."""
    from trainer.core.errors import DomainError
    from trainer.records import monthly

    now = utcnow()
    text = (request.args.get("month") or "").strip()
    try:
        month = monthly.parse_month(text) if text else monthly.this_month(now)
    except DomainError as error:
        flash(error.translated(), "danger")
        return None, redirect(url_for("records.monthly_list"))
    found = monthly.report(month, now=now)
    if found is None:
        flash(_("%(month)s is not stored: only the months `trainer records snapshot` stored, "
                "and the current month, have a report.", month=month.strftime("%Y-%m")),
              "warning")
        return None, redirect(url_for("records.monthly_list"))
    return found, None


@bp.route("/records/monthly/report")
@roles_required(*MANAGERS)
def monthly_report():
    from trainer.records.compliance import COLUMNS, cell

    found, refused = _month_report()
    if refused is not None:
        return refused
    return render_template("records/monthly_report.html", report=found, columns=COLUMNS,
                           cell=cell)


def _monthly_download(fmt: str) -> Response:
    from trainer.records import monthly

    found, refused = _month_report()
    if refused is not None:
        return refused
    viewer = current_user._get_current_object()
    name = f"compliance-{found.label}{'-live' if found.live else ''}"
    if fmt == "pdf":
        data = monthly.pdf(found)
        _audited_export(lambda: monthly.record_export(viewer, found.month, fmt, found.live,
                                                      now=utcnow()))
        return Response(data, mimetype=MIMETYPES["pdf"], headers={
            "Content-Disposition": f'attachment; filename="{name}.pdf"',
            "Cache-Control": "no-store"})
    response = tables.export_response("xlsx", name, monthly.header(), monthly.table_rows(found),
                                      sheet=found.label)
    _audited_export(lambda: monthly.record_export(viewer, found.month, fmt, found.live,
                                                  now=utcnow()))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/records/monthly/report.pdf")
@roles_required(*MANAGERS)
def monthly_pdf():
    return _monthly_download("pdf")


@bp.route("/records/monthly/report.xlsx")
@roles_required(*MANAGERS)
def monthly_xlsx():
    return _monthly_download("xlsx")


# -- the staff page -------------------------------------------------------------------------------

def staff_panel(staff: StaffMember) -> Markup:
    return Markup(render_template("records/_staff_panel.html", staff=staff))


def register(app) -> None:
    from trainer.core.nav import add_nav_item, add_staff_panel

    app.register_blueprint(bp)
    add_nav_item(app, "records.mine", _l("My training record"), ("learner",), 11)
    add_nav_item(app, "records.dashboard", _l("Compliance"), MANAGERS, 58)
    # HR reaches the results, the month-end reports and the audit log from the dashboard (the
    # bar has no room left at 1024 px); trainers, who have no dashboard, from the bar.
    add_nav_item(app, "records.results_list", _l("Quiz results"), ("trainer",), 40)
    add_staff_panel(app, staff_panel)
    from trainer.records import staff_columns

    staff_columns.register(app)


@bp.app_context_processor
def _chart_helpers():
    from trainer.core.charts import img

    return {"chart_img": img}
