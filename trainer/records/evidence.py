"""The evidence pack of a remedial case (待岗培训): one PDF that shows what was done, when and by
whom — the plan and its acknowledgement, the remedial training's courses and quiz scores, the
classes attended in the period, the practical assessments, the counselling talks (dates and who;
their notes only when HR includes them) and the evaluation. The labour contract law lets an
employer part with an agent for incapacity only after training and a second failure, which the
employer must prove: this is that proof, built from the records of every area (read, never
written)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from flask import render_template
from sqlalchemy import select

from trainer.accounts.models import StaffMember
from trainer.assessments.models import Assessment
from trainer.core.audit import record_event
from trainer.core.db import db
from trainer.core.errors import Forbidden
from trainer.core.settings import centre_timezone
from trainer.core.timeutil import local_date
from trainer.records import services
from trainer.remedial import services as remedial


@dataclass
class EvidencePack:
    case: remedial.Case
    record: services.Record
    training: services.EnrolmentLine | None
    classes: list[services.ClassLine]
    assessments: list[Assessment]
    events: list
    notes: dict[int, str]          # talk id → notes, only when HR included them
    until: date
    viewer: StaffMember


def build(viewer: StaffMember, enrolment_id: int, *, include_notes: bool,
          now: datetime) -> EvidencePack:
    """Everything the pack shows (reads only). HR and admins only."""
    if not remedial.may_run(viewer):
        raise Forbidden("Only HR builds an evidence pack.")
    case = remedial.case(remedial.get_case_enrolment(enrolment_id))
    record = services.build_record(case.person, viewer, now=now)
    start = case.stood_down_on
    final = case.final
    until = final.decided_on if final else record.today
    training = next((line for line in record.enrolments
                     if line.enrolment.id == case.enrolment.id), None)
    tz = centre_timezone()
    classes = [line for line in record.classes if any(
        start <= local_date(s.session.starts_at, tz) <= until for s in line.sessions)]
    assessments = list(db.session.scalars(select(Assessment).where(
        Assessment.staff_id == case.person.id, Assessment.assessed_on >= start,
        Assessment.assessed_on <= until).order_by(Assessment.assessed_on, Assessment.id)))
    events = [e for e in record.events if e.kind != "void"
              and e.id not in record.voided_ids and start <= e.occurred_on <= until]
    notes = {t.id: t.notes for t in case.talks} if include_notes else {}
    return EvidencePack(case, record, training, classes, assessments, events, notes, until,
                        viewer)


def pdf(pack: EvidencePack) -> bytes:
    from trainer.core import pdf as core_pdf

    html = render_template("pdf/evidence.html", pack=pack, case=pack.case)
    return core_pdf.render(html, stylesheets=("css/record-pdf.css",))


def record_download(viewer: StaffMember, enrolment_id: int, *, include_notes: bool,
                    now: datetime) -> None:
    """The download is an audit event; with the notes included, each talk's read is too (as
    when HR reads one on the case page). Flushes; the caller commits."""
    if not remedial.may_run(viewer):
        raise Forbidden("Only HR builds an evidence pack.")
    case = remedial.case(remedial.get_case_enrolment(enrolment_id))
    record_event(viewer.id, "records.evidence_exported", "enrolment", case.enrolment.id,
                 now=now, details={"staff": case.person.id, "notes": include_notes})
    if include_notes:
        for talk in case.talks:
            remedial.read_talk_notes(viewer, talk, now=now)
    db.session.flush()
