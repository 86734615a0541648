"""The failed sign-in policy as pure rules, on in-memory counters with a hand-moved clock."""
from __future__ import annotations

import pytest

from trainer.accounts.throttle import ACCOUNT_FREE, LoginThrottle, account_key, wait_after
from trainer.core.counters import MemoryCounters


@pytest.fixture
def throttle():
    return LoginThrottle(MemoryCounters(), "secret")


def test_the_wait_doubles_from_thirty_seconds_to_five_minutes():
    assert [wait_after(n, 4) for n in range(1, 11)] == [0, 0, 0, 0, 30, 60, 120, 240, 300, 300]
    assert wait_after(10_000, 4) == 300


def test_the_fifth_failure_of_a_pair_locks_it_for_thirty_seconds(throttle):
    for n in range(4):
        assert throttle.failed("10.0.0.1", "K0001", f"bad-{n}", 1000.0 + n) is None
        assert throttle.refused("10.0.0.1", "K0001", "right", 1000.0 + n) is None
    refusal = throttle.failed("10.0.0.1", "K0001", "bad-5", 1004.0)
    assert refusal.retry_after_s == 30 and refusal.audit is None
    assert throttle.refused("10.0.0.1", "K0001", "right", 1033.0).retry_after_s == 1
    assert throttle.refused("10.0.0.1", "K0001", "right", 1034.0) is None
    # Only that pair: another address, or another account, is not slowed.
    assert throttle.refused("10.0.0.2", "K0001", "right", 1010.0) is None
    assert throttle.refused("10.0.0.1", "K0002", "right", 1010.0) is None
    # The next failure after the wait doubles it.
    assert throttle.failed("10.0.0.1", "K0001", "bad-6", 1040.0).retry_after_s == 60


def test_failures_older_than_fifteen_minutes_no_longer_count(throttle):
    for n in range(4):
        throttle.failed("10.0.0.1", "K0001", f"bad-{n}", 1000.0 + n)
    assert throttle.failed("10.0.0.1", "K0001", "bad-late", 1000.0 + 15 * 60 + 5) is None


def test_a_correct_password_clears_the_pair(throttle):
    for n in range(4):
        throttle.failed("10.0.0.1", "K0001", f"bad-{n}", 1000.0 + n)
    throttle.succeeded("10.0.0.1", "K0001")
    assert throttle.failed("10.0.0.1", "K0001", "bad-again", 1010.0) is None


def test_an_account_failing_from_many_addresses_is_slowed_at_a_hundred_a_day(throttle):
    for n in range(ACCOUNT_FREE):
        assert throttle.failed(f"10.1.{n // 250}.{n % 250}", "K0001", f"bad-{n}",
                               1000.0 + n) is None
    refusal = throttle.failed("10.9.9.9", "K0001", "bad-100", 2000.0)
    assert refusal.retry_after_s == 30
    assert refusal.audit == ("login.account_slowed", {"failures_today": 100})
    assert throttle.refused("10.8.8.8", "K0001", "right", 2010.0) is not None
    assert throttle.refused("10.8.8.8", "K0002", "right", 2010.0) is None


def test_one_password_on_twenty_accounts_from_one_address_is_refused_there(throttle):
    for n in range(19):
        assert throttle.failed("10.0.0.1", f"K{n:04d}", "Summer2026!", 1000.0 + n) is None
    refusal = throttle.failed("10.0.0.1", "K0019", "Summer2026!", 1020.0)
    assert refusal.retry_after_s == 15 * 60
    action, details = refusal.audit
    assert action == "login.password_spraying" and "Summer2026!" not in str(details)
    assert throttle.refused("10.0.0.1", "K0500", "Summer2026!", 1021.0) is not None
    # Another password from that address, or that password from elsewhere, still goes through.
    assert throttle.refused("10.0.0.1", "K0500", "own-pass-phrase", 1021.0) is None
    assert throttle.refused("10.0.0.2", "K0500", "Summer2026!", 1021.0) is None
    assert throttle.refused("10.0.0.1", "K0500", "Summer2026!", 1020.0 + 15 * 60 + 1) is None


def test_different_wrong_passwords_on_many_accounts_are_not_spraying(throttle):
    for n in range(200):
        assert throttle.failed("10.0.0.1", f"K{n:04d}", f"typo-{n}", 1000.0 + n) is None


def test_the_password_is_never_kept_in_the_counters(throttle):
    throttle.failed("10.0.0.1", "K0001", "my-secret-typo", 1000.0)
    kept = repr(throttle.counters._windows) + repr(throttle.counters._locks)
    assert "my-secret-typo" not in kept


def test_accounts_fold_as_employee_numbers_do():
    assert account_key(" ÄSEC1 ") == account_key("äsec1") == account_key("ÄＳＥＣ１")
