"""The public verification page, people's own certificates, and HR's list, revocations,
reissues, external certificates and the ZIP of a filtered list."""
from __future__ import annotations

import zipfile
from collections.abc import Iterator

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import func, select

from trainer.accounts.models import Department, StaffMember
from trainer.accounts import services as accounts
from trainer.certificates import rules, services
from trainer.certificates.document import render_and_keep, verify_url
from trainer.certificates.forms import (
    DecisionForm,
    ExternalForm,
    NoteForm,
    RevokeForm,
    SealForm,
    VerifyForm,
)
from trainer.certificates.models import Certificate, ExternalCertificate, StoredFile
from trainer.core.actions import act
from trainer.core.db import db
from trainer.core.errors import DomainError
from trainer.core.params import db_int
from trainer.core.permissions import public, roles_required, signed_in
from trainer.core.settings import get_setting, set_setting
from trainer.core.timeutil import utcnow
from trainer.extensions import limiter

bp = Blueprint("certificates", __name__)
MANAGERS = ("hr", "admin")
PAGE_SIZE = 50
# Only failed look-ups count: someone trying codes is stopped after 30 misses, and a verifier's
# real codes never use up their address's allowance.
LOOKUPS_PER_ADDRESS = "30 per 10 minutes"


def _not_found(response: Response) -> bool:
    return response.status_code == 404


# -- public verification --------------------------------------------------------------------------

@bp.route("/verify")
@public
def verify_form():
    form = VerifyForm(request.args)
    if request.args.get("code") and form.validate():
        return redirect(url_for("certificates.verify", code=rules.normalise_code(
            form.code.data)))
    return render_template("certificates/verify.html", form=form, certificate=None)


@bp.route("/verify/<code>")
@public
@limiter.limit(LOOKUPS_PER_ADDRESS, deduct_when=_not_found, scope="certificate-lookups",
               error_message=lambda: _("Too many codes that match no certificate were tried "
                                       "from this address. Wait ten minutes and try again."))
def verify(code: str):
    certificate = services.by_code(code)
    form = VerifyForm(code=code)
    if certificate is None:
        return render_template("certificates/verify.html", form=form, certificate=None,
                               unknown=True), 404
    now = utcnow()
    successor = db.session.get(Certificate, certificate.superseded_by_id) \
        if certificate.superseded_by_id else None
    return render_template("certificates/verify.html", form=form, certificate=certificate,
                           status=services.status_of(certificate, now), successor=successor,
                           masked=rules.masked_name(certificate.snapshot.get("name", "")))


# -- one's own ------------------------------------------------------------------------------------

@bp.route("/certificates")
@signed_in
def mine():
    certificates = db.session.scalars(select(Certificate).where(
        Certificate.staff_id == current_user.id).order_by(Certificate.issued_at.desc())).all()
    externals = db.session.scalars(select(ExternalCertificate).where(
        ExternalCertificate.staff_id == current_user.id).order_by(
        ExternalCertificate.uploaded_at.desc())).all()
    return render_template("certificates/mine.html", certificates=certificates,
                           externals=externals, form=_external_form(), now=utcnow(),
                           status_of=services.status_of, verify_url=verify_url)


def _external_form() -> ExternalForm:
    from trainer.learning.services import hours_categories

    form = ExternalForm()
    form.category.choices = [(c, c) for c in hours_categories()]
    return form


def _readable(certificate_id: int) -> Certificate:
    certificate = services.get_certificate(certificate_id)
    if not services.may_read(current_user, certificate):
        abort(404)   # (another person's: as if it did not exist)
    return certificate


@bp.route("/certificates/<int:certificate_id>.pdf")
@signed_in
def download(certificate_id: int):
    """The stored, signed PDF; rendered now if the renderer has not reached it yet (once)."""
    certificate = _readable(certificate_id)
    if certificate.pdf_file_id is None:
        render_and_keep(certificate_id)
        certificate = services.get_certificate(certificate_id)
    data = services.file_bytes(certificate.pdf_file_id)
    return Response(data, mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="{certificate.serial}.pdf"'})


@bp.route("/certificates/external", methods=["POST"])
@signed_in
def add_mine():
    return _add_external(current_user._get_current_object(), url_for("certificates.mine"))


def _add_external(person: StaffMember, back: str):
    form = _external_form()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for error in errors:
                flash(str(error), "danger")
        return redirect(back)
    upload = form.file.data
    return act(lambda: services.add_external(
        current_user, person, data=upload.read(), filename=upload.filename or "",
        issuer=form.issuer.data, title=form.title.data, started_on=form.started_on.data,
        finished_on=form.finished_on.data, hours=form.hours.data,
        category=form.category.data, now=utcnow()),
        back=back, done=_("Handed in: HR will check it."))


@bp.route("/certificates/external/<int:external_id>/file")
@signed_in
def external_file(external_id: int):
    external = db.get_or_404(ExternalCertificate, external_id)
    if external.staff_id != current_user.id and not current_user.role_names & set(MANAGERS):
        abort(404)
    stored = db.session.get(StoredFile, external.file_id)
    extension = {"application/pdf": "pdf", "image/png": "png", "image/jpeg": "jpg"}.get(
        stored.content_type, "bin")
    # An attachment, never shown inline: whatever it holds is not run by the browser.
    return Response(services.file_bytes(stored.id), mimetype=stored.content_type, headers={
        "Content-Disposition": f'attachment; filename="external-{external.id}.{extension}"'})


# -- HR -------------------------------------------------------------------------------------------

def _filter() -> services.Filter:
    return services.Filter(
        source=request.args.get("source", "") if request.args.get("source") in
        ("onboarding", "inservice", "reentry", "promotion", "class") else "",
        department_id=request.args.get("department", type=db_int),
        status=request.args.get("status", "") if request.args.get("status") in
        ("valid", "expired", "revoked", "superseded", "preparing") else "",
        expiring_days=request.args.get("expiring", type=db_int))


@bp.route("/training/certificates")
@roles_required(*MANAGERS)
def manage():
    now = utcnow()
    flt = _filter()
    page = max(request.args.get("page", 1, type=db_int), 1)
    pagination = db.paginate(services.filtered(flt, now=now), page=page, per_page=PAGE_SIZE,
                             error_out=False)
    people = {p.id: p for p in db.session.scalars(select(StaffMember).where(
        StaffMember.id.in_([c.staff_id for c in pagination.items])))}
    pending = db.session.scalar(select(func.count()).select_from(ExternalCertificate).where(
        ExternalCertificate.state == "pending"))
    departments = db.session.scalars(select(Department).order_by(Department.sort_order,
                                                                 Department.name)).all()
    args = {k: v for k, v in request.args.items() if k != "page"}
    expiring_days = get_setting("expiring_days")
    expiring = db.session.scalar(services.filtered(
        services.Filter(expiring_days=expiring_days), now=now).with_only_columns(
        func.count(Certificate.id)).order_by(None))
    return render_template("certificates/manage.html", pagination=pagination, people=people,
                           flt=flt, args=args, now=now, status_of=services.status_of,
                           departments=departments, pending=pending, revoke_form=RevokeForm(),
                           note_form=NoteForm(), expiring=expiring, expiring_days=expiring_days)


@bp.route("/training/certificates/export.zip")
@roles_required(*MANAGERS)
def export_zip():
    """The filtered certificates' PDFs in one ZIP, streamed: one PDF in memory at a time, so a
    thousand cost no more than one. Those not rendered yet are left out and listed."""
    query = services.filtered(_filter(), now=utcnow()).where(
        Certificate.pdf_file_id.is_not(None))
    ids = [row for row in db.session.scalars(query.with_only_columns(Certificate.id))]
    return Response(stream_with_context(_zip_of(ids)), mimetype="application/zip", headers={
        "Content-Disposition": 'attachment; filename="certificates.zip"'})


class _Sink:
    """What zipfile writes to: a buffer emptied after each file (zipfile needs no seeking to
    write an archive as a stream)."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []
        self.written = 0

    def write(self, data: bytes) -> int:
        self.chunks.append(bytes(data))
        self.written += len(data)
        return len(data)

    def tell(self) -> int:
        return self.written

    def flush(self) -> None:
        pass

    def drain(self) -> bytes:
        data, self.chunks = b"".join(self.chunks), []
        return data


# PDFs read per statement: PostgreSQL's driver holds a statement's whole result (20 × ~32 KB);
# with 100 a batch the worker grew by 13.7 MB over a ZIP of 1,000 (32 MB), against 4.7 on SQLite.
ZIP_BATCH = 20


def _zip_of(ids: list[int]) -> Iterator[bytes]:
    sink = _Sink()
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_STORED) as archive:
        for start in range(0, len(ids), ZIP_BATCH):
            rows = db.session.execute(select(Certificate.serial, StoredFile.data).join(
                StoredFile, StoredFile.id == Certificate.pdf_file_id).where(
                Certificate.id.in_(ids[start:start + ZIP_BATCH])).order_by(Certificate.id))
            for serial, data in rows:
                archive.writestr(f"{serial}.pdf", data)   # (PDFs are compressed already)
                yield sink.drain()
            db.session.expunge_all()
    yield sink.drain()


@bp.route("/training/certificates/<int:certificate_id>/revoke", methods=["POST"])
@roles_required(*MANAGERS)
def revoke(certificate_id: int):
    certificate = services.get_certificate(certificate_id)
    form = RevokeForm()
    back = request.referrer if _same_site(request.referrer) else url_for("certificates.manage")
    if not form.validate_on_submit():
        flash(_("Say why the certificate is revoked."), "danger")
        return redirect(back)
    return act(lambda: services.revoke(current_user, certificate, reason=form.reason.data,
                                       note=form.note.data, now=utcnow()),
               back=back, done=_("The certificate is revoked; its verification page says so."))


@bp.route("/training/certificates/<int:certificate_id>/reissue", methods=["POST"])
@roles_required(*MANAGERS)
def reissue(certificate_id: int):
    certificate = services.get_certificate(certificate_id)
    form = NoteForm()
    back = request.referrer if _same_site(request.referrer) else url_for("certificates.manage")
    if not form.validate_on_submit():
        flash(_("Say what the reissue corrects."), "danger")
        return redirect(back)
    return act(lambda: services.reissue(current_user, certificate, note=form.note.data,
                                        now=utcnow()),
               back=back, done=lambda new: _("Reissued as %(serial)s.", serial=new.serial))


def _same_site(url: str | None) -> bool:
    return bool(url) and url.startswith(request.host_url)


@bp.route("/training/certificates/external")
@roles_required(*MANAGERS)
def externals():
    rows = db.session.execute(select(ExternalCertificate, StaffMember).join(
        StaffMember, StaffMember.id == ExternalCertificate.staff_id).order_by(
        ExternalCertificate.state != "pending", ExternalCertificate.uploaded_at.desc())
        .limit(200)).all()
    return render_template("certificates/externals.html", rows=rows, form=DecisionForm())


@bp.route("/training/certificates/external/<int:external_id>/decide", methods=["POST"])
@roles_required(*MANAGERS)
def decide(external_id: int):
    external = db.get_or_404(ExternalCertificate, external_id)
    form = DecisionForm()
    if not form.validate_on_submit():
        abort(400)
    return act(lambda: services.decide_external(current_user, external,
                                                form.decision.data == "approve",
                                                note=form.note.data or "", now=utcnow()),
               back=url_for("certificates.externals"), done=_("Decided."))


@bp.route("/staff/<int:staff_id>/external", methods=["POST"])
@roles_required(*MANAGERS)
def add_for(staff_id: int):
    person = db.get_or_404(StaffMember, staff_id)
    return _add_external(person, url_for("accounts.staff_detail", staff_id=staff_id))


@bp.route("/training/certificates/seal", methods=["GET", "POST"])
@roles_required("admin")
def seal():
    """The centre's seal on new certificates: a PNG, checked and re-encoded."""
    form = SealForm()
    if form.validate_on_submit():
        from trainer.certificates.uploads import PNG, clean_upload

        def store():
            data, kind = clean_upload(form.file.data.read(), allowed=(PNG,),
                                      max_bytes=1024 * 1024)
            stored = services.store_file(data, kind, now=utcnow())
            set_setting("certificate_seal_file", stored.id, actor=current_user, now=utcnow())

        return act(store, back=url_for("certificates.seal"),
                   done=_("The seal is saved: certificates issued from now on carry it."))
    for errors in form.errors.values():
        for error in errors:
            flash(str(error), "danger")
    return render_template("certificates/seal.html", form=form,
                           seal_id=get_setting("certificate_seal_file"))


@bp.route("/training/certificates/seal.png")
@roles_required("admin")
def seal_image():
    seal_id = get_setting("certificate_seal_file")
    if not seal_id:
        abort(404)
    return Response(services.file_bytes(seal_id), mimetype="image/png")


# -- the staff page -------------------------------------------------------------------------------

def staff_panel(staff: StaffMember) -> Markup:
    certificates = db.session.scalars(select(Certificate).where(
        Certificate.staff_id == staff.id).order_by(Certificate.issued_at.desc())).all()
    externals = db.session.scalars(select(ExternalCertificate).where(
        ExternalCertificate.staff_id == staff.id).order_by(
        ExternalCertificate.uploaded_at.desc())).all()
    return Markup(render_template("certificates/_staff_panel.html", staff=staff,
                                  certificates=certificates, externals=externals, now=utcnow(),
                                  status_of=services.status_of, form=_external_form(),
                                  revoke_form=RevokeForm(), note_form=NoteForm(),
                                  may_act=accounts.may_manage(current_user, staff)))


STATUS_LABELS = {"valid": _l("Valid"), "expired": _l("Expired"), "revoked": _l("Revoked"),
                 "superseded": _l("Replaced by a reissue"), "preparing": _l("PDF being prepared")}
SOURCE_LABELS = {"onboarding": _l("Onboarding"), "inservice": _l("In-service"),
                 "reentry": _l("Re-entry"), "promotion": _l("Promotion"),
                 "remedial": _l("Remedial"), "transfer": _l("Transfer"),
                 "refresher": _l("Business refresher"),
                 "class": _l("Class completion")}
REVOKE_LABELS = {"withdrawn": _l("withdrawn"), "issued_in_error": _l("issued in error")}
EXTERNAL_LABELS = {"pending": _l("Waiting for HR"), "approved": _l("Approved"),
                   "declined": _l("Declined")}


@bp.app_context_processor
def _labels():
    return {"certificate_status_label": lambda s: STATUS_LABELS.get(s, s),
            "certificate_source_label": lambda s: SOURCE_LABELS.get(s, s),
            "revoke_reason_label": lambda s: REVOKE_LABELS.get(s, s),
            "external_state_label": lambda s: EXTERNAL_LABELS.get(s, s)}


def register(app) -> None:
    from trainer.core.nav import add_nav_item, add_staff_panel
    from trainer.core.todos import register_kind

    app.register_blueprint(bp)
    add_nav_item(app, "certificates.mine", _l("My certificates"), ("learner",), 14)
    add_nav_item(app, "certificates.manage", _l("Certificates"), MANAGERS, 68)
    add_staff_panel(app, staff_panel)
    register_kind(app, "certificate.issued", dismissible=True, render=lambda i: (_(
        "Your certificate “%(title)s” (%(serial)s) is issued.", title=i.params.get("title", ""),
        serial=i.params.get("serial", "")), url_for("certificates.mine")))
    register_kind(app, "external.decided", dismissible=True, render=lambda i: (_(
        "Your external certificate “%(title)s” is approved: its 学时 are counted.",
        title=i.params.get("title", "")) if i.params.get("state") == "approved" else _(
        "Your external certificate “%(title)s” is declined: %(note)s",
        title=i.params.get("title", ""), note=i.params.get("note", "")),
        url_for("certificates.mine")))


__all__ = ["bp", "register", "DomainError"]
