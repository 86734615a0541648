"""Timing and review rules of attempts (pure, clock injected)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


def deadline_for(started_at: datetime, time_limit_s: int | None, extra_time_s: int,
                 close_at: datetime | None) -> datetime | None:
    """deadline = min(start + limit (+ extra time), close time); None when neither applies."""
    candidates = []
    if time_limit_s:
        candidates.append(started_at + timedelta(seconds=time_limit_s + extra_time_s))
    if close_at is not None:
        candidates.append(close_at)
    return min(candidates) if candidates else None


def accepts_answers(deadline: datetime | None, now: datetime, grace_s: int) -> bool:
    """Saves and submits are accepted until deadline + grace (requests in flight)."""
    return deadline is None or now <= deadline + timedelta(seconds=grace_s)


def is_overdue(deadline: datetime | None, now: datetime, grace_s: int) -> bool:
    """Past deadline + grace: the attempt is finalised with its last saved answers."""
    return deadline is not None and now > deadline + timedelta(seconds=grace_s)


def seconds_left(deadline: datetime | None, now: datetime) -> int | None:
    if deadline is None:
        return None
    return max(0, int((deadline - now).total_seconds()))


@dataclass(frozen=True)
class ReviewVisibility:
    score: bool
    which_wrong: bool
    answers: bool  # correct answers, feedback and explanations


REVIEW_LEVELS = ("score", "wrong", "full")


def review_visibility(what: str, when: str, close_at: datetime | None, now: datetime,
                      finished: bool) -> ReviewVisibility:
    """What a learner may see of a finished attempt under the quiz's review policy.
    Nothing before the attempt is over; with 'after_close', only the score until the close."""
    if not finished:
        return ReviewVisibility(False, False, False)
    if when == "after_close" and close_at is not None and now < close_at:
        return ReviewVisibility(True, False, False)
    level = REVIEW_LEVELS.index(what) if what in REVIEW_LEVELS else 0
    return ReviewVisibility(True, level >= 1, level >= 2)
