"""What an overall evaluation (综合评价) of a remedial case may decide, pure. The episode rules
(half the period, the 30-day continuation, six months) are learning's (learning.remedial)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from trainer.core.errors import N_

OUTCOMES = ("reinstated", "lower_post", "extended")

REFUSALS = {
    "ended": N_("This remedial case has ended: its evaluation is recorded."),
    "outcome": N_("Choose an outcome: reinstated, a lower post, or extended."),
    "future": N_("An evaluation cannot be dated after today."),
    "before_start": N_("An evaluation cannot be dated before the stand-down (%(day)s)."),
    "no_plan": N_("Write the improvement plan first: the evaluation weighs the plan's goals."),
    "no_talk": N_("Record at least one counselling talk before the evaluation."),
    "not_passed_yet": N_("Reinstatement needs the remedial training completed, its 上岗测试 "
                         "passed."),
    "too_early": N_("Reinstatement is possible from half the period on: from %(day)s."),
    "no_position": N_("Name the lower post."),
    "new_due": N_("An extension needs a new due date after the current one (%(day)s) and "
                  "after the evaluation."),
}


@dataclass(frozen=True)
class CaseFacts:
    stood_down_on: date
    due_on: date                 # the enrolment's due date now
    earliest: date               # reinstatement possible from (half the period)
    ended: bool                  # a final evaluation is recorded, or the stand-down ended
    has_plan: bool
    talks: int
    training_done: bool          # the enrolment completed: every course, the 上岗测试 passed


def refusal(case: CaseFacts, *, outcome: str, decided_on: date, today: date,
            new_due_on: date | None = None, position: str = ""
            ) -> tuple[str, dict[str, date]] | None:
    """Why an evaluation may not be recorded (a key of REFUSALS and its parameters), or None."""
    if case.ended:
        return "ended", {}
    if outcome not in OUTCOMES:
        return "outcome", {}
    if decided_on > today:
        return "future", {}
    if decided_on < case.stood_down_on:
        return "before_start", {"day": case.stood_down_on}
    if not case.has_plan:
        return "no_plan", {}
    if case.talks < 1:
        return "no_talk", {}
    if outcome == "reinstated":
        if not case.training_done:
            return "not_passed_yet", {}
        if decided_on < case.earliest:
            return "too_early", {"day": case.earliest}
    elif outcome == "lower_post":
        if not position.strip():
            return "no_position", {}
    elif new_due_on is None or new_due_on <= case.due_on or new_due_on <= decided_on:
        return "new_due", {"day": case.due_on}
    return None
