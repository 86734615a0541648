"""The training record (培训档案): one's own (我的档案), and anyone's for HR, a trainer's part of
it for a trainer; as a page, a PDF and a workbook (each download an audit event)."""
from __future__ import annotations

from flask import Blueprint, Response, render_template, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup

from trainer.accounts.models import StaffMember
from trainer.core.db import db, write_intent
from trainer.core.permissions import roles_required, signed_in
from trainer.core.timeutil import utcnow
from trainer.records import exports, services

bp = Blueprint("records", __name__)
READERS = ("trainer", "hr", "admin")
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


# -- the staff page -------------------------------------------------------------------------------

def staff_panel(staff: StaffMember) -> Markup:
    return Markup(render_template("records/_staff_panel.html", staff=staff))


def register(app) -> None:
    from trainer.core.nav import add_nav_item, add_staff_panel

    app.register_blueprint(bp)
    add_nav_item(app, "records.mine", _l("My training record"), ("learner",), 11)
    add_staff_panel(app, staff_panel)
