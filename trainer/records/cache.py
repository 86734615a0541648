"""The dashboard's figures, stored for a few minutes.

Computed live, the figures read every enrolment, certificate, 学时 entry and exam attempt of the
year: about two seconds on SQLite at 10,000 staff. `trainer records refresh` (cron, every few
minutes) computes each grouping once, set-based as always (records.figures), and stores its rows
and its charts' figures here (and the quiz results list over all time, records.results, which
ranks every finished attempt: seconds at a million attempts); the dashboard shows stored figures while they are at most five
minutes old, and says as of when; older or missing, it computes them live. The people lists
behind the figures are always live. Records' own table: it writes nothing of the other areas."""
from __future__ import annotations

import dataclasses
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import delete

from trainer.core.db import db
from trainer.records.models import FigureSet

FRESH_FOR = timedelta(minutes=5)
# The quiz results list over all time (records.results), stored beside the groupings.
RESULTS = "results"


@dataclasses.dataclass(frozen=True)
class Stored:
    computed_at: datetime
    rows: list
    total: Any
    overdue: dict[tuple[int | None, int], int]
    months: list[tuple[date, int, int]]


def compute(now: datetime) -> list[dict[str, Any]]:
    """Every grouping's figures and charts, computed (reads only)."""
    from trainer.core.settings import centre_timezone
    from trainer.records import figures, results

    months = [[m.isoformat(), pairs, passed] for m, pairs, passed in
              figures.pass_rate_by_month(now)]
    sets = []
    for by in figures.GROUPINGS:
        rows = figures.group_figures(now, by=by)
        total = figures.totals(now, rows, by)
        overdue = [] if by == "track" else [
            [key, track, n] for (key, track), n in figures.overdue_by_track(now, by=by).items()]
        sets.append(dict(grouping=by, computed_at=now,
                         rows=[dataclasses.asdict(r) for r in rows] + [dataclasses.asdict(total)],
                         charts={"overdue": overdue, "months": months}))
    sets.append(dict(grouping=RESULTS, computed_at=now, charts={}, rows=[
        q.stored() for q in results.iter_quiz_list(results.ResultsFilter(), centre_timezone(),
                                                   None)]))
    return sets


def store(sets: list[dict[str, Any]]) -> int:
    """Replace what was stored. Flushes; the caller commits."""
    db.session.execute(delete(FigureSet))
    db.session.add_all([FigureSet(**values) for values in sets])
    db.session.flush()
    return len(sets)


def refresh(now: datetime) -> int:
    """Compute and store every grouping's figures. Flushes; the caller commits."""
    return store(compute(now))


def fresh_results(now: datetime):
    """(computed at, every quiz's results.QuizFigures) if stored at most FRESH_FOR ago, else
    None."""
    from trainer.records.results import QuizFigures

    stored = db.session.get(FigureSet, RESULTS)
    if stored is None or not now - FRESH_FOR <= stored.computed_at <= now + timedelta(minutes=1):
        return None
    try:
        return stored.computed_at, [QuizFigures.from_stored(row) for row in stored.rows]
    except (TypeError, KeyError, ValueError):     # stored by another version: compute live
        return None


def fresh(by: str, now: datetime) -> Stored | None:
    """The stored figures of a grouping if at most FRESH_FOR old, else None."""
    from trainer.records.figures import Figures

    stored = db.session.get(FigureSet, by)
    if stored is None or not now - FRESH_FOR <= stored.computed_at <= now + timedelta(minutes=1):
        return None
    try:
        rows = [Figures(**row) for row in stored.rows]
    except TypeError:     # stored by another version of the figures: compute them live
        return None
    return Stored(stored.computed_at, rows[:-1], rows[-1],
                  {(key, track): n for key, track, n in stored.charts.get("overdue", [])},
                  [(date.fromisoformat(m), pairs, passed)
                   for m, pairs, passed in stored.charts.get("months", [])])
