"""The classroom requirement of a course ("class"), registered with learning's requirements:
met by completing, after the enrolment was assigned, a class that names the course."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from trainer.attendance.models import ClassCompletion, TrainingClass
from trainer.core.db import db
from trainer.learning import requirements as reqs


class ClassKind:
    key = "class"
    label = _l("Attend a class")
    addable = True   # trainers add it to a course in the site

    def evaluate(self, requirements: list[reqs.Requirement]) -> dict[int, reqs.Status]:
        course_ids = {r.course_id for r in requirements}
        staff_ids = {r.staff_id for r in requirements}
        done: dict[tuple[int, int], list] = {}
        for staff_id, course_id, completed_at, title in db.session.execute(
                select(ClassCompletion.staff_id, TrainingClass.course_id,
                       ClassCompletion.completed_at, TrainingClass.title)
                .join(TrainingClass, TrainingClass.id == ClassCompletion.class_id)
                .where(TrainingClass.course_id.in_(course_ids),
                       ClassCompletion.staff_id.in_(staff_ids))):
            done.setdefault((staff_id, course_id), []).append((completed_at, title))
        statuses = {}
        for r in requirements:
            met = [t for at, t in done.get((r.staff_id, r.course_id), []) if at >= r.assigned_at]
            statuses[r.id] = reqs.Status(done=bool(met), steps=1, steps_done=1 if met else 0,
                                         label=met[0] if met else "")
        return statuses


def register() -> None:
    reqs.register(ClassKind())
