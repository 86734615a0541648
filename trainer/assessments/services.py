"""Practical assessments: writing forms, recording, acknowledging and voiding assessments.

Services flush and never commit; they take the actor and the clock as arguments, refuse with a
DomainError whose message the route translates, write audit events, and tell the areas above
(learning's requirements) through the `assessment_recorded` signal."""
from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from trainer.accounts.models import StaffMember
from trainer.assessments import rules
from trainer.assessments.models import PURPOSES, Assessment, AssessmentForm, FormItem
from trainer.assessments.signals import assessment_recorded, assessment_voided
from trainer.core.audit import record_event
from trainer.core.db import db
from trainer.core.errors import N_, DomainError, Forbidden
from trainer.core.todos import add_todo, close_todos

MAX_TEXT = 2000
ACK_TODO = "assessment.acknowledge"

_REFUSALS = {
    "self": N_("Nobody assesses themselves: ask another assessor."),
    "future": N_("An assessment cannot be dated after today."),
    "retake_wait": N_("The last try on this form failed: the next one may be taken from "
                      "%(day)s."),
}


@dataclass
class ItemFields:
    text: str
    points: Decimal
    critical: bool = False
    section: str = ""


@dataclass
class FormFields:
    title: str
    description: str
    purpose: str
    pass_percent: int
    retake_wait_days: int
    items: Sequence[ItemFields]


def may_assess(actor: StaffMember) -> bool:
    return actor.has_role("assessor") or actor.has_role("admin")


def may_write_forms(actor: StaffMember) -> bool:
    return actor.has_role("trainer") or actor.has_role("admin")


def spec_of(form: AssessmentForm) -> rules.FormSpec:
    return rules.FormSpec(
        items=tuple(rules.Item(str(item.id), item.text, item.points, item.critical,
                               item.section) for item in form.items),
        pass_percent=form.pass_percent, retake_wait_days=form.retake_wait_days)


def _raise_rule(error: rules.AssessmentRuleError) -> None:
    raise DomainError(str(error), **error.params) from error


def _form_hash(fields: FormFields) -> str:
    data = [fields.title, fields.description, fields.purpose, fields.pass_percent,
            fields.retake_wait_days,
            [[i.section, i.text, str(Decimal(i.points).normalize()), i.critical]
             for i in fields.items]]
    return hashlib.sha256(json.dumps(data, ensure_ascii=False).encode()).hexdigest()


def save_form(actor: StaffMember | None, form: AssessmentForm | None, fields: FormFields, *,
              now: datetime, key: str | None = None, source: str = "web") -> AssessmentForm:
    """Create or revise a form. A revision that changes anything gets the next version number;
    assessments already recorded keep the form as it was (their snapshot). actor None: the
    content sync (shipped forms)."""
    if actor is not None and not may_write_forms(actor):
        raise Forbidden("Only trainers write assessment forms.")
    title = fields.title.strip()
    if not title or len(title) > 200:
        raise DomainError("A form needs a title (at most 200 characters).")
    if fields.purpose not in PURPOSES:
        raise DomainError("Choose what the form is for.")
    items = [i for i in fields.items if i.text.strip()]
    if any(len(i.text.strip()) > 500 or len(i.section.strip()) > 80 for i in items):
        raise DomainError("An item's text is at most 500 characters, its section 80.")
    spec = rules.FormSpec(tuple(rules.Item(str(n), i.text, Decimal(i.points), i.critical)
                                for n, i in enumerate(items)),
                          fields.pass_percent, fields.retake_wait_days)
    try:
        rules.check_form(spec)
    except rules.AssessmentRuleError as error:
        _raise_rule(error)
    digest = _form_hash(FormFields(title, fields.description.strip(), fields.purpose,
                                   fields.pass_percent, fields.retake_wait_days, items))
    if form is not None and form.content_hash == digest:
        return form
    created = form is None
    if created:
        form = AssessmentForm(key=key, source=source, version=1, updated_at=now,
                              title=title, pass_percent=fields.pass_percent)
        db.session.add(form)
    else:
        form.version += 1
    form.title, form.description, form.purpose = title, fields.description.strip(), \
        fields.purpose
    form.pass_percent, form.retake_wait_days = fields.pass_percent, fields.retake_wait_days
    form.content_hash, form.updated_at = digest, now
    form.updated_by_id = actor.id if actor else None
    form.source = source if created else ("web" if actor is not None else form.source)
    form.items = [FormItem(position=n, text=i.text.strip(), section=i.section.strip(),
                           points=Decimal(i.points), critical=bool(i.critical))
                  for n, i in enumerate(items)]
    db.session.flush()
    record_event(actor.id if actor else None,
                 "assessment_form.created" if created else "assessment_form.revised",
                 "assessment_form", form.id, now=now,
                 details={"title": form.title, "version": form.version})
    return form


def retire_form(actor: StaffMember, form: AssessmentForm, *, now: datetime) -> None:
    """A retired form is no longer offered for new assessments; its records stay."""
    if not may_write_forms(actor):
        raise Forbidden("Only trainers write assessment forms.")
    if not form.retired:
        form.retired = True
        record_event(actor.id, "assessment_form.retired", "assessment_form", form.id, now=now,
                     details={"title": form.title})
        db.session.flush()


def history(staff_id: int, form_id: int) -> list[Assessment]:
    """A person's standing (not voided) assessments on a form, oldest first."""
    return list(db.session.scalars(select(Assessment).where(
        Assessment.staff_id == staff_id, Assessment.form_id == form_id,
        Assessment.voided_at.is_(None)).order_by(Assessment.assessed_on, Assessment.id)))


def record_assessment(actor: StaffMember, form: AssessmentForm, person: StaffMember, *,
                      assessed_on: date, today: date, awarded: Mapping[str, Decimal],
                      notes: Mapping[str, str] | None = None, context: str = "",
                      comments: str = "", now: datetime) -> Assessment:
    """Record one assessment. `awarded` maps each item's id (as a string) to its points; every
    item must be scored. Refused: an actor who is not an assessor, oneself, a date after today,
    a retake before the form's wait is over, a retired form, a person who has left."""
    if not may_assess(actor):
        raise Forbidden("Only assessors record practical assessments.")
    if form.retired:
        raise DomainError("This form is retired: choose a current one.")
    if person.status == "left":
        raise DomainError("%(name)s has left: no new assessments.", name=person.name)
    if len(context) > 300 or len(comments) > MAX_TEXT:
        raise DomainError("The context is at most 300 characters and the comments 2,000.")
    past = [(a.assessed_on, a.passed) for a in history(person.id, form.id)]
    refused = rules.refusal(assessor_id=actor.id, person_id=person.id, assessed_on=assessed_on,
                            today=today, history=past, wait_days=form.retake_wait_days)
    if refused is not None:
        code, params = refused
        raise DomainError(_REFUSALS[code], **({"day": params["from"].isoformat()}
                                              if "from" in params else {}))
    spec = spec_of(form)
    try:
        outcome = rules.score(spec, awarded)
    except rules.AssessmentRuleError as error:
        _raise_rule(error)
    notes = notes or {}
    if any(len(note) > 500 for note in notes.values()):
        raise DomainError("A note on an item is at most 500 characters.")
    snapshot = {
        "title": form.title, "version": form.version, "purpose": form.purpose,
        "pass_percent": form.pass_percent,
        "items": [{"key": item.key, "section": item.section, "text": item.text,
                   "points": str(item.points), "critical": item.critical,
                   "awarded": str(outcome.awarded[item.key]),
                   "note": notes.get(item.key, "").strip()} for item in spec.items],
    }
    assessment = Assessment(
        form_id=form.id, staff_id=person.id, assessor_id=actor.id, assessed_on=assessed_on,
        context=context.strip(), snapshot=snapshot, total=outcome.total, out_of=outcome.out_of,
        passed=outcome.passed, comments=comments.strip(), recorded_at=now)
    db.session.add(assessment)
    db.session.flush()
    add_todo(person.id, ACK_TODO, assessment.id, now=now, params={"title": form.title})
    record_event(actor.id, "assessment.recorded", "assessment", assessment.id, now=now,
                 details={"staff": person.id, "title": form.title, "version": form.version,
                          "total": str(outcome.total), "out_of": str(outcome.out_of),
                          "passed": outcome.passed,
                          "critical_failed": len(outcome.critical_failed)})
    assessment_recorded.send(assessment, now=now)
    return assessment


def acknowledge_assessment(actor: StaffMember, assessment: Assessment, *, comment: str = "",
                           now: datetime) -> None:
    """The assessed person confirms they have seen the result (确认知悉: not that they agree);
    they may add a comment. Once."""
    if actor.id != assessment.staff_id:
        raise Forbidden("Only the person assessed acknowledges an assessment.")
    if assessment.voided_at is not None:
        raise DomainError("This assessment was voided: there is nothing to acknowledge.")
    if assessment.acknowledged_at is not None:
        raise DomainError("You have already acknowledged this assessment.")
    if len(comment) > MAX_TEXT:
        raise DomainError("A comment is at most 2,000 characters.")
    assessment.acknowledged_at, assessment.person_comment = now, comment.strip()
    close_todos(actor.id, ACK_TODO, assessment.id, now=now)
    record_event(actor.id, "assessment.acknowledged", "assessment", assessment.id, now=now,
                 details={"staff": actor.id, "commented": bool(comment.strip())})
    db.session.flush()


def void_assessment(actor: StaffMember, assessment: Assessment, *, reason: str,
                    now: datetime) -> None:
    """Undo a mistaken record (wrong person, wrong form): HR or the assessor who recorded it,
    with a reason. The record stays, marked void; it no longer counts."""
    if not (actor.has_role("hr") or actor.has_role("admin") or actor.id == assessment.assessor_id):
        raise Forbidden("Only HR or the assessor who recorded it may void an assessment.")
    if assessment.voided_at is not None:
        raise DomainError("This assessment is already void.")
    if not reason.strip():
        raise DomainError("Say why the assessment is void.")
    assessment.voided_at, assessment.voided_by_id = now, actor.id
    assessment.void_reason = reason.strip()[:MAX_TEXT]
    close_todos(assessment.staff_id, ACK_TODO, assessment.id, now=now)
    record_event(actor.id, "assessment.voided", "assessment", assessment.id, now=now,
                 details={"staff": assessment.staff_id, "reason": assessment.void_reason})
    db.session.flush()
    assessment_voided.send(assessment, now=now)


def may_read(actor: StaffMember, assessment: Assessment) -> bool:
    """The person, their assessor, HR, trainers and assessors (who coach and retake)."""
    return actor.id in (assessment.staff_id, assessment.assessor_id) or any(
        actor.has_role(role) for role in ("hr", "admin", "trainer", "assessor"))


def forms(*, include_retired: bool = False) -> list[AssessmentForm]:
    query = select(AssessmentForm).order_by(AssessmentForm.retired, AssessmentForm.purpose,
                                            AssessmentForm.title)
    if not include_retired:
        query = query.where(AssessmentForm.retired.is_(False))
    return list(db.session.scalars(query))


def assessments_of(staff_id: int) -> list[Assessment]:
    return list(db.session.scalars(
        select(Assessment).where(Assessment.staff_id == staff_id)
        .options(selectinload(Assessment.assessor), selectinload(Assessment.form))
        .order_by(Assessment.assessed_on.desc(), Assessment.id.desc())))


def recent(limit: int = 50, *, form_id: int | None = None) -> list[Assessment]:
    query = select(Assessment).options(selectinload(Assessment.staff),
                                       selectinload(Assessment.assessor))
    if form_id is not None:
        query = query.where(Assessment.form_id == form_id)
    return list(db.session.scalars(query.order_by(Assessment.recorded_at.desc(),
                                                  Assessment.id.desc()).limit(limit)))
