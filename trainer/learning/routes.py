"""Learners follow their tracks; trainers see tracks and courses; HR assigns, extends, waives."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import select

from trainer.accounts.models import StaffMember
from trainer.accounts.rules import split_employee_nos
from trainer.accounts.services import find_staff
from trainer.core.actions import act
from trainer.core.db import db
from trainer.core.errors import DomainError
from trainer.core.params import db_int, local_path
from trainer.core.permissions import roles_required, signed_in
from trainer.core.timeutil import utcnow
from trainer.core.todos import open_count, open_todos
from trainer.learning import services
from trainer.learning import schedules
from trainer.learning.forms import (
    ActionForm,
    AssignForm,
    ExtendForm,
    NotPassedForm,
    ScheduleForm,
    WaiveForm,
)
from trainer.learning.models import (
    Course,
    CourseRequirement,
    Enrolment,
    ExamSchedule,
    Lesson,
    Track,
)
from trainer.learning.requirements import KINDS, label_of

bp = Blueprint("learning", __name__)
MANAGERS = ("hr", "trainer", "admin")


def _own_enrolment(enrolment_id: int) -> Enrolment:
    return services.get_own_enrolment(current_user, enrolment_id)


@bp.route("/my")
@signed_in
def my_training():
    enrolments = db.session.scalars(select(Enrolment).where(
        Enrolment.staff_id == current_user.id).order_by(Enrolment.due_on)).all()
    progress = services.progress_many(e for e in enrolments if e.is_open)
    open_ones = [progress[e.id] for e in enrolments if e.is_open]
    closed = [e for e in enrolments if not e.is_open]
    return render_template("learning/my_training.html", open_ones=open_ones, closed=closed,
                           todos=open_todos(current_app, current_user.id),
                           dismiss_form=ActionForm(),
                           hours=services.hours_of(current_user.id),
                           today=services.today_local(utcnow()))


@bp.route("/learn/<int:enrolment_id>")
@signed_in
def enrolment(enrolment_id: int):
    item = _own_enrolment(enrolment_id)
    return render_template("learning/enrolment.html", p=services.progress(item),
                           today=services.today_local(utcnow()))


def _course_progress(item: Enrolment, course_id: int):
    state = services.progress(item)
    course = next((c for c in state.courses if c.course.id == course_id), None)
    if course is None:
        abort(404)
    return state, course


@bp.route("/learn/<int:enrolment_id>/courses/<int:course_id>")
@signed_in
def course(enrolment_id: int, course_id: int):
    item = _own_enrolment(enrolment_id)
    state, cp = _course_progress(item, course_id)
    return render_template("learning/course.html", p=state, cp=cp, form=ActionForm(),
                           today=services.today_local(utcnow()))


@bp.route("/learn/<int:enrolment_id>/lessons/<int:lesson_id>")
@signed_in
def lesson(enrolment_id: int, lesson_id: int):
    item = _own_enrolment(enrolment_id)
    lesson_row = db.get_or_404(Lesson, lesson_id)
    state, cp = _course_progress(item, lesson_row.course_id)
    statuses = cp.lessons
    index = next((i for i, s in enumerate(statuses) if s.lesson.id == lesson_id), None)
    if index is None:
        abort(404)
    return render_template("learning/lesson.html", p=state, cp=cp, status=statuses[index],
                           previous=statuses[index - 1] if index > 0 else None,
                           following=statuses[index + 1] if index + 1 < len(statuses) else None,
                           form=ActionForm())


@bp.route("/learn/<int:enrolment_id>/lessons/<int:lesson_id>/read", methods=["POST"])
@signed_in
def mark_read(enrolment_id: int, lesson_id: int):
    item = _own_enrolment(enrolment_id)
    lesson_row = db.get_or_404(Lesson, lesson_id)
    if not ActionForm().validate_on_submit() or lesson_row.course.track_id != item.track_id:
        abort(400)
    services.mark_lesson_read(current_user, lesson_row, now=utcnow())
    db.session.commit()
    following = request.form.get("next", type=db_int)
    if following:
        return redirect(url_for("learning.lesson", enrolment_id=item.id, lesson_id=following))
    return redirect(url_for("learning.course", enrolment_id=item.id,
                            course_id=lesson_row.course_id))


@bp.route("/learn/<int:enrolment_id>/courses/<int:course_id>/quiz", methods=["POST"])
@signed_in
def start_quiz(enrolment_id: int, course_id: int):
    item = _own_enrolment(enrolment_id)
    course_row = db.get_or_404(Course, course_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        attempt = services.start_course_quiz(
            current_user, item, course_row, now=utcnow(),
            grace_s=current_app.config.get("QUIZ_GRACE_S", 30))
    except DomainError as exc:
        db.session.rollback()
        flash(exc.translated(), "warning")
        return redirect(url_for("learning.course", enrolment_id=item.id, course_id=course_id))
    db.session.commit()
    return redirect(url_for("quizzes.take", attempt_id=attempt.id))


# -- trainers and HR ----------------------------------------------------------------------------

@bp.route("/tracks")
@roles_required(*MANAGERS)
def tracks():
    rows = db.session.scalars(select(Track).order_by(Track.position)).all()
    posts = [(post, services.post_courses(post)) for post in services.posts()]
    return render_template("learning/tracks.html", tracks=rows, posts=posts,
                           track_figures=services.track_figures(),
                           course_figures=services.course_figures())


@bp.route("/tracks/courses/<int:course_id>")
@roles_required(*MANAGERS)
def course_admin(course_id: int):
    course_row = db.get_or_404(Course, course_id)
    asked = db.session.scalars(select(CourseRequirement).where(
        CourseRequirement.course_id == course_row.id).order_by(CourseRequirement.position)).all()
    addable = [kind for kind in KINDS.values() if getattr(kind, "addable", False)
               and kind.key not in {r.kind for r in asked}]
    # What a requirement names (a form), in the words of the area that registered its kind.
    ref_titles = {kind.key: dict(kind.choices()) for kind in KINDS.values()
                  if hasattr(kind, "choices")}
    return render_template("learning/course_admin.html", course=course_row,
                           figures=services.course_figures().get(course_row.id, {}),
                           requirements=asked, addable=addable, ref_titles=ref_titles,
                           action=ActionForm())


@bp.route("/tracks/courses/<int:course_id>/requirements", methods=["POST"])
@roles_required(*MANAGERS)
def add_requirement(course_id: int):
    course_row = db.get_or_404(Course, course_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    return act(lambda: services.add_course_requirement(
        current_user, course_row, request.form.get("kind", ""), now=utcnow(),
        ref_id=request.form.get("ref_id", type=int)),
        back=url_for("learning.course_admin", course_id=course_id),
        done=_("Added: enrolments assigned from now on ask for it."))


@bp.route("/tracks/courses/<int:course_id>/requirements/<int:requirement_id>/remove",
          methods=["POST"])
@roles_required(*MANAGERS)
def remove_requirement(course_id: int, requirement_id: int):
    requirement = db.get_or_404(CourseRequirement, requirement_id)
    if requirement.course_id != course_id or not ActionForm().validate_on_submit():
        abort(404)
    return act(lambda: services.remove_course_requirement(current_user, requirement,
                                                          now=utcnow()),
               back=url_for("learning.course_admin", course_id=course_id),
               done=_("Removed: enrolments assigned before keep it."))


@bp.route("/training/assign", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def assign():
    form = AssignForm()
    tracks_all = db.session.scalars(select(Track).order_by(Track.position)).all()
    form.track.choices = [(t.key, t.title) for t in tracks_all]
    if form.validate_on_submit():
        found = find_staff(employee_nos=split_employee_nos(form.employee_nos.data),
                           department_names=[form.department.data or ""])
        if found.unknown_departments:
            flash(_("There is no department named %(name)s. Nobody was assigned.",
                    name=", ".join(found.unknown_departments)), "danger")
        elif found.unknown_numbers:
            flash(_("Unknown employee numbers: %(nos)s. Nobody was assigned.",
                    nos=", ".join(found.unknown_numbers)), "danger")
        elif not found.people:
            flash(_("Give employee numbers or a department with people in it. Nobody was "
                    "assigned."), "danger")
        else:
            try:
                count, skipped = services.assign_manual(
                    current_user, found.people, services.track_by_key(form.track.data),
                    due_on=form.due_on.data, now=utcnow())
                skipped += found.left_numbers
            except DomainError as exc:
                db.session.rollback()
                flash(exc.translated(), "danger")
            else:
                db.session.commit()
                flash(_("%(n)d people assigned.", n=count), "success")
                if skipped:
                    flash(_("Not assigned (already open in this track, or left): %(nos)s",
                            nos=", ".join(skipped)), "warning")
                return redirect(url_for("learning.assign"))
    return render_template("learning/assign.html", form=form)


def _managed_enrolment(enrolment_id: int) -> Enrolment:
    return db.get_or_404(Enrolment, enrolment_id)


def _change_enrolment(enrolment_id: int, form, change, done: str, invalid: str):
    """Extend or waive: validate, call the service, commit once, back to the staff page."""
    item = _managed_enrolment(enrolment_id)
    back = url_for("accounts.staff_detail", staff_id=item.staff_id)
    if not form.validate_on_submit():
        flash(invalid, "danger")
        return redirect(back)
    return act(lambda: change(item, form), back=back, done=done)


@bp.route("/training/enrolments/<int:enrolment_id>/extend", methods=["POST"])
@roles_required(*MANAGERS)
def extend(enrolment_id: int):
    return _change_enrolment(
        enrolment_id, ExtendForm(),
        lambda item, form: services.extend_due(current_user, item, form.due_on.data,
                                               now=utcnow()),
        _("The due date is moved."), _("Give a new due date."))


@bp.route("/training/enrolments/<int:enrolment_id>/not-passed", methods=["POST"])
@roles_required("hr", "admin", "assessor")
def not_passed(enrolment_id: int):
    """The retake failed too: HR (from the staff page) or an assessor (from the assessment)
    ends the training as not passed; back where they came from."""
    item = _managed_enrolment(enrolment_id)
    back = local_path(request.form.get("back"),
                      url_for("accounts.staff_detail", staff_id=item.staff_id))
    form = NotPassedForm()
    if not form.validate_on_submit():
        flash(_("Say what was decided."), "danger")
        return redirect(back)
    return act(lambda: services.end_not_passed(current_user, item, form.note.data, now=utcnow()),
               back=back, done=_("The training ends as not passed."))


@bp.route("/training/enrolments/<int:enrolment_id>/waive", methods=["POST"])
@roles_required(*MANAGERS)
def waive(enrolment_id: int):
    return _change_enrolment(
        enrolment_id, WaiveForm(),
        lambda item, form: services.waive(current_user, item, form.reason.data, now=utcnow()),
        _("The training is waived."), _("Say why the training is waived."))


def staff_panel(staff: StaffMember) -> Markup:
    """The enrolments panel on the HR staff page (accounts renders the panels it is given)."""
    enrolments = db.session.scalars(select(Enrolment).where(
        Enrolment.staff_id == staff.id).order_by(Enrolment.assigned_at.desc())).all()
    failed = services.failed_assessments_of([e for e in enrolments if e.is_open])
    return Markup(render_template("learning/_staff_panel.html", staff=staff,
                                  enrolments=enrolments, extend_form=ExtendForm(),
                                  waive_form=WaiveForm(), not_passed_form=NotPassedForm(),
                                  failed=failed))


REASON_LABELS = {"hire": _l("new hire"), "return": _l("back from leave"),
                 "nomination": _l("nominated"), "renewal": _l("yearly renewal"),
                 "manual": _l("assigned by hand"), "stood_down": _l("stood down"),
                 "transfer": _l("moved to a new post"),
                 "exam_failed": _l("failed the monthly exam")}
HOURS_SOURCE_LABELS = {"course": _l("e-learning"), "class": _l("classroom"),
                       "external": _l("external training")}
STATE_LABELS = {"assigned": _l("Assigned"), "in_progress": _l("Under way"),
                "completed": _l("Completed"), "overdue": _l("Overdue"), "waived": _l("Waived"),
                "not_passed": _l("Not passed")}


@bp.app_context_processor
def _labels():
    return {"reason_label": lambda r: REASON_LABELS.get(r, r),
            "enrolment_state_label": lambda s: STATE_LABELS.get(s, s),
            "requirement_label": label_of,
            "hours_source_label": lambda k: HOURS_SOURCE_LABELS.get(k, k)}


def register(app) -> None:
    from trainer.core.nav import add_nav_item, add_return_link, add_staff_panel, set_home
    from trainer.core.todos import register_kind as register_todo_kind

    app.register_blueprint(bp)
    add_nav_item(app, "learning.my_training", _l("My training"), ("learner",), 10,
                 badge=lambda person: open_count(person.id))
    add_nav_item(app, "learning.tracks", _l("Tracks and courses"), MANAGERS, 30)
    add_nav_item(app, "learning.assign", _l("Assign training"), ("hr", "admin"), 65)
    set_home(app, "learner", "learning.my_training")
    add_staff_panel(app, staff_panel)
    register_todo_kind(app, "lesson.revised", _revised_lesson_todo)
    register_todo_kind(app, schedules.SITTING_TODO, _sitting_todo)
    add_nav_item(app, "learning.exam_schedules", _l("Monthly exams"), EXAM_READERS, 31)
    add_return_link(app, "attempt", _course_of_attempt)


def _course_of_attempt(attempt) -> str | None:
    """A course quiz's result leads back to its course in the learner's training."""
    if attempt.enrolment_id is None:
        return None
    course_id = services.course_of_quiz(attempt.enrolment_id, attempt.quiz_id)
    if course_id is None:
        return None
    return url_for("learning.course", enrolment_id=attempt.enrolment_id, course_id=course_id)


def _revised_lesson_todo(item):
    return (_("Read the revised lesson “%(title)s”: it changed while you were away.",
              title=item.params.get("title", "")),
            url_for("learning.lesson", enrolment_id=item.params.get("enrolment"),
                    lesson_id=int(item.ref)))


# -- the monthly business exam -------------------------------------------------------------------

EXAM_READERS = ("trainer", "hr", "admin")


def _schedule_form(schedule=None) -> ScheduleForm:
    from trainer.accounts.models import Department, Position
    from trainer.accounts.services import entry_choices

    form = ScheduleForm()
    form.quiz.choices = [(q.id, q.title) for q in schedules.templates()]
    form.departments.choices = [(d.id, d.name) for d in entry_choices(Department)]
    form.positions.choices = [(p.id, p.name) for p in entry_choices(Position)]
    if schedule is not None and not form.is_submitted():
        form.title.data, form.quiz.data = schedule.title, schedule.quiz_id
        form.day_of_month.data, form.window_days.data = schedule.day_of_month, \
            schedule.window_days
        form.pass_mark.data, form.follow_up.data = schedule.pass_mark, schedule.follow_up
        form.departments.data = list(schedule.department_ids or [])
        form.positions.data = list(schedule.position_ids or [])
        form.active.data = schedule.active
    return form


@bp.route("/training/exams")
@roles_required(*EXAM_READERS)
def exam_schedules():
    return render_template("learning/exam_schedules.html", schedules=schedules.schedules(),
                           today=services.today_local(utcnow()))


@bp.route("/training/exams/new", methods=["GET", "POST"])
@bp.route("/training/exams/<int:schedule_id>/edit", methods=["GET", "POST"])
@roles_required(*schedules.WRITERS)
def edit_schedule(schedule_id: int | None = None):
    schedule = db.get_or_404(ExamSchedule, schedule_id) if schedule_id else None
    form = _schedule_form(schedule)
    if form.validate_on_submit():
        fields = schedules.ScheduleFields(
            title=form.title.data or "", quiz_id=form.quiz.data,
            day_of_month=form.day_of_month.data, window_days=form.window_days.data,
            pass_mark=form.pass_mark.data, follow_up=form.follow_up.data,
            department_ids=list(form.departments.data or []),
            position_ids=list(form.positions.data or []), active=bool(form.active.data))
        try:
            saved = schedules.save_schedule(current_user, schedule, fields, now=utcnow())
        except DomainError as exc:
            db.session.rollback()
            flash(exc.translated(), "danger")
        else:
            db.session.commit()
            flash(_("The exam schedule is saved. Its sittings are created on its day each month."),
                  "success")
            return redirect(url_for("learning.exam_schedule", schedule_id=saved.id))
    for errors in form.errors.values():
        for error in errors:
            flash(str(error), "danger")
    return render_template("learning/exam_schedule_edit.html", form=form, schedule=schedule)


@bp.route("/training/exams/<int:schedule_id>")
@roles_required(*EXAM_READERS)
def exam_schedule(schedule_id: int):
    schedule = db.get_or_404(ExamSchedule, schedule_id)
    view = schedules.month_view(schedule, request.args.get("month", ""),
                                services.today_local(utcnow()))
    return render_template("learning/exam_schedule.html", schedule=schedule, months=view.months,
                           month=view.month, sittings=view.sittings, people=view.people)


SITTING_LABELS = {"assigned": _l("To sit"), "passed": _l("Passed"), "failed": _l("Not passed"),
                  "missed": _l("Missed")}
FOLLOW_UP_LABELS = {"none": _l("nothing"), "retake": _l("one retake within the window"),
                    "refresher": _l("the business refresher track")}


@bp.app_context_processor
def _exam_labels():
    return {"sitting_label": lambda s: SITTING_LABELS.get(s, s),
            "follow_up_label": lambda s: FOLLOW_UP_LABELS.get(s, s)}


def _sitting_todo(item):
    return (_("Sit the monthly exam “%(title)s” by its due date.",
              title=item.params.get("title", "")),
            url_for("quizzes.start_page", quiz_id=int(item.params.get("quiz", 0))))
