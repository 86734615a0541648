"""Pages of the assessments area: forms (trainers), recording (assessors), the record and its
acknowledgement (the person), voiding (HR or the assessor)."""
from __future__ import annotations

from decimal import Decimal

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup

from trainer.accounts.models import StaffMember
from trainer.accounts.services import get_staff_by_employee_no
from trainer.assessments import rules, services
from trainer.assessments.forms import (
    BLANK_ROWS,
    PURPOSE_CHOICES,
    AcknowledgeForm,
    ActionForm,
    FormEditor,
    RecordForm,
    VoidForm,
)
from trainer.assessments.models import Assessment, AssessmentForm
from trainer.core.actions import act
from trainer.core.db import db
from trainer.core.errors import DomainError
from trainer.core.permissions import roles_required, signed_in
from trainer.core.settings import centre_timezone
from trainer.core.timeutil import local_date, utcnow

bp = Blueprint("assessments", __name__, url_prefix="/assessments")

READERS = ("assessor", "trainer", "hr", "admin")
WRITERS = ("trainer", "admin")
ASSESSORS = ("assessor", "admin")


def _today():
    return local_date(utcnow(), centre_timezone())


@bp.route("")
@roles_required(*READERS)
def index():
    form_id = request.args.get("form", type=int)
    return render_template("assessments/index.html", forms=services.forms(
        include_retired=current_user.has_role("trainer") or current_user.has_role("admin")),
        recent=services.recent(form_id=form_id), form_id=form_id)


def _fields(editor: FormEditor) -> services.FormFields:
    return services.FormFields(
        title=editor.title.data or "", description=editor.description.data or "",
        purpose=editor.purpose.data, pass_percent=editor.pass_percent.data or 0,
        retake_wait_days=editor.retake_wait_days.data or 0,
        items=[services.ItemFields(row.text.data or "", row.points.data or Decimal(0),
                                   bool(row.critical.data), row.section.data or "")
               for row in editor.items if (row.text.data or "").strip()])


def _edit(form_row: AssessmentForm | None):
    editor = FormEditor()
    if request.method == "GET":
        if form_row is not None:
            editor.title.data, editor.description.data = form_row.title, form_row.description
            editor.purpose.data, editor.pass_percent.data = form_row.purpose, \
                form_row.pass_percent
            editor.retake_wait_days.data = form_row.retake_wait_days
            while len(editor.items):
                editor.items.pop_entry()
            for item in form_row.items:
                editor.items.append_entry({"section": item.section, "text": item.text,
                                           "points": item.points, "critical": item.critical})
        else:
            editor.pass_percent.data, editor.retake_wait_days.data = 80, 7
    if editor.validate_on_submit():
        try:
            saved = services.save_form(current_user, form_row, _fields(editor), now=utcnow())
        except DomainError as error:
            db.session.rollback()
            flash(error.translated(), "danger")
        else:
            db.session.commit()
            flash(_("Form saved."), "success")
            return redirect(url_for("assessments.form_page", form_id=saved.id))
    elif request.method == "POST":
        flash(_("Check the fields marked below."), "danger")
    while len(editor.items) < len([r for r in editor.items if r.text.data]) + BLANK_ROWS \
            and len(editor.items) < 100:
        editor.items.append_entry()
    return render_template("assessments/form_edit.html", editor=editor, form_row=form_row)


@bp.route("/forms/new", methods=["GET", "POST"])
@roles_required(*WRITERS)
def new_form():
    return _edit(None)


@bp.route("/forms/<int:form_id>/edit", methods=["GET", "POST"])
@roles_required(*WRITERS)
def edit_form(form_id: int):
    return _edit(db.get_or_404(AssessmentForm, form_id))


@bp.route("/forms/<int:form_id>/retire", methods=["POST"])
@roles_required(*WRITERS)
def retire_form(form_id: int):
    form_row = db.get_or_404(AssessmentForm, form_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    return act(lambda: services.retire_form(current_user, form_row, now=utcnow()),
               back=url_for("assessments.form_page", form_id=form_id),
               done=_("Retired: no new assessments on this form; its records stay."))


@bp.route("/forms/<int:form_id>")
@signed_in
def form_page(form_id: int):
    """Anyone signed in may read a form: an agent prepares for the test it describes."""
    form_row = db.get_or_404(AssessmentForm, form_id)
    recent = services.recent(form_id=form_id) if any(
        current_user.has_role(r) for r in READERS) else []
    return render_template("assessments/form_page.html", form_row=form_row, recent=recent,
                           action=ActionForm())


@bp.route("/forms/<int:form_id>/record", methods=["GET", "POST"])
@roles_required(*ASSESSORS)
def record(form_id: int):
    form_row = db.get_or_404(AssessmentForm, form_id)
    if form_row.retired:
        abort(404)
    entry = RecordForm()
    if request.method == "GET":
        entry.assessed_on.data = _today()
        entry.employee_no.data = request.args.get("employee_no", "")
    points = {str(item.id): request.form.get(f"points-{item.id}", "") for item in form_row.items}
    notes = {str(item.id): request.form.get(f"note-{item.id}", "")[:500]
             for item in form_row.items}
    if entry.validate_on_submit():
        person = get_staff_by_employee_no(entry.employee_no.data.strip())
        parsed = {key: rules.parse_points(value) for key, value in points.items()}
        if person is None:
            flash(_("No staff member has that employee number."), "danger")
        elif any(value is None for value in parsed.values()):
            flash(_("Give every item its points (a number; 0 when not done)."), "danger")
        else:
            try:
                saved = services.record_assessment(
                    current_user, form_row, person, assessed_on=entry.assessed_on.data,
                    today=_today(), awarded=parsed, notes=notes,
                    context=entry.context.data or "", comments=entry.comments.data or "",
                    now=utcnow())
            except DomainError as error:
                db.session.rollback()
                flash(error.translated(), "danger")
            else:
                db.session.commit()
                flash(_("Recorded: %(result)s. %(name)s is asked to acknowledge it.",
                        result=_("passed") if saved.passed else _("not passed"),
                        name=person.name), "success")
                return redirect(url_for("assessments.assessment_page",
                                        assessment_id=saved.id))
    elif request.method == "POST":
        flash(_("Check the fields marked below."), "danger")
    return render_template("assessments/record.html", form_row=form_row, entry=entry,
                           entered=points, notes=notes)


def _readable(assessment_id: int) -> Assessment:
    assessment = db.get_or_404(Assessment, assessment_id)
    if not services.may_read(current_user, assessment):
        abort(404)   # not theirs: as if it did not exist
    return assessment


@bp.route("/<int:assessment_id>")
@signed_in
def assessment_page(assessment_id: int):
    assessment = _readable(assessment_id)
    return render_template("assessments/assessment.html", assessment=assessment,
                           acknowledge=AcknowledgeForm(), void=VoidForm(),
                           failed_twice=_failed_twice(assessment))


def _failed_twice(assessment: Assessment) -> list:
    """The person's open training whose practical assessment failed twice (the retake too):
    an assessor or HR may end it as not passed from here."""
    from trainer.learning import services as learning
    from trainer.learning.forms import NotPassedForm
    from trainer.learning.models import OPEN_STATES, Enrolment

    if assessment.passed or assessment.voided_at is not None or \
            current_user.id == assessment.staff_id or not any(
                current_user.has_role(r) for r in ("assessor", "hr", "admin")):
        return []
    rows = list(db.session.scalars(db.select(Enrolment).where(
        Enrolment.staff_id == assessment.staff_id, Enrolment.state.in_(OPEN_STATES))))
    failed = learning.failed_assessments_of(rows)
    return [(e, NotPassedForm()) for e in rows if failed[e.id] >= 2]


@bp.route("/<int:assessment_id>/acknowledge", methods=["POST"])
@signed_in
def acknowledge(assessment_id: int):
    assessment = _readable(assessment_id)
    form = AcknowledgeForm()
    if not form.validate_on_submit():
        abort(400)
    return act(lambda: services.acknowledge_assessment(
        current_user, assessment, comment=form.comment.data or "", now=utcnow()),
        back=url_for("assessments.assessment_page", assessment_id=assessment_id),
        done=_("Acknowledged. Thank you."))


@bp.route("/<int:assessment_id>/void", methods=["POST"])
@signed_in
def void(assessment_id: int):
    assessment = _readable(assessment_id)
    form = VoidForm()
    back = url_for("assessments.assessment_page", assessment_id=assessment_id)
    if not form.validate_on_submit():
        flash(_("Say why the assessment is void."), "danger")
        return redirect(back)
    return act(lambda: services.void_assessment(current_user, assessment,
                                                reason=form.reason.data, now=utcnow()),
               back=back, done=_("Voided: it no longer counts; the record stays."))


@bp.route("/mine")
@signed_in
def mine():
    return render_template("assessments/mine.html",
                           assessments=services.assessments_of(current_user.id))


@bp.app_context_processor
def _helpers():
    labels = dict(PURPOSE_CHOICES)
    return {"purpose_label": lambda key: labels.get(key, key), "fmt_points": rules.plain}


def staff_panel(person: StaffMember):
    """The HR staff page's panel: the person's practical assessments."""
    rows = services.assessments_of(person.id)
    return Markup(render_template("assessments/_staff_panel.html", person=person,
                                  assessments=rows))


def register(app) -> None:
    from trainer.core.nav import add_nav_item, add_staff_panel
    from trainer.core.todos import register_kind

    app.register_blueprint(bp)
    add_nav_item(app, "assessments.mine", _l("My assessments"), ("learner",), 14)
    add_nav_item(app, "assessments.index", _l("Assessments"), READERS, 37)
    add_staff_panel(app, staff_panel)
    register_kind(app, services.ACK_TODO, lambda item: (_(
        "Your practical assessment “%(title)s” is recorded: read it and acknowledge it.",
        title=item.params.get("title", "")),
        url_for("assessments.assessment_page", assessment_id=int(item.ref))))
