"""Login, passwords, the staff list and the staff record."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user, logout_user
from sqlalchemy import or_, select

from trainer.accounts import services
from trainer.accounts.forms import (
    ChangePasswordForm,
    ConfirmForm,
    LoginForm,
    StaffEventForm,
    StaffForm,
    StaffImportForm,
    VoidEventForm,
)
from trainer.accounts.models import StaffEvent, StaffMember
from trainer.accounts.staff_import import template_csv
from trainer.core.db import db, without_write_lock
from trainer.core.errors import DomainError
from trainer.core.nav import home_endpoint
from trainer.core.permissions import (
    login_checked_in_query,
    public,
    roles_required,
    signed_in,
)
from trainer.core.timeutil import local_date, utcnow
from trainer.extensions import limiter

bp = Blueprint("accounts", __name__)

PAGE_SIZE = 50


def _login_failed(response: Response) -> bool:
    return response.status_code == 401


def _account_key() -> str:
    return "account:" + (request.form.get("employee_no") or "").strip().lower()


def _safe_next(target: str | None) -> str | None:
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def home_url_for(user: StaffMember) -> str:
    return url_for(home_endpoint(current_app, user.role_names) or "accounts.my_home")


def today_local():
    return local_date(utcnow(), current_user.timezone if current_user.is_authenticated else None)


@bp.before_app_request
def _require_own_password():
    """Someone signed in with a one-time password chooses their own before anything else."""
    if login_checked_in_query(current_app):
        return None  # the view's statement refuses such a login, then checks it in full
    if (current_user.is_authenticated and current_user.must_change_password
            and request.endpoint not in _ALLOWED_BEFORE_PASSWORD_CHANGE
            and not (request.endpoint or "").endswith("static")):
        return redirect(url_for("accounts.change_password"))
    return None


_ALLOWED_BEFORE_PASSWORD_CHANGE = {"accounts.change_password", "accounts.logout",
                                   "accounts.set_language", "accounts.login", None}


@bp.route("/login", methods=["GET", "POST"])
@public
@without_write_lock
@limiter.limit(lambda: current_app.config["LOGIN_FAILURES_PER_ACCOUNT"], key_func=_account_key,
               methods=["POST"], deduct_when=_login_failed, scope="login-account")
@limiter.limit(lambda: current_app.config["LOGIN_FAILURES_PER_ADDRESS"], methods=["POST"],
               deduct_when=_login_failed, scope="login-address")
def login():
    if current_user.is_authenticated and request.method == "GET":
        return redirect(home_url_for(current_user))
    form = LoginForm()
    if form.validate_on_submit():
        staff = services.authenticate(form.employee_no.data, form.password.data, now=utcnow())
        if staff is not None:
            locale = staff.locale
            # Decided before the commit, which expires the person (reloading it cost a query).
            target = url_for("accounts.change_password") if staff.must_change_password else \
                _safe_next(request.args.get("next")) or home_url_for(staff)
            # A fresh session: nothing from before the login survives into it.
            session.clear()
            login_user(staff, remember=form.remember.data)
            session["locale"] = locale
            db.session.commit()
            return redirect(target)
        db.session.rollback()
        flash(_("Wrong employee number or password."), "danger")
        return render_template("accounts/login.html", form=form), 401
    return render_template("accounts/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@signed_in
def logout():
    logout_user()
    session.clear()
    flash(_("You are signed out."), "info")
    return redirect(url_for("accounts.login"))


@bp.route("/language", methods=["POST"])
@public
def set_language():
    locale = request.form.get("locale", "")
    if locale not in current_app.config["LANGUAGES"]:
        abort(400)
    session["locale"] = locale
    if current_user.is_authenticated:
        current_user.locale = locale
        db.session.commit()
    return redirect(_safe_next(request.form.get("next")) or url_for("accounts.index"))


@bp.route("/")
@signed_in
def index():
    return redirect(home_url_for(current_user))


@bp.route("/me")
@signed_in
def my_home():
    return render_template("accounts/me.html", staff=current_user)


@bp.route("/password", methods=["GET", "POST"])
@signed_in
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        if form.new.data != form.confirm.data:
            flash(_("The two new passwords differ."), "danger")
        else:
            try:
                services.change_password(current_user, form.current.data, form.new.data,
                                         now=utcnow())
            except DomainError as exc:
                db.session.rollback()
                flash(exc.translated(), "danger")
            else:
                # The session token rotated: sign in again with it so this browser stays in.
                login_user(current_user._get_current_object())
                db.session.commit()
                flash(_("Your password is changed."), "success")
                return redirect(home_url_for(current_user))
    return render_template("accounts/change_password.html", form=form)


@bp.route("/staff")
@roles_required("hr", "admin")
def staff_list():
    q = request.args.get("q", "").strip()
    department = request.args.get("department", "").strip()
    status = request.args.get("status", "")
    page = max(request.args.get("page", 1, type=int), 1)
    query = select(StaffMember)
    if q:
        like = f"%{q}%"
        query = query.where(or_(StaffMember.employee_no.ilike(like), StaffMember.name.ilike(like)))
    if department:
        query = query.where(StaffMember.department == department)
    if status in ("active", "on_leave", "left"):
        query = query.where(StaffMember.status == status)
    pagination = db.paginate(query.order_by(StaffMember.employee_no), page=page,
                             per_page=PAGE_SIZE, error_out=False)
    departments = db.session.scalars(
        select(StaffMember.department).where(StaffMember.department != "").distinct()
        .order_by(StaffMember.department)).all()
    return render_template("accounts/staff_list.html", pagination=pagination, q=q,
                           department=department, status=status, departments=departments)


@bp.route("/staff/new", methods=["GET", "POST"])
@roles_required("hr", "admin")
def staff_new():
    form = StaffForm()
    if form.validate_on_submit():
        try:
            staff, otp = services.create_staff(
                current_user, employee_no=form.employee_no.data, name=form.name.data,
                department=form.department.data or "", position=form.position.data or "",
                hire_date=form.hire_date.data, roles=form.roles.data or ["learner"],
                locale=form.locale.data, timezone=form.timezone.data, now=utcnow())
        except DomainError as exc:
            db.session.rollback()
            flash(exc.translated(), "danger")
        else:
            db.session.commit()
            # Rendered, not redirected: the one-time password is shown once and stored nowhere.
            return render_template("accounts/one_time_password.html", staff=staff, otp=otp,
                                   created=True)
    return render_template("accounts/staff_form.html", form=form, staff=None)


def _get_staff(staff_id: int) -> StaffMember:
    return db.get_or_404(StaffMember, staff_id)


@bp.route("/staff/<int:staff_id>")
@roles_required("hr", "admin")
def staff_detail(staff_id: int):
    staff = _get_staff(staff_id)
    event_form = StaffEventForm()
    voided = {e.voids_event_id for e in staff.events if e.kind == "void"}
    return render_template("accounts/staff_detail.html", staff=staff, event_form=event_form,
                           void_form=VoidEventForm(), confirm=ConfirmForm(), voided=voided)


@bp.route("/staff/<int:staff_id>/edit", methods=["GET", "POST"])
@roles_required("hr", "admin")
def staff_edit(staff_id: int):
    staff = _get_staff(staff_id)
    form = StaffForm(obj=staff)
    if request.method == "GET":
        form.roles.data = sorted(staff.role_names)
    form.employee_no.data = staff.employee_no
    if form.validate_on_submit():
        try:
            services.update_staff(
                current_user, staff, name=form.name.data, department=form.department.data or "",
                position=form.position.data or "", hire_date=form.hire_date.data,
                roles=form.roles.data, locale=form.locale.data, timezone=form.timezone.data,
                now=utcnow())
        except DomainError as exc:
            db.session.rollback()
            flash(exc.translated(), "danger")
        else:
            db.session.commit()
            flash(_("Saved."), "success")
            return redirect(url_for("accounts.staff_detail", staff_id=staff.id))
    return render_template("accounts/staff_form.html", form=form, staff=staff)


@bp.route("/staff/<int:staff_id>/reset-password", methods=["POST"])
@roles_required("hr", "admin")
def staff_reset_password(staff_id: int):
    staff = _get_staff(staff_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    otp = services.reset_password(current_user, staff, now=utcnow())
    db.session.commit()
    return render_template("accounts/one_time_password.html", staff=staff, otp=otp, created=False)


@bp.route("/staff/<int:staff_id>/active", methods=["POST"])
@roles_required("hr", "admin")
def staff_set_active(staff_id: int):
    staff = _get_staff(staff_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    enable = request.form.get("enable") == "1"
    services.set_login_enabled(current_user, staff, enable, now=utcnow())
    db.session.commit()
    flash(_("The account is active again.") if enable else _("The account is deactivated."),
          "success")
    return redirect(url_for("accounts.staff_detail", staff_id=staff.id))


@bp.route("/staff/<int:staff_id>/events", methods=["POST"])
@roles_required("hr", "admin")
def staff_record_event(staff_id: int):
    staff = _get_staff(staff_id)
    form = StaffEventForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for error in errors:
                flash(str(error), "danger")
        return redirect(url_for("accounts.staff_detail", staff_id=staff.id))
    try:
        services.record_staff_event(
            current_user, staff, kind=form.kind.data, occurred_on=form.occurred_on.data,
            note=form.note.data or "", position=form.position.data or "", now=utcnow(),
            today=today_local())
    except DomainError as exc:
        db.session.rollback()
        flash(exc.translated(), "danger")
    else:
        db.session.commit()
        flash(_("The event is recorded."), "success")
    return redirect(url_for("accounts.staff_detail", staff_id=staff.id))


@bp.route("/staff/<int:staff_id>/events/<int:event_id>/void", methods=["POST"])
@roles_required("hr", "admin")
def staff_void_event(staff_id: int, event_id: int):
    event = db.get_or_404(StaffEvent, event_id)
    if event.staff_id != staff_id:
        abort(404)
    form = VoidEventForm()
    if not form.validate_on_submit():
        flash(_("Say why the event is voided."), "danger")
        return redirect(url_for("accounts.staff_detail", staff_id=staff_id))
    try:
        services.void_staff_event(current_user, event, note=form.note.data, now=utcnow())
    except DomainError as exc:
        db.session.rollback()
        flash(exc.translated(), "danger")
    else:
        db.session.commit()
        flash(_("The event is voided."), "success")
    return redirect(url_for("accounts.staff_detail", staff_id=staff_id))


@bp.route("/staff/import", methods=["GET", "POST"])
@roles_required("hr", "admin")
def staff_import():
    form = StaffImportForm()
    if form.validate_on_submit():
        upload = form.file.data
        outcome = services.import_staff(current_user, upload.read(), upload.filename or "",
                                        now=utcnow(), today=today_local())
        if outcome.errors:
            db.session.rollback()
            return render_template("accounts/staff_import.html", form=form,
                                   errors=outcome.errors, translate=_), 422
        db.session.commit()
        return render_template("accounts/staff_import_done.html", created=outcome.created)
    return render_template("accounts/staff_import.html", form=form, errors=None)


@bp.route("/staff/import/template.csv")
@roles_required("hr", "admin")
def staff_import_template():
    return Response(template_csv(), mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=staff-template.csv"})


ROLE_LABELS = {"learner": _l("Learner"), "trainer": _l("Trainer"), "hr": _l("HR"),
               "admin": _l("Administrator")}
EVENT_LABELS = {"hire": _l("Hired"), "leave_start": _l("Leave starts"),
                "leave_return": _l("Back from leave"), "nomination": _l("Nominated"),
                "position_change": _l("Position changed"), "leaving": _l("Left"),
                "void": _l("Correction (voids an event)")}


@bp.app_context_processor
def _labels():
    return {"role_label": lambda r: ROLE_LABELS.get(r, r),
            "event_label": lambda k: EVENT_LABELS.get(k, k)}


def register_nav(app) -> None:
    from trainer.core.nav import add_nav_item, set_home

    add_nav_item(app, "accounts.staff_list", _l("Staff"), ("hr", "admin"), 60)
    for role, endpoint in (("admin", "accounts.staff_list"), ("hr", "accounts.staff_list"),
                           ("learner", "accounts.my_home")):
        set_home(app, role, endpoint)
