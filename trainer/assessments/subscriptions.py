"""What the assessments area adds to the areas below it, once, when the app is created: the
practical-assessment requirement kind of learning's courses, and a refresh of the person's
enrolments when an assessment is recorded or voided (it may complete a course)."""
from __future__ import annotations


def _refresh(assessment, now):
    from trainer.learning.services import refresh_for

    refresh_for(assessment.staff_id, now=now)


def connect() -> None:
    from trainer.assessments.requirements import register
    from trainer.assessments.signals import assessment_recorded, assessment_voided

    register()
    assessment_recorded.connect(_refresh, weak=False)
    assessment_voided.connect(_refresh, weak=False)
