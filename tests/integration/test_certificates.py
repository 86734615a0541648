"""Certificates on both databases: issued once from a completed track or class (the row and its
snapshot in the completing transaction), rendered once into a signed PDF whose text, QR code and
signature are read back, verified in public, revoked and reissued without losing either record,
listed, filtered and zipped for HR; external certificates handed in, decided and credited."""
from __future__ import annotations

import io
import re
import zipfile
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from tests.integration.test_learning import _pass_course, content, enrolments_of  # noqa: F401
from trainer.certificates import rules, services
from trainer.certificates.document import render_and_keep, verify_url
from trainer.certificates.models import Certificate, ExternalCertificate, StoredFile
from trainer.core.models import AuditEvent, TodoItem
from trainer.core.settings import set_setting
from trainer.core.timeutil import utcnow
from trainer.learning import services as learning
from trainer.learning.models import Enrolment, HoursEntry
from trainer.learning.signals import track_completed


def complete(db_session, person, key="onboarding", *, at=None):
    """Complete the person's enrolment on a track as learning does, announcing it."""
    enrolment = enrolments_of(db_session, person.id).get(key)
    if enrolment is None:
        enrolment = learning._create(person, learning.track_by_key(key), reason="manual",
                                     due_on=utcnow().date() + timedelta(days=30), now=utcnow(),
                                     actor_id=None)
    enrolment.state, enrolment.completed_at = "completed", at or utcnow()
    db_session.flush()
    track_completed.send(enrolment, now=at or utcnow())
    db_session.commit()
    return enrolment


def certificate_of(db_session, enrolment) -> Certificate:
    return db_session.scalar(select(Certificate).where(
        Certificate.enrolment_id == enrolment.id, Certificate.supersedes_id.is_(None)))


@pytest.fixture
def issued(content, make_staff, db_session):
    """A new hire who completed onboarding: their certificate, issued (not rendered yet)."""
    person = make_staff("learner", hired_days_ago=3, name="张伟")
    return certificate_of(db_session, complete(db_session, person))


def rendered(app, db_session, certificate) -> bytes:
    with app.app_context():
        render_and_keep(certificate.id)
    db_session.expire_all()
    fresh = db_session.get(Certificate, certificate.id)
    return db_session.get(StoredFile, fresh.pdf_file_id).data


# -- issuing --------------------------------------------------------------------------------------

def test_a_completed_track_issues_one_certificate_even_when_announced_twice(
        issued, db_session):
    enrolment = db_session.get(Enrolment, issued.enrolment_id)
    track_completed.send(enrolment, now=utcnow())
    db_session.commit()
    assert db_session.scalar(select(func.count()).select_from(Certificate).where(
        Certificate.enrolment_id == enrolment.id)) == 1
    assert re.fullmatch(r"RZ-\d{4}-\d{6}", issued.serial)
    assert len(issued.code) >= 10 and not set(issued.code) & set("01OI")
    assert issued.pdf_file_id is None and issued.expires_at is None
    snap = issued.snapshot
    assert snap["name"] == "张伟" and snap["title"] == "入职培训合格证"
    assert snap["serial"] == issued.serial and snap["template_version"] == 1
    assert snap["courses"] and snap["department"] == "客服一部"
    assert db_session.scalar(select(TodoItem).where(
        TodoItem.staff_id == issued.staff_id, TodoItem.kind == "certificate.issued"))


def test_serials_count_per_kind_and_year(content, make_staff, db_session):
    first = certificate_of(db_session, complete(db_session, make_staff("learner")))
    second = certificate_of(db_session, complete(db_session, make_staff("learner")))
    inservice = certificate_of(db_session, complete(db_session, make_staff("learner"),
                                                    "inservice"))
    year = first.serial.split("-")[1]
    assert int(second.serial[-6:]) == int(first.serial[-6:]) + 1
    assert inservice.serial.startswith(f"ZG-{year}-")


def test_an_in_service_certificate_is_valid_for_the_set_months(content, make_staff, db_session,
                                                               users):
    set_setting("inservice_valid_months", 18, actor=users["admin"], now=utcnow())
    db_session.commit()
    at = utcnow().replace(month=1, day=31)
    certificate = certificate_of(db_session, complete(db_session, make_staff("learner"),
                                                      "inservice", at=at))
    expires = certificate.expires_at
    assert (expires.year, expires.month, expires.day) == (at.year + 1, 7, 31)
    assert certificate.snapshot["expires_on"] is not None


def test_a_track_that_issues_none_gets_none(content, make_staff, db_session):
    track = learning.track_by_key("reentry")
    track.issues_certificate = False
    db_session.commit()
    enrolment = complete(db_session, make_staff("learner"), "reentry")
    assert certificate_of(db_session, enrolment) is None


def test_a_submit_that_completes_the_track_does_not_render(content, client, make_staff,
                                                           db_session, monkeypatch):
    """The whole onboarding, course by course, through the site: the last submit issues the
    certificate and never renders a PDF (the renderer would fail the test)."""
    from trainer.core import pdf

    def refuse(*_a, **_k):
        raise AssertionError("a submit rendered a PDF")

    monkeypatch.setattr(pdf, "render", refuse)
    person = make_staff("learner", hired_days_ago=0)
    onboarding = enrolments_of(db_session, person.id)["onboarding"]
    client.login(person.employee_no)
    for course_progress in learning.progress(onboarding).courses:
        _pass_course(client, db_session, onboarding, course_progress)
    db_session.expire_all()
    assert db_session.get(Enrolment, onboarding.id).state == "completed"
    certificate = certificate_of(db_session, onboarding)
    assert certificate is not None and certificate.pdf_file_id is None
    hours = db_session.scalar(select(func.sum(HoursEntry.minutes)).where(
        HoursEntry.staff_id == person.id, HoursEntry.source_kind == "course"))
    expected = learning.to_hours(hours, learning.minutes_per_hour())
    assert Decimal(certificate.snapshot["hours"]) == expected and expected > 0
    assert "入职培训合格证" in client.get("/certificates").get_data(as_text=True)


# -- the PDF --------------------------------------------------------------------------------------

def test_the_pdf_holds_the_facts_its_qr_leads_to_the_page_and_its_signature_holds(
        app, issued, db_session):
    import pypdfium2
    import zxingcpp
    from pypdf import PdfReader

    data = rendered(app, db_session, issued)
    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert float(box.width) > float(box.height)          # A4 landscape
    text = reader.pages[0].extract_text()
    for expected in ("张伟", issued.serial, "入职培训合格证", issued.code):
        assert expected in text
    page = pypdfium2.PdfDocument(data)[0]
    image = page.render(scale=3).to_pil()
    codes = [r.text for r in zxingcpp.read_barcodes(image)
             if r.format == zxingcpp.BarcodeFormat.QRCode]
    with app.app_context():
        assert codes == [verify_url(issued.code)]
    assert codes[0] == f"http://127.0.0.1:5000/verify/{issued.code}"

    assert _signature(app, data) == (True, True)
    fresh = db_session.get(Certificate, issued.id)
    import hashlib
    assert fresh.pdf_sha256 == hashlib.sha256(data).hexdigest()
    assert fresh.signed_with and len(fresh.signed_with) == 64

    # One byte of the signed content changed (the same length, so the file still parses):
    at = data.index(b"WeasyPrint")
    tampered = data[:at] + b"V" + data[at + 1:]
    assert _signature(app, tampered) == (False, False)   # the content's digest no longer matches


def _signature(app, data: bytes) -> tuple[bool, bool]:
    """(the signed bytes unchanged, the signature valid and trusted: pyHanko's bottom line)."""
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    from trainer.certificates.signing import signing_certificate

    signature = PdfFileReader(io.BytesIO(data)).embedded_signatures[0]
    status = validate_pdf_signature(signature, ValidationContext(
        trust_roots=[signing_certificate(app.config)]))
    return status.intact, status.bottom_line


def test_the_pdf_is_made_once_and_a_name_corrected_later_rewrites_nothing(
        app, issued, db_session, client):
    first = rendered(app, db_session, issued)
    person = issued.staff_id
    from trainer.accounts.models import StaffMember

    db_session.get(StaffMember, person).name = "张卫"
    db_session.commit()
    with app.app_context():
        assert render_and_keep(issued.id) is False
    db_session.expire_all()
    again = db_session.get(Certificate, issued.id)
    assert again.snapshot["name"] == "张伟"
    assert db_session.get(StoredFile, again.pdf_file_id).data == first
    assert db_session.scalar(select(func.count()).select_from(StoredFile)) == 1


def test_two_renderers_at_once_keep_one_pdf(app, issued, db_session):
    """The claim is a compare-and-set: the second store finds the PDF kept and keeps nothing."""
    from trainer.core.db import db

    with app.app_context():
        assert services.store_pdf(issued.id, b"%PDF-first", "a" * 64, now=utcnow())
        db.session.commit()
    with app.app_context():
        assert not services.store_pdf(issued.id, b"%PDF-second", "b" * 64, now=utcnow())
        db.session.commit()
    db_session.expire_all()
    kept = db_session.get(Certificate, issued.id)
    assert db_session.get(StoredFile, kept.pdf_file_id).data == b"%PDF-first"
    assert db_session.scalar(select(func.count()).select_from(StoredFile)) == 1


def test_the_first_download_renders_it_and_others_may_not_have_it(issued, client, make_staff,
                                                                   db_session):
    from trainer.accounts.models import StaffMember

    owner = db_session.get(StaffMember, issued.staff_id)
    stranger = make_staff("learner")
    client.login(stranger.employee_no)
    assert client.get(f"/certificates/{issued.id}.pdf").status_code == 404
    client.post("/logout")
    client.login(owner.employee_no)
    response = client.get(f"/certificates/{issued.id}.pdf")
    assert response.status_code == 200 and response.data.startswith(b"%PDF-")
    assert response.headers["Content-Type"] == "application/pdf"
    assert f"{issued.serial}.pdf" in response.headers["Content-Disposition"]
    db_session.expire_all()
    assert db_session.get(Certificate, issued.id).pdf_sha256 is not None
    assert client.get(f"/certificates/{issued.id}.pdf").data == response.data


def test_the_render_command_is_idempotent(app, issued, db_session):
    runner = app.test_cli_runner()
    assert "rendered: 1" in runner.invoke(args=["certificates", "render"]).output
    assert "rendered: 0" in runner.invoke(args=["certificates", "render"]).output


# -- verifying ------------------------------------------------------------------------------------

def test_the_verification_page_says_valid_masks_the_name_and_shows_the_hash(
        app, issued, client, db_session):
    rendered(app, db_session, issued)
    fresh = db_session.get(Certificate, issued.id)
    page = client.get(f"/verify/{issued.code}", headers={"Accept-Language": "zh-CN"})
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'data-verify-status="valid"' in html
    assert "张*" in html and "张伟" not in html
    assert fresh.pdf_sha256 in html and issued.serial in html and "入职培训合格证" in html
    # typed with spaces and in lower case, through the form
    typed = client.get("/verify", query_string={"code": " " + issued.code.lower()[:4] + "-"
                                                + issued.code.lower()[4:]})
    assert typed.status_code == 302 and typed.headers["Location"].endswith(issued.code)


def test_the_verification_page_for_each_status(app, content, make_staff, users, client,
                                               db_session):
    hr = users["hr"]
    old = certificate_of(db_session, complete(
        db_session, make_staff("learner"), "inservice", at=utcnow() - timedelta(days=400)))
    page = client.get(f"/verify/{old.code}").get_data(as_text=True)
    assert 'data-verify-status="expired"' in page

    revoked = certificate_of(db_session, complete(db_session, make_staff("learner")))
    services.revoke(hr, revoked, reason="issued_in_error", note="工号录错", now=utcnow())
    db_session.commit()
    page = client.get(f"/verify/{revoked.code}", headers={"Accept-Language": "zh-CN"})
    assert page.status_code == 200
    assert 'data-verify-status="revoked"' in page.get_data(as_text=True)
    assert "误发" in page.get_data(as_text=True)

    replaced = certificate_of(db_session, complete(db_session, make_staff("learner")))
    new = services.reissue(hr, replaced, note="姓名更正", now=utcnow())
    db_session.commit()
    page = client.get(f"/verify/{replaced.code}").get_data(as_text=True)
    assert 'data-verify-status="superseded"' in page and new.serial in page
    assert f"/verify/{new.code}" in page

    unknown = client.get("/verify/ABCDEFGHJKLM")
    assert unknown.status_code == 404
    assert 'data-verify-status="unknown"' in unknown.get_data(as_text=True)


def test_failed_look_ups_are_limited_per_address_and_valid_ones_never_count(issued, client):
    for _ in range(40):
        assert client.get(f"/verify/{issued.code}").status_code == 200
    for attempt in range(30):
        assert client.get(f"/verify/ZZZZZZZZZZ{attempt:02d}").status_code == 404
    refused = client.get("/verify/ZZZZZZZZZZZZ", headers={"Accept-Language": "zh-CN"})
    assert refused.status_code == 429
    assert "十分钟" in refused.get_data(as_text=True)
    other = client.get("/verify/ZZZZZZZZZZZZ", environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert other.status_code == 404


# -- revoking and reissuing -----------------------------------------------------------------------

def test_hr_revokes_through_the_site_and_both_records_stay(issued, users, client, db_session):
    client.login(users["hr"].employee_no)
    refused = client.post(f"/training/certificates/{issued.id}/revoke",
                          {"reason": "withdrawn", "note": ""})
    assert refused.status_code == 302
    db_session.expire_all()
    assert db_session.get(Certificate, issued.id).revoked_at is None
    done = client.post(f"/training/certificates/{issued.id}/revoke",
                       {"reason": "withdrawn", "note": "考核作弊，撤销"})
    assert done.status_code == 302
    db_session.expire_all()
    kept = db_session.get(Certificate, issued.id)
    assert kept.revoked_at is not None and kept.revoke_reason == "withdrawn"
    event = db_session.scalar(select(AuditEvent).where(
        AuditEvent.action == "certificate.revoked", AuditEvent.object_id == str(issued.id)))
    assert event.actor_id == users["hr"].id and event.details["note"] == "考核作弊，撤销"
    again = client.post(f"/training/certificates/{issued.id}/reissue", {"note": "x"})
    assert again.status_code == 302
    assert db_session.scalar(select(func.count()).select_from(Certificate)) == 1


def test_reissue_after_a_name_correction_supersedes_and_keeps_the_old(
        app, issued, users, client, db_session):
    from trainer.accounts.models import StaffMember

    old_pdf = rendered(app, db_session, issued)
    db_session.get(StaffMember, issued.staff_id).name = "张卫"
    db_session.commit()
    client.login(users["hr"].employee_no)
    response = client.post(f"/training/certificates/{issued.id}/reissue",
                           {"note": "姓名录入有误，更正为张卫"})
    assert response.status_code == 302
    db_session.expire_all()
    old = db_session.get(Certificate, issued.id)
    new = db_session.get(Certificate, old.superseded_by_id)
    assert new.supersedes_id == old.id and new.serial != old.serial and new.code != old.code
    assert new.snapshot["name"] == "张卫" and new.snapshot["reissue_of"] == old.serial
    assert old.snapshot["name"] == "张伟"
    assert db_session.get(StoredFile, old.pdf_file_id).data == old_pdf
    assert new.enrolment_id == old.enrolment_id and new.pdf_file_id is None
    assert db_session.scalar(select(AuditEvent).where(
        AuditEvent.action == "certificate.reissued", AuditEvent.actor_id == users["hr"].id))
    twice = client.post(f"/training/certificates/{issued.id}/reissue", {"note": "再来"})
    assert twice.status_code == 302
    assert db_session.scalar(select(func.count()).select_from(Certificate)) == 2


def test_only_hr_revokes(issued, users, client, db_session):
    client.login(users["trainer"].employee_no)
    assert client.post(f"/training/certificates/{issued.id}/revoke",
                       {"reason": "withdrawn", "note": "x"}).status_code == 403
    db_session.expire_all()
    assert db_session.get(Certificate, issued.id).revoked_at is None


# -- HR's list ------------------------------------------------------------------------------------

def test_hr_filters_sees_what_expires_soon_and_downloads_a_zip(app, content, make_staff, users,
                                                              client, db_session, monkeypatch):
    soon = certificate_of(db_session, complete(
        db_session, make_staff("learner", department="客服二部"), "inservice",
        at=utcnow() - timedelta(days=340)))
    later = certificate_of(db_session, complete(db_session, make_staff("learner"), "inservice"))
    onboarding = certificate_of(db_session, complete(db_session, make_staff("learner")))
    for certificate in (soon, later):
        rendered(app, db_session, certificate)
    client.login(users["hr"].employee_no)
    page = client.get("/training/certificates").get_data(as_text=True)
    assert 'data-expiring="1"' in page
    listed = client.get("/training/certificates?expiring=60").get_data(as_text=True)
    assert soon.serial in listed and later.serial not in listed
    assert onboarding.serial not in listed
    kinds = client.get("/training/certificates?source=onboarding").get_data(as_text=True)
    assert onboarding.serial in kinds and soon.serial not in kinds
    preparing = client.get("/training/certificates?status=preparing").get_data(as_text=True)
    assert onboarding.serial in preparing and soon.serial not in preparing
    from trainer.accounts.models import Department

    second = db_session.scalar(select(Department.id).where(Department.name == "客服二部"))
    by_department = client.get(f"/training/certificates?department={second}").get_data(
        as_text=True)
    assert soon.serial in by_department and later.serial not in by_department

    from trainer.certificates import routes as certificate_routes

    monkeypatch.setattr(certificate_routes, "ZIP_BATCH", 1)   # each PDF read by a statement
    response = client.get("/training/certificates/export.zip?source=inservice")
    assert response.status_code == 200 and response.is_streamed
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    assert sorted(archive.namelist()) == sorted([f"{soon.serial}.pdf", f"{later.serial}.pdf"])
    assert archive.read(f"{soon.serial}.pdf").startswith(b"%PDF-")
    assert archive.testzip() is None
    assert client.get("/training/certificates?expiring=abc").status_code == 200


def test_a_learner_may_not_open_hr_pages(issued, users, client):
    client.login(users["learner"].employee_no)
    assert client.get("/training/certificates").status_code == 403
    assert client.get("/training/certificates/export.zip").status_code == 403


def test_the_staff_page_lists_their_certificates(issued, users, client):
    client.login(users["hr"].employee_no)
    page = client.get(f"/staff/{issued.staff_id}").get_data(as_text=True)
    assert "data-certificates-panel" in page and issued.serial in page


# -- classes --------------------------------------------------------------------------------------

def test_a_completed_class_issues_a_completion_certificate_when_it_says_so(users, make_staff,
                                                                           db_session):
    from trainer.attendance import services as attendance
    from trainer.attendance.signals import class_completed

    cls = attendance.save_class(users["trainer"], None, attendance.ClassFields(
        title="投诉处理专题班", hours_category="岗位技能", issues_certificate=True),
        now=utcnow())
    plain = attendance.save_class(users["trainer"], None, attendance.ClassFields(
        title="系统操作复习", hours_category="岗位技能"), now=utcnow())
    person = make_staff("learner")
    for each in (cls, plain, cls):
        class_completed.send(each, staff_id=person.id, now=utcnow())
    db_session.commit()
    issued = db_session.scalars(select(Certificate).where(
        Certificate.staff_id == person.id)).all()
    assert len(issued) == 1 and issued[0].class_id == cls.id
    assert issued[0].serial.startswith("JY-") and issued[0].snapshot["title"] == "结业证书"
    assert issued[0].snapshot["track"] == "投诉处理专题班"


def test_a_completion_withdrawn_by_a_correction_revokes_its_certificate(users, make_staff,
                                                                        db_session):
    """A correction that takes someone below the class's completion share withdraws the
    completion: its 结业证书 is revoked (it stayed valid and verifiable). Corrected back, the
    person gets a new certificate that supersedes the revoked one."""
    from tests.integration.test_attendance import add_session, soon
    from trainer.attendance import services as attendance
    from trainer.attendance.models import ClassCompletion

    trainer = users["trainer"]
    cls = attendance.save_class(trainer, None, attendance.ClassFields(
        title="投诉处理专题班", hours_category="岗位技能", issues_certificate=True),
        now=utcnow())
    session = add_session(cls, trainer, soon(-120), minutes=50)
    person = make_staff("learner")
    attendance.invite(trainer, cls, [person], now=utcnow())
    attendance.mark_all_present(trainer, session, now=utcnow())
    attendance.close_session(trainer, session, now=utcnow())
    first = db_session.scalar(select(Certificate).where(Certificate.class_id == cls.id))
    assert first is not None and first.revoked_at is None

    attendance.correct(trainer, session, person, kind="absent", now=utcnow(),
                       reason="签到表核对：当天未到")
    db_session.flush()
    assert db_session.scalar(select(ClassCompletion).where(
        ClassCompletion.class_id == cls.id)) is None
    db_session.refresh(first)
    assert first.revoked_at is not None and first.revoke_reason == "withdrawn"
    assert first.revoked_by_id is None and first.revoke_note
    actions = set(db_session.scalars(select(AuditEvent.action).where(
        AuditEvent.action.in_(["class.completion_withdrawn", "certificate.revoked"]))))
    assert actions == {"class.completion_withdrawn", "certificate.revoked"}

    attendance.correct(trainer, session, person, kind="correction", now=utcnow(),
                       reason="补录：实际到课", check_in_at=session.starts_at,
                       check_out_at=session.ends_at)
    db_session.flush()
    certificates = db_session.scalars(select(Certificate).where(
        Certificate.class_id == cls.id).order_by(Certificate.id)).all()
    assert len(certificates) == 2
    old, new = certificates
    assert old.id == first.id and old.revoked_at is not None
    assert new.revoked_at is None and new.supersedes_id == old.id
    assert old.superseded_by_id == new.id and new.serial != old.serial


def test_issue_missing_catches_up_once(app, content, make_staff, db_session):
    person = make_staff("learner")
    enrolment = learning._create(person, learning.track_by_key("promotion"), reason="manual",
                                 due_on=utcnow().date(), now=utcnow(), actor_id=None)
    enrolment.state, enrolment.completed_at = "completed", utcnow()
    enrolment.target_position = "班组长"
    db_session.commit()   # (completed before certificates were kept: no signal)
    runner = app.test_cli_runner()
    assert "issued: 1" in runner.invoke(args=["certificates", "issue-missing"]).output
    assert "issued: 0" in runner.invoke(args=["certificates", "issue-missing"]).output
    certificate = certificate_of(db_session, enrolment)
    assert certificate.serial.startswith("JS-")
    assert certificate.snapshot["target_position"] == "班组长"


# -- external certificates ------------------------------------------------------------------------

def _jpeg_with_location() -> bytes:
    from PIL import Image

    image = Image.new("RGB", (40, 30), "white")
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"                       # Make
    exif[0x8825] = {1: "N", 2: (31.0, 14.0, 0.0)}     # GPS
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    return out.getvalue()


def _form(data: bytes, name: str, **fields):
    return {"file": (io.BytesIO(data), name), "issuer": "市人社局职业技能鉴定中心",
            "title": "呼叫中心服务员（四级）", "started_on": "2026-10-10",
            "finished_on": "2026-10-12", "hours": "16", "category": "岗位技能", **fields}


def test_an_agent_hands_in_a_picture_stripped_of_its_metadata_and_hr_approves(
        users, client, another_client, db_session):
    from PIL import Image

    learner = users["learner"]
    original = _jpeg_with_location()
    assert b"PhoneMaker" in original
    client.login(learner.employee_no)
    response = client.post("/certificates/external", _form(original, "cert.jpg"),
                           content_type="multipart/form-data")
    assert response.status_code == 302
    external = db_session.scalar(select(ExternalCertificate).where(
        ExternalCertificate.staff_id == learner.id))
    assert external.state == "pending"
    download = client.get(f"/certificates/external/{external.id}/file")
    assert download.status_code == 200 and download.headers["Content-Type"] == "image/jpeg"
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert b"PhoneMaker" not in download.data
    assert not Image.open(io.BytesIO(download.data)).getexif()

    another_client.login(users["hr"].employee_no)
    assert "呼叫中心服务员" in another_client.get("/training/certificates/external").get_data(
        as_text=True)
    assert another_client.post(f"/training/certificates/external/{external.id}/decide",
                               {"decision": "approve", "note": ""}).status_code == 302
    db_session.expire_all()
    line = db_session.scalar(select(HoursEntry).where(
        HoursEntry.staff_id == learner.id, HoursEntry.source_kind == "external"))
    assert line.minutes == 16 * learning.minutes_per_hour() and line.category == "岗位技能"
    todo = db_session.scalar(select(TodoItem).where(TodoItem.staff_id == learner.id,
                                                    TodoItem.kind == "external.decided"))
    assert todo.params["state"] == "approved"
    assert another_client.post(f"/training/certificates/external/{external.id}/decide",
                               {"decision": "decline", "note": "x"}).status_code == 302
    db_session.expire_all()
    assert db_session.get(ExternalCertificate, external.id).state == "approved"


def test_hr_declines_with_a_reason_that_reaches_the_agent(users, client, db_session):
    hr, learner = users["hr"], users["learner"]
    external = services.add_external(
        hr, learner, data=b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n",
        filename="scan.pdf", issuer="某培训机构", title="沟通技巧", started_on=utcnow().date(),
        finished_on=utcnow().date(), hours=Decimal("3.5"), category="岗位技能", now=utcnow())
    db_session.commit()
    with pytest.raises(Exception, match="declined"):
        services.decide_external(hr, external, False, note=" ", now=utcnow())
    services.decide_external(hr, external, False, note="证书与本人不符", now=utcnow())
    db_session.commit()
    client.login(learner.employee_no)
    page = client.get("/my", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "证书与本人不符" in page
    assert db_session.scalar(select(func.count()).select_from(HoursEntry).where(
        HoursEntry.source_kind == "external")) == 0


SVG = (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg">'
       b'<script>alert(1)</script></svg>')


@pytest.mark.parametrize("data,name,message", [
    (SVG, "cert.svg", "只接受 PDF/PNG/JPEG"),
    (SVG, "cert.png", "只接受 PDF/PNG/JPEG"),
    (b"MZ\x90\x00" + b"\x00" * 100, "cert.pdf", "只接受 PDF/PNG/JPEG"),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "cert.png", "无法读取图片"),
    (b"%PDF-1.4\n" + b"\x00" * 100, "cert.pdf", "不完整"),
    (b"%PDF-1.4\n" + b"0" * (5 * 1024 * 1024), "big.pdf", "文件过大"),
])
def test_bad_uploads_are_refused_and_store_nothing(users, client, db_session, data, name,
                                                   message):
    client.login(users["learner"].employee_no)
    response = client.post("/certificates/external", _form(data, name),
                           content_type="multipart/form-data", follow_redirects=True)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert db_session.scalar(select(func.count()).select_from(ExternalCertificate)) == 0
    assert db_session.scalar(select(func.count()).select_from(StoredFile)) == 0


def test_a_decompression_bomb_is_refused(users, client, db_session):
    from PIL import Image

    out = io.BytesIO()
    Image.new("1", (10_000, 10_000)).save(out, format="PNG")   # 100 Mpx in a few KB
    assert len(out.getvalue()) < 100_000
    client.login(users["learner"].employee_no)
    response = client.post("/certificates/external", _form(out.getvalue(), "bomb.png"),
                           content_type="multipart/form-data", follow_redirects=True)
    assert "图片尺寸过大" in response.get_data(as_text=True)
    assert db_session.scalar(select(func.count()).select_from(StoredFile)) == 0


def test_an_upload_with_wrong_dates_or_hours_changes_nothing(users, client, db_session):
    client.login(users["learner"].employee_no)
    png = io.BytesIO()
    from PIL import Image

    Image.new("RGB", (20, 20)).save(png, format="PNG")
    for fields in ({"finished_on": "2026-10-01"}, {"hours": "2.3"}, {"category": "不存在"},
                   {"finished_on": (utcnow().date() + timedelta(days=5)).isoformat()}):
        client.post("/certificates/external", _form(png.getvalue(), "c.png", **fields),
                    content_type="multipart/form-data")
    assert db_session.scalar(select(func.count()).select_from(StoredFile)) == 0


def test_only_the_owner_and_hr_read_an_external_file(users, client, make_staff, db_session):
    external = services.add_external(
        users["learner"], users["learner"], data=b"%PDF-1.4\ntrailer<<>>\n%%EOF\n",
        filename="a.pdf", issuer="机构", title="课程", started_on=utcnow().date(),
        finished_on=utcnow().date(), hours=Decimal(2), category="岗位技能", now=utcnow())
    db_session.commit()
    client.login(users["learner2"].employee_no)
    assert client.get(f"/certificates/external/{external.id}/file").status_code == 404


def test_hr_hands_in_for_staff_but_not_for_an_administrator(users, client, db_session):
    """HR acts on staff records, an administrator's only an administrator (as on the staff
    page): no form on an admin's page, and the post itself refused, storing nothing."""
    png = io.BytesIO()
    from PIL import Image

    Image.new("RGB", (20, 20)).save(png, format="PNG")
    client.login(users["hr"].employee_no)
    admin_page = client.get(f"/staff/{users['admin'].id}").get_data(as_text=True)
    assert f"/staff/{users['admin'].id}/external" not in admin_page
    assert f"/staff/{users['learner'].id}/external" in client.get(
        f"/staff/{users['learner'].id}").get_data(as_text=True)
    refused = client.post(f"/staff/{users['admin'].id}/external", _form(png.getvalue(), "c.png"),
                          content_type="multipart/form-data")
    assert refused.status_code in (302, 403)
    assert db_session.scalar(select(func.count()).select_from(StoredFile)) == 0
    assert db_session.scalar(select(func.count()).select_from(ExternalCertificate)) == 0
    client.post(f"/staff/{users['learner'].id}/external", _form(png.getvalue(), "c.png"),
                content_type="multipart/form-data")
    assert db_session.scalar(select(func.count()).select_from(ExternalCertificate)) == 1


# -- the seal -------------------------------------------------------------------------------------

def test_the_admin_uploads_a_seal_that_later_certificates_carry(app, content, users, client,
                                                                make_staff, db_session):
    from PIL import Image

    png = io.BytesIO()
    Image.new("RGBA", (120, 120), (200, 0, 0, 128)).save(png, format="PNG")
    client.login(users["hr"].employee_no)
    assert client.post("/training/certificates/seal", {"file": (io.BytesIO(png.getvalue()),
                       "seal.png")}, content_type="multipart/form-data").status_code == 403
    client.post("/logout")
    client.login(users["admin"].employee_no)
    jpeg = io.BytesIO()
    Image.new("RGB", (50, 50)).save(jpeg, format="JPEG")
    refused = client.post("/training/certificates/seal", {"file": (io.BytesIO(jpeg.getvalue()), "seal.png")},
                          content_type="multipart/form-data", follow_redirects=True)
    assert "只接受 PNG" in refused.get_data(as_text=True)
    assert db_session.scalar(select(func.count()).select_from(StoredFile)) == 0
    assert client.post("/training/certificates/seal", {"file": (io.BytesIO(png.getvalue()),
                       "seal.png")}, content_type="multipart/form-data").status_code == 302
    assert client.get("/training/certificates/seal.png").status_code == 200
    certificate = certificate_of(db_session, complete(db_session, make_staff("learner")))
    assert certificate.snapshot["seal_file"]
    data = rendered(app, db_session, certificate)
    import pypdfium2

    images = [obj for obj in pypdfium2.PdfDocument(data)[0].get_objects()
              if obj.type == pypdfium2.raw.FPDF_PAGEOBJ_IMAGE]
    assert images    # the seal (the QR code is a vector drawing)
