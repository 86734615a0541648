"""Pure parts of the 学时 ledger and the settings registry."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from trainer.core.errors import DomainError
from trainer.core.settings import REGISTRY, parse
from trainer.learning.rules import EventFact
from trainer.learning.services import to_hours


@pytest.mark.parametrize("minutes, per_hour, hours", [
    (150, 60, "2.5"),      # three 50-minute sessions
    (149, 60, "2"),        # not a whole half: not counted
    (30, 60, "0.5"),
    (29, 60, "0"),
    (90, 45, "2"),
    (112, 45, "2"),
    (113, 45, "2.5"),
    (0, 60, "0"),
])
def test_minutes_become_hours_rounded_down_to_a_half(minutes, per_hour, hours):
    assert to_hours(minutes, per_hour) == Decimal(hours)


def test_every_area_declares_its_settings_with_a_label_and_a_group():
    import trainer.learning.settings  # noqa: F401 - declares the learning settings

    for key in ("timezone", "go_live_date", "reentry_due_days", "minutes_per_hour",
                "hours_categories"):
        definition = REGISTRY[key]
        assert str(definition.label) and definition.area
    assert REGISTRY["reentry_due_days"].default == 28   # seed 004: at least four weeks


def test_settings_are_parsed_and_refused_by_their_type():
    import trainer.learning.settings  # noqa: F401

    assert parse(REGISTRY["onboarding_due_days"], "45") == 45
    assert parse(REGISTRY["go_live_date"], "2026-03-01") == date(2026, 3, 1)
    assert parse(REGISTRY["go_live_date"], "") is None
    assert parse(REGISTRY["minutes_per_hour"], "45") == 45
    assert parse(REGISTRY["hours_categories"], "业务知识\n 其他 \n业务知识\n") == ["业务知识", "其他"]
    assert parse(REGISTRY["timezone"], "Europe/Paris") == "Europe/Paris"
    for key, bad in (("onboarding_due_days", "0"), ("onboarding_due_days", "x"),
                     ("go_live_date", "tomorrow"), ("minutes_per_hour", "50"),
                     ("timezone", "Mars/Base"), ("hours_categories", "\n \n")):
        with pytest.raises(DomainError):
            parse(REGISTRY[key], bad)


def test_due_dates_count_from_the_later_of_the_event_and_its_recording():
    late = EventFact(1, "leave_return", date(2026, 3, 1), recorded_on=date(2026, 3, 21))
    assert late.counts_from == date(2026, 3, 21)
    early = EventFact(2, "hire", date(2026, 3, 10), recorded_on=date(2026, 3, 1))
    assert early.counts_from == date(2026, 3, 10)
    assert EventFact(3, "hire", date(2026, 3, 10)).counts_from == date(2026, 3, 10)
