"""Issuing, rendering, verifying, revoking and reissuing certificates; external certificates.
Services flush, never commit.

Issuing is part of the transaction that completed the track or the class (a subscriber of
learning's and attendance's signals): it only writes the certificate's row — serial, code,
snapshot — so a submit or the nightly sweep never waits on a PDF. The PDF is rendered from the
snapshot, signed and stored afterwards, by `trainer certificates render` or at the first
download, whichever comes first, and never again."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from trainer.accounts.models import StaffMember
from trainer.accounts import services as accounts
from trainer.certificates import rules
from trainer.certificates.models import Certificate, ExternalCertificate, SerialCounter, StoredFile
from trainer.core.audit import record_event
from trainer.core.db import db
from trainer.core.errors import DomainError, Forbidden, NotFound
from trainer.core.settings import centre_timezone, get_setting
from trainer.core.timeutil import local_date
from trainer.core.todos import add_todo
from trainer.learning import services as learning
from trainer.learning.models import Course, Enrolment, EnrolmentRequirement, HoursEntry, Track
from trainer.learning.rules import add_months

TEMPLATE_VERSION = 1
MANAGERS = ("hr", "admin")
TITLES = {  # (Chinese, English): the wording a certificate carries, fixed when it is issued
    "onboarding": ("入职培训合格证", "Certificate of Onboarding Training"),
    "inservice": ("在岗培训合格证", "Certificate of In-service Training"),
    "reentry": ("复岗培训合格证", "Certificate of Re-entry Training"),
    "promotion": ("晋升培训合格证", "Certificate of Promotion Training"),
    "class": ("结业证书", "Certificate of Completion"),
}


# -- files ----------------------------------------------------------------------------------------

def store_file(data: bytes, content_type: str, *, now: datetime) -> StoredFile:
    stored = StoredFile(sha256=hashlib.sha256(data).hexdigest(), content_type=content_type,
                        size=len(data), data=data, created_at=now)
    db.session.add(stored)
    db.session.flush()
    return stored


def file_bytes(file_id: int) -> bytes:
    return db.session.scalar(select(StoredFile.data).where(StoredFile.id == file_id))


# -- issuing --------------------------------------------------------------------------------------

def next_serial(prefix: str, year: int) -> str:
    """The next serial of a prefix and year: one counter row, moved in the issuing transaction
    (two issuing at once take turns on it)."""
    moved = db.session.execute(update(SerialCounter).where(
        SerialCounter.prefix == prefix, SerialCounter.year == year).values(
        last=SerialCounter.last + 1).returning(SerialCounter.last)).scalar()
    if moved is None:
        try:
            with db.session.begin_nested():
                db.session.execute(insert(SerialCounter).values(prefix=prefix, year=year,
                                                                last=1))
            moved = 1
        except IntegrityError:  # made meanwhile by another transaction: move it
            return next_serial(prefix, year)
    return rules.serial(prefix, year, moved)


def _unique_code() -> str:
    while True:
        code = rules.new_code()
        if db.session.scalar(select(Certificate.id).where(Certificate.code == code)) is None:
            return code


def _person_snapshot(person: StaffMember) -> dict[str, Any]:
    return {"name": person.name, "employee_no": person.employee_no,
            "department": person.department_name, "position": person.position_name}


def _centre() -> dict[str, Any]:
    """The issuer as it stands at issue: a seal uploaded later is not put on this one."""
    return {"centre": get_setting("centre_name"), "centre_en": get_setting("centre_name_en"),
            "seal_file": get_setting("certificate_seal_file") or None}


def _hours_text(minutes: int) -> str:
    """学时 as printed: 12, 12.5 (whole and half hours, as the ledger counts them)."""
    text = format(learning.to_hours(minutes, learning.minutes_per_hour()).quantize(
        Decimal("0.1")), "f")
    return text.removesuffix(".0")


def issue_for_enrolment(enrolment: Enrolment, *, now: datetime) -> Certificate | None:
    """A completed track's certificate, if the track issues one: the row and its snapshot
    only. Exactly one per enrolment, however often this is called."""
    track = db.session.get(Track, enrolment.track_id)
    if enrolment.state != "completed" or track is None or not track.issues_certificate:
        return None
    existing = db.session.scalar(select(Certificate).where(
        Certificate.enrolment_id == enrolment.id, Certificate.supersedes_id.is_(None)))
    if existing is not None:
        return existing
    person = db.session.get(StaffMember, enrolment.staff_id)
    completed_at = enrolment.completed_at or now
    course_ids = list(dict.fromkeys(db.session.scalars(
        select(EnrolmentRequirement.course_id).where(
            EnrolmentRequirement.enrolment_id == enrolment.id)
        .order_by(EnrolmentRequirement.position))))
    courses = {c.id: c.title for c in db.session.scalars(select(Course).where(
        Course.id.in_(course_ids)))}
    minutes = db.session.scalar(select(func.coalesce(func.sum(HoursEntry.minutes), 0)).where(
        HoursEntry.staff_id == person.id, HoursEntry.source_kind == "course",
        HoursEntry.source_id.in_(course_ids))) or 0
    expires = None
    if track.key == "inservice":
        expires = add_months_utc(completed_at, get_setting("inservice_valid_months"))
    zh, en = TITLES.get(track.key, (track.title, track.title_en))
    snapshot = {**_person_snapshot(person), **_centre(), "title": zh, "title_en": en,
                "track": track.title, "courses": [courses[i] for i in course_ids if i in courses],
                "hours": _hours_text(int(minutes)),
                "target_position": enrolment.target_position or "",
                "completed_on": local_date(completed_at, centre_timezone()).isoformat()}
    return _issue(person, "track", track.key, snapshot, issued_at=completed_at,
                  expires_at=expires, enrolment_id=enrolment.id, now=now)


def add_months_utc(moment: datetime, months: int) -> datetime:
    """The same moment `months` later (the 31st of a short month: its last day)."""
    day = add_months(moment.date(), months)
    return moment.replace(year=day.year, month=day.month, day=day.day)


def issue_for_class(cls, staff_id: int, *, now: datetime) -> Certificate | None:
    """A 结业证书 for a completed class, if the class issues one; one per class and person."""
    if not cls.issues_certificate:
        return None
    existing = _latest_for_class(cls.id, staff_id)
    if existing is not None and existing.revoked_at is None:
        return existing
    # None yet; or the last was revoked when the completion was withdrawn, and a later
    # correction completed the class again: a new certificate supersedes the revoked one.
    person = db.session.get(StaffMember, staff_id)
    minutes = db.session.scalar(select(HoursEntry.minutes).where(
        HoursEntry.staff_id == staff_id, HoursEntry.source_kind == "class",
        HoursEntry.source_id == cls.id)) or 0
    zh, en = TITLES["class"]
    snapshot = {**_person_snapshot(person), **_centre(), "title": zh, "title_en": en,
                "track": cls.title, "courses": [], "hours": _hours_text(int(minutes)),
                "target_position": "", "completed_on": local_date(
                    now, centre_timezone()).isoformat()}
    issued = _issue(person, "class", "class", snapshot, issued_at=now, expires_at=None,
                    class_id=cls.id, now=now, supersedes=existing)
    if existing is not None:
        existing.superseded_by_id = issued.id
        db.session.flush()
    return issued


def _latest_for_class(class_id: int, staff_id: int) -> Certificate | None:
    """The last certificate of a class and person (an original, or the reissue at the end of
    its chain)."""
    return db.session.scalar(select(Certificate).where(
        Certificate.class_id == class_id, Certificate.staff_id == staff_id,
        Certificate.superseded_by_id.is_(None)).order_by(Certificate.id.desc()).limit(1))


# Said on the certificate's verification page and in its record (content, in Chinese).
WITHDRAWN_NOTE = "出勤更正后未达到结业要求，结业证书由系统撤销。"


def revoke_for_withdrawn_completion(cls, staff_id: int, *, now: datetime) -> Certificate | None:
    """The class's 结业证书 of a person whose completion a correction withdrew: revoked as
    withdrawn, by the system (no person), audited. None when there is none in force."""
    certificate = _latest_for_class(cls.id, staff_id)
    if certificate is None or certificate.revoked_at is not None:
        return None
    certificate.revoked_at, certificate.revoked_by_id = now, None
    certificate.revoke_reason, certificate.revoke_note = "withdrawn", WITHDRAWN_NOTE
    record_event(None, "certificate.revoked", "certificate", certificate.id, now=now,
                 details={"serial": certificate.serial, "reason": "withdrawn",
                          "note": WITHDRAWN_NOTE, "class": cls.id})
    db.session.flush()
    return certificate


def _issue(person: StaffMember, kind: str, source: str, snapshot: dict[str, Any], *,
           issued_at: datetime, expires_at: datetime | None, now: datetime,
           enrolment_id: int | None = None, class_id: int | None = None,
           supersedes: Certificate | None = None) -> Certificate:
    tz = centre_timezone()
    year = local_date(issued_at, tz).year
    serial, code = next_serial(rules.PREFIXES[source], year), _unique_code()
    snapshot = {**snapshot, "serial": serial, "code": code,
                "issued_on": local_date(issued_at, tz).isoformat(),
                "expires_on": local_date(expires_at, tz).isoformat() if expires_at else None,
                "template_version": TEMPLATE_VERSION}
    certificate = Certificate(
        staff_id=person.id, kind=kind, source=source, enrolment_id=enrolment_id,
        class_id=class_id, serial=serial, code=code, issued_at=issued_at,
        expires_at=expires_at, snapshot=snapshot, template_version=TEMPLATE_VERSION,
        supersedes_id=supersedes.id if supersedes else None)
    db.session.add(certificate)
    db.session.flush()
    record_event(None, "certificate.issued", "certificate", certificate.id, now=now,
                 details={"staff": person.id, "serial": certificate.serial, "source": source})
    add_todo(person.id, "certificate.issued", certificate.id, now=now,
             params={"title": snapshot["title"], "serial": certificate.serial})
    return certificate


def issue_missing(*, now: datetime) -> int:
    """Certificates for completed enrolments of tracks that issue one but have none (a centre
    adding the area to its records, or the demo): as of the day each was completed."""
    rows = db.session.scalars(select(Enrolment).join(Track).where(
        Enrolment.state == "completed", Track.issues_certificate.is_(True),
        ~select(Certificate.id).where(Certificate.enrolment_id == Enrolment.id).exists()))
    return sum(1 for enrolment in rows if issue_for_enrolment(enrolment, now=now) is not None)


# -- rendering ------------------------------------------------------------------------------------

def store_pdf(certificate_id: int, signed: bytes, fingerprint: str, *, now: datetime) -> bool:
    """Keep a certificate's signed PDF unless it has one: the row is claimed by a
    compare-and-set, so two renderers at once keep one PDF. Returns whether this call did."""
    stored = store_file(signed, "application/pdf", now=now)
    claimed = db.session.execute(update(Certificate).where(
        Certificate.id == certificate_id, Certificate.pdf_file_id.is_(None)).values(
        pdf_file_id=stored.id, pdf_sha256=stored.sha256, signed_with=fingerprint,
        rendered_at=now).execution_options(synchronize_session=False)).rowcount
    if not claimed:
        db.session.delete(stored)
    db.session.flush()
    return bool(claimed)


def unrendered_ids(limit: int | None = None) -> list[int]:
    query = select(Certificate.id).where(Certificate.pdf_file_id.is_(None)).order_by(
        Certificate.id)
    return list(db.session.scalars(query.limit(limit) if limit else query))


# -- reading and verifying ------------------------------------------------------------------------

def status_of(certificate: Certificate, now: datetime) -> str:
    return rules.status(rules.CertificateFacts(certificate.expires_at, certificate.revoked_at,
                                               certificate.superseded_by_id is not None), now)


def by_code(typed: str) -> Certificate | None:
    code = rules.normalise_code(typed)
    if len(code) != rules.CODE_LENGTH:
        return None
    return db.session.scalar(select(Certificate).where(Certificate.code == code))


def get_certificate(certificate_id: int) -> Certificate:
    certificate = db.session.get(Certificate, certificate_id)
    if certificate is None:
        raise NotFound("No such certificate.")
    return certificate


def may_read(actor: StaffMember, certificate: Certificate) -> bool:
    return certificate.staff_id == actor.id or bool(actor.role_names & set(MANAGERS))


# -- revoking and reissuing -----------------------------------------------------------------------

def _check_manager(actor: StaffMember) -> None:
    if not actor.role_names & set(MANAGERS):
        raise Forbidden("Only HR manages certificates.")


def revoke(actor: StaffMember, certificate: Certificate, *, reason: str, note: str,
           now: datetime) -> None:
    """Withdraw a certificate, or mark it issued in error: its status changes, the record and
    its PDF stay, and its verification page says so. Audited."""
    _check_manager(actor)
    if reason not in ("withdrawn", "issued_in_error"):
        raise DomainError("Choose why the certificate is revoked.")
    if not note.strip():
        raise DomainError("Say why the certificate is revoked.")
    if certificate.revoked_at is not None:
        raise DomainError("This certificate is already revoked.")
    certificate.revoked_at, certificate.revoked_by_id = now, actor.id
    certificate.revoke_reason, certificate.revoke_note = reason, note.strip()
    record_event(actor.id, "certificate.revoked", "certificate", certificate.id, now=now,
                 details={"serial": certificate.serial, "reason": reason, "note": note.strip()})
    db.session.flush()


def reissue(actor: StaffMember, certificate: Certificate, *, note: str,
            now: datetime) -> Certificate:
    """After a correction (a name misspelt): a new certificate with today's record, superseding
    the old; both stay, and the old one's verification page points to the new."""
    _check_manager(actor)
    if certificate.revoked_at is not None:
        raise DomainError("A revoked certificate is not reissued.")
    if certificate.superseded_by_id is not None:
        raise DomainError("This certificate was already reissued.")
    if not note.strip():
        raise DomainError("Say what the reissue corrects.")
    person = db.session.get(StaffMember, certificate.staff_id)
    snapshot = {**certificate.snapshot, **_person_snapshot(person), **_centre(),
                "reissue_of": certificate.serial}
    for key in ("serial", "code", "issued_on", "expires_on", "template_version"):
        snapshot.pop(key, None)
    new = _issue(person, certificate.kind, certificate.source, snapshot, issued_at=now,
                 expires_at=certificate.expires_at, now=now, enrolment_id=certificate.enrolment_id,
                 class_id=certificate.class_id, supersedes=certificate)
    certificate.superseded_by_id = new.id
    record_event(actor.id, "certificate.reissued", "certificate", certificate.id, now=now,
                 details={"serial": certificate.serial, "new": new.serial, "note": note.strip()})
    db.session.flush()
    return new


# -- lists ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Filter:
    source: str = ""
    department_id: int | None = None
    status: str = ""           # valid, expired, revoked, superseded, preparing
    expiring_days: int | None = None


def filtered(flt: Filter, *, now: datetime):
    """The certificates matching HR's filter, newest first (a SELECT, for paging or streaming)."""
    query = select(Certificate).join(StaffMember, StaffMember.id == Certificate.staff_id)
    if flt.source:
        query = query.where(Certificate.source == flt.source)
    if flt.department_id:
        query = query.where(StaffMember.department_id == flt.department_id)
    live = and_(Certificate.revoked_at.is_(None), Certificate.superseded_by_id.is_(None))
    if flt.status == "revoked":
        query = query.where(Certificate.revoked_at.is_not(None))
    elif flt.status == "superseded":
        query = query.where(Certificate.revoked_at.is_(None),
                            Certificate.superseded_by_id.is_not(None))
    elif flt.status == "expired":
        query = query.where(live, Certificate.expires_at <= now)
    elif flt.status == "valid":
        query = query.where(live, or_(Certificate.expires_at.is_(None),
                                      Certificate.expires_at > now))
    elif flt.status == "preparing":
        query = query.where(Certificate.pdf_file_id.is_(None))
    if flt.expiring_days:
        from datetime import timedelta

        query = query.where(live, Certificate.expires_at > now,
                            Certificate.expires_at <= now + timedelta(days=flt.expiring_days))
    return query.order_by(Certificate.issued_at.desc(), Certificate.id.desc())


# -- external certificates ------------------------------------------------------------------------

def add_external(actor: StaffMember, person: StaffMember, *, data: bytes, filename: str,
                 issuer: str, title: str, started_on: date, finished_on: date, hours: Decimal,
                 category: str, now: datetime) -> ExternalCertificate:
    """An agent (for themself) or HR hands in an external certificate: the file is checked by
    its content (PDF, JPEG or PNG only; pictures re-encoded, their metadata dropped) and kept;
    HR decides."""
    from trainer.certificates.uploads import clean_upload

    if actor.id != person.id and not (actor.role_names & set(MANAGERS)
                                      and accounts.may_manage(actor, person)):
        raise Forbidden("Only HR hands in a certificate for someone else (for an "
                        "administrator, only an administrator).")
    if not issuer.strip() or not title.strip():
        raise DomainError("Name the issuer and the training.")
    if finished_on < started_on:
        raise DomainError("The training ends after it starts.")
    if finished_on > local_date(now, centre_timezone()):
        raise DomainError("Hand in a certificate once the training is over.")
    if not Decimal(0) <= hours <= Decimal(500) or hours * 2 != int(hours * 2):
        raise DomainError("学时 are a number of halves between 0 and 500.")
    if category not in learning.hours_categories():
        raise DomainError("Choose a category of 学时 from the settings' list.")
    cleaned, content_type = clean_upload(data)
    stored = store_file(cleaned, content_type, now=now)
    external = ExternalCertificate(
        staff_id=person.id, issuer=issuer.strip()[:200], title=title.strip()[:200],
        started_on=started_on, finished_on=finished_on, hours=hours, category=category,
        file_id=stored.id, file_name=(filename or "certificate")[-200:], uploaded_at=now,
        uploaded_by_id=actor.id, state="pending")
    db.session.add(external)
    db.session.flush()
    record_event(actor.id, "external_certificate.added", "staff", person.id, now=now,
                 details={"external": external.id, "title": external.title})
    return external


def decide_external(actor: StaffMember, external: ExternalCertificate, approve: bool, *,
                    note: str, now: datetime) -> None:
    """HR approves (the 学时 go to the ledger) or declines with a reason; the decision reaches
    the agent's to-do list."""
    _check_manager(actor)
    if external.state != "pending":
        raise DomainError("This certificate is already decided.")
    if not approve and not note.strip():
        raise DomainError("Say why the certificate is declined.")
    external.state = "approved" if approve else "declined"
    external.decided_at, external.decided_by_id = now, actor.id
    external.decision_note = note.strip()
    if approve:
        learning.credit_hours(external.staff_id, "external", external.id,
                              on=external.finished_on, category=external.category,
                              minutes=int(external.hours * learning.minutes_per_hour()),
                              title=external.title, now=now)
    add_todo(external.staff_id, "external.decided", external.id, now=now,
             params={"title": external.title, "state": external.state,
                     "note": external.decision_note})
    record_event(actor.id, f"external_certificate.{external.state}", "staff",
                 external.staff_id, now=now, details={"external": external.id})
    db.session.flush()
