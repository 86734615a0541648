"""What the pages show of an attempt's items. The taking page gets no weights, no correct flags
and no explanations; those are added only when the policy (or a locked practice answer) allows."""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from flask import render_template
from markupsafe import Markup, escape

from trainer.core.markdown import render_text
from trainer.quizzes.models import Attempt, AttemptItem, Quiz
from trainer.quizzes.rules import ReviewVisibility

LETTERS = "ABCDEFGHIJKLMNOPQRST"


@dataclass
class ChoiceView:
    shown: int           # position on the page
    letter: str
    text: str
    checked: bool
    html: Markup         # text rendered in its format (cached per text)
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
    stem_html: Markup
    choices: list[ChoiceView] = field(default_factory=list)
    answered: bool = False
    mark: Decimal | None = None     # only when allowed
    full_marks: bool | None = None  # only when allowed
    explanation: str = ""           # only when allowed


def item_view(item: AttemptItem, quiz: Quiz, *, reveal: bool = False,
              show_marks: bool | None = None) -> ItemView:
    snapshot = item.snapshot
    show_marks = reveal if show_marks is None else show_marks
    text_format = snapshot["text_format"]
    view = ItemView(position=item.position, qtype=snapshot["qtype"], stem=snapshot["stem"],
                    text_format=text_format, version=item.version,
                    locked=item.locked, points=Decimal(snapshot["points"]),
                    stem_html=render_text(snapshot["stem"], text_format),
                    answered=bool(item.selected))
    selected = item.selected or []
    for shown, index in enumerate(item.choice_order):
        choice = snapshot["choices"][index]
        view.choices.append(ChoiceView(
            shown=shown, letter=LETTERS[shown], text=choice["text"],
            html=render_text(choice["text"], text_format), checked=index in selected,
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


def item_html(item: ItemView, labels: dict[str, str], *, practice: bool = False) -> Markup:
    """The taking page's markup of one question. Built here rather than in a template: a page
    of 30 questions spent most of its time in Jinja's per-question include (bench/
    profile_exam.py); built here, the page's CPU fell from ~8.5-9 to ~5.5-6 ms. Every value is
    escaped or is an int, a fixed word or Markup already sanitised (`render_text`)."""
    pos = item.position
    kind = "checkbox" if item.qtype == "multiple" else "radio"
    disabled = " disabled" if item.locked else ""
    locked = ' data-locked="1"' if item.locked else ""
    points = labels["point" if item.points == 1 else "points"] % {
        "p": "%g" % float(item.points)}
    extra = ", " + labels["multiple"] if item.qtype == "multiple" else ""
    parts = [
        f'<fieldset class="question card mb-3" data-position="{pos}" data-version="{item.version}"'
        f' data-qtype="{escape(item.qtype)}"{locked} id="q{pos}">\n<div class="card-body">\n'
        f'  <legend class="h6">{escape(labels["question"] % {"n": pos + 1})}'
        f' <small class="text-muted">({escape(points)}{escape(extra)})</small></legend>\n'
        f'  <div class="stem mb-2">{item.stem_html}</div>\n'
        f'  <input type="hidden" name="v{pos}" value="{item.version}">\n']
    for c in item.choices:
        parts.append(
            f'  <div class="form-check">\n    <input class="form-check-input" type="{kind}"'
            f' name="q{pos}" id="q{pos}c{c.shown}" value="{c.shown}"'
            f'{" checked" if c.checked else ""}{disabled}>\n'
            f'    <label class="form-check-label" for="q{pos}c{c.shown}">{c.letter}. '
            f'<span class="choice-text">{c.html}</span></label>\n  </div>\n')
    if practice and item.locked:
        parts.append(render_template("quizzes/_feedback.html", item=item))
    elif practice:
        parts.append(f'  <button class="btn btn-sm btn-outline-secondary mt-2" name="lock" '
                     f'value="{pos}" data-lock>{escape(labels["lock"])}</button>\n')
    parts.append("</div>\n</fieldset>\n")
    return Markup("".join(parts))
