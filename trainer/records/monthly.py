"""The month-end report (issue 17): each month's compliance figures per department, stored once
by `trainer records snapshot` (cron, monthly) so that later corrections do not rewrite last
month; a stored month read back as a page, a PDF and a workbook; the current month live.

A month's figures are records.figures' (department grouping) computed at the month's last
moment (local midnight of the next month's first day, less a microsecond: the year to date is
the month's year, also for December). Run on the 1st, that is the month as it ended; a month
filled in later is computed from what the tables hold then, as at that moment."""
from __future__ import annotations

import re
from dataclasses import dataclass, fields
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select

from trainer.accounts.models import StaffMember
from trainer.core.audit import record_event
from trainer.core.db import db
from trainer.core.errors import DomainError
from trainer.core.settings import centre_timezone
from trainer.core.timeutil import local_date, local_midnight_utc
from trainer.records import figures
from trainer.records.models import MonthlyFigures

FIGURES = tuple(f.name for f in fields(figures.Figures) if f.name not in ("key", "name"))
EXPORT_FORMATS = ("pdf", "xlsx")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def parse_month(text: str) -> date:
    """A month as YYYY-MM → its first day; DomainError when it is not one."""
    match = _MONTH.match((text or "").strip())
    if not match or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 2000:
        raise DomainError("“%(value)s” is not a month (year-month, e.g. 2026-03).",
                          value=(text or "")[:20])
    return date(int(match.group(1)), int(match.group(2)), 1)


def next_month(month: date) -> date:
    return date(month.year + (month.month == 12), month.month % 12 + 1, 1)


def this_month(now: datetime) -> date:
    return local_date(now, centre_timezone()).replace(day=1)


def previous_month(now: datetime) -> date:
    """The month just ended (the default of the command)."""
    return (this_month(now) - timedelta(days=1)).replace(day=1)


def month_end(month: date) -> datetime:
    """The month's last moment (aware UTC): its figures are computed at it."""
    return local_midnight_utc(next_month(month), centre_timezone()) - timedelta(microseconds=1)


def is_stored(month: date) -> bool:
    return db.session.scalar(select(func.count()).select_from(MonthlyFigures).where(
        MonthlyFigures.month == month)) > 0


def take_snapshot(month: date, *, now: datetime) -> int | None:
    """Store the month's figures per department, once: the number of rows written, or None
    when the month is already stored (nothing is rewritten). A month not yet ended is refused.
    Flushes; the caller commits (two runs at once: the second's commit collides on the month's
    rows and writes nothing)."""
    if month_end(month) >= now:
        raise DomainError("%(month)s has not ended yet: only an ended month is stored.",
                          month=month.strftime("%Y-%m"))
    if is_stored(month):
        return None
    # (A centre with no one yet stores one empty row: the month is stored all the same.)
    rows = figures.group_figures(month_end(month), by="department") or [figures.Figures(None, "")]
    for line, row in enumerate(rows):
        db.session.add(MonthlyFigures(
            month=month, line=line, department_id=row.key, department_name=row.name,
            created_at=now, **{name: (Decimal(str(getattr(row, name))) if name == "hours"
                                      else getattr(row, name)) for name in FIGURES}))
    record_event(None, "records.month_stored", "records", "monthly", now=now,
                 details={"month": month.strftime("%Y-%m"), "rows": len(rows)})
    db.session.flush()
    return len(rows)


# -- reading -------------------------------------------------------------------------------------

@dataclass
class StoredMonth:
    month: date
    rows: int
    people: int
    created_at: datetime

    @property
    def label(self) -> str:
        return self.month.strftime("%Y-%m")


def stored_months() -> list[StoredMonth]:
    """Every stored month, newest first (one statement)."""
    return [StoredMonth(month, int(count), int(people or 0), created)
            for month, count, people, created in db.session.execute(
                select(MonthlyFigures.month, func.count(), func.sum(MonthlyFigures.people),
                       func.min(MonthlyFigures.created_at))
                .group_by(MonthlyFigures.month).order_by(MonthlyFigures.month.desc()))]


@dataclass
class MonthReport:
    month: date
    live: bool                      # the current month, computed now (not stored)
    rows: list[figures.Figures]
    total: figures.Figures
    as_of: datetime                 # when the figures were computed (stored: created at)

    @property
    def label(self) -> str:
        return self.month.strftime("%Y-%m")


def _total(rows: list[figures.Figures]) -> figures.Figures:
    # By department every person is in one row (the row without one included): rows add up.
    return figures.Figures(None, "", **{name: sum(getattr(r, name) for r in rows)
                                        for name in FIGURES})


def _named(row: figures.Figures) -> figures.Figures:
    from dataclasses import replace

    return row if row.key is not None or row.name else replace(row, name=_("No department"))


def report(month: date, *, now: datetime) -> MonthReport | None:
    """A stored month from its snapshot, the current month live; None for a month neither
    stored nor current."""
    if month == this_month(now):
        rows = [_named(r) for r in figures.group_figures(now, by="department")]
        return MonthReport(month, True, rows, _total(rows), now)
    stored = list(db.session.scalars(select(MonthlyFigures).where(
        MonthlyFigures.month == month).order_by(MonthlyFigures.line)))
    if not stored:
        return None
    rows = [_named(figures.Figures(
        s.department_id, s.department_name,
        **{name: (float(getattr(s, name)) if name == "hours" else getattr(s, name))
           for name in FIGURES})) for s in stored]
    return MonthReport(month, False, rows, _total(rows), stored[0].created_at)


def record_export(viewer: StaffMember, month: date, fmt: str, live: bool, *,
                  now: datetime) -> None:
    """A download of a month's report is an event (who, which month, in what form). Flushes;
    the caller commits."""
    if fmt not in EXPORT_FORMATS:
        raise ValueError(fmt)
    record_event(viewer.id, "records.monthly_exported", "records", "monthly", now=now,
                 details={"format": fmt, "month": month.strftime("%Y-%m"), "live": live})
    db.session.flush()


# -- files ---------------------------------------------------------------------------------------

def header() -> list[str]:
    from trainer.records.compliance import COLUMNS

    return [_("Department")] + [str(label) for _name, label in COLUMNS]


def table_rows(month_report: MonthReport) -> list[list[Any]]:
    from trainer.records.compliance import COLUMNS, _export_value

    rows = [[r.name] + [_export_value(r, name) for name, _l in COLUMNS]
            for r in month_report.rows]
    rows.append([_("Total")] + [_export_value(month_report.total, name) for name, _l in COLUMNS])
    return rows


def pdf(month_report: MonthReport) -> bytes:
    from flask import render_template

    from trainer.core import pdf as core_pdf
    from trainer.records.compliance import COLUMNS, cell

    html = render_template("pdf/monthly.html", report=month_report, columns=COLUMNS, cell=cell)
    return core_pdf.render(html, stylesheets=("css/record-pdf.css", "css/dashboard-pdf.css"))
