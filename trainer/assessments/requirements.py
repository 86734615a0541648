"""The practical-assessment requirement of a course ("assessment"), registered with learning's
requirements: met by a passed assessment on the named form (ref_id), dated on or after the day
the enrolment was assigned (plus `after_days` when the enrolment copied them: a post's
internship length before its 实习考评) and not voided. A failed one leaves it open for a
retake."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from flask import has_request_context, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from trainer.assessments.models import Assessment, AssessmentForm
from trainer.core.db import db
from trainer.core.settings import centre_timezone
from trainer.core.timeutil import local_date
from trainer.learning import requirements as reqs


@dataclass
class AssessmentState:
    form: AssessmentForm | None
    passed: Assessment | None           # the first passed one since the assignment
    tries: list[Assessment]             # every standing one since the assignment, oldest first
    counts_from: date | None = None     # the first day an assessment counts


def _form_url(form: AssessmentForm | None) -> str | None:
    """Where the learner reads the form they will be assessed on (None outside a request)."""
    if form is None or not has_request_context():
        return None
    return url_for("assessments.form_page", form_id=form.id)


class AssessmentKind:
    key = "assessment"
    label = _l("Pass a practical assessment")
    addable = True    # by trainers in the site, or by a course.toml (content sync)

    def choices(self) -> list[tuple[int, str]]:
        """The forms a course may ask for (the current ones), for the course page's list."""
        return [(form.id, form.title) for form in db.session.scalars(
            select(AssessmentForm).where(AssessmentForm.retired.is_(False))
            .order_by(AssessmentForm.purpose, AssessmentForm.title))]

    def resolve(self, name: str) -> int | None:
        """The id of the form a course.toml names by its key (content sync)."""
        return db.session.scalar(select(AssessmentForm.id).where(AssessmentForm.key == name))

    def evaluate(self, requirements: list[reqs.Requirement]) -> dict[int, reqs.Status]:
        form_ids = {r.ref_id for r in requirements if r.ref_id is not None}
        staff_ids = {r.staff_id for r in requirements}
        forms = {f.id: f for f in db.session.scalars(
            select(AssessmentForm).where(AssessmentForm.id.in_(form_ids)))} if form_ids else {}
        found: dict[tuple[int, int], list[Assessment]] = {}
        if form_ids:
            for assessment in db.session.scalars(select(Assessment).where(
                    Assessment.form_id.in_(form_ids), Assessment.staff_id.in_(staff_ids),
                    Assessment.voided_at.is_(None))
                    .order_by(Assessment.assessed_on, Assessment.id)):
                found.setdefault((assessment.staff_id, assessment.form_id), []).append(
                    assessment)
        tz = centre_timezone()
        statuses = {}
        for r in requirements:
            since = local_date(r.assigned_at, tz) + timedelta(
                days=int((r.params or {}).get("after_days", 0)))
            tries = [a for a in found.get((r.staff_id, r.ref_id), []) if a.assessed_on >= since]
            passed = next((a for a in tries if a.passed), None)
            form = forms.get(r.ref_id)
            statuses[r.id] = reqs.Status(
                done=passed is not None, steps=1, steps_done=1 if passed else 0,
                detail=AssessmentState(form, passed, tries, since),
                failures=sum(1 for a in tries if not a.passed and (
                    passed is None or a.assessed_on <= passed.assessed_on)),
                label=form.title if form else "", url=_form_url(form))
        return statuses


def register() -> None:
    reqs.register(AssessmentKind())
