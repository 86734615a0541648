"""Remedial (待岗) and transfer (转岗) rules, pure: the episodes a person is stood down for, when
reinstatement becomes possible, when HR must be told, whether a stand-down is due its remedial
track, and whether a change of post is due transfer training. The clock (`today`, a local date
in the centre's zone) and the facts are injected; learning's services will feed them from the
staff events (stood down / reinstated, not recorded by the site yet: issue 20 continues).

Seed 004's rules as modelled here:
- an agent stood down (for performance or a violation) is given the remedial track, due one
  month later (`remedial_months`, a setting), half off duty;
- reinstatement is possible from half the period (stand-down day + half the days to the due
  date, rounded up), and needs the 上岗测试 (a requirement of the track, not checked here);
- a new stand-down within 30 days of a reinstatement continues the same episode (a failed
  return is not a fresh start); six calendar months from an episode's first stand-down to its
  end (or today, while it lasts) raise a flag for HR (the seed: such an agent leaves);
- a change of post gets the new post's transfer training, unless the person completed promotion
  training for that post in the six months before, or the change is a remedial outcome
  (moved to a lower post: the evaluation is the record)."""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from trainer.learning.rules import Assignment, EventFact, PersonFacts, add_months

CONTINUES_WITHIN_DAYS = 30
FLAG_AFTER_MONTHS = 6
PROMOTION_COUNTS_MONTHS = 6
REASONS = ("performance", "violation")


@dataclass(frozen=True)
class Spell:
    stood_down: EventFact
    reinstated_on: date | None = None


@dataclass(frozen=True)
class Episode:
    spells: tuple[Spell, ...]

    @property
    def started_on(self) -> date:
        return self.spells[0].stood_down.occurred_on

    @property
    def ended_on(self) -> date | None:
        return self.spells[-1].reinstated_on

    @property
    def is_open(self) -> bool:
        return self.ended_on is None

    def flagged(self, today: date) -> bool:
        """Six calendar months from the first stand-down to the end (or today)."""
        return add_months(self.started_on, FLAG_AFTER_MONTHS) <= (self.ended_on or today)


def episodes(events: Sequence[EventFact]) -> list[Episode]:
    """Stand-downs and reinstatements (effective events, in date order) as episodes. A
    reinstatement with no open stand-down, or a second stand-down while one is open, changes
    nothing (the staff record refuses them; here they are simply not counted)."""
    found: list[list[Spell]] = []
    open_spell: Spell | None = None
    for event in events:
        if event.kind == "stood_down" and open_spell is None:
            last = found[-1][-1] if found else None
            open_spell = Spell(event)
            if last is not None and last.reinstated_on is not None and \
                    (event.occurred_on - last.reinstated_on).days <= CONTINUES_WITHIN_DAYS:
                found[-1].append(open_spell)
            else:
                found.append([open_spell])
        elif event.kind == "reinstated" and open_spell is not None:
            found[-1][-1] = Spell(open_spell.stood_down, event.occurred_on)
            open_spell = None
    return [Episode(tuple(spells)) for spells in found]


def stood_down_on(events: Sequence[EventFact], day: date) -> bool:
    """Whether the person is stood down on `day` (from the stand-down day until the day before
    the reinstatement)."""
    return any(spell.stood_down.occurred_on <= day
               and (spell.reinstated_on is None or day < spell.reinstated_on)
               for episode in episodes(events) for spell in episode.spells)


def remedial_due(stood_down: EventFact, months: int) -> date:
    return add_months(stood_down.counts_from, months)


def earliest_reinstatement(stood_down_on: date, due_on: date) -> date:
    """From half the period on (rounded up to a whole day)."""
    return stood_down_on + timedelta(days=math.ceil((due_on - stood_down_on).days / 2))


def remedial(person: PersonFacts, months: int, today: date) -> Assignment | None:
    """The remedial track for the latest stand-down still in force, unless it has one."""
    current = [e for e in episodes(person.events) if e.is_open]
    if not current or person.status == "left":
        return None
    event = current[-1].spells[-1].stood_down
    if any(e.track == "remedial" and e.source_event_id == event.id for e in person.enrolments):
        return None
    return Assignment("remedial", "stood_down", remedial_due(event, months),
                      source_event_id=event.id)


def transfer_due(person: PersonFacts, change: EventFact, *, remedial_outcome: bool,
                 promotions: Sequence[tuple[str, date]]) -> bool:
    """Whether a change of post (`change`, kind position_change, naming the new post) is due
    the new post's transfer training. `promotions`: (post, completed on) of the person's
    completed promotion training."""
    if change.kind != "position_change" or remedial_outcome or not change.position:
        return False
    since = add_months(change.occurred_on, -PROMOTION_COUNTS_MONTHS)
    return not any(post == change.position and since <= done <= change.occurred_on
                   for post, done in promotions)
