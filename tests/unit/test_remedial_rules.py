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


# -- wired into the lifecycle, the staff record, the 学时 minimum and the evaluation ---------------

def test_the_lifecycle_assigns_remedial_and_a_stood_down_agent_is_not_cleared():
    from trainer.learning.rules import LifecycleSettings, assignments_due, cleared_for_duty

    settings = LifecycleSettings(go_live=date(2025, 1, 1), remedial_months=2)
    down = ev(1, "stood_down", D)
    found = assignments_due(person(down), settings, D)
    assert [(a.track, a.due_on) for a in found] == [("remedial", date(2026, 5, 2))]
    assert cleared_for_duty(person(), settings, D)
    assert not cleared_for_duty(person(down), settings, D)
    back = ev(2, "reinstated", D + timedelta(days=20))
    assert not cleared_for_duty(person(down, back), settings, D + timedelta(days=19))
    assert cleared_for_duty(person(down, back), settings, D + timedelta(days=20))


def test_the_staff_record_refuses_impossible_stand_downs():
    import pytest

    from trainer.accounts.rules import NewEvent, check_sequence
    from trainer.core.errors import DomainError

    hire = NewEvent("hire", date(2024, 1, 1), id=1)

    def history(*pairs):
        return [hire, *(NewEvent(kind, day, id=n + 2) for n, (kind, day) in enumerate(pairs))]

    fine = history(("stood_down", D), ("reinstated", D + timedelta(20)),
                   ("stood_down", D + timedelta(40)))
    check_sequence(fine)
    for pairs, words in (
            ((("reinstated", D),), "no stand-down before it"),
            ((("stood_down", D), ("stood_down", D + timedelta(1))), "already stood down"),
            ((("leave_start", D), ("stood_down", D + timedelta(1))), "on leave"),
            ((("stood_down", D), ("leave_start", D + timedelta(1)),
              ("reinstated", D + timedelta(2))), "on leave"),
            ((("leaving", D), ("stood_down", D + timedelta(1))), "not employed")):
        with pytest.raises(DomainError) as caught:
            check_sequence(history(*pairs))
        assert words in caught.value.message


def test_days_stood_down_are_not_counted_in_the_prorated_minimum():
    from trainer.records.rules import Period, active_periods, days_active

    events = [("hire", date(2024, 1, 1)), ("stood_down", date(2026, 3, 1)),
              ("reinstated", date(2026, 3, 31))]
    periods = active_periods(events)
    assert periods == [Period(date(2024, 1, 1), date(2026, 3, 1)), Period(date(2026, 3, 31))]
    assert days_active(periods, date(2026, 1, 1), date(2026, 4, 9)) == 99 - 30


def test_what_an_evaluation_may_decide():
    from trainer.remedial.rules import CaseFacts, refusal

    facts = CaseFacts(stood_down_on=D, due_on=D + timedelta(31), earliest=D + timedelta(16),
                      ended=False, has_plan=True, talks=1, training_done=True)
    day = D + timedelta(20)
    assert refusal(facts, outcome="reinstated", decided_on=day, today=day) is None
    assert refusal(facts, outcome="reinstated", decided_on=D + timedelta(15), today=day) == (
        "too_early", {"day": D + timedelta(16)})
    assert refusal(facts, outcome="reinstated", decided_on=day + timedelta(1), today=day)[0] \
        == "future"
    from dataclasses import replace
    assert refusal(replace(facts, training_done=False), outcome="reinstated", decided_on=day,
                   today=day)[0] == "not_passed_yet"
    assert refusal(replace(facts, talks=0), outcome="lower_post", decided_on=day, today=day,
                   position="坐席")[0] == "no_talk"
    assert refusal(replace(facts, has_plan=False), outcome="extended", decided_on=day,
                   today=day, new_due_on=day + timedelta(30))[0] == "no_plan"
    assert refusal(facts, outcome="lower_post", decided_on=day, today=day)[0] == "no_position"
    assert refusal(facts, outcome="lower_post", decided_on=day, today=day,
                   position="坐席") is None
    assert refusal(facts, outcome="extended", decided_on=day, today=day,
                   new_due_on=facts.due_on)[0] == "new_due"
    assert refusal(facts, outcome="extended", decided_on=day, today=day,
                   new_due_on=facts.due_on + timedelta(14)) is None
    assert refusal(replace(facts, ended=True), outcome="extended", decided_on=day, today=day,
                   new_due_on=facts.due_on + timedelta(14))[0] == "ended"
    assert refusal(facts, outcome="fired", decided_on=day, today=day)[0] == "outcome"
    assert refusal(facts, outcome="reinstated", decided_on=D - timedelta(1), today=day)[0] \
        == "before_start"


def test_a_change_to_a_post_with_its_own_training_assigns_transfer_unless_exempt():
    from trainer.learning.rules import LifecycleSettings, assignments_due

    posts = {"质检专员": ("quality-inspector", 90), "质检员": ("quality-inspector", 90),
             "班长": ("team-leader", 75)}
    settings = LifecycleSettings(go_live=date(2025, 1, 1), posts=posts)
    change = ev(5, "position_change", D, position="质检员")

    def tracks(*events, enrolments=(), status="active"):
        return [(a.track, a.due_on, a.target_position) for a in assignments_due(
            person(*events, enrolments=enrolments, status=status), settings, D)
            if a.track != "inservice"]

    assert tracks(change) == [("transfer", D + timedelta(days=90), "质检员")]
    # a post with no training of its own: nothing
    assert tracks(ev(5, "position_change", D, position="坐席")) == []
    # a lower post a remedial evaluation decided: nothing (the evaluation is the record)
    lower = EventFact(5, "position_change", D, position="质检员", reason="remedial")
    assert tracks(lower) == []
    # promotion training for that post (by its other name) completed within six months: nothing
    done = EnrolmentFact(1, "promotion", "completed", D - timedelta(days=100),
                         D - timedelta(days=10), completed_on=D - timedelta(days=40),
                         target_position="质检专员")
    assert tracks(change, enrolments=[done]) == []
    old = EnrolmentFact(1, "promotion", "completed", D - timedelta(days=400),
                        D - timedelta(days=300), completed_on=D - timedelta(days=300),
                        target_position="质检专员")
    assert [t[0] for t in tracks(change, enrolments=[old])] == ["transfer"]
    # still taking promotion training for it: nothing; on leave: waits
    taking = EnrolmentFact(1, "promotion", "in_progress", D - timedelta(days=30),
                           D + timedelta(days=60), target_position="质检专员")
    assert tracks(change, enrolments=[taking]) == []
    assert tracks(change, status="on_leave") == []
    given = EnrolmentFact(2, "transfer", "assigned", D, D + timedelta(days=90),
                          source_event_id=5, target_position="质检员")
    assert tracks(change, enrolments=[given]) == []
    # a nomination to a post with its own training is due after the post's days
    nomination = ev(6, "nomination", D, position="班长")
    assert tracks(nomination) == [("promotion", D + timedelta(days=75), "班长")]
