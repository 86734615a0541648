"""The monthly business exam in the record: each person's monthly scores (one line per month)
and each department's trend (average score and pass rate per month), set-based: one grouped
statement for the whole centre, never a loop over people."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import case, func, select

from trainer.accounts.models import Department, StaffMember
from trainer.core.db import db
from trainer.learning.models import ExamSchedule, ExamSitting


@dataclass
class Cell:
    sat: int            # finished sittings
    passed: int
    missed: int
    average: Decimal | None

    @property
    def pass_rate(self) -> int | None:
        return round(100 * self.passed / self.sat) if self.sat else None


def months_back(today: date, count: int) -> list[date]:
    """The first days of the last `count` months, oldest first, this month last."""
    months, year, month = [], today.year, today.month
    for _ in range(count):
        months.append(date(year, month, 1))
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return months[::-1]


def department_trend(today: date, *, months: int = 6, schedule_id: int | None = None
                     ) -> tuple[list[date], list[tuple[str, dict[date, Cell]]]]:
    """Per department (by the person's department now) and month: finished sittings, passes,
    missed and the average score of the finished ones."""
    wanted = months_back(today, months)
    finished = ExamSitting.state.in_(("passed", "failed"))
    query = (select(StaffMember.department_id, ExamSitting.month,
                    func.sum(case((finished, 1), else_=0)),
                    func.sum(case((ExamSitting.state == "passed", 1), else_=0)),
                    func.sum(case((ExamSitting.state == "missed", 1), else_=0)),
                    func.avg(case((finished, ExamSitting.percent), else_=None)))
             .join(StaffMember, StaffMember.id == ExamSitting.staff_id)
             .where(ExamSitting.month >= wanted[0], ExamSitting.month <= wanted[-1])
             .group_by(StaffMember.department_id, ExamSitting.month))
    if schedule_id is not None:
        query = query.where(ExamSitting.schedule_id == schedule_id)
    names = {d.id: d.name for d in db.session.scalars(select(Department))}
    rows: dict[str, dict[date, Cell]] = {}
    for department_id, month, sat, passed, missed, average in db.session.execute(query):
        name = names.get(department_id, "") if department_id else ""
        rows.setdefault(name, {})[month] = Cell(
            int(sat or 0), int(passed or 0), int(missed or 0),
            Decimal(str(round(float(average), 1))) if average is not None else None)
    return wanted, sorted(rows.items(), key=lambda item: (item[0] == "", item[0]))


def department_chart(months: list[date], rows: list[tuple[str, dict[date, Cell]]]
                     ) -> str | None:
    """The trend as a line of average scores per department (SVG); None without rows."""
    from flask_babel import gettext as _

    from trainer.core import charts

    if not rows:
        return None
    series = {name or _("No department"): [
        float(cells[m].average) if m in cells and cells[m].average is not None else None
        for m in months] for name, cells in rows}
    return charts.line("", [m.strftime("%Y-%m") for m in months], series,
                       formatter=lambda v: f"{v:.1f}", range_=(0, 100))


def person_scores(staff_id: int) -> list[tuple[ExamSitting, ExamSchedule]]:
    """One person's sittings, month by month (the record's monthly scores)."""
    return list(db.session.execute(select(ExamSitting, ExamSchedule).join(
        ExamSchedule, ExamSchedule.id == ExamSitting.schedule_id).where(
        ExamSitting.staff_id == staff_id).order_by(ExamSitting.month.desc(),
                                                   ExamSchedule.title)).all())


def person_chart(scores: list[tuple[ExamSitting, ExamSchedule]]) -> str | None:
    """The person's monthly scores as a line per exam (SVG), from two months taken on."""
    from trainer.core import charts

    months = sorted({sitting.month for sitting, _ in scores})
    by_exam: dict[str, dict[date, float]] = {}
    for sitting, schedule in scores:
        if sitting.percent is not None:
            by_exam.setdefault(schedule.title, {})[sitting.month] = float(sitting.percent)
    if not any(len(values) >= 2 for values in by_exam.values()):
        return None
    return charts.line("", [m.strftime("%Y-%m") for m in months],
                       {title: [values.get(m) for m in months]
                        for title, values in by_exam.items()},
                       formatter=lambda v: f"{v:.0f}", range_=(0, 100), height=240)
