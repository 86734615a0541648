"""Classroom training: learners' classes and check-in (phone-sized), trainers' and HR's class
pages with the roster grid, and the classroom kiosk that shows the rotating code."""
from __future__ import annotations

from datetime import datetime

import segno
from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask import session as browser_session
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from itsdangerous import BadData, URLSafeTimedSerializer
from markupsafe import Markup
from sqlalchemy import select

from trainer.accounts.models import StaffMember
from trainer.attendance import calendars, paper, services
from trainer.attendance.forms import (
    ActionForm,
    ClassForm,
    CodeForm,
    DecisionForm,
    InviteForm,
    MarkForm,
    ReasonForm,
    SessionForm,
    SheetConfirmForm,
    SheetUploadForm,
    SurveyForm,
)
from trainer.attendance.sheet_import import SheetLine
from trainer.attendance.models import (
    ClassSession,
    LeaveRequest,
    RosterEntry,
    SurveyReceipt,
    TrainingClass,
)
from trainer.core.actions import act
from trainer.core.db import db, without_write_lock, write_intent
from trainer.core.errors import DomainError
from trainer.core.permissions import public, roles_required, signed_in
from trainer.core.settings import centre_timezone
from trainer.core.timeutil import local_date, utcnow
from trainer.extensions import limiter
from trainer.learning.models import Course

bp = Blueprint("attendance", __name__)
RUNNERS = ("trainer", "hr", "admin")
DEVICE_COOKIE = "trainer_device"
SCAN_TOKEN_AGE_S = 300      # a scan travels through sign-in for at most five minutes
SHEET_TOKEN_AGE_S = 3600    # a checked sheet waits an hour for its confirmation


def _class(class_id: int) -> TrainingClass:
    return services.get_class(class_id)


def _managed(class_id: int) -> TrainingClass:
    cls = _class(class_id)
    services.check_may_manage(current_user, cls)
    return cls


def _managed_session(session_id: int) -> ClassSession:
    session = services.get_session(session_id)
    services.check_may_manage(current_user, session.training_class)
    return session


def _scan() -> services.Scan:
    return services.Scan(request.remote_addr or "", request.user_agent.string,
                         request.cookies.get(DEVICE_COOKIE))


# Pages that lead to a check-in give the browser its device cookie first, so the check-in
# itself carries it.
_DEVICE_PAGES = {"attendance.my_classes", "attendance.scan", "attendance.confirm_scan",
                 "attendance.check_in_code"}


@bp.after_request
def _device_cookie(response: Response) -> Response:
    """A random 128-bit device cookie (HttpOnly, a year; stored hashed; used only to flag one
    device checking in two people)."""
    if request.endpoint in _DEVICE_PAGES and not request.cookies.get(DEVICE_COOKIE):
        import secrets

        response.set_cookie(DEVICE_COOKIE, secrets.token_hex(16), max_age=365 * 86400,
                            httponly=True, samesite="Lax",
                            secure=bool(current_app.config["SESSION_COOKIE_SECURE"])
                            or request.is_secure)
    return response


# -- learners -------------------------------------------------------------------------------------

@bp.route("/classes")
@signed_in
def my_classes():
    now = utcnow()
    entries = db.session.execute(select(RosterEntry, TrainingClass).join(
        TrainingClass, TrainingClass.id == RosterEntry.class_id).where(
        RosterEntry.staff_id == current_user.id, RosterEntry.state != "cancelled")).all()
    mine = []
    for entry, cls in entries:
        cells = services.grid(cls, now=now, staff_ids=[current_user.id])
        mine.append((entry, cls, [(s, cells.get((s.id, current_user.id)))
                                  for s in services.live_sessions(cls)]))
    mine.sort(key=lambda item: min((s.starts_at for s, _ in item[2]), default=now))
    booked_ids = {cls.id for _, cls, _ in mine}
    open_classes = [c for c in db.session.scalars(select(TrainingClass).where(
        TrainingClass.signup_mode == "open", TrainingClass.closed_at.is_(None)))
        if c.id not in booked_ids and services.live_sessions(c)
        and services.live_sessions(c)[0].starts_at > now]
    answered = set(db.session.scalars(select(SurveyReceipt.class_id).where(
        SurveyReceipt.staff_id == current_user.id)))
    leaves = {(r.session_id): r for r in db.session.scalars(select(LeaveRequest).where(
        LeaveRequest.staff_id == current_user.id))}
    feed = services.feed_of(current_user)
    # A feed address just made is shown this once (only its hash is kept), if it is still the
    # current one (not replaced meanwhile from another tab).
    token = browser_session.pop(FEED_TOKEN_KEY, None)
    owner = services.feed_owner(token) if token else None
    feed_url = url_for("attendance.feed", token=token, _external=True) \
        if owner is not None and owner.id == current_user.id else None
    return render_template("attendance/my_classes.html", mine=mine, open_classes=open_classes,
                           now=now, code_form=CodeForm(), leave_form=ReasonForm(),
                           action=ActionForm(), answered=answered, leaves=leaves,
                           survey_window=services.survey_window, feed=feed, feed_url=feed_url,
                           webcal_url=feed_url and "webcal://" + feed_url.split("://", 1)[1])


@bp.route("/classes/<int:class_id>/signup", methods=["POST"])
@signed_in
def sign_up(class_id: int):
    if not ActionForm().validate_on_submit():
        abort(400)
    cls = _class(class_id)
    return act(lambda: services.sign_up(current_user, cls, now=utcnow()),
               back=url_for("attendance.my_classes"),
               done=lambda state: _("You are booked.") if state == "booked"
               else _("The class is full: you are on the wait-list."))


@bp.route("/classes/<int:class_id>/cancel", methods=["POST"])
@signed_in
def cancel_mine(class_id: int):
    if not ActionForm().validate_on_submit():
        abort(400)
    cls = _class(class_id)
    return act(lambda: services.cancel_booking(current_user, cls, current_user, now=utcnow()),
               back=url_for("attendance.my_classes"), done=_("Your place is cancelled."))


@bp.route("/sessions/<int:session_id>/leave", methods=["POST"])
@signed_in
def ask_leave(session_id: int):
    form = ReasonForm()
    session = services.get_session(session_id)
    if not form.validate_on_submit():
        flash(_("Give a reason for the leave."), "danger")
        return redirect(url_for("attendance.my_classes"))
    return act(lambda: services.request_leave(current_user, session, form.reason.data,
                                              now=utcnow()),
               back=url_for("attendance.my_classes"),
               done=_("Your leave request is sent to the trainer."))


@bp.route("/checkin", methods=["POST"])
@signed_in
def check_in_code():
    form = CodeForm()
    if not form.validate_on_submit():
        flash(_("Type the 6 digits shown in the classroom."), "danger")
        return redirect(url_for("attendance.my_classes"))
    try:
        session, kind = services.check_in_with_code(current_user, form.code.data,
                                                    now=utcnow(), scan=_scan())
    except DomainError as exc:
        db.session.rollback()
        flash(exc.translated(), "danger")
        return redirect(url_for("attendance.my_classes"))
    db.session.commit()
    return redirect(url_for("attendance.checked_in", session_id=session.id, kind=kind))


def _scan_tokens() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt="attendance-scan")


@bp.route("/s/<int:session_id>/<int:step>/<code>")
@public
def scan(session_id: int, step: int, code: str):
    """Where the kiosk's QR code leads. Valid now, the scan (session, step, code, time) goes on
    in a signed token: straight to the confirmation when signed in, through sign-in otherwise
    (good for five minutes, recorded at the time of the scan)."""
    session = db.session.get(ClassSession, session_id)
    now = utcnow()
    if session is None or not services.scan_is_valid(session, step, code, now):
        return render_template("attendance/scan_refused.html"), 410
    token = _scan_tokens().dumps({"s": session_id, "t": step, "c": code,
                                  "at": now.timestamp()})
    target = url_for("attendance.confirm_scan", t=token)
    if not current_user.is_authenticated:
        return redirect(url_for("accounts.login", next=target))
    return redirect(target)


def _read_scan(token: str) -> tuple[ClassSession, int, str, datetime]:
    try:
        data = _scan_tokens().loads(token, max_age=SCAN_TOKEN_AGE_S)
    except BadData:
        raise DomainError("This scan is too old: scan the code on the screen again.") from None
    from datetime import timezone

    session = services.get_session(int(data["s"]))
    return session, int(data["t"]), str(data["c"]), datetime.fromtimestamp(data["at"],
                                                                          timezone.utc)


@bp.route("/checkin/confirm", methods=["GET", "POST"])
@signed_in
def confirm_scan():
    """The scan, confirmed by the signed-in person (checkin.js sends it at once)."""
    token = request.values.get("t", "")
    form = ActionForm()
    if request.method == "GET":
        try:
            session = _read_scan(token)[0]
        except DomainError as exc:
            flash(exc.translated(), "danger")
            return redirect(url_for("attendance.my_classes"))
        return render_template("attendance/confirm_scan.html", session=session, token=token,
                               form=form)
    if not form.validate_on_submit():
        abort(400)
    try:
        session, step, code, scanned_at = _read_scan(token)
        kind = services.check_in_with_scan(current_user, session, step=step, code=code,
                                           scanned_at=scanned_at, now=utcnow(), scan=_scan())
    except DomainError as exc:
        db.session.rollback()
        flash(exc.translated(), "danger")
        return redirect(url_for("attendance.my_classes"))
    db.session.commit()
    return redirect(url_for("attendance.checked_in", session_id=session.id, kind=kind))


@bp.route("/checkin/done/<int:session_id>")
@signed_in
def checked_in(session_id: int):
    session = services.get_session(session_id)
    cell = services.grid(session.training_class, now=utcnow(),
                         staff_ids=[current_user.id]).get((session.id, current_user.id))
    return render_template("attendance/checked_in.html", session=session, cell=cell,
                           kind=request.args.get("kind", ""))


# -- calendars ------------------------------------------------------------------------------------

FEED_TOKEN_KEY = "attendance.feed_token"     # the new feed's token, shown once on 我的课程
# Failed feed lookups per address (a made-up or replaced token). A feed's token has 256 random
# bits, so this is not what keeps it secret: it stops anyone hammering the lookups, while a
# call centre's one NAT address, from which every desktop calendar polls, stays far below it.
FEED_FAILURES = "60 per minute"


def _calendar_event(entry: services.CalendarEntry, page: str) -> calendars.SessionEvent:
    """One session as a calendar shows it, in the language of the request (or the feed's
    owner): the class's title and 第n课次, the place (or the online link), the trainers and
    the address of the page where the person acts on it."""
    session, cls = entry.session, entry.training_class
    summary = cls.title if entry.number is None else _(
        "%(title)s (session %(n)d)", title=cls.title, n=entry.number)
    place = session.place or cls.place
    lines = []
    if session.cancelled_at is not None:
        lines.append(_("This session is cancelled."))
    if entry.trainers:
        lines.append(_("Trainers: %(names)s", names="、".join(entry.trainers)))
    if cls.link and place:
        lines.append(_("Online link: %(url)s", url=cls.link))
    lines.append(_("Details: %(url)s", url=page))
    return calendars.SessionEvent(
        uid=session.uid, sequence=session.sequence, starts_at=session.starts_at,
        ends_at=session.ends_at, summary=summary, location=place or cls.link,
        description="\n".join(lines), url=page, cancelled=session.cancelled_at is not None,
        last_modified=session.updated_at)


def _calendar_page(entry: services.CalendarEntry, manages: bool) -> str:
    if manages:
        return url_for("attendance.class_page", class_id=entry.training_class.id,
                       _external=True)
    return url_for("attendance.my_classes", _external=True)


def _ics(body: bytes, filename: str | None = None) -> Response:
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Type"] = "text/calendar; charset=utf-8"
    if filename:
        response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    # (Cache-Control: no-store, as on every page: core.security.)
    return response


@bp.route("/sessions/<int:session_id>.ics")
@signed_in
def session_ics(session_id: int):
    """One session's event (加入日历), for those on its roster, its trainers and HR."""
    session = services.get_session(session_id)
    services.check_may_see_session(current_user, session)
    entry = services.calendar_entries(current_user, [session])[0]
    manages = services.may_manage(current_user, session.training_class)
    body = calendars.build_calendar([_calendar_event(entry, _calendar_page(entry, manages))],
                                    name=session.training_class.title, now=utcnow())
    return _ics(body, f"class-{session.class_id}-session-{session.id}.ics")


def _feed_refused(_limit) -> Response:
    return Response(_("Too many requests: try again in a minute."), 429,
                    {"Retry-After": "60"}, mimetype="text/plain")


@bp.route("/calendar/<token>.ics")
@public
@limiter.limit(FEED_FAILURES, deduct_when=lambda response: response.status_code == 404,
               on_breach=_feed_refused)
def feed(token: str):
    """A person's calendar feed: no sign-in, the token in the address is the secret. An
    unknown or replaced token, or a person who has left, is not found."""
    person = services.feed_owner(token)
    if person is None:
        abort(404)
    now = utcnow()
    entries = services.calendar_entries(person, services.feed_sessions(person, now=now))
    locale = person.locale if person.locale in current_app.config["LANGUAGES"] else None
    with force_locale(locale or current_app.config["BABEL_DEFAULT_LOCALE"]):
        events = [_calendar_event(e, _calendar_page(e, e.teaches)) for e in entries]
        name = _("Classes of %(name)s", name=person.name)
    return _ics(calendars.build_calendar(events, name=name, now=now, feed=True))


@bp.route("/classes/calendar", methods=["POST"])
@signed_in
def new_feed():
    """Make the person's feed address, or a new one (the old one stops working at once). Only
    its hash is kept, so the address is shown on the next page, this once."""
    if not ActionForm().validate_on_submit():
        abort(400)
    renewed = services.feed_of(current_user) is not None
    token = services.create_feed(current_user, now=utcnow())
    db.session.commit()
    browser_session[FEED_TOKEN_KEY] = token
    flash(_("A new calendar address is made: the old one no longer works.") if renewed
          else _("Your calendar address is made."), "success")
    return redirect(url_for("attendance.my_classes", _anchor="calendar"))


@bp.route("/surveys/<int:class_id>", methods=["GET", "POST"])
@signed_in
def survey(class_id: int):
    cls = _class(class_id)
    form = SurveyForm()
    if form.validate_on_submit():
        return act(lambda: services.answer_survey(
            current_user, cls, content=int(form.content.data), trainer=int(form.trainer.data),
            organisation=int(form.organisation.data), overall=int(form.overall.data),
            suggestions=form.suggestions.data or "", now=utcnow()),
            back=url_for("attendance.my_classes"), done=_("Thank you for your answers."))
    return render_template("attendance/survey.html", cls=cls, form=form)


# -- trainers and HR ------------------------------------------------------------------------------

@bp.route("/training/classes")
@roles_required(*RUNNERS)
def classes():
    query = select(TrainingClass).order_by(TrainingClass.created_at.desc())
    if not (current_user.role_names & {"hr", "admin"}):
        query = query.where(TrainingClass.trainers.any(staff_id=current_user.id))
    rows = db.session.scalars(query).all()
    return render_template("attendance/classes.html", classes=rows, now=utcnow())


def _class_form(cls: TrainingClass | None) -> ClassForm:
    form = ClassForm(obj=cls)
    form.course_id.choices = [(0, "—")] + [
        (c.id, f"{c.track.title} · {c.title}") for c in db.session.scalars(
            select(Course).where(Course.retired.is_(False)).order_by(Course.track_id,
                                                                     Course.position))]
    from trainer.learning.services import hours_categories

    form.hours_category.choices = [(c, c) for c in hours_categories()]
    form.trainer_ids.choices = [(s.id, f"{s.name} ({s.employee_no})") for s in
                                db.session.scalars(select(StaffMember).where(
                                    StaffMember.roles.any(role="trainer"),
                                    StaffMember.status != "left")
                                    .order_by(StaffMember.employee_no))]
    if request.method == "GET" and cls is not None:
        form.course_id.data = cls.course_id or 0
        form.trainer_ids.data = sorted(cls.trainer_ids)
    return form


def _class_fields(form: ClassForm) -> services.ClassFields:
    return services.ClassFields(
        title=form.title.data or "", hours_category=form.hours_category.data or "",
        description=form.description.data or "", course_id=form.course_id.data or None,
        place=form.place.data or "", link=form.link.data or "", capacity=form.capacity.data,
        cost=form.cost.data, signup_mode=form.signup_mode.data,
        completion_share=form.completion_share.data,
        issues_certificate=bool(form.issues_certificate.data),
        trainer_ids=list(form.trainer_ids.data or []))


@bp.route("/training/classes/new", methods=["GET", "POST"])
@roles_required(*RUNNERS)
def new_class():
    form = _class_form(None)
    if form.validate_on_submit():
        try:
            cls = services.save_class(current_user, None, _class_fields(form), now=utcnow())
        except DomainError as exc:
            db.session.rollback()
            flash(exc.translated(), "danger")
        else:
            db.session.commit()
            return redirect(url_for("attendance.class_page", class_id=cls.id))
    return render_template("attendance/class_form.html", form=form, cls=None)


@bp.route("/training/classes/<int:class_id>/edit", methods=["GET", "POST"])
@roles_required(*RUNNERS)
def edit_class(class_id: int):
    cls = _managed(class_id)
    form = _class_form(cls)
    if form.validate_on_submit():
        return act(lambda: services.save_class(current_user, cls, _class_fields(form),
                                               now=utcnow()),
                   back=url_for("attendance.class_page", class_id=cls.id), done=_("Saved."))
    return render_template("attendance/class_form.html", form=form, cls=cls)


@bp.route("/training/classes/<int:class_id>")
@roles_required(*RUNNERS)
def class_page(class_id: int):
    cls = _managed(class_id)
    now = utcnow()
    roster = db.session.execute(select(RosterEntry, StaffMember).join(
        StaffMember, StaffMember.id == RosterEntry.staff_id).where(
        RosterEntry.class_id == cls.id).order_by(RosterEntry.state, StaffMember.employee_no)
    ).all()
    booked = [person for entry, person in roster if entry.state == "booked"]
    cells = services.grid(cls, now=now)
    pending = db.session.execute(select(LeaveRequest, StaffMember).join(
        StaffMember, StaffMember.id == LeaveRequest.staff_id).where(
        LeaveRequest.session_id.in_([s.id for s in cls.sessions]),
        LeaveRequest.state == "pending")).all()
    return render_template(
        "attendance/class_page.html", cls=cls, roster=roster, booked=booked, cells=cells,
        now=now, minutes=services.minutes_by_person(cls, now=now), pending=pending,
        session_form=SessionForm(), invite_form=InviteForm(), mark_form=MarkForm(),
        decision_form=DecisionForm(), reason_form=ReasonForm(), action=ActionForm(),
        sees_addresses=services.sees_addresses(current_user),
        survey=services.survey_result([cls.id], now=now),
        window=services.survey_window(cls))


def _session_fields(form: SessionForm) -> services.SessionFields:
    required = {"1": True, "0": False}.get(form.checkout_required.data or "")
    return services.SessionFields(
        day=form.day.data, starts=form.starts.data, ends=form.ends.data,
        place=form.place.data or "", checkin_opens_min=form.checkin_opens_min.data,
        checkin_closes_min=form.checkin_closes_min.data,
        checkout_opens_min=form.checkout_opens_min.data,
        checkout_closes_min=form.checkout_closes_min.data,
        late_after_min=form.late_after_min.data, early_leave_min=form.early_leave_min.data,
        checkout_required=required)


@bp.route("/training/classes/<int:class_id>/sessions", methods=["POST"])
@roles_required(*RUNNERS)
def add_session(class_id: int):
    cls = _managed(class_id)
    form = SessionForm()
    back = url_for("attendance.class_page", class_id=cls.id)
    if not form.validate_on_submit():
        flash(_("Give the session's date, start and end."), "danger")
        return redirect(back)
    return act(lambda: services.save_session(current_user, cls, None, _session_fields(form),
                                             now=utcnow(), override=form.override.data or ""),
               back=back, done=_("The session is added."))


@bp.route("/training/sessions/<int:session_id>/cancel", methods=["POST"])
@roles_required(*RUNNERS)
def cancel_session(session_id: int):
    session = _managed_session(session_id)
    form = ReasonForm()
    back = url_for("attendance.class_page", class_id=session.class_id)
    if not form.validate_on_submit():
        flash(_("Say why the session is cancelled."), "danger")
        return redirect(back)
    return act(lambda: services.cancel_session(current_user, session, now=utcnow(),
                                               reason=form.reason.data),
               back=back, done=_("The session is cancelled."))


@bp.route("/training/sessions/<int:session_id>/close", methods=["POST"])
@roles_required(*RUNNERS)
def close_session(session_id: int):
    session = _managed_session(session_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    return act(lambda: services.close_session(current_user, session, now=utcnow()),
               back=url_for("attendance.class_page", class_id=session.class_id),
               done=_("The session is closed: who did not come is absent, and the 学时 are "
                      "credited."))


@bp.route("/training/sessions/<int:session_id>/all-present", methods=["POST"])
@roles_required(*RUNNERS)
def all_present(session_id: int):
    session = _managed_session(session_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    return act(lambda: services.mark_all_present(current_user, session, now=utcnow()),
               back=url_for("attendance.class_page", class_id=session.class_id),
               done=lambda n: _("%(n)d marked present.", n=n))


@bp.route("/training/sessions/<int:session_id>/mark", methods=["POST"])
@roles_required(*RUNNERS)
def mark(session_id: int):
    session = _managed_session(session_id)
    form = MarkForm()
    back = url_for("attendance.class_page", class_id=session.class_id)
    if not form.validate_on_submit():
        flash(_("Choose a mark."), "danger")
        return redirect(back)
    person = db.get_or_404(StaffMember, form.staff_id.data)
    day = local_date(session.starts_at, centre_timezone())
    check_in = services.local_moment(day, form.check_in.data) if form.check_in.data else None
    check_out = services.local_moment(day, form.check_out.data) if form.check_out.data else None
    if form.kind.data == "leave":
        change = lambda: services.record_leave(current_user, session, person,  # noqa: E731
                                               form.reason.data or "", now=utcnow())
    else:
        change = lambda: services.correct(current_user, session, person,  # noqa: E731
                                          kind=form.kind.data, now=utcnow(),
                                          reason=form.reason.data or "",
                                          check_in_at=check_in, check_out_at=check_out)
    return act(change, back=back, done=_("Recorded."))


@bp.route("/training/classes/<int:class_id>/invite", methods=["POST"])
@roles_required(*RUNNERS)
def invite(class_id: int):
    cls = _managed(class_id)
    form = InviteForm()
    back = url_for("attendance.class_page", class_id=cls.id)
    if not form.validate_on_submit():
        abort(400)
    if form.needing.data:
        people = services.people_needing(cls)
    else:
        from trainer.accounts.rules import split_employee_nos
        from trainer.accounts.services import find_staff

        department = (form.department.data or "").strip()
        lookup = find_staff(employee_nos=split_employee_nos(form.employee_nos.data or ""),
                            department_names=[department] if department else [])
        unknown = lookup.unknown_numbers + lookup.unknown_departments
        if unknown:
            flash(_("Unknown employee numbers or departments: %(names)s. Nobody was invited.",
                    names=", ".join(unknown)), "danger")
            return redirect(back)
        people = lookup.people
    if not people:
        flash(_("Nobody to invite."), "warning")
        return redirect(back)
    return act(lambda: services.invite(current_user, cls, people, now=utcnow(),
                                       reason=form.reason.data or "",
                                       override=form.override.data or ""),
               back=back, done=lambda o: _("%(b)d booked, %(w)d on the wait-list.",
                                           b=len(o.booked), w=len(o.waitlisted)))


@bp.route("/training/classes/<int:class_id>/roster/<int:staff_id>/remove", methods=["POST"])
@roles_required(*RUNNERS)
def remove(class_id: int, staff_id: int):
    cls = _managed(class_id)
    form = ReasonForm()
    back = url_for("attendance.class_page", class_id=cls.id)
    if not form.validate_on_submit():
        flash(_("Say why the person is taken off the roster."), "danger")
        return redirect(back)
    person = db.get_or_404(StaffMember, staff_id)
    return act(lambda: services.cancel_booking(current_user, cls, person, now=utcnow(),
                                               reason=form.reason.data),
               back=back, done=_("Taken off the roster."))


@bp.route("/training/leave/<int:request_id>/decide", methods=["POST"])
@roles_required(*RUNNERS)
def decide_leave(request_id: int):
    leave = db.get_or_404(LeaveRequest, request_id)
    session = _managed_session(leave.session_id)
    form = DecisionForm()
    if not form.validate_on_submit():
        abort(400)
    return act(lambda: services.decide_leave(current_user, leave, form.decision.data ==
                                             "approve", now=utcnow(),
                                             note=form.note.data or ""),
               back=url_for("attendance.class_page", class_id=session.class_id),
               done=_("Decided."))


@bp.route("/training/classes/<int:class_id>/close", methods=["POST"])
@roles_required(*RUNNERS)
@without_write_lock
def close_class(class_id: int):
    """Render the evidence PDF first, reading only (no write lock held meanwhile), then close
    the class and store it in one transaction, which refuses if the record changed between."""
    cls = _managed(class_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    back, now = url_for("attendance.class_page", class_id=cls.id), utcnow()
    try:
        prepared = paper.prepare_evidence(current_user, cls, now=now)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.translated(), "danger")
        return redirect(back)
    db.session.rollback()      # the reading transaction ends here
    with write_intent():
        return act(lambda: paper.close_with_evidence(current_user, cls, prepared, now=now),
                   back=back, done=_("The class is closed: its roster and marks are frozen, "
                                     "and its attendance record (PDF) is kept."))


@bp.route("/training/classes/<int:class_id>/evidence.pdf")
@roles_required(*RUNNERS)
def evidence(class_id: int):
    cls = _managed(class_id)
    if cls.evidence_pdf is None:
        flash(_("The attendance record (PDF) is made when the class is closed."), "warning")
        return redirect(url_for("attendance.class_page", class_id=cls.id))
    return _pdf(cls.evidence_pdf, f"class-{cls.id}-attendance-record.pdf")


def _pdf(data: bytes, filename: str) -> Response:
    return Response(data, mimetype="application/pdf",
                    headers={"Content-Disposition": f"attachment; filename={filename}"})


# -- the paper sign-in sheet ----------------------------------------------------------------------

def _session_url(session: ClassSession) -> str:
    """The session on its class's page, as an absolute URL (the sheet's QR code)."""
    return url_for("attendance.class_page", class_id=session.class_id,
                   _anchor=f"session-{session.id}", _external=True)


@bp.route("/training/sessions/<int:session_id>/sheet.pdf")
@roles_required(*RUNNERS)
def sign_in_sheet(session_id: int):
    session = _managed_session(session_id)
    data = paper.sheet_pdf(session, page_url=_session_url(session), now=utcnow())
    return _pdf(data, f"sign-in-sheet-{session.id}.pdf")


@bp.route("/training/sessions/<int:session_id>/import/template.xlsx")
@roles_required(*RUNNERS)
def sheet_template(session_id: int):
    session = _managed_session(session_id)
    return Response(paper.sheet_template(session), mimetype=paper.XLSX_TYPE, headers={
        "Content-Disposition": f"attachment; filename=sign-in-sheet-{session.id}.xlsx"})


def _sheet_tokens() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt="attendance-sheet-import")


@bp.route("/training/sessions/<int:session_id>/import", methods=["GET", "POST"])
@roles_required(*RUNNERS)
@without_write_lock
def sheet_import(session_id: int):
    """Upload a filled sheet: a preview of what it records, or every problem at once."""
    session = _managed_session(session_id)
    form, plan, token, refusal = SheetUploadForm(), None, "", None
    try:
        paper.check_importable(current_user, session, now=utcnow())
    except DomainError as exc:
        refusal = exc.translated()
    if refusal is None and form.validate_on_submit():
        upload = form.file.data
        filename = (upload.filename or "")[:200]
        lines, errors = paper.read_sheet(upload.read(), filename)
        plan = paper.plan_import(current_user, session, lines, filename=filename, now=utcnow(),
                                 read_errors=errors)
        if plan.ok:
            token = _sheet_tokens().dumps({"s": session.id, "a": current_user.id, "f": filename,
                                           "v": plan.version,
                                           "l": [line.as_list() for line in plan.lines]})
    status = 422 if (plan is not None and not plan.ok) or \
        (refusal and request.method == "POST") else 200
    return render_template("attendance/sheet_import.html", session=session,
                           cls=session.training_class, form=form, plan=plan, refusal=refusal,
                           confirm=SheetConfirmForm(token=token), translate=_), status


@bp.route("/training/sessions/<int:session_id>/import/confirm", methods=["POST"])
@roles_required(*RUNNERS)
def sheet_import_confirm(session_id: int):
    session = _managed_session(session_id)
    form = SheetConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        data = _sheet_tokens().loads(form.token.data, max_age=SHEET_TOKEN_AGE_S)
        if data["s"] != session.id or data["a"] != current_user.id:
            raise BadData("another session's or person's sheet")
        lines = [SheetLine.from_list(values) for values in data["l"]]
        filename, version = str(data["f"]), str(data["v"])
    except (BadData, KeyError, TypeError, ValueError):
        flash(_("This preview is too old or not this session's: upload the sheet again."),
              "danger")
        return redirect(url_for("attendance.sheet_import", session_id=session.id))
    try:
        plan = paper.record_import(current_user, session, lines, filename=filename,
                                   reason=_("Imported from a paper sign-in sheet"), now=utcnow(),
                                   version=version)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.translated(), "danger")
        return redirect(url_for("attendance.sheet_import", session_id=session.id))
    db.session.commit()
    flash(_("%(n)d rows of the sign-in sheet are recorded.", n=len(plan.rows)), "success")
    return redirect(url_for("attendance.class_page", class_id=session.class_id))


# -- the classroom kiosk --------------------------------------------------------------------------

def _kiosk_tokens() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt="attendance-kiosk")


@bp.route("/training/sessions/<int:session_id>/kiosk")
@roles_required(*RUNNERS)
def kiosk_link(session_id: int):
    """The trainer opens this on the classroom PC (or copies it there): a signed link that
    needs no sign-in and stops working with the session."""
    session = _managed_session(session_id)
    return redirect(url_for("attendance.kiosk", token=_kiosk_tokens().dumps(session.id)))


def _kiosk_session(token: str) -> ClassSession:
    try:
        session_id = _kiosk_tokens().loads(token, max_age=7 * 86400)
    except BadData:
        abort(404)
    session = db.session.get(ClassSession, int(session_id))
    if session is None or session.cancelled_at is not None or session.closed_at is not None \
            or utcnow() > services.times_of(session).closes_at:
        abort(410)
    return session


def _code_view(session: ClassSession, now: datetime) -> dict:
    code, step, left = services.current_code(session, now)
    url = url_for("attendance.scan", session_id=session.id, step=step, code=code,
                  _external=True)
    svg = segno.make(url, error="m").svg_inline(scale=8, border=2, dark="#000")
    return {"code": code, "step": step, "refresh_in": left, "url": url, "svg": svg}


@bp.route("/kiosk/<token>")
@public
def kiosk(token: str):
    session = _kiosk_session(token)
    return render_template("attendance/kiosk.html", session=session,
                           view=_code_view(session, utcnow()), token=token)


@bp.route("/kiosk/<token>/code")
@public
def kiosk_code(token: str):
    """The code now (kiosk.js asks when the last one's step ends): the server's clock only."""
    session = _kiosk_session(token)
    return jsonify(_code_view(session, utcnow()))


# -- HR's staff page ------------------------------------------------------------------------------

def staff_panel(staff: StaffMember) -> Markup:
    """The person's attendance on the HR staff page: every session of every class."""
    now = utcnow()
    rows = []
    for cls in db.session.scalars(select(TrainingClass).join(
            RosterEntry, RosterEntry.class_id == TrainingClass.id).where(
            RosterEntry.staff_id == staff.id).order_by(TrainingClass.created_at.desc())):
        cells = services.grid(cls, now=now, staff_ids=[staff.id])
        for session in services.live_sessions(cls):
            rows.append((cls, session, cells.get((session.id, staff.id))))
    return Markup(render_template("attendance/_staff_panel.html", rows=rows, staff=staff))


STATUS_LABELS = {"present": _l("Present"), "late": _l("Late"), "early": _l("Left early"),
                 "leave": _l("On leave"), "absent": _l("Absent"), "pending": _l("Not yet")}
ROSTER_LABELS = {"booked": _l("Booked"), "waitlisted": _l("Wait-listed"),
                 "cancelled": _l("Cancelled")}
LEAVE_LABELS = {"pending": _l("Leave asked"), "approved": _l("Leave approved"),
                "declined": _l("Leave declined")}
FLAG_LABELS = {"late": _l("late"), "early": _l("left early"),
               "missing_checkout": _l("no check-out"),
               "shared_device": _l("one device for two people"),
               "outside_address": _l("from outside the centre")}


@bp.app_context_processor
def _labels():
    return {"attendance_status_label": lambda s: STATUS_LABELS.get(s, s),
            "roster_state_label": lambda s: ROSTER_LABELS.get(s, s),
            "leave_state_label": lambda s: LEAVE_LABELS.get(s, s),
            "attendance_flag_label": lambda f: FLAG_LABELS.get(f, f),
            "local_time": lambda moment, fmt="HH:mm": _local(moment, fmt)}


def _local(moment: datetime | None, fmt: str) -> str:
    from flask_babel import format_datetime

    return format_datetime(moment, fmt) if moment else ""


def _todo(kind_text):
    """An informational item: read on 我的培训, dismissed there."""
    def render(item):
        return kind_text(item), url_for("attendance.my_classes")
    return render


def register(app) -> None:
    from trainer.core.nav import add_nav_item, add_staff_panel
    from trainer.core.todos import register_kind

    app.register_blueprint(bp)
    add_nav_item(app, "attendance.my_classes", _l("My classes"), ("learner",), 12)
    add_nav_item(app, "attendance.classes", _l("Classes"), RUNNERS, 35)
    add_staff_panel(app, staff_panel)
    register_kind(app, "class.invited", dismissible=True, render=_todo(lambda i: _(
        "You are invited to the class “%(title)s”.", title=i.params.get("title", ""))
        if i.params.get("state") == "booked" else _(
        "You are on the wait-list of the class “%(title)s”.", title=i.params.get("title", ""))))
    register_kind(app, "class.promoted", dismissible=True, render=_todo(lambda i: _(
        "A place opened: you are booked on “%(title)s”.", title=i.params.get("title", ""))))
    register_kind(app, "class.removed", dismissible=True, render=_todo(lambda i: _(
        "You were taken off the class “%(title)s”: %(reason)s", title=i.params.get("title", ""),
        reason=i.params.get("reason", ""))))
    register_kind(app, "leave.decided", dismissible=True, render=_todo(lambda i: _(
        "Your leave from “%(title)s” is approved.", title=i.params.get("title", ""))
        if i.params.get("state") == "approved" else _(
        "Your leave from “%(title)s” is declined: %(note)s", title=i.params.get("title", ""),
        note=i.params.get("note", ""))))
    register_kind(app, "survey.open", lambda i: (_(
        "Tell us how the class “%(title)s” went (training survey).",
        title=i.params.get("title", "")), url_for("attendance.survey", class_id=int(i.ref))))

