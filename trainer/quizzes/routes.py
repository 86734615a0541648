"""Quiz pages: learners take quizzes (JSON autosave, plain forms without JavaScript); trainers
build quizzes and watch attempts."""
from __future__ import annotations

from datetime import datetime

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import format_datetime, get_translations
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext, pgettext
from flask_login import current_user
from sqlalchemy import select

from trainer.accounts.models import StaffMember
from trainer.accounts.rules import split_employee_nos
from trainer.accounts.services import find_staff
from trainer.banks.models import Category, Question, QuestionBank
from trainer.banks.formats.base import parse_category_path
from trainer.core import tables
from trainer.core.actions import act
from trainer.core.db import db, without_write_lock, write_intent
from trainer.core.errors import DomainError
from trainer.core.nav import return_link
from trainer.core.params import db_int, is_db_int
from trainer.core.permissions import roles_required, signed_in
from trainer.core.timeutil import utcnow
from trainer.quizzes import item_report, rules, services
from trainer.quizzes.forms import ActionForm, AssignForm, OverrideForm, QuizForm, rule_spec, to_utc
from trainer.quizzes.models import Attempt, Quiz, QuizAssignment
from trainer.quizzes.views import item_html, item_view, result_view

bp = Blueprint("quizzes", __name__)
MANAGERS = ("trainer", "admin")
# Who may read results: the managers, and HR (every quiz, read-only).
RESULT_READERS = ("trainer", "hr", "admin")


def grace() -> int:
    return current_app.config.get("QUIZ_GRACE_S", services.DEFAULT_GRACE_S)


def _quiz(quiz_id: int, options: tuple = ()) -> Quiz:
    quiz = db.session.get(Quiz, quiz_id, options=options or None)
    if quiz is None:
        abort(404)
    return quiz


def _managed(quiz_id: int) -> Quiz:
    quiz = _quiz(quiz_id)
    services.check_may_manage(current_user, quiz)
    return quiz


# -- learners -----------------------------------------------------------------------------------

@bp.route("/quizzes")
@signed_in
def my_quizzes():
    assigned = select(QuizAssignment.quiz_id).where(QuizAssignment.staff_id == current_user.id)
    quizzes = db.session.scalars(select(Quiz).where(
        Quiz.personal_for_id.is_(None),
        (Quiz.open_to_all.is_(True)) | Quiz.id.in_(assigned)).order_by(Quiz.title)).all()
    return render_template("quizzes/my_quizzes.html", quizzes=quizzes,
                           notebook_size=len(services.notebook(current_user)))


@bp.route("/quizzes/<int:quiz_id>")
@signed_in
def start_page(quiz_id: int):
    quiz = _quiz(quiz_id, services.QUIZ_TO_TAKE)
    if not services.is_assigned(current_user, quiz):
        abort(403)
    attempts = services.attempts_of(current_user.id, quiz)
    info = services.start_info(current_user, quiz, now=utcnow(), attempts=attempts)
    reason = None
    if info.reason:
        params = {k: format_datetime(v, "short") if isinstance(v, datetime) else v
                  for k, v in info.reason_params.items()}
        reason = _(info.reason, **params)
    return render_template("quizzes/start.html", quiz=quiz, info=info, attempts=attempts,
                           form=ActionForm(), reason=reason,
                           kept=services.kept_grade_among(attempts, quiz.grading))


@bp.route("/quizzes/<int:quiz_id>/start", methods=["POST"])
@signed_in
@without_write_lock
def start(quiz_id: int):
    quiz = _quiz(quiz_id, services.QUIZ_TO_TAKE)
    if not ActionForm().validate_on_submit():
        abort(400)
    now = utcnow()
    try:
        prepared = services.prepare_start(current_user, quiz, now=now, grace_s=grace())
        if isinstance(prepared, Attempt):
            attempt_id = prepared.id  # resumed: nothing to write
        else:
            # The reads end here; the writes get a transaction of their own, which on SQLite
            # holds the write lock only for them (a start rush queued every save behind whole
            # starts: bench/exam_day.py).
            db.session.rollback()
            with write_intent():
                if prepared is services.OVERDUE_IN_PROGRESS:  # finalise it, then start anew
                    attempt = services.start_attempt(current_user, quiz, now=now,
                                                     grace_s=grace())
                else:
                    attempt = services.begin_prepared(prepared, now=now)
                attempt_id = attempt.id  # (read before the commit expires it: no reload)
                db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        if exc.status_code == 403:
            raise
        flash(exc.translated(), "warning")
        return redirect(url_for("quizzes.start_page", quiz_id=quiz_id))
    return redirect(url_for("quizzes.take", attempt_id=attempt_id))


def _own(attempt_id: int, options: tuple = ()) -> Attempt:
    """The person's own attempt, finalised first when its time is up."""
    attempt = services.get_own_attempt(current_user, attempt_id, options)
    now = utcnow()
    if services.is_overdue(attempt, now=now, grace_s=grace()):
        attempt = _write_apart(attempt_id, options, lambda own: services.finalize_if_overdue(
            own, now=now, grace_s=grace()))
    return attempt


def _write_apart(attempt_id: int, options: tuple, write) -> Attempt:
    """Run `write` on the attempt in a write transaction of its own, then read it again.
    Pages (GET) read in a deferred transaction, and on SQLite one that has read and then writes
    fails at once ("database is locked", no busy wait) when another connection committed since
    it began: a save landing meanwhile made the page a 500. So the reads end here and the write
    takes the write path every POST takes (BEGIN IMMEDIATE, in the writers' queue)."""
    db.session.rollback()
    with write_intent():
        write(services.get_own_attempt(current_user, attempt_id))
        db.session.commit()
    return services.get_own_attempt(current_user, attempt_id, options)


def _page_bounds(attempt: Attempt, page: int | None) -> tuple[int, int, int]:
    """(first, last, page) positions shown on this page of the attempt. Sequential navigation
    shows the page still open, whichever was asked for."""
    count = len(attempt.items)
    if attempt.quiz.layout != "paged":
        return 0, count, 0
    if services.is_sequential(attempt.quiz):
        page = attempt.open_from
    page = min(max(page or 0, 0), max(count - 1, 0))
    return page, page + 1, page


@bp.route("/attempts/<int:attempt_id>")
@signed_in
def take(attempt_id: int):
    attempt = _own(attempt_id, services.ATTEMPT_PAGE)
    if attempt.state != "in_progress":
        return redirect(url_for("quizzes.result", attempt_id=attempt.id))
    first, last, page = _page_bounds(attempt, request.args.get("page", type=db_int))
    now = utcnow()
    items = [item_view(item, attempt.quiz, reveal=item.locked) for item in attempt.items]
    return render_template("quizzes/take.html", attempt=attempt, quiz=attempt.quiz, items=items,
                           first=first, last=last, page=page, form=ActionForm(),
                           seconds_left=rules.seconds_left(attempt.deadline_at, now),
                           labels=_item_labels(), item_html=item_html)


def _item_labels() -> dict[str, str]:
    """Translated once per page, not once per question (each call cost ~50 µs, 90 a page)."""
    # Both forms unformatted: item_html picks one by each question's points.
    translations = get_translations()
    return {"question": _("Question %(n)d"),
            "point": translations.ungettext("%(p)s point", "%(p)s points", 1),
            "points": translations.ungettext("%(p)s point", "%(p)s points", 2),
            "multiple": _("choose all that apply"), "lock": _("Lock my answer and check it")}


@bp.route("/attempts/<int:attempt_id>/state")
@signed_in
def state(attempt_id: int):
    """The server's view of the attempt, for the page to resume from (no keys, no weights)."""
    attempt = _own(attempt_id)
    return jsonify(state=attempt.state,
                   seconds_left=rules.seconds_left(attempt.deadline_at, utcnow()),
                   items=[{"position": i.position, "version": i.version,
                           "selected": [i.choice_order.index(c) for c in i.selected
                                        if c in i.choice_order],
                           "locked": i.locked} for i in attempt.items],
                   result_url=url_for("quizzes.result", attempt_id=attempt.id))


@bp.route("/attempts/<int:attempt_id>/save", methods=["POST"])
@signed_in
def save(attempt_id: int):
    """Autosave one answer: {position, selected (shown positions), version}. Exam day's common
    case never gets here: the WSGI layer in front of the app answers it (quizzes.fastsave).
    What does is explained here: a refusal (stale, late, closed, not this person's), or a save
    the lean path could not take (a body or a session it does not read)."""
    payload = request.get_json(silent=True)
    payload = payload if isinstance(payload, dict) else {}
    position, version, shown = payload.get("position"), payload.get("version"), \
        payload.get("selected")
    try:
        # Someone else's attempt is refused before the payload is looked at: a 400 for one
        # body and a 403 for another would tell its number of questions and choices.
        services.get_own_attempt(current_user, attempt_id)
        if not (is_db_int(position) and is_db_int(version) and isinstance(shown, list)):
            return jsonify(error="bad_request", message=_("The answer could not be read.")), 400
        selected = _chosen(shown, _choice_order(attempt_id, position))
        saved = services.save_answer(current_user, attempt_id, position, selected, version,
                                     now=utcnow(), grace_s=grace())
    except services.StaleAnswer as exc:
        db.session.rollback()
        order = _choice_order(attempt_id, position)
        return jsonify(error="stale", message=exc.translated(), version=exc.version,
                       selected=[order.index(c) for c in exc.selected if c in order]), 409
    except DomainError as exc:
        db.session.commit()  # a late save may have finalised the attempt: keep that
        where = {"page_url": url_for("quizzes.take", attempt_id=attempt_id)} \
            if isinstance(exc, services.QuestionClosed) else {}
        return jsonify(error=type(exc).__name__, message=exc.translated(),
                       result_url=url_for("quizzes.result", attempt_id=attempt_id), **where), \
            exc.status_code
    db.session.commit()
    return jsonify(version=saved.version, saved_at=saved.saved_at.isoformat())


def _chosen(shown: list, order: list[int]) -> list[int]:
    """The choices picked, from the positions they were shown at."""
    selected = services.chosen_from_shown(shown, order)
    if selected is None:
        raise DomainError("The answer is not a list of choices.")
    return selected


def _choice_order(attempt_id: int, position: int) -> list[int]:
    order = services.choice_order(attempt_id, position)
    if order is None:
        raise DomainError("No such question in this attempt.")
    return order


@bp.route("/attempts/<int:attempt_id>/answers", methods=["POST"])
@signed_in
def save_form(attempt_id: int):
    """Without JavaScript: the page's answers arrive as a plain form."""
    attempt = _own(attempt_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    now = utcnow()
    problems = []
    for item in attempt.items:
        field = f"q{item.position}"
        if f"v{item.position}" not in request.form:
            continue
        shown = [int(v) for v in request.form.getlist(field) if v.isdigit()]
        selected = [item.choice_order[i] for i in shown if i < len(item.choice_order)]
        if sorted(selected) == sorted(item.selected):
            continue
        try:
            services.save_answer(current_user, attempt.id, item.position, selected,
                                 request.form.get(f"v{item.position}", type=db_int) or 0,
                                 now=now, grace_s=grace())
        except DomainError as exc:
            problems.append(exc.translated())
            if isinstance(exc, (services.TimeUp, services.AttemptClosed)):
                db.session.commit()
                flash(exc.translated(), "warning")
                return redirect(url_for("quizzes.result", attempt_id=attempt.id))
    if request.form.get("lock") is not None:
        try:
            services.lock_answer(current_user, attempt, int(request.form["lock"]), now=now,
                                 grace_s=grace())
        except (DomainError, ValueError):
            problems.append(_("This answer could not be locked."))
    action = request.form.get("go", "")
    page = request.form.get("page", type=db_int) or 0
    if action == "next" and not problems:  # (a refused answer keeps its page open)
        services.move_on(attempt, page)
    db.session.commit()
    for problem in problems:
        flash(problem, "warning")
    if action == "submit":
        return redirect(url_for("quizzes.confirm_submit", attempt_id=attempt.id))
    if action == "next":
        page += 1
    elif action == "prev" and attempt.quiz.navigation == "free":
        page -= 1
    if not problems:
        flash(_("Your answers are saved."), "success")
    return redirect(url_for("quizzes.take", attempt_id=attempt.id, page=page))


@bp.route("/attempts/<int:attempt_id>/lock", methods=["POST"])
@signed_in
def lock(attempt_id: int):
    """Practice: lock one answer and receive its feedback (JSON)."""
    attempt = _own(attempt_id)
    payload = request.get_json(silent=True)
    position = payload.get("position") if isinstance(payload, dict) else None
    if not is_db_int(position):
        return jsonify(error="bad_request"), 400
    try:
        item = services.lock_answer(current_user, attempt, position, now=utcnow(),
                                    grace_s=grace())
    except DomainError as exc:
        db.session.rollback()
        return jsonify(error=type(exc).__name__, message=exc.translated()), exc.status_code
    db.session.commit()
    view = item_view(item, attempt.quiz, reveal=True)
    return jsonify(html=render_template("quizzes/_feedback.html", item=view))


@bp.route("/attempts/<int:attempt_id>/submit", methods=["GET"])
@signed_in
def confirm_submit(attempt_id: int):
    attempt = _own(attempt_id)
    if attempt.state != "in_progress":
        return redirect(url_for("quizzes.result", attempt_id=attempt.id))
    unanswered = [i.position + 1 for i in attempt.items if not i.selected]
    return render_template("quizzes/confirm_submit.html", attempt=attempt, unanswered=unanswered,
                           form=ActionForm(),
                           seconds_left=rules.seconds_left(attempt.deadline_at, utcnow()))


@bp.route("/attempts/<int:attempt_id>/submit", methods=["POST"])
@signed_in
def submit(attempt_id: int):
    attempt = services.get_own_attempt(current_user, attempt_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        services.submit_attempt(current_user, attempt, now=utcnow(), grace_s=grace())
    except services.TimeUp as exc:
        flash(exc.translated(), "warning")
    db.session.commit()
    return redirect(url_for("quizzes.result", attempt_id=attempt.id))


@bp.route("/attempts/<int:attempt_id>/result")
@signed_in
def result(attempt_id: int):
    attempt = _own(attempt_id)
    if attempt.state == "in_progress":
        return redirect(url_for("quizzes.take", attempt_id=attempt.id))
    now = utcnow()
    if services.exam_mistakes_due(attempt, now=now):
        attempt = _write_apart(attempt_id, (), lambda own: services.collect_exam_mistakes(
            own, now=now))
    visible = services.visibility(attempt, now=now)
    attempts = services.attempts_of(attempt.staff_id, attempt.quiz, attempt.enrolment_id)
    several = sum(a.finished for a in attempts) > 1  # (one attempt: its grade is the kept one)
    return render_template("quizzes/result.html", attempt=attempt, quiz=attempt.quiz,
                           visible=visible, items=result_view(attempt, visible),
                           kept=services.kept_grade_among(attempts, attempt.quiz.grading)
                           if several else None,
                           back_url=return_link(current_app, "attempt", attempt)
                           or _default_back(attempt))


def _default_back(attempt: Attempt) -> str:
    if attempt.quiz.personal_for_id:
        return url_for("quizzes.mistakes")
    return url_for("quizzes.start_page", quiz_id=attempt.quiz_id)


@bp.route("/mistakes")
@signed_in
def mistakes():
    return render_template("quizzes/mistakes.html", entries=services.notebook(current_user),
                           form=ActionForm())


@bp.route("/mistakes/practice", methods=["POST"])
@signed_in
def practise_mistakes():
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        attempt = services.start_mistakes_practice(current_user, now=utcnow())
    except DomainError as exc:
        db.session.rollback()
        flash(exc.translated(), "info")
        return redirect(url_for("quizzes.mistakes"))
    attempt_id = attempt.id  # (read before the commit expires it: no query to reload it)
    db.session.commit()
    return redirect(url_for("quizzes.take", attempt_id=attempt_id))


# -- trainers -----------------------------------------------------------------------------------

@bp.route("/quizzes/manage")
@roles_required(*MANAGERS)
def manage():
    quizzes = [q for q in db.session.scalars(select(Quiz).where(
        Quiz.personal_for_id.is_(None)).order_by(Quiz.title)) if services.may_manage(
        current_user, q)]
    return render_template("quizzes/manage.html", quizzes=quizzes)


def _banks():
    return db.session.scalars(select(QuestionBank).order_by(QuestionBank.name)).all()


def _rule_specs(form: QuizForm) -> list[services.RuleSpec]:
    specs = []
    for row, _index in form.rule_rows():
        bank = db.session.get(QuestionBank, row.bank_id.data)
        if bank is None:
            raise DomainError("Choose a bank for every rule.")
        category_id = None
        path = parse_category_path(row.category.data or "")
        if path:
            category = db.session.scalar(select(Category).where(
                Category.bank_id == bank.id, Category.path == "/".join(path)))
            if category is None:
                raise DomainError("The bank %(bank)s has no knowledge point %(path)s.",
                                  bank=bank.name, path="/".join(path))
            category_id = category.id
        specs.append(rule_spec(row, category_id))
    return specs


# The bank health check's rules (banks.health.RULES), as the quiz builder names them.
HEALTH_RULE_LABELS = {
    "longest_choice": _l("the longest choice scores above 30 %"),
    "giveaway_words": _l("false statements carry giveaway words more often"),
    "multiple_wrong_choices": _l("multiple-choice questions with fewer than two wrong choices"),
}


def _bank_warnings(rule_bank_ids: list[int],
                   fixed_lineages: list[int] | None = None) -> list[tuple[str, QuestionBank]]:
    """What the quiz builder says of each failing bank a quiz draws from: which bank, which
    draw rules, which health rules."""
    separator = pgettext("list separator", ", ")
    messages = []
    for warning in services.failing_banks(rule_bank_ids, fixed_lineages):
        checks = separator.join(str(HEALTH_RULE_LABELS.get(k, k)) for k in warning.failed)
        if warning.rules:
            messages.append((ngettext(
                "Rule %(rules)s draws from %(bank)s, which fails the bank health check: "
                "%(checks)s.",
                "Rules %(rules)s draw from %(bank)s, which fails the bank health check: "
                "%(checks)s.", len(warning.rules),
                rules=separator.join(str(n) for n in warning.rules), bank=warning.bank.name,
                checks=checks), warning.bank))
        if warning.fixed:
            messages.append((_("Fixed questions come from %(bank)s, which fails the bank health "
                               "check: %(checks)s.", bank=warning.bank.name, checks=checks),
                             warning.bank))
    return messages


def _save_quiz_form(quiz: Quiz | None):
    form = QuizForm()
    banks = _banks()
    form.set_banks(banks)
    if request.method == "GET" and quiz is not None:
        paths = {c.id: c.path for b in banks for c in b.categories}
        form.fill_from(quiz, current_user.timezone, paths)
        form.set_banks(banks)
    if form.validate_on_submit():
        try:
            saved = services.save_quiz(current_user, quiz, form.settings(current_user.timezone),
                                       rule_specs=_rule_specs(form), now=utcnow())
        except DomainError as exc:
            db.session.rollback()
            flash(exc.translated(), "danger")
        else:
            warnings = _bank_warnings([r.bank_id for r in saved.rules],
                                      [f.lineage_id for f in saved.fixed])
            db.session.commit()
            flash(_("The quiz is saved."), "success")
            for text, _bank in warnings:
                flash(text, "warning")
            return redirect(url_for("quizzes.attempts", quiz_id=saved.id))
    elif form.is_submitted():
        flash(_("Please correct the marked fields."), "danger")
    return render_template("quizzes/quiz_form.html", form=form, quiz=quiz, banks=banks,
                           bank_warnings=_form_bank_warnings(form, quiz, banks))


def _form_bank_warnings(form: QuizForm, quiz: Quiz | None,
                        banks) -> list[tuple[str, QuestionBank]]:
    """The failing banks of the rules the form holds (as sent back, or as saved)."""
    if form.is_submitted():
        known = {b.id for b in banks}
        return _bank_warnings([row.bank_id.data for row, _index in form.rule_rows()
                               if row.bank_id.data in known])
    if quiz is not None:
        return _bank_warnings([r.bank_id for r in quiz.rules],
                              [f.lineage_id for f in quiz.fixed])
    return []


@bp.route("/quizzes/new", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def new_quiz():
    return _save_quiz_form(None)


@bp.route("/quizzes/<int:quiz_id>/edit", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def edit_quiz(quiz_id: int):
    return _save_quiz_form(_managed(quiz_id))


@bp.route("/quizzes/<int:quiz_id>/attempts")
@roles_required(*RESULT_READERS)
def attempts(quiz_id: int):
    """A quiz's attempts and kept grades: its managers', and HR's to read (no assigning, no
    overrides, no editing)."""
    quiz = _quiz(quiz_id)
    services.check_may_read_results(current_user, quiz)
    now = utcnow()
    return render_template("quizzes/attempts.html", quiz=quiz, now=now,
                           live=services.live_attempts(quiz.id),
                           finished=services.finished_attempts(
                               quiz.id, page=_page_number("page")),
                           kept=services.kept_grades_page(quiz.id, page=_page_number("people")),
                           read_only=not services.may_manage(current_user, quiz),
                           seconds_left=rules.seconds_left, override_form=OverrideForm(),
                           assign_form=AssignForm(),
                           assigned=db.session.scalar(select(db.func.count()).select_from(
                               QuizAssignment).where(QuizAssignment.quiz_id == quiz.id)))


def _page_number(name: str) -> int:
    """A page number from the query string; anything else is the first page."""
    return max(request.args.get(name, 1, type=db_int), 1)


def _readable(quiz_id: int) -> Quiz:
    quiz = _quiz(quiz_id)
    services.check_may_read_results(current_user, quiz)
    return quiz


@bp.route("/quizzes/<int:quiz_id>/statistics")
@roles_required(*RESULT_READERS)
def statistics(quiz_id: int):
    """Item analysis of an exam (each person's kept attempt): its managers' and HR's."""
    result = services.quiz_statistics(_readable(quiz_id))
    figures = result.figures
    return render_template("quizzes/statistics.html", quiz=result.quiz, result=result,
                           figures=figures, report=item_report,
                           may_edit=item_report.may_edit(current_user),
                           distribution=item_report.distribution_chart(figures),
                           items_chart=item_report.items_chart(figures))


@bp.route("/quizzes/<int:quiz_id>/statistics.xlsx")
@roles_required(*RESULT_READERS)
def statistics_xlsx(quiz_id: int):
    result = services.quiz_statistics(_readable(quiz_id))
    numbered = [(item.number, result.current[item.lineage_id].id_number
                 if item.lineage_id in result.current else "", item)
                for item in result.figures.items]
    # (A fixed sheet name: a title may hold characters a sheet's name may not.)
    return tables.export_response("xlsx", f"quiz-{quiz_id}-item-analysis", item_report.header(),
                                  item_report.export_rows(numbered), sheet=_("Item analysis"),
                                  widths=item_report.EXPORT_WIDTHS)


@bp.route("/quizzes/questions/<int:question_id>/statistics")
@roles_required(*RESULT_READERS)
def question_statistics(question_id: int):
    """One question (every version) in every exam that asked it whose results the viewer
    may read."""
    question = db.get_or_404(Question, question_id)
    result = services.question_statistics(current_user, question)
    return render_template("quizzes/question_statistics.html", question=question,
                           result=result, report=item_report,
                           may_edit=item_report.may_edit(current_user))


@bp.route("/quizzes/<int:quiz_id>/overrides", methods=["POST"])
@roles_required(*MANAGERS)
def set_override(quiz_id: int):
    quiz = _managed(quiz_id)
    form = OverrideForm()
    if not form.validate_on_submit():
        flash(_("Check the override form."), "danger")
        return redirect(url_for("quizzes.attempts", quiz_id=quiz.id))
    staff = db.session.scalar(select(StaffMember).where(
        StaffMember.employee_no == form.employee_no.data.strip()))
    if staff is None:
        flash(_("No staff member has the employee number %(no)s.", no=form.employee_no.data),
              "danger")
        return redirect(url_for("quizzes.attempts", quiz_id=quiz.id))
    tz = current_user.timezone
    return act(lambda: services.set_override(
        current_user, quiz, staff, extra_time_s=(form.extra_minutes.data or 0) * 60,
        extra_attempts=form.extra_attempts.data or 0, open_at=to_utc(form.open_at.data, tz),
        close_at=to_utc(form.close_at.data, tz), now=utcnow()),
        back=url_for("quizzes.attempts", quiz_id=quiz.id),
        done=_("The override for %(name)s is saved.", name=staff.name))


@bp.route("/quizzes/<int:quiz_id>/assign", methods=["POST"])
@roles_required(*MANAGERS)
def assign(quiz_id: int):
    quiz = _managed(quiz_id)
    form = AssignForm()
    if not form.validate_on_submit():
        abort(400)
    numbers = split_employee_nos(form.employee_nos.data)
    if not numbers and not (form.department.data or "").strip():
        flash(_("Give employee numbers or a department."), "warning")
        return redirect(url_for("quizzes.attempts", quiz_id=quiz.id))
    found = find_staff(employee_nos=numbers, department_names=[form.department.data or ""])
    if found.unknown_departments:
        flash(_("There is no department named %(name)s. Nobody was assigned.",
                name=", ".join(found.unknown_departments)), "danger")
        return redirect(url_for("quizzes.attempts", quiz_id=quiz.id))
    if found.unknown_numbers:
        flash(_("Unknown employee numbers: %(nos)s. Nobody was assigned.",
                nos=", ".join(found.unknown_numbers)), "danger")
        return redirect(url_for("quizzes.attempts", quiz_id=quiz.id))
    added = services.assign_quiz(current_user, quiz, [p.id for p in found.people], now=utcnow())
    db.session.commit()
    flash(_("%(n)d people assigned.", n=added), "success")
    if found.left_numbers:
        flash(_("Not assigned, as they have left: %(nos)s", nos=", ".join(found.left_numbers)),
              "warning")
    return redirect(url_for("quizzes.attempts", quiz_id=quiz.id))


@bp.route("/attempts/<int:attempt_id>/review")
@roles_required(*RESULT_READERS)
def review(attempt_id: int):
    """A trainer's full review of any attempt of a quiz they may manage (HR's, to read)."""
    attempt = db.get_or_404(Attempt, attempt_id)
    services.check_may_read_results(current_user, attempt.quiz)
    person = db.session.get(StaffMember, attempt.staff_id)
    visible = rules.ReviewVisibility(True, True, True)
    return render_template("quizzes/result.html", attempt=attempt, quiz=attempt.quiz,
                           visible=visible, items=result_view(attempt, visible), person=person,
                           trainer_view=True)


GRADING_LABELS = {"highest": _l("the highest attempt counts"),
                  "last": _l("the last attempt counts")}
ATTEMPT_STATE_LABELS = {"in_progress": _l("In progress"), "submitted": _l("Submitted"),
                        "expired": _l("Submitted when time ran out"),
                        "abandoned": _l("Abandoned")}


@bp.app_context_processor
def _labels():
    return {"attempt_state_label": lambda s: ATTEMPT_STATE_LABELS.get(s, s),
            "grading_label": lambda g: GRADING_LABELS.get(g, g)}


def register(app) -> None:
    from trainer.core.nav import add_nav_item

    app.register_blueprint(bp)
    add_nav_item(app, "quizzes.my_quizzes", _l("Quizzes"), ("learner",), 15)
    add_nav_item(app, "quizzes.mistakes", _l("Mistakes notebook"), ("learner",), 16)
    add_nav_item(app, "quizzes.manage", _l("Quiz builder"), MANAGERS, 25)
