"""HR's compliance figures (issue 17), set-based: one aggregate statement per family of
figures, grouped by department, position or track, never a loop over people.

Definitions (the issue's, used by the dashboard, the people lists and the staff list alike):

- *people in scope*: staff still employed (status active or on leave, not left); by track, the
  people in scope with an enrolment (any state) in that track.
- *enrolments*: assigned (open, not started, not past due), in progress (open, started, not
  past due), overdue (open, past due: read from the due date, not from the state the nightly
  `trainer learning assign` writes), due soon (open, due today or within 30 days), completed
  this year, waived this year.
- *certificates* (neither revoked nor superseded): expiring (valid now, expiring within the
  certificates' `expiring_days`, 60 by default) and expired.
- *not cleared for duty*: learning's rule (`learning.rules.cleared_for_duty`): stood down (待岗)
  today, or neither hired before the go-live date nor an onboarding enrolment completed or
  waived.
- *behind on 学时*: counted 学时 this year (records.settings: sources and categories, rounded
  down to a half as learning rounds) below the prorated minimum to date (records.rules:
  minimum × days at work so far this year ÷ days in the year, to a tenth), the days at work
  computed in SQL from the same effective staff events `rules.active_periods` reads.
- *coverage*: people in scope with at least one 学时 credited this year ÷ people in scope.
- *pass rate*: of the (person, quiz) pairs with a finished exam-mode attempt this year, the
  share whose grade kept under the quiz's method (highest or last, as `quizzes.kept_grade_among`)
  passed; by track, the attempts made for an enrolment in the track.

Everything here reads; nothing writes. Works the same on SQLite and PostgreSQL (dates become
day numbers by the dialect's own function, integer arithmetic for the 学时 comparison).
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, fields
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    Date,
    Integer,
    and_,
    case,
    cast,
    exists,
    func,
    literal,
    literal_column,
    or_,
    false,
    select,
    true,
)
from sqlalchemy.orm import aliased
from sqlalchemy.sql import Select

from trainer.accounts.models import Department, Position, StaffEvent, StaffMember
from trainer.certificates.models import Certificate
from trainer.core.db import db
from trainer.core.settings import centre_timezone, get_setting
from trainer.core.timeutil import local_date, local_midnight_utc
from trainer.learning.models import OPEN_STATES, Enrolment, HoursEntry, Track
from trainer.learning.settings import lifecycle_settings
from trainer.quizzes.models import Attempt, Quiz
from trainer.records import rules
from trainer.records import settings as record_settings

GROUPINGS = ("department", "position", "track")
FLAGS = ("people", "assigned", "in_progress", "overdue", "due_soon", "completed", "waived",
         "expiring", "expired", "not_cleared", "behind", "covered", "not_covered", "passed",
         "failed")
DUE_SOON_DAYS = 30
FINISHED = ("submitted", "expired")
EMPLOYED = ("active", "on_leave")


@dataclass(frozen=True)
class Figures:
    """One row of the dashboard: a department (or position, or track), or the totals."""

    key: int | None          # the department's, position's or track's id; None: none / totals
    name: str
    people: int = 0
    assigned: int = 0
    in_progress: int = 0
    overdue: int = 0
    due_soon: int = 0
    completed: int = 0
    waived: int = 0
    expiring: int = 0
    expired: int = 0
    not_cleared: int = 0
    behind: int = 0
    covered: int = 0
    hours: float = 0.0       # counted 学时 this year, summed over the people
    pairs: int = 0           # (person, quiz) pairs with a finished exam this year
    passed: int = 0          # of which the kept grade passed

    @property
    def not_covered(self) -> int:
        return self.people - self.covered

    @property
    def failed(self) -> int:
        return self.pairs - self.passed

    @property
    def coverage(self) -> float | None:
        return self.covered / self.people if self.people else None

    @property
    def pass_rate(self) -> float | None:
        return self.passed / self.pairs if self.pairs else None

    @property
    def hours_mean(self) -> float | None:
        return self.hours / self.people if self.people else None


@dataclass(frozen=True)
class Clock:
    """The moments and local dates every figure of one page is computed at."""

    now: datetime
    today: date
    year_start: datetime      # local 1 January, as UTC
    year_end: datetime        # local 1 January next year, as UTC

    @classmethod
    def at(cls, now: datetime) -> Clock:
        tz = centre_timezone()
        today = local_date(now, tz)
        return cls(now, today, local_midnight_utc(date(today.year, 1, 1), tz),
                   local_midnight_utc(date(today.year + 1, 1, 1), tz))


# -- portable pieces -------------------------------------------------------------------------------

def _dialect() -> str:
    return db.session.get_bind().dialect.name


def _day(expr):
    """A date as a whole number of days (for differences): SQLite's julianday, PostgreSQL's
    date arithmetic."""
    if _dialect() == "sqlite":
        return cast(func.julianday(expr) - 2440587.5, Integer)
    return expr - literal(date(1970, 1, 1), Date)


def _day_of(day: date) -> int:
    return (day - date(1970, 1, 1)).days


def _least(a, b):
    return case((a < b, a), else_=b)


def _greatest(a, b):
    return case((a > b, a), else_=b)


def _count(condition):
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


# -- per person: days at work, counted 学时, cleared -----------------------------------------------

def _voided():
    """The ids of the events a void undoes (an alias: never correlated with the outer events)."""
    void = aliased(StaffEvent)
    return select(void.voids_event_id).where(void.kind == "void",
                                             void.voids_event_id.is_not(None))


def _effective_events():
    return and_(StaffEvent.kind != "void", StaffEvent.id.not_in(_voided()))


def active_days(first: date, last: date, staff_ids=None):
    """A subquery (staff_id, days): the days from `first` to `last` (both included) each
    person was at work, by `rules.active_periods` and `rules.days_active` in SQL: effective
    hire / return events open a period, leave / leaving close it, a repeated opening or closing
    changes nothing, and someone with no hire event counts from their hire date. People with
    no period have no row."""
    kinds = rules.OPENS + rules.CLOSES
    hire = aliased(StaffEvent)
    events = select(StaffEvent.staff_id.label("staff_id"),
                    StaffEvent.kind.in_(rules.OPENS).label("opens"),
                    StaffEvent.occurred_on.label("day"), literal_column("1").label("o"),
                    StaffEvent.id.label("id")).where(
        StaffEvent.kind.in_(kinds), _effective_events())
    implicit = select(StaffMember.id, true(), StaffMember.hire_date, literal_column("0"),
                      literal_column("0")).where(
        StaffMember.hire_date.is_not(None),
        ~exists().where(hire.staff_id == StaffMember.id, hire.kind == "hire",
                        hire.id.not_in(_voided())))
    if staff_ids is not None:
        events = events.where(StaffEvent.staff_id.in_(staff_ids))
        implicit = implicit.where(StaffMember.id.in_(staff_ids))
    u = events.union_all(implicit).subquery()
    order = (u.c.o, u.c.day, u.c.id)
    previous = func.lag(u.c.opens).over(partition_by=u.c.staff_id, order_by=order)
    flagged = select(u.c.staff_id, u.c.opens, u.c.day, u.c.o, u.c.id,
                     previous.label("was_open")).subquery()
    # The transitions only: an opening while closed (or first), a closing while open.
    changed = or_(and_(flagged.c.opens, or_(flagged.c.was_open.is_(None),
                                            ~flagged.c.was_open)),
                  and_(~flagged.c.opens, flagged.c.was_open.is_not(None), flagged.c.was_open))
    t = select(flagged.c.staff_id, flagged.c.opens, flagged.c.day, flagged.c.o, flagged.c.id
               ).where(changed).subquery()
    nxt = func.lead(t.c.day).over(partition_by=t.c.staff_id, order_by=(t.c.o, t.c.day, t.c.id))
    periods = select(t.c.staff_id, t.c.opens, _day(t.c.day).label("start"),
                     _day(nxt).label("end")).subquery()
    lo, hi = literal(_day_of(first)), literal(_day_of(last) + 1)
    end = _least(func.coalesce(periods.c.end, hi), hi)
    start = _greatest(periods.c.start, lo)
    span = case((end > start, end - start), else_=0)
    return (select(periods.c.staff_id.label("staff_id"),
                   cast(func.sum(span), Integer).label("days"))
            .where(periods.c.opens).group_by(periods.c.staff_id).subquery("active_days"))


def _hours_this_year(clock: Clock, staff_ids=None):
    """A subquery (staff_id, counted, any): counted minutes this year (records' settings) and
    whether any 学时 at all was credited this year."""
    sources = record_settings.counted_sources()
    categories = record_settings.counted_categories()
    counts = HoursEntry.source_kind.in_(sources) if sources else false()
    if categories:
        counts = and_(counts, HoursEntry.category.in_(categories))
    year = clock.today.year
    query = (select(HoursEntry.staff_id.label("staff_id"),
                   func.coalesce(func.sum(case((counts, HoursEntry.minutes), else_=0)), 0)
                   .label("counted"),
                   func.count().label("entries"))
            .where(HoursEntry.on_date >= date(year, 1, 1), HoursEntry.on_date <= date(year, 12, 31),
                   HoursEntry.minutes > 0)
            .group_by(HoursEntry.staff_id))
    if staff_ids is not None:
        query = query.where(HoursEntry.staff_id.in_(staff_ids))
    return query.subquery("hours_year")


def stood_down_ids():
    """The staff ids stood down now (learning.rules.stood_down in SQL): an effective stand-down
    with no effective reinstatement or leaving after it, in the events' order (date, then id:
    as accounts.rules.effective_events). Uncorrelated with the people asked about, so it is
    computed once per statement (stand-downs are few), not once per person."""
    down, back = aliased(StaffEvent), aliased(StaffEvent)
    voided = _voided()
    ended = exists().where(back.staff_id == down.staff_id,
                           back.kind.in_(("reinstated", "leaving")),
                           or_(back.occurred_on > down.occurred_on,
                               and_(back.occurred_on == down.occurred_on, back.id > down.id)),
                           back.id.not_in(voided))
    return select(down.staff_id).where(down.kind == "stood_down", down.id.not_in(voided),
                                       ~ended)


def stood_down(staff=StaffMember):
    return staff.id.in_(stood_down_ids())


def not_cleared(staff=StaffMember):
    """learning.rules.cleared_for_duty as a condition on a staff row: stood down today, or not
    hired before the go-live and no onboarding enrolment completed or waived."""
    go_live = lifecycle_settings().go_live
    onboarded = exists().where(Enrolment.staff_id == staff.id, Enrolment.track_id == Track.id,
                               Track.key == "onboarding",
                               Enrolment.state.in_(("completed", "waived")))
    if go_live is None:
        return or_(~onboarded, stood_down(staff))
    hired_before = and_(staff.hire_date.is_not(None), staff.hire_date < go_live)
    return or_(and_(~hired_before, ~onboarded), stood_down(staff))


def _person_facts(clock: Clock, staff_ids=None):
    """A subquery of every person in scope: (staff_id, department_id, position_id, not_cleared,
    half_hours, minimum_tenths, behind, covered). `half_hours` are the counted 学时 × 2 as
    learning rounds them; `minimum_tenths` the prorated minimum × 10 (rules.minimum_to_date,
    rounded half up); behind ⇔ half_hours / 2 < minimum_tenths / 10."""
    year = clock.today.year
    days = active_days(date(year, 1, 1), min(clock.today, date(year, 12, 31)), staff_ids)
    hours = _hours_this_year(clock, staff_ids)
    per_hour = learning_minutes_per_hour()
    minimum = record_settings.annual_minimum()
    in_year = rules.days_in_year(year)
    half_hours = (literal(2) * func.coalesce(hours.c.counted, 0)) // literal(per_hour)
    active = func.coalesce(days.c.days, 0)
    tenths = (literal(20 * minimum) * active + literal(in_year)) // literal(2 * in_year)
    query = (select(StaffMember.id.label("staff_id"),
                   StaffMember.department_id.label("department_id"),
                   StaffMember.position_id.label("position_id"),
                   case((not_cleared(), 1), else_=0).label("not_cleared"),
                   cast(half_hours, Integer).label("half_hours"),
                   cast(tenths, Integer).label("minimum_tenths"),
                   case((literal(5) * half_hours < tenths, 1), else_=0).label("behind"),
                   case((func.coalesce(hours.c.entries, 0) > 0, 1), else_=0).label("covered"))
            .outerjoin(days, days.c.staff_id == StaffMember.id)
            .outerjoin(hours, hours.c.staff_id == StaffMember.id)
            .where(StaffMember.status.in_(EMPLOYED)))
    if staff_ids is not None:
        query = query.where(StaffMember.id.in_(staff_ids))
    return query.subquery("facts")


def learning_minutes_per_hour() -> int:
    return int(get_setting("minutes_per_hour"))


# -- groups ----------------------------------------------------------------------------------------

def _members(by: str):
    """A subquery (staff_id, key) of the people in scope by group; by track, a person appears
    once per track they have an enrolment in. by="all": every person once, key 0."""
    scope = StaffMember.status.in_(EMPLOYED)
    if by == "department":
        q = select(StaffMember.id.label("staff_id"), StaffMember.department_id.label("key"))
    elif by == "position":
        q = select(StaffMember.id.label("staff_id"), StaffMember.position_id.label("key"))
    elif by == "track":
        q = (select(Enrolment.staff_id.label("staff_id"), Enrolment.track_id.label("key"))
             .join(StaffMember, StaffMember.id == Enrolment.staff_id).distinct())
    elif by == "all":
        q = select(StaffMember.id.label("staff_id"), literal_column("0").label("key"))
    else:
        raise ValueError(f"unknown grouping: {by}")
    return q.where(scope).subquery("members")


def _enrolment_conditions(clock: Clock) -> dict:
    today = clock.today
    open_ = Enrolment.state.in_(OPEN_STATES)
    this_year = and_(Enrolment.completed_at >= clock.year_start,
                     Enrolment.completed_at < clock.year_end)
    return {
        "assigned": and_(Enrolment.state == "assigned", Enrolment.due_on >= today),
        "in_progress": and_(Enrolment.state == "in_progress", Enrolment.due_on >= today),
        "overdue": and_(open_, Enrolment.due_on < today),
        "due_soon": and_(open_, Enrolment.due_on >= today,
                         Enrolment.due_on <= today + timedelta(days=DUE_SOON_DAYS)),
        "completed": and_(Enrolment.state == "completed", this_year),
        "waived": and_(Enrolment.state == "waived", this_year),
    }


def _expiring_days() -> int:
    return int(get_setting("expiring_days") or 60)


def _certificate_conditions(clock: Clock) -> dict:
    live = and_(Certificate.revoked_at.is_(None), Certificate.superseded_by_id.is_(None))
    return {
        "expiring": and_(live, Certificate.expires_at > clock.now,
                         Certificate.expires_at <= clock.now + timedelta(days=_expiring_days())),
        "expired": and_(live, Certificate.expires_at <= clock.now),
    }


def _kept_grades(clock: Clock, by: str, *, start: datetime | None = None,
                 end: datetime | None = None, months: list[datetime] | None = None,
                 staff_ids=None):
    """A subquery (staff_id, key, quiz_id, bucket, passed) of the grade each (person, quiz)
    pair keeps among its finished exam-mode attempts in the period (this year by default):
    quizzes.kept_grades' ranking (the last by number, or the highest percent with a passed one
    before an equal failed one, then the earliest), per pair. By track, attempts made for an
    enrolment of the track; with `months` (month starts, UTC), one bucket per month."""
    when = Attempt.submitted_at      # set on every finished attempt (submitted or expired)
    start = start or clock.year_start
    end = end or clock.year_end
    key = _attempt_key(by)
    partition = [Attempt.staff_id, Attempt.quiz_id]
    if by != "all":
        partition.append(key)
    if months:
        bucket = case(*[(when < boundary, index) for index, boundary in
                        enumerate(months[1:] + [end])], else_=len(months))
        partition.append(bucket)
    else:
        bucket = literal_column("0")
    last = case((Quiz.grading == "last", Attempt.number), else_=0)
    rank = func.row_number().over(partition_by=partition, order_by=(
        last.desc(), Attempt.percent.desc(), Attempt.passed.desc(), Attempt.number,
        Attempt.id)).label("rank")
    q = (select(Attempt.staff_id.label("staff_id"), key.label("key"),
                Attempt.quiz_id.label("quiz_id"), bucket.label("bucket"),
                case((Attempt.passed, 1), else_=0).label("passed"), rank)
         .join(Quiz, Quiz.id == Attempt.quiz_id)
         .join(StaffMember, StaffMember.id == Attempt.staff_id)
         .where(Quiz.mode == "exam", Attempt.state.in_(FINISHED), when >= start, when < end,
                StaffMember.status.in_(EMPLOYED)))
    if by == "track":
        q = q.join(Enrolment, Enrolment.id == Attempt.enrolment_id)
    if staff_ids is not None:
        q = q.where(Attempt.staff_id.in_(staff_ids))
    ranked = q.subquery()
    return (select(ranked.c.staff_id, ranked.c.key, ranked.c.quiz_id, ranked.c.bucket,
                   ranked.c.passed).where(ranked.c.rank == 1).subquery("kept"))


def _attempt_key(by: str):
    if by == "department":
        return StaffMember.department_id
    if by == "position":
        return StaffMember.position_id
    if by == "track":
        return Enrolment.track_id
    return literal_column("0")


# -- the figures -----------------------------------------------------------------------------------

def group_figures(now: datetime, *, by: str = "department") -> list[Figures]:
    """The dashboard's rows: one per department (or position, or track) with people in scope,
    plus the active departments (positions, tracks) with none, by name. Four statements
    (people, enrolments, certificates, grades), plus one for the names."""
    if by not in GROUPINGS and by != "all":
        raise ValueError(f"unknown grouping: {by}")
    clock = Clock.at(now)
    values: dict[int | None, dict[str, float]] = {}

    def put(key, **figures) -> None:
        row = values.setdefault(key, {})
        for name, value in figures.items():
            row[name] = row.get(name, 0) + (value or 0)

    members = _members(by)
    facts = _person_facts(clock)
    for key, people, blocked, behind, covered, half_hours in db.session.execute(
            select(members.c.key, func.count(), func.sum(facts.c.not_cleared),
                   func.sum(facts.c.behind), func.sum(facts.c.covered),
                   func.sum(facts.c.half_hours))
            .select_from(members).join(facts, facts.c.staff_id == members.c.staff_id)
            .group_by(members.c.key)):
        put(key, people=int(people), not_cleared=int(blocked or 0), behind=int(behind or 0),
            covered=int(covered or 0), hours=float(half_hours or 0) / 2)

    conditions = _enrolment_conditions(clock)
    on = Enrolment.staff_id == members.c.staff_id
    if by == "track":
        on = and_(on, Enrolment.track_id == members.c.key)
    names = list(conditions)
    for row in db.session.execute(
            select(members.c.key, *[_count(c) for c in conditions.values()])
            .select_from(members).join(Enrolment, on).group_by(members.c.key)):
        put(row[0], **{name: int(v) for name, v in zip(names, row[1:])})

    certificate_conditions = _certificate_conditions(clock)
    query = select(members.c.key, *[_count(c) for c in certificate_conditions.values()]
                   ).select_from(members).join(Certificate,
                                               Certificate.staff_id == members.c.staff_id)
    if by == "track":
        query = query.join(Enrolment, and_(Enrolment.id == Certificate.enrolment_id,
                                           Enrolment.track_id == members.c.key))
    for key, expiring, expired in db.session.execute(query.group_by(members.c.key)):
        put(key, expiring=int(expiring), expired=int(expired))

    kept = _kept_grades(clock, by)
    for key, pairs, passed in db.session.execute(
            select(kept.c.key, func.count(), func.sum(kept.c.passed)).group_by(kept.c.key)):
        put(key, pairs=int(pairs), passed=int(passed or 0))

    if by == "all":
        return [_figures(0, "", values.get(0, {}))]
    labels = group_names(by)
    for key in labels:
        values.setdefault(key, {})
    rows = [_figures(key, labels.get(key, ""), row) for key, row in values.items()]
    order = {key: index for index, key in enumerate(labels)}
    rows.sort(key=lambda f: (f.key is None, order.get(f.key, len(order)), f.name))
    return rows


department_figures = group_figures


def totals(now: datetime, rows: list[Figures] | None = None, by: str = "department") -> Figures:
    """The totals row: everyone in scope once. By department or position (each person in one
    row, the row without one included) the rows add up; by track a person may count in several
    rows, so the totals are counted again."""
    if rows is not None and by in ("department", "position"):
        sums = {f.name: sum(getattr(r, f.name) for r in rows) for f in fields(Figures)
                if f.name not in ("key", "name")}
        return Figures(0, "", **sums)
    return group_figures(now, by="all")[0]


def _figures(key, name, row: dict) -> Figures:
    known = {f.name for f in fields(Figures)} - {"key", "name"}
    values = {k: (float(v) if k == "hours" else int(v)) for k, v in row.items() if k in known}
    return Figures(key, name, **values)


def group_names(by: str) -> dict[int, str]:
    """The active departments (positions, tracks) in their order: {id: name}."""
    if by == "track":
        rows = db.session.execute(select(Track.id, Track.title).order_by(Track.position,
                                                                         Track.id))
    else:
        model = Department if by == "department" else Position
        rows = db.session.execute(select(model.id, model.name).where(model.active)
                                  .order_by(model.sort_order, model.name))
    return dict(rows.all())


def overdue_by_track(now: datetime, *, by: str = "department") -> dict[tuple[int | None, int], int]:
    """{(department id, track id): overdue enrolments} for the stacked chart (one statement)."""
    clock = Clock.at(now)
    members = _members(by)
    condition = _enrolment_conditions(clock)["overdue"]
    rows = db.session.execute(
        select(members.c.key, Enrolment.track_id, func.count())
        .select_from(members).join(Enrolment, Enrolment.staff_id == members.c.staff_id)
        .where(condition).group_by(members.c.key, Enrolment.track_id))
    return {(key, track): int(n) for key, track, n in rows}


def month_starts(now: datetime, count: int = 12) -> list[date]:
    """The first days of the last `count` months, oldest first, this month last."""
    today = Clock.at(now).today
    year, month = today.year, today.month
    starts = []
    for _ in range(count):
        starts.append(date(year, month, 1))
        month -= 1
        if month == 0:
            year, month = year - 1, 12
    return starts[::-1]


def pass_rate_by_month(now: datetime, count: int = 12) -> list[tuple[date, int, int]]:
    """[(month, pairs, passed)] for the last `count` months (a pair's grade kept among its
    attempts of that month), oldest first; one statement."""
    clock = Clock.at(now)
    tz = centre_timezone()
    starts = month_starts(now, count)
    boundaries = [local_midnight_utc(d, tz) for d in starts]
    nxt = date(clock.today.year + (clock.today.month == 12), clock.today.month % 12 + 1, 1)
    kept = _kept_grades(clock, "all", start=boundaries[0], end=local_midnight_utc(nxt, tz),
                        months=boundaries)
    found = {int(b): (int(p), int(s or 0)) for b, p, s in db.session.execute(
        select(kept.c.bucket, func.count(), func.sum(kept.c.passed)).group_by(kept.c.bucket))}
    return [(start, *found.get(index, (0, 0))) for index, start in enumerate(starts)]


def in_scope(staff=StaffMember):
    """The people the figures count: still employed (active or on leave)."""
    return staff.status.in_(EMPLOYED)


# -- the people behind a figure -------------------------------------------------------------------

@dataclass(frozen=True)
class PeopleFilter:
    department_id: int | None = None
    position_id: int | None = None
    track_id: int | None = None
    flag: str = ""
    q: str = ""
    no_department: bool = False     # the row of people without a department
    no_position: bool = False       # the row of people without a position

    def __post_init__(self) -> None:
        if self.flag and self.flag not in FLAGS:
            raise ValueError(f"unknown flag: {self.flag}")


def flag_condition(flag: str, clock: Clock, *, track_id: int | None = None, staff=StaffMember,
                   within=None):
    """The condition on a staff row for one flag (an EXISTS correlated on the person, or a
    test of the person facts); None for "people" (everyone in scope). `within`, a SELECT of
    staff ids, bounds what the facts and grades are computed for (a department's list computes
    that department's, not everyone's)."""
    if flag in ("", "people"):
        return None
    in_track = (lambda q: q.where(Enrolment.track_id == track_id)) if track_id else (lambda q: q)
    enrolments = _enrolment_conditions(clock)
    if flag in enrolments:
        return in_track(select(Enrolment.id).where(Enrolment.staff_id == staff.id,
                                                   enrolments[flag])).exists()
    certificates = _certificate_conditions(clock)
    if flag in certificates:
        query = select(Certificate.id).where(Certificate.staff_id == staff.id,
                                             certificates[flag])
        if track_id:
            query = query.join(Enrolment, Enrolment.id == Certificate.enrolment_id).where(
                Enrolment.track_id == track_id)
        return query.exists()
    if flag in ("passed", "failed"):
        # Set-based (an IN over the kept grades, computed once), not correlated per person.
        kept = _kept_grades(clock, "track" if track_id else "all", staff_ids=within)
        query = select(kept.c.staff_id).where(kept.c.passed == (1 if flag == "passed" else 0))
        if track_id:
            query = query.where(kept.c.key == track_id)
        return staff.id.in_(query)
    if flag == "not_cleared":
        return not_cleared(staff)
    facts = _person_facts(clock, within)
    column = {"behind": facts.c.behind, "covered": facts.c.covered,
              "not_covered": facts.c.covered}[flag]
    wanted = 0 if flag == "not_covered" else 1
    return staff.id.in_(select(facts.c.staff_id).where(column == wanted))


# The people lists' order, unique (the id last), shared by a list and its streamed exports.
PEOPLE_ORDER = (StaffMember.name, StaffMember.employee_no, StaffMember.id)


def people(now: datetime, flt: PeopleFilter = PeopleFilter()) -> Select:
    """The people behind a figure, in scope, by name then employee number: a SELECT of
    StaffMember for the page to paginate (limit / offset) or an export to stream."""
    clock = Clock.at(now)

    def narrowed(staff):
        query = select(staff).where(staff.status.in_(EMPLOYED))
        if flt.no_department:
            query = query.where(staff.department_id.is_(None))
        elif flt.department_id:
            query = query.where(staff.department_id == flt.department_id)
        if flt.no_position:
            query = query.where(staff.position_id.is_(None))
        elif flt.position_id:
            query = query.where(staff.position_id == flt.position_id)
        return query

    query = narrowed(StaffMember)
    if flt.track_id:
        query = query.where(exists().where(Enrolment.staff_id == StaffMember.id,
                                           Enrolment.track_id == flt.track_id))
    within = None
    if flt.no_department or flt.department_id or flt.no_position or flt.position_id:
        other = aliased(StaffMember)     # (an alias: not correlated with the list's rows)
        within = narrowed(other).with_only_columns(other.id)
    condition = flag_condition(flt.flag, clock, track_id=flt.track_id, within=within)
    if condition is not None:
        query = query.where(condition)
    q = flt.q.strip()
    if q:
        like = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(or_(StaffMember.name.ilike(like, escape="\\"),
                                StaffMember.employee_no.ilike(like, escape="\\")))
    return query.order_by(*PEOPLE_ORDER)


@dataclass(frozen=True)
class PersonRow:
    """A person's line in a people list (and the staff list's training columns)."""

    staff_id: int
    open_tracks: tuple[str, ...]
    overdue: int
    expiring: int
    hours: float                # counted 学时 this year
    minimum_to_date: float      # the prorated minimum
    behind: bool
    cleared: bool


def _columns(clock: Clock, staff_ids) -> tuple[list, Any]:
    """The training columns as expressions on a StaffMember row, and the facts subquery they
    need joined (outer) on ``facts.c.staff_id``; ``staff_ids`` narrows the facts (a list, or
    a SELECT of ids)."""
    conditions = _enrolment_conditions(clock)
    overdue = (select(func.count()).where(Enrolment.staff_id == StaffMember.id,
                                          conditions["overdue"]).scalar_subquery())
    expiring = (select(func.count()).select_from(Certificate).where(
        Certificate.staff_id == StaffMember.id,
        _certificate_conditions(clock)["expiring"]).scalar_subquery())
    facts = _person_facts(clock, staff_ids)
    return [overdue, expiring, facts.c.half_hours, facts.c.minimum_tenths, facts.c.behind,
            facts.c.not_cleared], facts


def _person_row(staff_id: int, tracks: tuple[str, ...], late, soon, half_hours, tenths, behind,
                blocked) -> PersonRow:
    if half_hours is None:   # not in scope (left): their figures read directly
        half_hours, tenths, behind = 0, 0, 0
        blocked = 0
    return PersonRow(staff_id, tracks, int(late), int(soon), int(half_hours) / 2,
                     int(tenths) / 10, bool(behind), not bool(blocked))


def person_rows(staff_ids: list[int], now: datetime) -> dict[int, PersonRow]:
    """The training columns of a page of people: two statements for the whole page (the
    figures, the open tracks' names), never one per person."""
    if not staff_ids:
        return {}
    clock = Clock.at(now)
    columns, facts = _columns(clock, staff_ids)
    rows = db.session.execute(
        select(StaffMember.id, *columns)
        .outerjoin(facts, facts.c.staff_id == StaffMember.id)
        .where(StaffMember.id.in_(staff_ids))).all()
    tracks: dict[int, list[str]] = {}
    for staff_id, title in db.session.execute(
            select(Enrolment.staff_id, Track.title).join(Track, Track.id == Enrolment.track_id)
            .where(Enrolment.staff_id.in_(staff_ids), Enrolment.state.in_(OPEN_STATES))
            .order_by(Track.position, Track.id)):
        tracks.setdefault(staff_id, []).append(title)
    return {row[0]: _person_row(row[0], tuple(tracks.get(row[0], ())), *row[1:])
            for row in rows}


def people_with_rows(listing: Select, now: datetime, *, scope: Select | None = None,
                     batch: int = 2000) -> Iterator[tuple[Any, PersonRow]]:
    """Every person of ``listing`` (a SELECT of StaffMember from `people`, in its order) as
    (employee number, name, department, position) with their training columns: two statements
    for the whole list, streamed ``batch`` rows at a time and merged in step (the open tracks
    come in the list's order too), so an export of 50,000 holds a batch, not the list, and
    computes the facts once, not once per batch."""
    clock = Clock.at(now)
    # The list's ids as a subquery of its own (correlate(None): it shares staff_members with
    # the statements it narrows, and must not be folded into them). The facts are narrowed by
    # `scope`, a plain list (its department, position or track): a list behind a figure's
    # condition nested inside the facts' own subqueries was too deep for SQLite's parser.
    ids = listing.with_only_columns(StaffMember.id).order_by(None).correlate(None)
    narrowed = (scope if scope is not None else listing).with_only_columns(
        StaffMember.id).order_by(None).correlate(None)
    columns, facts = _columns(clock, narrowed)
    rows = db.session.execute(
        listing.with_only_columns(StaffMember.id, StaffMember.employee_no, StaffMember.name,
                                  Department.name, Position.name, *columns)
        .outerjoin(Department, Department.id == StaffMember.department_id)
        .outerjoin(Position, Position.id == StaffMember.position_id)
        .outerjoin(facts, facts.c.staff_id == StaffMember.id)
        .execution_options(yield_per=batch))
    titles = iter(db.session.execute(
        select(Enrolment.staff_id, Track.title)
        .join(Track, Track.id == Enrolment.track_id)
        .join(StaffMember, StaffMember.id == Enrolment.staff_id)
        .where(Enrolment.staff_id.in_(ids), Enrolment.state.in_(OPEN_STATES))
        .order_by(*PEOPLE_ORDER, Track.position, Track.id)
        .execution_options(yield_per=batch)))
    pending = next(titles, None)
    for staff_id, number, name, department, position, *figures_ in rows:
        tracks = []
        while pending is not None and pending[0] == staff_id:
            tracks.append(pending[1])
            pending = next(titles, None)
        yield ((number, name, department or "", position or ""),
               _person_row(staff_id, tuple(tracks), *figures_))
