"""The demo's certificates, as `trainer setup --demo` makes them: 许晴 (K0012) completed
onboarding through the site's own steps and holds a valid, rendered 入职培训合格证 whose QR code
opens its verification page; 李娜's (K0001) in-service certificate expires within 60 days; one
class certificate is revoked."""
from __future__ import annotations

from urllib.parse import urlsplit

from sqlalchemy import select

from tests.integration.test_attendance_demo import sign_in
from trainer.accounts.models import StaffMember
from trainer.certificates.models import Certificate, StoredFile
from trainer.core.db import db
from trainer.core.timeutil import utcnow


def _certificates(app, number):
    with app.app_context():
        person = db.session.scalar(select(StaffMember).where(StaffMember.employee_no == number))
        found = db.session.scalars(select(Certificate).where(
            Certificate.staff_id == person.id).order_by(Certificate.id)).all()
        db.session.expunge_all()
        db.session.remove()
    return found


def test_the_onboarded_agent_holds_a_valid_certificate_whose_qr_opens_its_page(demo):
    import pypdfium2
    import zxingcpp

    onboarding = [c for c in _certificates(demo, "K0012") if c.source == "onboarding"]
    assert len(onboarding) == 1
    certificate = onboarding[0]
    assert certificate.pdf_file_id is not None   # rendered at setup
    client, _ = sign_in(demo, "K0012")
    mine = client.get("/certificates").get_data(as_text=True)
    assert certificate.serial in mine and 'data-status="valid"' in mine
    data = client.get(f"/certificates/{certificate.id}.pdf").data
    image = pypdfium2.PdfDocument(data)[0].render(scale=3).to_pil()
    (url,) = [r.text for r in zxingcpp.read_barcodes(image)]
    assert url.endswith(f"/verify/{certificate.code}")
    verifier = demo.test_client()   # signed out, as an employer checking it would be
    page = verifier.get(urlsplit(url).path).get_data(as_text=True)
    assert 'data-verify-status="valid"' in page and "许*" in page and "入职培训合格证" in page
    with demo.app_context():
        stored = db.session.get(StoredFile, certificate.pdf_file_id)
        assert stored.sha256 in page and stored.data == data
        db.session.remove()


def test_one_in_service_certificate_expires_within_60_days_and_hr_is_told(demo):
    (inservice,) = [c for c in _certificates(demo, "K0001") if c.source == "inservice"]
    assert 0 < (inservice.expires_at - utcnow()).days <= 60
    client, _ = sign_in(demo, "H0001")
    page = client.get("/training/certificates").get_data(as_text=True)
    assert 'data-expiring="1"' in page
    soon = client.get("/training/certificates?expiring=60").get_data(as_text=True)
    assert inservice.serial in soon


def test_one_certificate_is_revoked_and_its_page_says_so(demo):
    (revoked,) = [c for c in _certificates(demo, "K0006") if c.revoked_at is not None]
    page = demo.test_client().get(f"/verify/{revoked.code}").get_data(as_text=True)
    assert 'data-verify-status="revoked"' in page and "误发" in page
