"""A certificate's document: its HTML, drawn from the snapshot only, with the QR code of its
verification page (built from TRAINER_PUBLIC_URL: the renderer may run where no request names a
host) and the seal the snapshot names; rendered, signed, and kept once.

Rendering and signing take ~50 ms and happen outside any write transaction: only keeping the
result takes SQLite's write lock, for a moment."""
from __future__ import annotations

import base64

import segno
from flask import current_app, render_template

from trainer.certificates.models import Certificate
from trainer.certificates import services
from trainer.certificates.services import file_bytes
from trainer.core.db import db, write_intent
from trainer.core.timeutil import utcnow


def verify_url(code: str) -> str:
    return f"{current_app.config['PUBLIC_URL']}/verify/{code}"


def html_of(certificate: Certificate) -> str:
    url = verify_url(certificate.code)
    qr = segno.make(url, error="m").svg_data_uri(scale=4, border=1)
    seal_id = certificate.snapshot.get("seal_file")
    seal = None
    if seal_id:
        data = file_bytes(seal_id)
        if data:
            seal = "data:image/png;base64," + base64.b64encode(data).decode()
    return render_template("certificates/document.html", s=certificate.snapshot, qr=qr,
                           verify_url=url, seal=seal)


def signed_pdf(certificate: Certificate) -> tuple[bytes, str]:
    """(the signed PDF of the certificate's snapshot, the signing certificate's fingerprint)."""
    from trainer.certificates import signing
    from trainer.core import pdf

    document = pdf.render(html_of(certificate), stylesheets=("css/certificate.css",))
    return signing.sign(current_app.config, document)


def render_and_keep(certificate_id: int) -> bool:
    """Render, sign and keep one certificate's PDF unless it has one (commits: a command's or
    a download's own step). Returns whether this call kept it."""
    certificate = db.session.get(Certificate, certificate_id)
    if certificate is None or certificate.pdf_file_id is not None:
        db.session.rollback()
        return False
    signed, fingerprint = signed_pdf(certificate)
    db.session.rollback()   # (the read ends; the write takes the write path)
    with write_intent():
        kept = services.store_pdf(certificate_id, signed, fingerprint, now=utcnow())
        db.session.commit()
    return kept


def render_pending(limit: int | None = None) -> int:
    """Every certificate still being prepared (`trainer certificates render`): idempotent, and
    safe beside a download rendering the same one."""
    ids = services.unrendered_ids(limit)
    db.session.rollback()
    return sum(1 for certificate_id in ids if render_and_keep(certificate_id))
