"""The refusals of the timed attempt that the quiz page acts on (409s)."""
from __future__ import annotations

from trainer.core.errors import N_, DomainError


class TimeUp(DomainError):
    status_code = 409


class AttemptClosed(DomainError):
    status_code = 409


class QuestionClosed(DomainError):
    """Sequential navigation: the person has moved on from this question."""

    status_code = 409


MOVED_ON = N_("You have moved on from question %(n)d: this quiz goes forward only, and its "
              "answer can no longer be changed.")


class StaleAnswer(DomainError):
    """The save was based on an older version of the answer (another tab, a delayed retry)."""

    status_code = 409

    def __init__(self, version: int, selected: list[int]) -> None:
        super().__init__(N_("This answer was changed elsewhere; the page shows the latest "
                            "answer."))
        self.version, self.selected = version, selected
