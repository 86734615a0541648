"""The training record (培训档案): one's own (我的档案), and anyone's for HR, a trainer's part of
it for a trainer; as a page, a PDF and a workbook (each download an audit event)."""
from __future__ import annotations

from flask import Blueprint, Response, flash, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup

from trainer.accounts.models import StaffMember
from trainer.core import tables
from trainer.core.db import db, write_intent
from trainer.core.params import db_int
from trainer.core.permissions import roles_required, signed_in
from trainer.core.timeutil import utcnow
from trainer.records import compliance, exports, figures, services

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


# -- the staff page -------------------------------------------------------------------------------

def staff_panel(staff: StaffMember) -> Markup:
    return Markup(render_template("records/_staff_panel.html", staff=staff))


def register(app) -> None:
    from trainer.core.nav import add_nav_item, add_staff_panel

    app.register_blueprint(bp)
    add_nav_item(app, "records.mine", _l("My training record"), ("learner",), 11)
    add_nav_item(app, "records.dashboard", _l("Compliance"), MANAGERS, 58)
    add_staff_panel(app, staff_panel)
    from trainer.records import cache, staff_columns

    staff_columns.register(app)
    cache.register_cli(app)


@bp.app_context_processor
def _chart_helpers():
    from trainer.core.charts import img

    return {"chart_img": img}
