"""The training columns and filters of HR's staff list (/staff, accounts), contributed through
core.nav's hooks (accounts does not import records): open tracks, overdue, certificates
expiring, counted (classroom, by default) 学时 this year against the prorated minimum; filters
overdue, not cleared for duty, behind on 学时. Set-based: one pass for the page's ids."""
from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from trainer.core.timeutil import utcnow
from trainer.records import figures

HEADERS = (_l("Open tracks"), _l("Overdue"), _l("Certificates expiring"),
           _l("学时 this year / minimum to date"))
FILTERS = (("overdue", _l("Training overdue")), ("not_cleared", _l("Not cleared for duty")),
           ("behind", _l("Behind on 学时")))


def cells(staff_ids: list[int]) -> dict[int, list[Any]]:
    rows = figures.person_rows(staff_ids, utcnow())
    out = {}
    for staff_id, row in rows.items():
        hours = _("%(hours)s / %(minimum)s", hours=f"{row.hours:g}",
                  minimum=f"{row.minimum_to_date:g}")
        if row.behind:
            hours = _("%(hours)s (behind)", hours=hours)
        out[staff_id] = ["、".join(row.open_tracks), row.overdue or "", row.expiring or "", hours]
    return out


def _narrow(flag: str):
    def narrow(query):
        condition = figures.flag_condition(flag, figures.Clock.at(utcnow()))
        return query.where(figures.in_scope(), condition)
    return narrow


def register(app) -> None:
    from trainer.core.nav import add_staff_columns, add_staff_filter

    add_staff_columns(app, HEADERS, cells)
    for value, label in FILTERS:
        add_staff_filter(app, value, label, _narrow(value))
