"""The lifecycle rules as pure functions with an injected clock."""
from datetime import date, timedelta

from trainer.learning.rules import (
    EnrolmentFact,
    EventFact,
    LifecycleSettings,
    PersonFacts,
    add_months,
    assignments_due,
    becomes_overdue,
)

TODAY = date(2026, 11, 22)
S = LifecycleSettings()


def person(*events, enrolments=(), status="active", hire=date(2026, 11, 1)):
    return PersonFacts(status, hire, list(events), list(enrolments))


def ev(id, kind, day, position=""):
    return EventFact(id, kind, day, position)


def tracks(found):
    return {a.track: a for a in found}


def test_a_hire_gets_onboarding_due_30_days_later():
    found = tracks(assignments_due(person(ev(1, "hire", date(2026, 11, 1))), S, TODAY))
    assert set(found) == {"onboarding"}
    assert found["onboarding"].due_on == date(2026, 12, 1)
    assert found["onboarding"].reason == "hire" and found["onboarding"].source_event_id == 1


def test_onboarding_due_days_is_a_setting():
    found = tracks(assignments_due(person(ev(1, "hire", date(2026, 11, 1))),
                                   LifecycleSettings(onboarding_days=14), TODAY))
    assert found["onboarding"].due_on == date(2026, 11, 15)


def test_no_duplicate_onboarding():
    existing = EnrolmentFact(9, "onboarding", "in_progress", date(2026, 11, 1),
                             date(2026, 12, 1), source_event_id=1)
    assert assignments_due(person(ev(1, "hire", date(2026, 11, 1)), enrolments=[existing]),
                           S, TODAY) == []
    done = EnrolmentFact(9, "onboarding", "completed", date(2026, 11, 1), date(2026, 12, 1),
                         date(2026, 11, 20), source_event_id=1)
    assert "onboarding" not in tracks(assignments_due(
        person(ev(1, "hire", date(2026, 11, 1)), enrolments=[done]), S, TODAY))


def test_staff_hired_before_go_live_enter_the_in_service_cycle():
    settings = LifecycleSettings(go_live=date(2026, 1, 1))
    veteran = person(ev(1, "hire", date(2020, 5, 1)), hire=date(2020, 5, 1))
    assert assignments_due(veteran, settings, TODAY) == []  # first due 2027-01-01
    found = tracks(assignments_due(veteran, settings, date(2026, 12, 2)))
    assert set(found) == {"inservice"} and found["inservice"].due_on == date(2027, 1, 1)
    assert assignments_due(veteran, settings, date(2026, 12, 1)) == []  # 31 days before


def test_in_service_follows_the_last_completion():
    settings = LifecycleSettings(go_live=date(2024, 1, 1))
    last = EnrolmentFact(5, "inservice", "completed", date(2025, 9, 1), date(2025, 10, 1),
                         date(2025, 12, 10))
    veteran = person(ev(1, "hire", date(2020, 5, 1)), enrolments=[last], hire=date(2020, 5, 1))
    found = tracks(assignments_due(veteran, settings, TODAY))
    assert found["inservice"].due_on == date(2026, 12, 10)
    again = EnrolmentFact(6, "inservice", "assigned", TODAY, date(2026, 12, 10))
    assert assignments_due(person(ev(1, "hire", date(2020, 5, 1)), enrolments=[last, again],
                                  hire=date(2020, 5, 1)), settings, TODAY) == []


def test_first_in_service_after_onboarding_completed():
    done = EnrolmentFact(5, "onboarding", "completed", date(2025, 11, 1), date(2025, 12, 1),
                         date(2025, 11, 25), source_event_id=1)
    p = person(ev(1, "hire", date(2025, 11, 1)), enrolments=[done], hire=date(2025, 11, 1))
    found = tracks(assignments_due(p, S, TODAY))
    assert found["inservice"].due_on == date(2026, 11, 25)


def _leave(days):
    start = TODAY - timedelta(days=days + 1)
    return [ev(1, "hire", date(2020, 1, 1)), ev(2, "leave_start", start),
            ev(3, "leave_return", start + timedelta(days=days))]


def test_reentry_boundary_at_30_days():
    settings = LifecycleSettings(go_live=date(2024, 1, 1))
    assert "reentry" not in tracks(assignments_due(
        person(*_leave(29), hire=date(2020, 1, 1)), settings, TODAY))
    found = tracks(assignments_due(person(*_leave(30), hire=date(2020, 1, 1)), settings, TODAY))
    assignment = found["reentry"]
    assert assignment.due_on == TODAY - timedelta(days=1) + timedelta(days=28)
    assert (assignment.away_until - assignment.away_from).days == 30
    assert assignment.source_event_id == 3


def test_reentry_waits_while_on_leave_and_never_doubles():
    settings = LifecycleSettings(go_live=date(2024, 1, 1))
    events = [ev(1, "hire", date(2020, 1, 1)), ev(2, "leave_start", date(2026, 9, 1))]
    assert assignments_due(person(*events, status="on_leave", hire=date(2020, 1, 1)),
                           settings, TODAY) == []
    done = EnrolmentFact(7, "reentry", "completed", TODAY, TODAY, TODAY, source_event_id=3)
    assert "reentry" not in tracks(assignments_due(
        person(*_leave(45), enrolments=[done], hire=date(2020, 1, 1)), settings, TODAY))


def test_nomination_gets_promotion():
    settings = LifecycleSettings(go_live=date(2024, 1, 1))
    found = tracks(assignments_due(person(ev(1, "hire", date(2020, 1, 1)),
                                          ev(2, "nomination", TODAY, "班组长"),
                                          hire=date(2020, 1, 1)), settings, TODAY))
    assert found["promotion"].target_position == "班组长"
    assert found["promotion"].due_on == TODAY + timedelta(days=60)


def test_someone_who_left_gets_nothing():
    assert assignments_due(person(ev(1, "hire", date(2026, 11, 1)), status="left"),
                           S, TODAY) == []


def test_never_a_second_open_enrolment_in_a_track():
    manual = EnrolmentFact(4, "promotion", "assigned", TODAY, TODAY + timedelta(days=5))
    settings = LifecycleSettings(go_live=date(2024, 1, 1))
    assert "promotion" not in tracks(assignments_due(
        person(ev(1, "hire", date(2020, 1, 1)), ev(2, "nomination", TODAY, "质检员"),
               enrolments=[manual], hire=date(2020, 1, 1)), settings, TODAY))


def test_overdue_transitions():
    assert becomes_overdue("assigned", TODAY - timedelta(days=1), TODAY)
    assert becomes_overdue("in_progress", TODAY - timedelta(days=1), TODAY)
    assert not becomes_overdue("assigned", TODAY, TODAY)
    assert not becomes_overdue("completed", TODAY - timedelta(days=9), TODAY)


def test_add_months_clamps_the_day():
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2025, 11, 25), 12) == date(2026, 11, 25)


def test_a_return_recorded_late_is_due_four_weeks_after_it_was_recorded():
    """HR recorded a return 20 days late: the agent's first screen must not say overdue."""
    returned = TODAY - timedelta(days=20)
    found = tracks(assignments_due(person(
        ev(1, "hire", date(2020, 1, 1)), ev(2, "leave_start", returned - timedelta(days=45)),
        EventFact(3, "leave_return", returned, recorded_on=TODAY)), S, TODAY))
    assert found["reentry"].due_on == TODAY + timedelta(days=28)
    assert not becomes_overdue("assigned", found["reentry"].due_on, TODAY)


def test_a_hire_and_a_nomination_recorded_late_count_from_the_recording():
    hired = TODAY - timedelta(days=40)
    found = tracks(assignments_due(person(EventFact(1, "hire", hired, recorded_on=TODAY),
                                          hire=hired), S, TODAY))
    assert found["onboarding"].due_on == TODAY + timedelta(days=30)
    nominated = TODAY - timedelta(days=70)
    found = tracks(assignments_due(person(
        ev(1, "hire", date(2020, 1, 1)),
        EventFact(2, "nomination", nominated, "班长", recorded_on=TODAY - timedelta(days=1))),
        LifecycleSettings(go_live=date(2020, 1, 1)), TODAY))
    assert found["promotion"].due_on == TODAY - timedelta(days=1) + timedelta(days=60)
