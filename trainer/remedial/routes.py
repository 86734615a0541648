"""Pages of the remedial area: HR's list of open cases, one case (its plan, talks, evaluation),
and the agent's own case with the plan to acknowledge. Thin: every change is one service call."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup

from trainer.accounts.models import Position, StaffMember
from trainer.core.actions import act
from trainer.core.db import db
from trainer.core.forms import ConfirmForm
from trainer.core.permissions import roles_required, signed_in
from trainer.core.settings import centre_timezone
from trainer.core.timeutil import local_date, utcnow
from trainer.remedial import services
from trainer.remedial.forms import (
    OUTCOME_CHOICES,
    AcknowledgePlanForm,
    AssessorForm,
    EvaluationForm,
    PlanForm,
    TalkForm,
)
from trainer.remedial.models import CounsellingTalk, RemedialPlan

bp = Blueprint("remedial", __name__, url_prefix="/remedial")

MANAGERS = ("hr", "admin")


def _today():
    return local_date(utcnow(), centre_timezone())


def _case_or_403(case_id: int) -> services.Case:
    enrolment = services.get_case_enrolment(case_id)
    if not services.may_view(current_user, enrolment):
        abort(403)
    return services.case(enrolment)


def _back(case_id: int) -> str:
    return url_for("remedial.case_page", case_id=case_id)


@bp.route("")
@roles_required(*MANAGERS, "assessor")
def index():
    if services.may_run(current_user):
        cases = services.open_cases()
    else:
        cases = services.cases_for_assessor(current_user.id)
    return render_template("remedial/index.html", cases=cases, today=_today())


@bp.route("/<int:case_id>")
@signed_in
def case_page(case_id: int):
    case = _case_or_403(case_id)
    today = _today()
    plan_form = PlanForm()
    if case.plan is not None and not plan_form.is_submitted():
        plan_form.goals.data, plan_form.schedule.data = case.plan.goals, case.plan.schedule
        plan_form.review_on.data = case.plan.review_on
    elif not plan_form.is_submitted():
        plan_form.review_on.data = case.enrolment.due_on
    talk_form = TalkForm(held_on=today)
    evaluation_form = EvaluationForm(decided_on=today)
    assessor_form = AssessorForm(assessor=case.enrolment.assessor_id or 0)
    assessor_form.assessor.choices = [(0, _("— none —"))] + [
        (p.id, f"{p.name} ({p.employee_no})") for p in services.assessor_choices()
        if p.id != case.person.id]
    positions = db.session.query(Position).filter(Position.active.is_(True)).order_by(
        Position.sort_order, Position.name).all()
    return render_template(
        "remedial/case.html", case=case, today=today, plan_form=plan_form,
        talk_form=talk_form, evaluation_form=evaluation_form, assessor_form=assessor_form,
        ack_form=AcknowledgePlanForm(), confirm=ConfirmForm(), positions=positions,
        may_run=services.may_run(current_user),
        may_counsel=services.may_counsel(current_user, case.enrolment),
        is_agent=current_user.id == case.person.id,
        may_read_notes=lambda talk: services.may_read_notes(current_user, talk))


@bp.route("/<int:case_id>/assessor", methods=["POST"])
@roles_required(*MANAGERS)
def name_assessor(case_id: int):
    enrolment = services.get_case_enrolment(case_id)
    form = AssessorForm()
    form.assessor.choices = [(0, "")] + [(p.id, "") for p in services.assessor_choices()]
    if not form.validate_on_submit():
        flash(_("Choose an assessor from the list."), "danger")
        return redirect(_back(case_id))
    assessor = db.session.get(StaffMember, form.assessor.data) if form.assessor.data else None
    return act(lambda: services.name_assessor(current_user, enrolment, assessor, now=utcnow()),
               back=_back(case_id), done=_("The case's assessor is saved."))


def _refused(form, fallback: str, back: str):
    """A form that did not validate: say which field and why (or `fallback`), change nothing,
    back to the case."""
    message = " ".join(f"{form[name].label.text}: {error}" for name, errors in form.errors.items()
                       for error in errors if name in form)
    flash(message or fallback, "danger")
    return redirect(back)


@bp.route("/<int:case_id>/plan", methods=["POST"])
@signed_in
def write_plan(case_id: int):
    enrolment = services.get_case_enrolment(case_id)
    if not services.may_counsel(current_user, enrolment):
        abort(403)
    form = PlanForm()
    if not form.validate_on_submit():
        return _refused(form, _("Check the plan's fields."), _back(case_id))
    return act(lambda: services.write_plan(
        current_user, enrolment, goals=form.goals.data or "", schedule=form.schedule.data or "",
        review_on=form.review_on.data, today=_today(), now=utcnow()),
        back=_back(case_id),
        done=_("The plan is saved; the agent is asked to acknowledge it."))


@bp.route("/plans/<int:plan_id>/acknowledge", methods=["POST"])
@signed_in
def acknowledge_plan(plan_id: int):
    plan = db.get_or_404(RemedialPlan, plan_id)
    if services.get_case_enrolment(plan.enrolment_id).staff_id != current_user.id:
        abort(403)
    form = AcknowledgePlanForm()
    if not form.validate_on_submit():
        return _refused(form, _("Check the comment."), _back(plan.enrolment_id))
    return act(lambda: services.acknowledge_plan(current_user, plan,
                                                 comment=form.comment.data or "", now=utcnow()),
               back=_back(plan.enrolment_id), done=_("You have acknowledged the plan."))


@bp.route("/<int:case_id>/talks", methods=["POST"])
@signed_in
def record_talk(case_id: int):
    enrolment = services.get_case_enrolment(case_id)
    if not services.may_counsel(current_user, enrolment):
        abort(403)
    form = TalkForm()
    if not form.validate_on_submit():
        return _refused(form, _("Check the talk's fields."), _back(case_id))
    return act(lambda: services.record_talk(
        current_user, enrolment, held_on=form.held_on.data, counsellor=form.counsellor.data or "",
        notes=form.notes.data or "", today=_today(), now=utcnow()),
        back=_back(case_id), done=_("The counselling talk is recorded."))


@bp.route("/talks/<int:talk_id>/notes", methods=["POST"])
@signed_in
def talk_notes(talk_id: int):
    """The notes, shown in answer to a deliberate request (a button, not a link): the read is
    audited, so it is a POST that records it, commits, then renders."""
    talk = db.get_or_404(CounsellingTalk, talk_id)
    if not services.may_read_notes(current_user, talk):
        abort(403)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    notes = services.read_talk_notes(current_user, talk, now=utcnow())
    db.session.commit()
    case = services.case(services.get_case_enrolment(talk.enrolment_id))
    return render_template("remedial/notes.html", case=case, talk=talk, notes=notes)


@bp.route("/<int:case_id>/evaluation", methods=["POST"])
@roles_required(*MANAGERS)
def evaluate(case_id: int):
    enrolment = services.get_case_enrolment(case_id)
    form = EvaluationForm()
    if not form.validate_on_submit():
        return _refused(form, _("Check the evaluation's fields."), _back(case_id))
    labels = dict(OUTCOME_CHOICES)
    return act(lambda: services.evaluate(
        current_user, enrolment, outcome=form.outcome.data, decided_on=form.decided_on.data,
        notes=form.notes.data or "", new_due_on=form.new_due_on.data,
        position_id=form.position.data or None, today=_today(), now=utcnow()),
        back=_back(case_id),
        done=lambda evaluation: _("The evaluation is recorded: %(outcome)s.",
                                  outcome=labels[evaluation.outcome]))


OUTCOME_LABELS = {"reinstated": _l("Reinstated"), "lower_post": _l("Moved to a lower post"),
                  "extended": _l("Extended")}


@bp.app_context_processor
def _labels():
    return {"outcome_label": lambda key: OUTCOME_LABELS.get(key, key)}


def staff_panel(person: StaffMember):
    """The HR staff page's panel: the person's remedial cases."""
    cases = services.cases_of(person.id)
    if not cases:
        return Markup("")
    return Markup(render_template("remedial/_staff_panel.html", cases=cases, today=_today()))


def register(app) -> None:
    from trainer.core.nav import add_nav_item, add_staff_panel
    from trainer.core.todos import register_kind

    app.register_blueprint(bp)
    add_nav_item(app, "remedial.index", _l("Remedial"), (*MANAGERS, "assessor"), 38)
    add_staff_panel(app, staff_panel)
    register_kind(app, services.PLAN_TODO, lambda item: (
        _("Your improvement plan is ready: read it and acknowledge it."),
        url_for("remedial.case_page", case_id=int(item.params.get("enrolment", 0)))))
