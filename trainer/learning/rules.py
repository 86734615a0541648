"""Lifecycle rules (pure): which track each person is due for, and when, from their staff events
and their enrolments. The clock (`today`, a local date in the centre's zone) is injected."""
from __future__ import annotations

import calendar
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

OPEN = ("assigned", "in_progress", "overdue")
# Returns and nominations older than this are history, not a reason to assign a track today
# (a centre importing its staff would otherwise see re-entry for leaves of years ago).
STALE_AFTER_DAYS = 180


@dataclass(frozen=True)
class LifecycleSettings:
    go_live: date | None = None
    onboarding_days: int = 30
    reentry_days: int = 28   # seed 004: re-entry training lasts at least four weeks
    reentry_min_leave_days: int = 30
    promotion_days: int = 60
    inservice_cycle_months: int = 12
    inservice_window_days: int = 30
    remedial_months: int = 1  # seed 004: remedial (待岗) training lasts at least a month
    # The posts with their own training (posts/*.toml): a post's name (and each alias) → (the
    # post's key, the days its promotion or transfer training is due after the nomination or
    # the change).
    posts: Mapping[str, tuple[str, int]] = field(default_factory=dict)


@dataclass(frozen=True)
class EventFact:
    id: int
    kind: str
    occurred_on: date
    position: str = ""
    recorded_on: date | None = None   # local date HR recorded it (events are recorded late)
    reason: str = ""                  # a stand-down's; "remedial": a change a remedial
                                      # evaluation decided (a lower post)

    @property
    def counts_from(self) -> date:
        """Due dates count from the later of the event and the day it was recorded: a return
        recorded 20 days late is not overdue the moment it is assigned."""
        if self.recorded_on is None:
            return self.occurred_on
        return max(self.occurred_on, self.recorded_on)


@dataclass(frozen=True)
class EnrolmentFact:
    id: int
    track: str
    state: str
    assigned_on: date
    due_on: date
    completed_on: date | None = None
    source_event_id: int | None = None
    target_position: str = ""


@dataclass(frozen=True)
class PersonFacts:
    status: str
    hire_date: date | None
    events: Sequence[EventFact]          # effective events, in date order
    enrolments: Sequence[EnrolmentFact] = field(default_factory=tuple)


@dataclass(frozen=True)
class Assignment:
    track: str
    reason: str
    due_on: date
    source_event_id: int | None = None
    away_from: date | None = None
    away_until: date | None = None
    target_position: str = ""


def add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year = day.year + month // 12
    month = month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _of(person: PersonFacts, track: str) -> list[EnrolmentFact]:
    return [e for e in person.enrolments if e.track == track]


def _is_open(person: PersonFacts, track: str) -> bool:
    return any(e.state in OPEN for e in _of(person, track))


def _recent(day: date, settings: LifecycleSettings, today: date) -> bool:
    if settings.go_live is not None and day < settings.go_live:
        return False
    return (today - day).days <= STALE_AFTER_DAYS


def cleared_on(person: PersonFacts, settings: LifecycleSettings) -> date | None:
    """When the person was cleared for duty (上岗): onboarding completed, or hired before the
    go-live date (existing staff count as cleared from the go-live)."""
    if person.hire_date is not None and settings.go_live is not None \
            and person.hire_date < settings.go_live:
        return settings.go_live
    done = [e for e in _of(person, "onboarding") if e.state in ("completed", "waived")]
    if not done:
        return None
    return max(e.completed_on or e.due_on for e in done)


def onboarding(person: PersonFacts, settings: LifecycleSettings, today: date) -> Assignment | None:
    hires = [e for e in person.events if e.kind == "hire"]
    if not hires:
        return None
    hire = hires[-1]
    if settings.go_live is not None and hire.occurred_on < settings.go_live:
        return None
    if any(e.source_event_id == hire.id or e.assigned_on >= hire.occurred_on
           for e in _of(person, "onboarding")):
        return None
    return Assignment("onboarding", "hire",
                      hire.counts_from + timedelta(days=settings.onboarding_days),
                      source_event_id=hire.id)


def reentry(person: PersonFacts, settings: LifecycleSettings, today: date) -> Assignment | None:
    start: EventFact | None = None
    latest: Assignment | None = None
    for event in person.events:
        if event.kind == "leave_start":
            start = event
        elif event.kind == "leave_return" and start is not None:
            days = (event.occurred_on - start.occurred_on).days
            if days >= settings.reentry_min_leave_days:
                latest = Assignment("reentry", "return",
                                    event.counts_from + timedelta(days=settings.reentry_days),
                                    source_event_id=event.id, away_from=start.occurred_on,
                                    away_until=event.occurred_on)
            else:
                latest = None
            start = None
    if latest is None or not _recent(latest.away_until, settings, today):  # type: ignore[arg-type]
        return None
    if any(e.source_event_id == latest.source_event_id for e in _of(person, "reentry")):
        return None
    return latest


def promotion(person: PersonFacts, settings: LifecycleSettings, today: date) -> Assignment | None:
    nominations = [e for e in person.events if e.kind == "nomination"]
    if not nominations:
        return None
    nomination = nominations[-1]
    if not _recent(nomination.occurred_on, settings, today):
        return None
    if any(e.source_event_id == nomination.id for e in _of(person, "promotion")):
        return None
    post = settings.posts.get(nomination.position)
    days = post[1] if post else settings.promotion_days
    return Assignment("promotion", "nomination", nomination.counts_from + timedelta(days=days),
                      source_event_id=nomination.id, target_position=nomination.position)


def transfer(person: PersonFacts, settings: LifecycleSettings, today: date) -> Assignment | None:
    """The new post's transfer training (转岗) after a position change to a post that has its
    own training, unless the person completed (or is taking) promotion training for that post
    within six months, or the change is a remedial outcome (learning.remedial.transfer_due)."""
    from trainer.learning.remedial import transfer_due

    changes = [e for e in person.events if e.kind == "position_change"]
    if not changes:
        return None
    change = changes[-1]
    post = settings.posts.get(change.position)
    if post is None or not _recent(change.occurred_on, settings, today):
        return None
    if any(e.source_event_id == change.id for e in _of(person, "transfer")):
        return None

    def same_post(position: str) -> bool:
        return settings.posts.get(position, ("",))[0] == post[0]

    if any(e.state in OPEN and same_post(e.target_position) for e in _of(person, "promotion")):
        return None
    promotions = [(change.position if same_post(e.target_position) else e.target_position,
                   e.completed_on) for e in _of(person, "promotion")
                  if e.state == "completed" and e.completed_on is not None]
    if not transfer_due(person, change, remedial_outcome=change.reason == "remedial",
                        promotions=promotions):
        return None
    return Assignment("transfer", "transfer", change.counts_from + timedelta(days=post[1]),
                      source_event_id=change.id, target_position=change.position)


def inservice_due(person: PersonFacts, settings: LifecycleSettings) -> date | None:
    """Due 12 months after the last in-service completion; for the first, after clearance."""
    done = [e.completed_on or e.due_on for e in _of(person, "inservice")
            if e.state in ("completed", "waived")]
    base = max(done) if done else cleared_on(person, settings)
    if base is None:
        return None
    return add_months(base, settings.inservice_cycle_months)


def inservice(person: PersonFacts, settings: LifecycleSettings, today: date) -> Assignment | None:
    due = inservice_due(person, settings)
    if due is None or today < due - timedelta(days=settings.inservice_window_days):
        return None
    if any(e.due_on == due for e in _of(person, "inservice")):
        return None
    return Assignment("inservice", "renewal", due)


def remedial(person: PersonFacts, settings: LifecycleSettings, today: date) -> Assignment | None:
    from trainer.learning.remedial import remedial as rule  # (remedial builds on this module)

    return rule(person, settings.remedial_months, today)


def stood_down(person: PersonFacts, today: date) -> bool:
    from trainer.learning.remedial import stood_down_on

    return stood_down_on(person.events, today)


def cleared_for_duty(person: PersonFacts, settings: LifecycleSettings, today: date) -> bool:
    """Cleared (上岗) and not stood down today: a stood-down agent takes no calls until
    reinstated."""
    return cleared_on(person, settings) is not None and not stood_down(person, today)


RULES = (onboarding, reentry, promotion, inservice, remedial, transfer)


def assignments_due(person: PersonFacts, settings: LifecycleSettings,
                    today: date) -> list[Assignment]:
    """What to assign now. Nothing for someone who left; re-entry, in-service and transfer wait
    until a person on leave is back, in-service until a stood-down person is reinstated; never a
    second open enrolment in a track."""
    if person.status == "left":
        return []
    found = []
    down = stood_down(person, today)
    for rule in RULES:
        if person.status == "on_leave" and rule in (reentry, inservice, transfer):
            continue
        if down and rule is inservice:   # the remedial track first; the cycle after it
            continue
        assignment = rule(person, settings, today)
        if assignment is not None and not _is_open(person, assignment.track):
            found.append(assignment)
    return found


def becomes_overdue(state: str, due_on: date, today: date) -> bool:
    return state in ("assigned", "in_progress") and due_on < today
