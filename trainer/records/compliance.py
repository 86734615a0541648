"""HR's compliance dashboard and the people behind its figures: what the pages, the PDF and the
exports show, built from records.figures (set-based); the routes stay thin. Every export is an
audit event written here (who, what, which filter)."""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from flask_babel import format_datetime, format_percent
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from trainer.accounts.models import Department, Position, StaffMember
from trainer.core import charts
from trainer.core.audit import record_event
from trainer.core.db import db
from trainer.learning.models import Track
from trainer.records import cache, figures

PAGE_SIZE = 50
EXPORT_BATCH = 2000   # rows fetched at a time by an export's two streamed statements
EXPORT_FORMATS = ("csv", "xlsx", "pdf")

GROUP_LABELS = {"department": _l("Department"), "position": _l("Position"), "track": _l("Track")}
# The dashboard's columns, in order: (figure, its heading).
COLUMNS = (
    ("people", _l("People")),
    ("assigned", lazy_pgettext("enrolments", "Assigned")),
    ("in_progress", lazy_pgettext("enrolments", "In progress")),
    ("overdue", _l("Overdue")),
    ("due_soon", _l("Due within 30 days")),
    ("completed", _l("Completed this year")),
    ("waived", _l("Waived this year")),
    ("expiring", _l("Certificates expiring")),
    ("expired", _l("Certificates expired")),
    ("not_cleared", _l("Not cleared for duty")),
    ("behind", _l("Behind on 学时")),
    ("coverage", lazy_pgettext("figure", "Coverage")),
    ("pass_rate", _l("Pass rate")),
)
# What each figure a link leads to lists (the flag of records.figures).
LINKED = {"coverage": "not_covered", "pass_rate": "failed"}
FLAG_LABELS = {
    "people": _l("Everyone in scope"),
    "assigned": _l("Training assigned, not started"),
    "in_progress": _l("Training in progress"),
    "overdue": _l("Training overdue"),
    "due_soon": _l("Training due within 30 days"),
    "completed": _l("Training completed this year"),
    "waived": _l("Training waived this year"),
    "expiring": _l("Certificate expiring"),
    "expired": _l("Certificate expired"),
    "not_cleared": _l("Not cleared for duty"),
    "behind": _l("Behind on 学时"),
    "covered": _l("With 学时 this year"),
    "not_covered": _l("No 学时 this year"),
    "passed": _l("Passed an exam this year"),
    "failed": _l("Failed an exam this year (grade kept)"),
}
PEOPLE_HEADER = (_l("Employee number"), _l("Name"), _l("Department"), _l("Position"),
                 _l("Open tracks"), _l("Overdue"), _l("Certificates expiring"),
                 _l("Counted 学时 this year"), _l("Minimum to date"), _l("Behind"),
                 _l("Cleared for duty"))


class BadFilter(ValueError):
    """A filter the lists do not know (the page says so and shows everyone)."""


def grouping(value: str | None) -> str:
    if not value:
        return "department"
    if value not in figures.GROUPINGS:
        raise BadFilter(value)
    return value


def percent(value: float | None) -> str:
    return "—" if value is None else format_percent(value, "#,##0.0%")


def cell(row: figures.Figures, name: str) -> Any:
    value = getattr(row, name)
    if name in ("coverage", "pass_rate"):
        return percent(value)
    return value


# -- the dashboard ---------------------------------------------------------------------------------

@dataclass
class Chart:
    svg: str
    title: str
    header: list[str]
    rows: list[list[Any]]


@dataclass
class Dashboard:
    by: str
    now: datetime
    rows: list[figures.Figures]
    total: figures.Figures
    charts: list[Chart] = field(default_factory=list)
    stored_at: datetime | None = None    # stored figures (records.cache): as of then

    @property
    def as_of(self) -> str:
        return format_datetime(self.stored_at or self.now, "yyyy-MM-dd HH:mm")


def no_group_label(by: str) -> str:
    return {"department": _("No department"), "position": _("No position"),
            "track": _("No track")}[by]


def dashboard(now: datetime, by: str) -> Dashboard:
    """The table (one row per group and the totals) and its three charts: the stored figures
    while at most five minutes old (records.cache), else computed live (a dozen statements,
    whatever the number of people)."""
    stored = cache.fresh(by, now)
    if stored is not None:
        rows, total = stored.rows, stored.total
        overdue, months = stored.overdue, stored.months
    else:
        rows = figures.group_figures(now, by=by)
        total = figures.totals(now, rows, by)
        overdue = figures.overdue_by_track(now, by=by) if by != "track" else {}
        months = figures.pass_rate_by_month(now)
    rows = [r if r.key is not None else _renamed(r, no_group_label(by)) for r in rows]
    board = Dashboard(by, now, rows, total,
                      stored_at=stored.computed_at if stored is not None else None)
    board.charts = _charts(by, rows, overdue, months)
    return board


def _renamed(row: figures.Figures, name: str) -> figures.Figures:
    return replace(row, name=name)


def _charts(by: str, rows: list[figures.Figures], overdue: dict, months: list) -> list[Chart]:
    shown = [r for r in rows if r.people]
    labels = [r.name for r in shown]
    out = []
    title = _("Counted 学时 this year, mean per person, by %(group)s", group=GROUP_LABELS[by])
    means = [round(r.hours_mean, 1) if r.hours_mean is not None else None for r in shown]
    out.append(Chart(charts.bar("", labels, means, series=_("学时")), title,
                     [str(GROUP_LABELS[by]), _("People"), _("Counted 学时"), _("Mean per person")],
                     [[r.name, r.people, r.hours, m] for r, m in zip(shown, means)]))
    if by != "track":
        tracks = figures.group_names("track")
        used = [t for t in tracks if any(key[1] == t for key in overdue)]
        series = {tracks[t]: [overdue.get((r.key, t), 0) for r in shown] for t in used}
        title = _("Overdue training by track and %(group)s", group=GROUP_LABELS[by])
        out.append(Chart(charts.stacked_bar("", labels, series), title,
                         [str(GROUP_LABELS[by])] + [tracks[t] for t in used] + [_("Overdue")],
                         [[r.name] + [overdue.get((r.key, t), 0) for t in used] + [r.overdue]
                          for r in shown]))
    month_labels = [m.strftime("%Y-%m") for m, _pairs, _passed in months]
    rates = [round(100 * passed / pairs, 1) if pairs else None for _m, pairs, passed in months]
    title = _("Pass rate by month (exams, last 12 months)")
    out.append(Chart(charts.line("", month_labels, {_("Pass rate"): rates},
                                 formatter=lambda v: f"{v:.1f}%", range_=(0, 100)), title,
                     [_("Month"), _("Pairs examined"), _("Passed"), _("Pass rate")],
                     [[label, pairs, passed, percent(passed / pairs if pairs else None)]
                      for label, (_m, pairs, passed) in zip(month_labels, months)]))
    return out


def table_header(by: str) -> list[str]:
    return [str(GROUP_LABELS[by])] + [str(label) for _name, label in COLUMNS]


def table_rows(board: Dashboard) -> Iterator[list[Any]]:
    for row in board.rows:
        yield [row.name] + [_export_value(row, name) for name, _label in COLUMNS]
    yield [_("Total")] + [_export_value(board.total, name) for name, _label in COLUMNS]


def _export_value(row: figures.Figures, name: str) -> Any:
    value = getattr(row, name)
    if name in ("coverage", "pass_rate"):
        return None if value is None else round(value * 100, 1)
    return value


def link_args(by: str, row: figures.Figures | None, name: str) -> dict[str, Any]:
    """The query of /records/people listing the people behind one figure of one row (row None:
    the totals)."""
    args: dict[str, Any] = {"flag": LINKED.get(name, name)}
    if row is not None:
        if row.key is None:
            args["none"] = by
        else:
            args[{"department": "department", "position": "position",
                  "track": "track"}[by]] = row.key
    return args


# -- the people lists ------------------------------------------------------------------------------

def people_filter(args: Mapping[str, str]) -> tuple[figures.PeopleFilter, list[str]]:
    """The filter from a query string; what it cannot read is left out and said."""
    problems: list[str] = []

    def number(key: str) -> int | None:
        raw = (args.get(key) or "").strip()
        if not raw:
            return None
        if raw.isdigit() and 0 < int(raw) <= 2**31 - 1:
            return int(raw)
        problems.append(_("“%(value)s” is not a valid choice; it was left out.", value=raw[:40]))
        return None

    flag = (args.get("flag") or "").strip()
    if flag and flag not in figures.FLAGS:
        problems.append(_("“%(value)s” is not a valid choice; it was left out.", value=flag[:40]))
        flag = ""
    none = (args.get("none") or "").strip()
    q = (args.get("q") or "").strip()[:80]
    return figures.PeopleFilter(
        department_id=number("department"), position_id=number("position"),
        track_id=number("track"), flag=flag, q=q,
        no_department=none == "department", no_position=none == "position"), problems


def filter_details(flt: figures.PeopleFilter) -> dict[str, Any]:
    """The filter as the audit event keeps it."""
    return {k: v for k, v in (("department", flt.department_id), ("position", flt.position_id),
                              ("track", flt.track_id), ("flag", flt.flag), ("q", flt.q),
                              ("no_department", flt.no_department),
                              ("no_position", flt.no_position)) if v}


@dataclass
class PeoplePage:
    people: list[StaffMember]
    rows: dict[int, figures.PersonRow]
    total: int
    page: int
    pages: int


def people_page(now: datetime, flt: figures.PeopleFilter, page: int) -> PeoplePage:
    """One page of 50: a count, the page's people, their figures (a few statements)."""
    query = figures.people(now, flt)
    total = db.session.scalar(select(func.count()).select_from(
        query.with_only_columns(StaffMember.id).order_by(None).subquery()))
    pages = max(1, -(-int(total) // PAGE_SIZE))
    page = min(max(page, 1), pages)
    people = list(db.session.scalars(query.options(
        joinedload(StaffMember.department), joinedload(StaffMember.position))
        .limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)))
    rows = figures.person_rows([p.id for p in people], now)
    return PeoplePage(people, rows, int(total), page, pages)


def person_cells(person_no: str, name: str, department: str, position: str,
                 row: figures.PersonRow, yes_no: tuple[str, str]) -> list[Any]:
    """A person's cells in an export; `yes_no` translated once per export, not twice a row (at
    50,000 rows the translations alone were a third of the export's time)."""
    yes, no = yes_no
    return [person_no, name, department, position, "、".join(row.open_tracks), row.overdue,
            row.expiring, row.hours, row.minimum_to_date, yes if row.behind else no,
            yes if row.cleared else no]


def people_rows(now: datetime, flt: figures.PeopleFilter) -> Iterator[list[Any]]:
    """Every person of the filtered list, as the page shows them, streamed (flat memory)."""
    yes_no = (str(_("Yes")), str(_("No")))
    scope = figures.people(now, replace(flt, flag="", q=""))   # the facts' narrowing
    for (number, name, department, position), row in figures.people_with_rows(
            figures.people(now, flt), now, scope=scope, batch=EXPORT_BATCH):
        yield person_cells(number, name, department, position, row, yes_no)


def filter_title(flt: figures.PeopleFilter) -> str:
    """What the list shows, in words (the page's heading, the PDF and the file name)."""
    parts = []
    if flt.flag:
        parts.append(str(FLAG_LABELS[flt.flag]))
    for model, key in ((Department, flt.department_id), (Position, flt.position_id)):
        if key:
            name = db.session.scalar(select(model.name).where(model.id == key))
            if name:
                parts.append(name)
    if flt.track_id:
        title = db.session.scalar(select(Track.title).where(Track.id == flt.track_id))
        if title:
            parts.append(title)
    if flt.no_department:
        parts.append(_("No department"))
    if flt.no_position:
        parts.append(_("No position"))
    if flt.q:
        parts.append(_("“%(q)s”", q=flt.q))
    return " · ".join(parts) or _("Everyone in scope")


# -- the audit of exports --------------------------------------------------------------------------

def record_list_export(viewer: StaffMember, what: str, fmt: str, details: dict[str, Any], *,
                       now: datetime) -> None:
    """An export of a dashboard or a people list is itself an event (who, what, which filter).
    Flushes; the caller commits."""
    if fmt not in EXPORT_FORMATS or what not in ("dashboard", "people"):
        raise ValueError((what, fmt))
    record_event(viewer.id, f"records.{what}_exported", "records", what, now=now,
                 details={"format": fmt, **details})
    db.session.flush()


def dashboard_pdf(board: Dashboard) -> bytes:
    from flask import render_template

    from trainer.core import pdf as core_pdf

    html = render_template("pdf/dashboard.html", board=board, columns=COLUMNS,
                           group_label=GROUP_LABELS[board.by], cell=cell)
    return core_pdf.render(html, stylesheets=("css/record-pdf.css", "css/dashboard-pdf.css"))
