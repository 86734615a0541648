"""Deadline and review rules with an injected clock."""
from datetime import datetime, timedelta, timezone

from trainer.quizzes import rules

T0 = datetime(2026, 11, 23, 1, 0, tzinfo=timezone.utc)


def test_deadline_is_start_plus_limit_plus_extra_capped_by_close():
    assert rules.deadline_for(T0, 600, 0, None) == T0 + timedelta(minutes=10)
    assert rules.deadline_for(T0, 600, 300, None) == T0 + timedelta(minutes=15)
    assert rules.deadline_for(T0, 600, 0, T0 + timedelta(minutes=4)) == T0 + timedelta(minutes=4)
    assert rules.deadline_for(T0, None, 0, None) is None
    assert rules.deadline_for(T0, None, 0, T0 + timedelta(hours=1)) == T0 + timedelta(hours=1)


def test_grace_accepts_requests_in_flight_then_refuses():
    deadline = T0 + timedelta(minutes=10)
    assert rules.accepts_answers(deadline, deadline - timedelta(seconds=1), 30)
    assert rules.accepts_answers(deadline, deadline + timedelta(seconds=29), 30)
    assert not rules.accepts_answers(deadline, deadline + timedelta(seconds=31), 30)
    assert not rules.is_overdue(deadline, deadline + timedelta(seconds=30), 30)
    assert rules.is_overdue(deadline, deadline + timedelta(seconds=31), 30)
    assert rules.accepts_answers(None, T0 + timedelta(days=99), 30)


def test_seconds_left_never_negative():
    assert rules.seconds_left(T0 + timedelta(seconds=90), T0) == 90
    assert rules.seconds_left(T0, T0 + timedelta(seconds=5)) == 0
    assert rules.seconds_left(None, T0) is None


def test_review_policy():
    close = T0 + timedelta(hours=2)
    nothing = rules.review_visibility("full", "immediately", None, T0, finished=False)
    assert (nothing.score, nothing.which_wrong, nothing.answers) == (False, False, False)
    full = rules.review_visibility("full", "immediately", close, T0, finished=True)
    assert full.answers and full.which_wrong and full.score
    wrong = rules.review_visibility("wrong", "immediately", close, T0, finished=True)
    assert wrong.which_wrong and not wrong.answers
    score = rules.review_visibility("score", "immediately", close, T0, finished=True)
    assert score.score and not score.which_wrong
    before_close = rules.review_visibility("full", "after_close", close, T0, finished=True)
    assert before_close.score and not before_close.answers
    after_close = rules.review_visibility("full", "after_close", close, close, finished=True)
    assert after_close.answers
