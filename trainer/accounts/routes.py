"""Login, passwords, the staff list and the staff record."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    g,
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
from sqlalchemy.orm import joinedload

from trainer.accounts import services
from trainer.accounts.forms import (
    ROLE_CHOICES,
    STAND_DOWN_CHOICES,
    ChangePasswordForm,
    ConfirmedForm,
    ConfirmForm,
    ListEntryForm,
    LoginForm,
    StaffEventForm,
    StaffForm,
    StaffImportForm,
    VoidEventForm,
)
from trainer.accounts.models import Department, Position, StaffEvent, StaffMember
from trainer.accounts.staff_import import template_csv
from trainer.accounts.rules import describe_browser
from trainer.accounts.throttle import throttle_of
from trainer.core.actions import act
from trainer.core.db import db, without_write_lock, write_intent
from trainer.core.errors import DomainError
from trainer.core.nav import home_endpoint, staff_columns, staff_filters
from trainer.core.params import db_int
from trainer.core.permissions import (
    public,
    roles_required,
    signed_in,
)
from trainer.core.timeutil import local_date, utcnow

bp = Blueprint("accounts", __name__)

PAGE_SIZE = 50


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
def login():
    if current_user.is_authenticated and request.method == "GET":
        return redirect(home_url_for(current_user))
    form = LoginForm()
    if not form.validate_on_submit():
        return render_template("accounts/login.html", form=form)
    now = utcnow()
    throttle, address = throttle_of(current_app), request.remote_addr or ""
    employee_no, password = form.employee_no.data, form.password.data
    refusal = throttle.refused(address, employee_no, password, now.timestamp())
    if refusal is not None:
        return _too_many_failures(form, refusal)
    # The password check reads only; its transaction stays deferred (SQLite) while Argon2id works.
    staff = services.authenticate(employee_no, password, now=now)
    if staff is None:
        db.session.rollback()
        refusal = throttle.failed(address, employee_no, password, now.timestamp())
        if refusal is not None:
            if refusal.audit is not None:
                with write_intent():
                    services.record_sign_in_alarm(*refusal.audit, now=now)
                    db.session.commit()
            return _too_many_failures(form, refusal)
        flash(_("Wrong employee number or password."), "danger")
        return render_template("accounts/login.html", form=form), 401
    throttle.succeeded(address, employee_no)
    # Decided before the read transaction ends (it expires the person).
    target = url_for("accounts.change_password") if staff.must_change_password else \
        _safe_next(request.args.get("next")) or home_url_for(staff)
    remember = bool(form.remember.data)
    rehash = services.needs_new_hash(staff)
    db.session.expunge(staff)
    db.session.rollback()
    with write_intent():
        if rehash:
            services.store_new_hash(staff.id, password)
        # A fresh session: nothing from before the login survives into it.
        session.clear()
        _sign_in_this_browser(staff, remember, now)
    session["locale"] = staff.locale
    return redirect(target)


def _sign_in_this_browser(person: StaffMember, remember: bool, now) -> None:
    """Record a login for this browser, commit it, and give the browser its cookies."""
    config = current_app.config
    lifetime = config["REMEMBER_COOKIE_DURATION"] if remember else \
        config["PERMANENT_SESSION_LIFETIME"]
    services.start_login(person, remember=remember, lifetime=lifetime,
                         address=request.remote_addr or "",
                         user_agent=request.user_agent.string, now=now)
    db.session.commit()
    login_user(person, remember=remember)


def _too_many_failures(form: LoginForm, refusal) -> Response:
    flash(_("Too many failed sign-ins. Try again in %(seconds)d seconds, or ask HR to reset "
            "your password.", seconds=refusal.retry_after_s), "danger")
    response = current_app.make_response(
        (render_template("accounts/login.html", form=form), 429))
    response.headers["Retry-After"] = str(refusal.retry_after_s)
    return response


@bp.route("/logout", methods=["POST"])
@signed_in
def logout():
    services.end_login(current_user, services.own_login(current_user, current_user.login_id),
                       reason="signed_out", now=utcnow())
    db.session.commit()
    # Cleared before Flask-Login's logout, which marks the remember cookie for deletion in the
    # session (clearing after it wiped that mark and left the cookie signing the person in).
    session.clear()
    logout_user()
    flash(_("You are signed out."), "info")
    return redirect(url_for("accounts.login"))


def _remembered() -> bool:
    return current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token") in request.cookies


@bp.after_app_request
def _touch_login(response: Response) -> Response:
    """Move the login's "last seen" at most every ten minutes, in a short write transaction of
    its own after the view's work (routes commit before rendering; what is left would be rolled
    back at the end of the request anyway). The autosave never loads the person, so never
    touches it."""
    person = g.get("_login_user")
    now = utcnow()
    if person is None or not getattr(person, "is_authenticated", False) or \
            response.is_streamed or not services.needs_touch(person, now):
        return response
    db.session.rollback()
    with write_intent():
        services.touch_login(person.login_id, now=now)
        db.session.commit()
    person.login_last_seen = now
    return response


@bp.route("/me/logins")
@signed_in
def my_logins():
    open_logins, ended = services.logins_of(current_user.id, now=utcnow())
    return render_template("accounts/logins.html", open_logins=open_logins, ended=ended,
                           current_id=current_user.login_id, confirm=ConfirmForm())


@bp.route("/me/logins/<int:login_id>/end", methods=["POST"])
@signed_in
def end_my_login(login_id: int):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    login = services.own_login(current_user, login_id)
    services.end_login(current_user, login, now=utcnow())
    db.session.commit()
    if login_id == current_user.login_id:
        session.clear()
        logout_user()
        return redirect(url_for("accounts.login"))
    flash(_("That device is signed out."), "success")
    return redirect(url_for("accounts.my_logins"))


@bp.route("/me/logins/end-others", methods=["POST"])
@signed_in
def end_my_other_logins():
    if not ConfirmForm().validate_on_submit():
        abort(400)
    services.end_logins(current_user, current_user, reason="ended", now=utcnow(),
                        keep_id=current_user.login_id)
    db.session.commit()
    flash(_("Every other device is signed out."), "success")
    return redirect(url_for("accounts.my_logins"))


@bp.route("/staff/<int:staff_id>/logins/end", methods=["POST"])
@roles_required("hr", "admin")
def staff_end_logins(staff_id: int):
    staff = _get_staff(staff_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    count = services.end_logins(current_user, staff, reason="ended", now=utcnow())
    db.session.commit()
    flash(_("%(name)s is signed out on %(count)d devices.", name=staff.name, count=count),
          "success")
    return redirect(url_for("accounts.staff_detail", staff_id=staff.id))


@bp.route("/staff/<int:staff_id>/logins/<int:login_id>/end", methods=["POST"])
@roles_required("hr", "admin")
def staff_end_login(staff_id: int, login_id: int):
    login = services.own_login(_get_staff(staff_id), login_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    services.end_login(current_user, login, now=utcnow())
    db.session.commit()
    flash(_("That device is signed out."), "success")
    return redirect(url_for("accounts.staff_detail", staff_id=staff_id))


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
                # Every login of the person ended: this browser signs in again, afresh.
                _sign_in_this_browser(current_user._get_current_object(),
                                      _remembered(), utcnow())
                flash(_("Your password is changed."), "success")
                return redirect(home_url_for(current_user))
    return render_template("accounts/change_password.html", form=form)


@bp.route("/staff")
@roles_required("hr", "admin")
def staff_list():
    q = request.args.get("q", "").strip()
    department = request.args.get("department", 0, type=db_int)
    position = request.args.get("position", 0, type=db_int)
    status = request.args.get("status", "")
    page = max(request.args.get("page", 1, type=db_int), 1)
    query = select(StaffMember).options(joinedload(StaffMember.department),
                                        joinedload(StaffMember.position))
    if q:
        like = f"%{q}%"
        query = query.where(or_(StaffMember.employee_no.ilike(like), StaffMember.name.ilike(like)))
    if department:
        query = query.where(StaffMember.department_id == department)
    if position:
        query = query.where(StaffMember.position_id == position)
    if status in ("active", "on_leave", "left"):
        query = query.where(StaffMember.status == status)
    # Filters and columns other areas add (the training ones: records), through core.nav.
    filters = staff_filters(current_app)
    training = request.args.get("training", "")
    chosen = next((f for f in filters if f.value == training), None)
    if chosen is not None:
        query = chosen.narrow(query)
    elif training:
        flash(_("“%(value)s” is not a valid choice; it was left out.", value=training[:40]),
              "warning")
        training = ""
    pagination = db.paginate(query.order_by(StaffMember.employee_no), page=page,
                             per_page=PAGE_SIZE, error_out=False)
    columns = staff_columns(current_app)
    ids = [s.id for s in pagination.items]
    extra = [(c.headers, c.cells(ids) if ids else {}) for c in columns]
    return render_template("accounts/staff_list.html", pagination=pagination, q=q,
                           department=department, position=position, status=status,
                           departments=services.list_entries(Department),
                           positions=services.list_entries(Position),
                           training=training, training_filters=filters, extra_columns=extra)


def _offer_entries(form, staff: StaffMember | None) -> None:
    """The department and position selects: the active entries, and the ones the record holds."""
    form.department.choices = _entry_options(Department, staff.department if staff else None)
    form.position.choices = _entry_options(Position, staff.position if staff else None)


def _entry_options(model, keep=None) -> list[tuple[int, str]]:
    return [(0, _("— none —"))] + [(e.id, entry_label(e))
                                   for e in services.entry_choices(model, keep=keep)]


def entry_label(entry) -> str:
    return entry.name if entry.active else _("%(name)s (no longer in use)", name=entry.name)


@bp.route("/staff/new", methods=["GET", "POST"])
@roles_required("hr", "admin")
def staff_new():
    form = StaffForm()
    _offer_entries(form, None)
    if form.validate_on_submit():
        try:
            staff, otp = services.create_staff(
                current_user, employee_no=form.employee_no.data, name=form.name.data,
                department=form.department.data, position=form.position.data,
                hire_date=form.hire_date.data, roles=form.roles.data or ["learner"],
                locale=form.locale.data, timezone=form.timezone.data, now=utcnow())
        except DomainError as exc:
            db.session.rollback()
            flash(exc.translated(), "danger")
        else:
            db.session.commit()
            # Rendered, not redirected: the one-time password is shown once and stored nowhere.
            return render_template("accounts/one_time_password.html", staff=staff, otp=otp,
                                   created=True,
                                   notices=[n.translated() for n in staff.notices])
    return render_template("accounts/staff_form.html", form=form, staff=None)


def _get_staff(staff_id: int) -> StaffMember:
    return db.get_or_404(StaffMember, staff_id)


@bp.route("/staff/<int:staff_id>")
@roles_required("hr", "admin")
def staff_detail(staff_id: int):
    staff = _get_staff(staff_id)
    event_form = StaffEventForm()
    event_form.position.choices = _entry_options(Position)
    voided = {e.voids_event_id for e in staff.events if e.kind == "void"}
    logins = services.logins_of(staff.id, now=utcnow())[0]
    return render_template("accounts/staff_detail.html", staff=staff, event_form=event_form,
                           void_form=VoidEventForm(), confirm=ConfirmForm(), voided=voided,
                           logins=logins, may_change=services.may_manage(current_user, staff))


@bp.route("/staff/<int:staff_id>/edit", methods=["GET", "POST"])
@roles_required("hr", "admin")
def staff_edit(staff_id: int):
    staff = _get_staff(staff_id)
    services.check_may_manage(current_user, staff)  # (not a form that could not be saved)
    form = StaffForm(obj=staff)
    _offer_entries(form, staff)
    if request.method == "GET":
        form.roles.data = sorted(staff.role_names)
        form.department.data, form.position.data = staff.department_id or 0, \
            staff.position_id or 0
    form.employee_no.data = staff.employee_no
    if form.validate_on_submit():
        try:
            services.update_staff(
                current_user, staff, name=form.name.data, department=form.department.data,
                position=form.position.data, hire_date=form.hire_date.data,
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


def _ask_first(staff: StaffMember, action: str):
    """The page that says what resetting the password or deactivating the account will do, and
    asks; shown only for an account the viewer may change."""
    services.check_may_manage(current_user, staff)
    return render_template("accounts/confirm_staff_action.html", staff=staff, action=action,
                           form=ConfirmedForm())


@bp.route("/staff/<int:staff_id>/reset-password", methods=["GET", "POST"])
@roles_required("hr", "admin")
def staff_reset_password(staff_id: int):
    staff = _get_staff(staff_id)
    if not ConfirmedForm().validate_on_submit():
        return _ask_first(staff, "reset")
    otp = services.reset_password(current_user, staff, now=utcnow())
    db.session.commit()
    return render_template("accounts/one_time_password.html", staff=staff, otp=otp, created=False)


@bp.route("/staff/<int:staff_id>/active", methods=["GET", "POST"])
@roles_required("hr", "admin")
def staff_set_active(staff_id: int):
    staff = _get_staff(staff_id)
    enable = request.method == "POST" and request.form.get("enable") == "1"
    if request.method == "GET" and not staff.login_enabled:
        return redirect(url_for("accounts.staff_detail", staff_id=staff.id))
    # Reactivating takes nothing from anyone and needs no question; deactivating does.
    if not enable and not ConfirmedForm().validate_on_submit():
        return _ask_first(staff, "deactivate")
    if enable and not ConfirmForm().validate_on_submit():
        abort(400)
    return act(lambda: services.set_login_enabled(current_user, staff, enable, now=utcnow()),
               back=url_for("accounts.staff_detail", staff_id=staff.id),
               done=_("The account is active again.") if enable
               else _("The account is deactivated."))


@bp.route("/staff/<int:staff_id>/events", methods=["POST"])
@roles_required("hr", "admin")
def staff_record_event(staff_id: int):
    staff = _get_staff(staff_id)
    form = StaffEventForm()
    form.position.choices = _entry_options(Position)
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for error in errors:
                flash(str(error), "danger")
        return redirect(url_for("accounts.staff_detail", staff_id=staff.id))
    return act(lambda: services.record_staff_event(
        current_user, staff, kind=form.kind.data, occurred_on=form.occurred_on.data,
        note=form.note.data or "", position=form.position.data, reason=form.reason.data or "",
        now=utcnow(), today=today_local()),
        back=url_for("accounts.staff_detail", staff_id=staff.id),
        done=lambda event: [_("The event is recorded."),
                            *(notice.translated() for notice in event.notices)])


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
    return act(lambda: services.void_staff_event(current_user, event, note=form.note.data,
                                                 now=utcnow()),
               back=url_for("accounts.staff_detail", staff_id=staff_id),
               done=_("The event is voided."))


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
    names = [[e.name for e in services.list_entries(model, active_only=True)]
             for model in (Department, Position)]
    return Response(template_csv(*names), mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=staff-template.csv"})


# The lists HR keeps. One set of views serves both; each URL names its list.

LISTS = {"departments": Department, "positions": Position}
LIST_TEXT = {
    "departments": {"title": _l("Departments"), "name": _l("Department name"),
                    "add": _l("Add a department"),
                    "edit": _l("Edit the department %(name)s"),
                    "help": _l("The departments staff members belong to. A department someone "
                               "belongs to cannot be deleted: deactivate it, and it is no longer "
                               "offered for new staff but stays on their records.")},
    "positions": {"title": _l("Positions"), "name": _l("Position name"),
                  "add": _l("Add a position"),
                  "edit": _l("Edit the position %(name)s"),
                  "help": _l("The posts staff members hold, and that nominations and position "
                             "changes name. A position in use cannot be deleted: deactivate it, "
                             "and it is no longer offered but stays on the records that hold "
                             "it.")},
}


def _list_entry(kind: str, entry_id: int):
    return db.get_or_404(LISTS[kind], entry_id)


def _entry_form(kind: str, entry=None) -> ListEntryForm:
    form = ListEntryForm(obj=entry)
    form.name.label.text = LIST_TEXT[kind]["name"]
    return form


@bp.route("/staff/departments", defaults={"kind": "departments"}, methods=["GET", "POST"])
@bp.route("/staff/positions", defaults={"kind": "positions"}, methods=["GET", "POST"])
@roles_required("hr", "admin")
def list_entries(kind: str):
    model = LISTS[kind]
    form = _entry_form(kind)
    if form.validate_on_submit():
        try:
            entry = services.create_list_entry(
                current_user, model, name=form.name.data, code=form.code.data or "",
                sort_order=form.sort_order.data, now=utcnow())
        except DomainError as exc:
            db.session.rollback()
            flash(exc.translated(), "danger")
        else:
            db.session.commit()
            flash(_("%(name)s is added.", name=entry.name), "success")
            return redirect(url_for("accounts.list_entries", kind=kind))
    elif request.method == "POST":
        _flash_form_errors(form)
    return render_template("accounts/list_entries.html", kind=kind, text=LIST_TEXT[kind],
                           entries=services.list_entries(model), form=form,
                           people=services.people_per_entry(model),
                           in_use=services.entries_in_use(model), confirm=ConfirmForm())


@bp.route("/staff/departments/<int:entry_id>/edit", defaults={"kind": "departments"},
          methods=["GET", "POST"])
@bp.route("/staff/positions/<int:entry_id>/edit", defaults={"kind": "positions"},
          methods=["GET", "POST"])
@roles_required("hr", "admin")
def list_entry_edit(kind: str, entry_id: int):
    entry = _list_entry(kind, entry_id)
    form = _entry_form(kind, entry)
    if form.validate_on_submit():
        try:
            services.update_list_entry(
                current_user, entry, name=form.name.data, code=form.code.data or "",
                sort_order=form.sort_order.data if form.sort_order.data is not None
                else entry.sort_order, now=utcnow())
        except DomainError as exc:
            db.session.rollback()
            flash(exc.translated(), "danger")
        else:
            db.session.commit()
            flash(_("Saved."), "success")
            return redirect(url_for("accounts.list_entries", kind=kind))
    return render_template("accounts/list_entry_form.html", kind=kind, text=LIST_TEXT[kind],
                           entry=entry, form=form)


@bp.route("/staff/departments/<int:entry_id>/active", defaults={"kind": "departments"},
          methods=["POST"])
@bp.route("/staff/positions/<int:entry_id>/active", defaults={"kind": "positions"},
          methods=["POST"])
@roles_required("hr", "admin")
def list_entry_active(kind: str, entry_id: int):
    entry = _list_entry(kind, entry_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    enable = request.form.get("enable") == "1"
    return act(lambda: services.set_list_entry_active(current_user, entry, enable, now=utcnow()),
               back=url_for("accounts.list_entries", kind=kind),
               done=_("%(name)s is in use again.", name=entry.name) if enable else
               _("%(name)s is deactivated: no longer offered, and kept on the records that hold "
                 "it.", name=entry.name))


@bp.route("/staff/departments/<int:entry_id>/delete", defaults={"kind": "departments"},
          methods=["POST"])
@bp.route("/staff/positions/<int:entry_id>/delete", defaults={"kind": "positions"},
          methods=["POST"])
@roles_required("hr", "admin")
def list_entry_delete(kind: str, entry_id: int):
    entry = _list_entry(kind, entry_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    return act(lambda: services.delete_list_entry(current_user, entry, now=utcnow()),
               back=url_for("accounts.list_entries", kind=kind),
               done=_("%(name)s is deleted.", name=entry.name))


def _flash_form_errors(form) -> None:
    for field, errors in form.errors.items():
        label = getattr(form, field).label.text if hasattr(form, field) else field
        for error in errors:
            flash(f"{label}: {error}", "danger")


ROLE_LABELS = dict(ROLE_CHOICES)
LOGIN_END_LABELS = {"signed_out": _l("Signed out"), "ended": _l("Signed out remotely"),
                    "password_changed": _l("Password changed"),
                    "password_reset": _l("Password reset"),
                    "deactivated": _l("Account deactivated")}
EVENT_LABELS = {"hire": _l("Hired"), "leave_start": _l("Leave starts"),
                "leave_return": _l("Back from leave"), "nomination": _l("Nominated"),
                "position_change": _l("Position changed"), "leaving": _l("Left"),
                "stood_down": _l("Stood down"), "reinstated": _l("Reinstated"),
                "void": _l("Correction (voids an event)")}

STAND_DOWN_LABELS = {key: label for key, label in STAND_DOWN_CHOICES if key}


@bp.app_context_processor
def _labels():
    return {"role_label": lambda r: ROLE_LABELS.get(r, r),
            "browser_label": describe_browser,
            "login_end_label": lambda login: LOGIN_END_LABELS.get(login.end_reason or "",
                                                                  _l("Expired")),
            "event_label": lambda k: EVENT_LABELS.get(k, k),
            "stand_down_reason_label": lambda r: STAND_DOWN_LABELS.get(r, r),
            "entry_label": entry_label}


def register_nav(app) -> None:
    from trainer.core.nav import add_nav_item, set_home

    add_nav_item(app, "accounts.staff_list", _l("Staff"), ("hr", "admin"), 60)
    for role, endpoint in (("admin", "accounts.staff_list"), ("hr", "accounts.staff_list"),
                           ("learner", "accounts.my_home")):
        set_home(app, role, endpoint)
