"""The records area's own tables: the dashboard's stored figures (records.cache) and the
month-end figures kept for auditors (records reads every other area and writes only these,
and the audit events of its exports)."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from typing import Any

from sqlalchemy import JSON, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from trainer.core.db import db


class MonthlyFigures(db.Model):
    """One department's compliance figures (records.figures.Figures) at the end of a month, as
    `trainer records snapshot` stored them: later corrections to the other areas' tables never
    rewrite a stored month. The department is kept by id and name as they were (no foreign key:
    a department renamed or deleted later leaves the month as it was); id None is the row of
    people without a department."""

    __tablename__ = "records_monthly_figures"

    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[date]                 # the first day of the month (the centre's calendar)
    line: Mapped[int]                   # the row's place in the month's report
    department_id: Mapped[int | None]
    department_name: Mapped[str] = mapped_column(String(80), default="")
    people: Mapped[int] = mapped_column(default=0)
    assigned: Mapped[int] = mapped_column(default=0)
    in_progress: Mapped[int] = mapped_column(default=0)
    overdue: Mapped[int] = mapped_column(default=0)
    due_soon: Mapped[int] = mapped_column(default=0)
    completed: Mapped[int] = mapped_column(default=0)
    waived: Mapped[int] = mapped_column(default=0)
    expiring: Mapped[int] = mapped_column(default=0)
    expired: Mapped[int] = mapped_column(default=0)
    not_cleared: Mapped[int] = mapped_column(default=0)
    behind: Mapped[int] = mapped_column(default=0)
    covered: Mapped[int] = mapped_column(default=0)
    hours: Mapped[Decimal] = mapped_column(Numeric(14, 1), default=Decimal(0))
    pairs: Mapped[int] = mapped_column(default=0)
    passed: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime]

    # A month is written once, all its rows in one transaction: a second run (or two at once)
    # collides on (month, line) and writes nothing.
    __table_args__ = (UniqueConstraint("month", "line"),)


class FigureSet(db.Model):
    """One grouping's dashboard (department, position or track) as it was at `computed_at`;
    the grouping "results" holds the quiz results list instead (its rows: results.QuizFigures,
    no charts)."""

    __tablename__ = "records_figure_sets"

    grouping: Mapped[str] = mapped_column(String(12), primary_key=True)
    computed_at: Mapped[datetime]
    # [{"key": …, "name": …, figure: value, …}], the totals row last (as figures.Figures).
    rows: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    # The charts' figures: overdue by (key, track) and the pass rate by month.
    charts: Mapped[dict[str, Any]] = mapped_column(JSON)
