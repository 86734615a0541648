"""Trainer pages for question banks: browse, author, import, export."""
from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from trainer.banks import formats, services
from trainer.banks.forms import (
    FORMAT_LABELS,
    ActionForm,
    BankForm,
    ConfirmImportForm,
    ImportForm,
    MoveForm,
    QuestionForm,
)
from trainer.banks.models import Question, QuestionBank
from trainer.banks.settings import giveaway_words
from trainer.core.db import db
from trainer.core.errors import DomainError
from trainer.core.params import db_int
from trainer.core.permissions import roles_required
from trainer.core.timeutil import utcnow

bp = Blueprint("banks", __name__, url_prefix="/banks")
MANAGERS = ("trainer", "admin")
PAGE_SIZE = 25


def _bank(bank_id: int) -> QuestionBank:
    return db.get_or_404(QuestionBank, bank_id)


def _question(question_id: int) -> Question:
    return db.get_or_404(Question, question_id)


@bp.route("/")
@roles_required(*MANAGERS)
def index():
    banks = db.session.scalars(select(QuestionBank).order_by(QuestionBank.name)).all()
    return render_template("banks/index.html", banks=banks, counts=services.bank_counts())


@bp.route("/new", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def new_bank():
    form = BankForm()
    if form.validate_on_submit():
        bank = services.create_bank(current_user, name=form.name.data,
                                    description=form.description.data or "", now=utcnow())
        db.session.commit()
        return redirect(url_for("banks.browse", bank_id=bank.id))
    return render_template("banks/bank_form.html", form=form, bank=None)


@bp.route("/<int:bank_id>/edit", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def edit_bank(bank_id: int):
    bank = _bank(bank_id)
    form = BankForm(obj=bank)
    if form.validate_on_submit():
        services.update_bank(current_user, bank, name=form.name.data,
                             description=form.description.data or "", now=utcnow())
        db.session.commit()
        flash(_("Saved."), "success")
        return redirect(url_for("banks.browse", bank_id=bank.id))
    return render_template("banks/bank_form.html", form=form, bank=bank)


@bp.route("/<int:bank_id>")
@roles_required(*MANAGERS)
def browse(bank_id: int):
    bank = _bank(bank_id)
    flt = services.BrowseFilter(
        category_id=request.args.get("category", type=db_int),
        tag=request.args.get("tag", "").strip(),
        difficulty=request.args.get("difficulty", type=db_int),
        qtype=request.args.get("qtype", ""),
        text=request.args.get("q", "").strip()[:200],
        show_retired=request.args.get("retired") == "1")
    page = max(request.args.get("page", 1, type=db_int), 1)
    pagination = db.paginate(services.browse_query(bank, flt), page=page, per_page=PAGE_SIZE,
                             error_out=False)
    args = {k: v for k, v in request.args.items() if k != "page"}
    return render_template("banks/browse.html", bank=bank, pagination=pagination, flt=flt,
                           tags=services.bank_tags(bank), args=args, move_form=MoveForm(),
                           counts=services.bank_counts().get(bank.id, {}),
                           health=services.bank_health(bank), words=giveaway_words())


@bp.route("/<int:bank_id>/coverage")
@roles_required(*MANAGERS)
def coverage(bank_id: int):
    bank = _bank(bank_id)
    return render_template("banks/coverage.html", bank=bank, rows=services.coverage(bank))


@bp.route("/<int:bank_id>/move", methods=["POST"])
@roles_required(*MANAGERS)
def move(bank_id: int):
    bank = _bank(bank_id)
    form = MoveForm()
    ids = [int(i) for i in request.form.getlist("question") if i.isdigit()]
    if not form.validate_on_submit() or not ids:
        flash(_("Choose questions and a category to move them to."), "warning")
        return redirect(url_for("banks.browse", bank_id=bank.id))
    category = services.ensure_category(bank, formats.base.parse_category_path(
        form.category.data))
    moved = services.move_questions(current_user, bank, ids, category, now=utcnow())
    db.session.commit()
    flash(_("%(n)d questions moved to %(path)s.", n=moved, path=category.path), "success")
    return redirect(url_for("banks.browse", bank_id=bank.id, category=category.id))


@bp.route("/<int:bank_id>/questions/new", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def new_question(bank_id: int):
    bank = _bank(bank_id)
    form = QuestionForm()
    if form.validate_on_submit():
        try:
            question = services.create_question(current_user, bank, form.to_parsed(),
                                                 now=utcnow())
        except DomainError as exc:
            db.session.rollback()
            flash(exc.translated(), "danger")
        else:
            db.session.commit()
            flash(_("The question is saved."), "success")
            return redirect(url_for("banks.question", question_id=question.id))
    return render_template("banks/question_form.html", form=form, bank=bank, question=None,
                           categories=bank.categories)


@bp.route("/questions/<int:question_id>")
@roles_required(*MANAGERS)
def question(question_id: int):
    q = _question(question_id)
    return render_template("banks/question.html", q=q, versions=services.versions_of(q),
                           action=ActionForm(), show_key=request.args.get("key") == "1")


@bp.route("/questions/<int:question_id>/edit", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def edit_question(question_id: int):
    q = _question(question_id)
    if not q.is_current:
        flash(_("This is an old version; edit the current one."), "warning")
        return redirect(url_for("banks.question", question_id=q.id))
    form = QuestionForm()
    if request.method == "GET":
        form.fill_from(services.to_parsed(q))
    if form.validate_on_submit():
        try:
            new = services.edit_question(current_user, q, form.to_parsed(), now=utcnow())
        except DomainError as exc:
            db.session.rollback()
            flash(exc.translated(), "danger")
        else:
            db.session.commit()
            flash(_("Saved as version %(v)d.", v=new.version), "success")
            return redirect(url_for("banks.question", question_id=new.id))
    return render_template("banks/question_form.html", form=form, bank=q.bank, question=q,
                           categories=q.bank.categories)


@bp.route("/questions/<int:question_id>/duplicate", methods=["POST"])
@roles_required(*MANAGERS)
def duplicate(question_id: int):
    q = _question(question_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    copy = services.duplicate_question(current_user, q, now=utcnow())
    db.session.commit()
    flash(_("A copy was made."), "success")
    return redirect(url_for("banks.edit_question", question_id=copy.id))


@bp.route("/questions/<int:question_id>/retire", methods=["POST"])
@roles_required(*MANAGERS)
def retire(question_id: int):
    q = _question(question_id)
    if not ActionForm().validate_on_submit() or not q.is_current:
        abort(400)
    retired = request.form.get("retired") == "1"
    services.set_retired(current_user, q, retired, now=utcnow())
    db.session.commit()
    flash(_("The question is retired: new quizzes will not draw it.") if retired
          else _("The question is back in use."), "success")
    return redirect(url_for("banks.question", question_id=q.id))


@bp.route("/<int:bank_id>/import", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def import_upload(bank_id: int):
    bank = _bank(bank_id)
    form = ImportForm()
    if form.validate_on_submit():
        upload = form.file.data
        staging = services.stage_import(current_user, bank, upload.read(),
                                        upload.filename or "", form.format.data, now=utcnow())
        db.session.commit()
        return redirect(url_for("banks.import_preview", bank_id=bank.id, token=staging.token))
    return render_template("banks/import.html", form=form, bank=bank)


@bp.route("/<int:bank_id>/import/<token>", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def import_preview(bank_id: int, token: str):
    bank = _bank(bank_id)
    form = ConfirmImportForm()
    try:
        staging, plan = services.load_staging(current_user, bank, token, now=utcnow())
    except DomainError as exc:
        flash(exc.translated(), "warning")
        return redirect(url_for("banks.import_upload", bank_id=bank.id))
    if form.validate_on_submit():
        try:
            outcome = services.confirm_import(current_user, bank, token,
                                              skip_invalid=form.skip_invalid.data, now=utcnow())
        except DomainError as exc:
            db.session.rollback()
            flash(exc.translated(), "danger")
        else:
            db.session.commit()
            flash(_("%(n)d questions imported; %(d)d already in the bank were not doubled.",
                    n=outcome.imported, d=outcome.duplicates), "success")
            return redirect(url_for("banks.browse", bank_id=bank.id))
    return render_template("banks/import_preview.html", bank=bank, staging=staging, plan=plan,
                           form=form, translate=_)


@bp.route("/import/template.xlsx")
@roles_required(*MANAGERS)
def import_template():
    return Response(formats.template_xlsx(), mimetype=formats.EXPORT_FILE_TYPES["xlsx"][1],
                    headers={"Content-Disposition": "attachment; filename=question-template.xlsx"})


@bp.route("/<int:bank_id>/export")
@roles_required(*MANAGERS)
def export(bank_id: int):
    bank = _bank(bank_id)
    fmt = request.args.get("format", "gift")
    if fmt not in formats.EXPORT_FORMATS:
        abort(404)
    data, mimetype, filename = services.export_bank(bank, fmt)
    return Response(data, mimetype=mimetype,
                    headers={"Content-Disposition": f"attachment; filename={filename}"})


@bp.app_context_processor
def _labels():
    return {"qtype_label": lambda t: QTYPE_LABELS.get(t, t),
            "difficulty_label": lambda d: DIFFICULTY_LABELS.get(d, d),
            "issue_kind_label": lambda k: ISSUE_KIND_LABELS.get(k, k),
            "origin_label": lambda o: ORIGIN_LABELS.get(o, o),
            "format_label": lambda f: FORMAT_LABELS.get(f, f)}


QTYPE_LABELS = {"single": _l("Single choice"), "multiple": _l("Multiple choice"),
                "truefalse": _l("True/false")}
DIFFICULTY_LABELS = {1: _l("Easy"), 2: _l("Medium"), 3: _l("Hard")}
ISSUE_KIND_LABELS = {"error": _l("Error"), "incomplete": _l("Incomplete"),
                     "unsupported": _l("Unsupported type"), "skipped": _l("Skipped line")}
ORIGIN_LABELS = {"shipped": _l("shipped with the site"), "web": _l("written in the site"),
                 "import": _l("imported")}


def register(app) -> None:
    from trainer.core.nav import add_nav_item, set_home

    app.register_blueprint(bp)
    add_nav_item(app, "banks.index", _l("Question banks"), MANAGERS, 20)
    set_home(app, "trainer", "banks.index")
