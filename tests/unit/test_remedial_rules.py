"""Remedial (待岗) and transfer (转岗) rules, pure (learning.remedial): episodes, the half-period
reinstatement, the 30-day continuation, the six-month flag, the remedial assignment, and transfer
against promotion against a remedial outcome."""
from __future__ import annotations

from datetime import date, timedelta

from trainer.learning.remedial import (
    earliest_reinstatement,
    episodes,
    remedial,
    remedial_due,
    stood_down_on,
    transfer_due,
)
from trainer.learning.rules import EnrolmentFact, EventFact, PersonFacts

D = date(2026, 3, 2)


def ev(n, kind, day, position=""):
    return EventFact(n, kind, day, position=position)


def person(*events, enrolments=(), status="active"):
    return PersonFacts(status, date(2024, 1, 1), list(events), list(enrolments))


def test_stood_down_gives_the_remedial_track_due_a_month_later_once():
    down = ev(1, "stood_down", D)
    due = remedial(person(down), 1, D)
    assert (due.track, due.reason, due.due_on, due.source_event_id) == (
        "remedial", "stood_down", date(2026, 4, 2), 1)
    given = EnrolmentFact(9, "remedial", "assigned", D, due.due_on, source_event_id=1)
    assert remedial(person(down, enrolments=[given]), 1, D) is None
    assert remedial(person(down, ev(2, "reinstated", D + timedelta(20))), 1, D) is None
    assert remedial(person(down, status="left"), 1, D) is None
    # recorded late: the month counts from the day HR recorded it
    late = EventFact(1, "stood_down", D, recorded_on=D + timedelta(days=5))
    assert remedial_due(late, 1) == date(2026, 4, 7)


def test_reinstatement_is_possible_from_half_the_period():
    assert earliest_reinstatement(D, date(2026, 4, 2)) == date(2026, 3, 18)   # 31 days → 16
    assert earliest_reinstatement(D, D + timedelta(days=30)) == D + timedelta(days=15)


def test_stood_down_from_the_day_until_the_day_before_reinstatement():
    events = [ev(1, "stood_down", D), ev(2, "reinstated", D + timedelta(10))]
    assert not stood_down_on(events, D - timedelta(1))
    assert stood_down_on(events, D) and stood_down_on(events, D + timedelta(9))
    assert not stood_down_on(events, D + timedelta(10))


def test_a_stand_down_within_30_days_of_reinstatement_continues_the_episode():
    back = D + timedelta(days=40)
    within = [ev(1, "stood_down", D), ev(2, "reinstated", back),
              ev(3, "stood_down", back + timedelta(days=30))]
    assert [len(e.spells) for e in episodes(within)] == [2]
    after = [ev(1, "stood_down", D), ev(2, "reinstated", back),
             ev(3, "stood_down", back + timedelta(days=31))]
    assert [len(e.spells) for e in episodes(after)] == [1, 1]
    # noise is not counted: a reinstatement with nothing open, a double stand-down
    noisy = [ev(1, "reinstated", D), ev(2, "stood_down", D), ev(3, "stood_down", D + timedelta(3))]
    assert [len(e.spells) for e in episodes(noisy)] == [1]


def test_six_calendar_months_in_a_row_raise_the_flag():
    (episode,) = episodes([ev(1, "stood_down", date(2026, 1, 31))])
    assert not episode.flagged(date(2026, 7, 30))
    assert episode.flagged(date(2026, 7, 31))
    # continued across a short return, the months count from the first stand-down
    chain = [ev(1, "stood_down", date(2026, 1, 10)), ev(2, "reinstated", date(2026, 4, 1)),
             ev(3, "stood_down", date(2026, 4, 20))]
    (episode,) = episodes(chain)
    assert episode.flagged(date(2026, 7, 10)) and not episode.flagged(date(2026, 7, 9))
    # an episode that ended before six months stays unflagged
    ended = episodes([ev(1, "stood_down", date(2026, 1, 10)),
                      ev(2, "reinstated", date(2026, 3, 1))])[0]
    assert not ended.flagged(date(2027, 1, 1))


def test_transfer_unless_promoted_to_that_post_within_six_months_or_a_remedial_outcome():
    change = ev(5, "position_change", date(2026, 9, 1), position="质检专员")
    assert transfer_due(person(change), change, remedial_outcome=False, promotions=[])
    assert not transfer_due(person(change), change, remedial_outcome=False,
                            promotions=[("质检专员", date(2026, 3, 1))])
    assert transfer_due(person(change), change, remedial_outcome=False,
                        promotions=[("质检专员", date(2026, 2, 28))])        # 6 months + 1 day
    assert transfer_due(person(change), change, remedial_outcome=False,
                        promotions=[("班长", date(2026, 8, 1))])             # another post
    assert not transfer_due(person(change), change, remedial_outcome=True, promotions=[])
    nomination = ev(6, "nomination", date(2026, 9, 1), position="质检专员")
    assert not transfer_due(person(nomination), nomination, remedial_outcome=False,
                            promotions=[])
