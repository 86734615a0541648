"""Pure rules of the staff record: no app, no database."""
from datetime import date

import pytest

from trainer.accounts.rules import (
    NewEvent,
    check_sequence,
    derive_status,
    last_leave_days,
    split_employee_nos,
)
from trainer.core.errors import DomainError


def ev(kind, day, id=None, voids=None):
    return NewEvent(kind, date(2026, 1, day), id=id, voids_event_id=voids)


def test_status_follows_the_events_in_date_order():
    events = [ev("hire", 1, 1), ev("leave_return", 20, 3), ev("leave_start", 10, 2)]
    assert derive_status(events) == "active"
    assert derive_status(events[:1] + events[2:]) == "on_leave"
    assert derive_status(events + [ev("leaving", 25, 4)]) == "left"


def test_a_voided_event_no_longer_counts():
    events = [ev("hire", 1, 1), ev("leave_start", 10, 2), ev("void", 10, 3, voids=2)]
    assert derive_status(events) == "active"


def test_nominations_do_not_change_status():
    assert derive_status([ev("hire", 1, 1), ev("nomination", 5, 2)]) == "active"


@pytest.mark.parametrize("events", [
    [ev("hire", 1, 1), ev("leave_return", 5, 2)],
    [ev("hire", 1, 1), ev("leave_start", 5, 2), ev("leave_start", 6, 3)],
    [ev("hire", 1, 1), ev("hire", 5, 2)],
    [ev("hire", 1, 1), ev("leaving", 5, 2), ev("leave_start", 6, 3)],
])
def test_impossible_histories_are_refused(events):
    with pytest.raises(DomainError):
        check_sequence(events)


def test_rehire_after_leaving_is_allowed():
    check_sequence([ev("hire", 1, 1), ev("leaving", 5, 2), ev("hire", 9, 3)])


def test_leave_length_is_return_minus_start():
    events = [ev("hire", 1, 1), ev("leave_start", 2, 2), ev("leave_return", 31, 3)]
    assert last_leave_days(events) == 29
    assert last_leave_days(events[:2]) is None


def test_pasted_employee_numbers_are_split_as_people_paste_them():
    assert split_employee_nos("K1 K2,K3，K4、K5;K6；K7\nK8\tK9\u3000K10") == [
        f"K{i}" for i in range(1, 11)]
    assert split_employee_nos("") == split_employee_nos(None) == split_employee_nos(" ,， ") == []
