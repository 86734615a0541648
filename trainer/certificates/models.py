"""Certificates issued once and kept: their snapshot, their signed PDF, their status; external
certificates people hand in; the files both keep."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    LargeBinary,
    Numeric,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, deferred, mapped_column

from trainer.core.db import db

KINDS = ("track", "class")
SOURCES = ("onboarding", "inservice", "reentry", "promotion", "transfer", "class")
REVOKE_REASONS = ("withdrawn", "issued_in_error")
EXTERNAL_STATES = ("pending", "approved", "declined")


class StoredFile(db.Model):
    """A file the site keeps (a signed certificate, an uploaded scan), in the database so every
    app server sees it. Read only when downloaded (the bytes are a deferred column)."""

    __tablename__ = "stored_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    content_type: Mapped[str] = mapped_column(String(64))
    size: Mapped[int]
    data: Mapped[bytes] = deferred(mapped_column(LargeBinary))
    created_at: Mapped[datetime]


class SerialCounter(db.Model):
    """The last serial number given per prefix and year (RZ-2026-000123)."""

    __tablename__ = "certificate_serials"

    prefix: Mapped[str] = mapped_column(String(4), primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True)
    last: Mapped[int] = mapped_column(default=0)


class Certificate(db.Model):
    """A certificate, issued once: what it certifies is a snapshot taken at issue (a name
    corrected later changes neither it nor its PDF); revoking changes its status, never removes
    it; a reissue supersedes it."""

    __tablename__ = "certificates"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_members.id", ondelete="RESTRICT"),
                                          index=True)
    kind: Mapped[str] = mapped_column(String(8))
    source: Mapped[str] = mapped_column(String(12))
    # What earned it: exactly one certificate per completed enrolment, or per class and person.
    enrolment_id: Mapped[int | None] = mapped_column(ForeignKey("enrolments.id",
                                                                ondelete="RESTRICT"))
    class_id: Mapped[int | None] = mapped_column(ForeignKey("classes.id", ondelete="RESTRICT"))
    serial: Mapped[str] = mapped_column(String(20), unique=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    issued_at: Mapped[datetime]
    expires_at: Mapped[datetime | None]
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON)
    template_version: Mapped[int]
    # Filled once, after the issuing transaction: the signed PDF is never made again.
    pdf_file_id: Mapped[int | None] = mapped_column(ForeignKey("stored_files.id"))
    pdf_sha256: Mapped[str | None] = mapped_column(String(64))
    signed_with: Mapped[str | None] = mapped_column(String(64))   # the signing cert's SHA-256
    rendered_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_members.id",
                                                                 ondelete="SET NULL"))
    revoke_reason: Mapped[str | None] = mapped_column(String(16))
    revoke_note: Mapped[str] = mapped_column(Text, default="")
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("certificates.id"))
    superseded_by_id: Mapped[int | None] = mapped_column(ForeignKey("certificates.id"))

    __table_args__ = (
        CheckConstraint(f"kind IN {KINDS}", name="kind_valid"),
        CheckConstraint(f"source IN {SOURCES}", name="source_valid"),
        CheckConstraint(f"revoke_reason IS NULL OR revoke_reason IN {REVOKE_REASONS}",
                        name="revoke_reason_valid"),
        # A reissue (supersedes_id set) stands beside the one it replaces; an original is one
        # per completed enrolment, and one per class and person.
        Index("uq_certificates_enrolment", "enrolment_id", unique=True,
              sqlite_where=text("supersedes_id IS NULL AND enrolment_id IS NOT NULL"),
              postgresql_where=text("supersedes_id IS NULL AND enrolment_id IS NOT NULL")),
        Index("uq_certificates_class_person", "class_id", "staff_id", unique=True,
              sqlite_where=text("supersedes_id IS NULL AND class_id IS NOT NULL"),
              postgresql_where=text("supersedes_id IS NULL AND class_id IS NOT NULL")),
        Index("ix_certificates_expires", "expires_at"),
        # The renderer's queue: those still being prepared (few at any time).
        Index("ix_certificates_unrendered", "id",
              sqlite_where=text("pdf_file_id IS NULL"),
              postgresql_where=text("pdf_file_id IS NULL")),
    )


class ExternalCertificate(db.Model):
    """A certificate of training elsewhere (外派培训, 取证考证) handed in by the agent or HR: the
    scan, what it is, and HR's decision; approved 学时 go to learning's ledger."""

    __tablename__ = "external_certificates"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_members.id", ondelete="CASCADE"),
                                          index=True)
    issuer: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(200))
    started_on: Mapped[date]
    finished_on: Mapped[date]
    hours: Mapped[Decimal] = mapped_column(Numeric(5, 1))
    category: Mapped[str] = mapped_column(String(20))
    file_id: Mapped[int] = mapped_column(ForeignKey("stored_files.id"))
    file_name: Mapped[str] = mapped_column(String(200))
    uploaded_at: Mapped[datetime]
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_members.id",
                                                                  ondelete="SET NULL"))
    state: Mapped[str] = mapped_column(String(10), default="pending")
    decided_at: Mapped[datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_members.id",
                                                                 ondelete="SET NULL"))
    decision_note: Mapped[str] = mapped_column(Text, default="")

    __table_args__ = (
        CheckConstraint(f"state IN {EXTERNAL_STATES}", name="state_valid"),
        CheckConstraint("hours >= 0", name="hours_not_negative"),
        CheckConstraint("finished_on >= started_on", name="dates_in_order"),
    )

