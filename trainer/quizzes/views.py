"""What the pages show of an attempt's items. The taking page gets no weights, no correct flags
and no explanations; those are added only when the policy (or a locked practice answer) allows."""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from trainer.quizzes.models import Attempt, AttemptItem, Quiz
from trainer.quizzes.rules import ReviewVisibility

LETTERS = "ABCDEFGHIJKLMNOPQRST"


@dataclass
class ChoiceView:
    shown: int           # position on the page
    letter: str
    text: str
    checked: bool
    correct: bool | None = None   # only when answers may be seen
    feedback: str = ""


@dataclass
class ItemView:
    position: int
    qtype: str
    stem: str
    text_format: str
    version: int
    locked: bool
    points: Decimal
    choices: list[ChoiceView] = field(default_factory=list)
    answered: bool = False
    mark: Decimal | None = None     # only when allowed
    full_marks: bool | None = None  # only when allowed
    explanation: str = ""           # only when allowed


def item_view(item: AttemptItem, quiz: Quiz, *, reveal: bool = False,
              show_marks: bool | None = None) -> ItemView:
    snapshot = item.snapshot
    show_marks = reveal if show_marks is None else show_marks
    view = ItemView(position=item.position, qtype=snapshot["qtype"], stem=snapshot["stem"],
                    text_format=snapshot["text_format"], version=item.version,
                    locked=item.locked, points=Decimal(snapshot["points"]),
                    answered=bool(item.selected))
    for shown, index in enumerate(item.choice_order):
        choice = snapshot["choices"][index]
        view.choices.append(ChoiceView(
            shown=shown, letter=LETTERS[shown], text=choice["text"],
            checked=index in (item.selected or []),
            correct=Decimal(choice["weight"]) > 0 if reveal else None,
            feedback=choice["feedback"] if reveal else ""))
    if show_marks and item.mark is not None:
        view.mark = item.mark
        view.full_marks = item.mark >= item.max_mark
    if reveal:
        view.explanation = snapshot.get("explanation", "")
    return view


def result_view(attempt: Attempt, visible: ReviewVisibility) -> list[ItemView]:
    if not visible.which_wrong:
        return []
    return [item_view(item, attempt.quiz, reveal=visible.answers, show_marks=True)
            for item in attempt.items]
