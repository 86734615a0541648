"""What the item analysis pages and their XLSX show: the flags in plain words, the figures
rounded once (the page and the file show the same numbers), the charts, the export's rows.
The figures come from the pure `quizzes.statistics`; the wording lives here, translated."""
from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from flask_babel import gettext as _
from flask_babel import pgettext
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from trainer.core import charts
from trainer.core.errors import N_
from trainer.quizzes import statistics as stats

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
# Who may edit a bank's questions (the banks area's own rule: its pages are theirs).
EDITORS = ("trainer", "admin")

FLAG_LABELS = {
    stats.TOO_EASY: _l("Too easy"),
    stats.TOO_HARD: _l("Too hard"),
    stats.NEGATIVE: _l("Strong candidates do worse"),
    stats.WEAK: _l("Does not discriminate"),
    stats.RARELY_PICKED: _l("Distractor nobody picks"),
    stats.STRONG_PICK: _l("Distractor the strong candidates pick"),
}
# Translated where shown (two take the choice they are about).
FLAG_HINTS = {
    stats.TOO_EASY: N_("More than 90% answered it right: it hardly separates those who know "
                       "from those who do not. Make the wrong choices more plausible, or ask "
                       "about something less obvious."),
    stats.TOO_HARD: N_("Fewer than 20% answered it right. Check the key and the wording first; "
                       "if both are right, the point may need teaching again."),
    stats.NEGATIVE: N_("Those who did well on the rest of the exam scored lower on this question "
                       "than those who did badly. The key is probably wrong, or the question "
                       "misleads."),
    stats.WEAK: N_("Strong and weak candidates do about as well on it (discrimination below 20 "
                   "or efficiency below 15%). Look for an ambiguous stem or an answer that can "
                   "be guessed."),
    stats.RARELY_PICKED: N_("Fewer than 5%% chose %(choice)s: it fools nobody. Replace it with a "
                            "mistake agents really make."),
    stats.STRONG_PICK: N_("The top 27%% chose %(choice)s more often than the bottom 27%%. Check "
                          "that it is really wrong and not a defensible answer."),
}
# Column titles with a percent sign, shared by the pages and the XLSX: printed as they are
# (a template's own _() formats its string, so its % signs would have to be doubled).
COLUMNS = {
    "facility": _l("Facility (%)"),
    "sd": _l("Standard deviation (%)"),
    "discrimination": _l("Discrimination index"),
    "efficiency": _l("Discriminative efficiency (%)"),
    "all": _l("Picked by all (%)"),
    "top": _l("Picked by the top 27% (%)"),
    "bottom": _l("Picked by the bottom 27% (%)"),
}
UNDEFINED = {
    stats.TOO_FEW: _l("undefined: fewer than two answers"),
    stats.ITEM_CONSTANT: _l("undefined: everyone scored the same on this question"),
    stats.REST_CONSTANT: _l("undefined: everyone scored the same on the rest of the exam"),
}
NO_ALPHA = {
    stats.NO_ATTEMPTS: _l("not enough attempts"),
    stats.TOO_FEW: _l("not enough attempts"),
    stats.DIFFERENT_ITEMS: _l("not given: the attempts drew different questions"),
    stats.ONE_ITEM: _l("not given: a single question"),
    stats.TOTAL_CONSTANT: _l("not given: every attempt has the same score"),
}


def one(value: float | None, scale: float = 1.0) -> float | None:
    """A figure as shown and exported: scaled (fractions to percents) and rounded to 0.1."""
    return None if value is None else round(value * scale, 1)


def shown(value: float | None, scale: float = 1.0) -> str:
    rounded = one(value, scale)
    return "—" if rounded is None else f"{rounded:.1f}"


def letter(index: int) -> str:
    return LETTERS[index] if index < len(LETTERS) else str(index + 1)


_SPACES = re.compile(r"\s+")
_MARKUP = re.compile(r"[*_`#>|]+|!?\[([^\]]*)\]\([^)]*\)")


def shorten(text: str, length: int = 48) -> str:
    """A stem on one line, markdown marks dropped, cut to `length` characters."""
    plain = _SPACES.sub(" ", _MARKUP.sub(lambda m: m.group(1) or "", text or "")).strip()
    return plain if len(plain) <= length else plain[:length - 1] + "…"


def choice_label(item: stats.ItemFigures, index: int) -> str:
    return f"{letter(index)}（{shorten(item.choices[index].text, 24)}）"


def flag_label(flag: stats.Flag) -> str:
    return str(FLAG_LABELS[flag.code])


def flag_hint(item: stats.ItemFigures, flag: stats.Flag) -> str:
    if flag.choice is None:
        return _(FLAG_HINTS[flag.code])
    return _(FLAG_HINTS[flag.code], choice=choice_label(item, flag.choice))


def undefined(reason: str | None) -> str:
    return str(UNDEFINED.get(reason or "", ""))


def no_alpha(reason: str | None) -> str:
    return str(NO_ALPHA.get(reason or "", ""))


def may_edit(actor: Any) -> bool:
    return any(actor.has_role(role) for role in EDITORS)


# -- charts ---------------------------------------------------------------------------------------

def band_label(band: int) -> str:
    low = band * 100 // stats.BANDS
    return f"{low}–{low + 100 // stats.BANDS}%"


def distribution_chart(figures: stats.QuizFigures) -> Markup:
    labels = [band_label(b) for b in range(stats.BANDS)]
    svg = charts.bar("", labels, figures.bands if figures.n else [None] * stats.BANDS,
                     series=_("Attempts"), no_data=_("No graded attempts yet"),
                     formatter=lambda v: f"{v:.0f}")
    return charts.img(svg, _("The number of graded attempts in each band of scores, as the "
                             "table beside it says."))


def items_chart(figures: stats.QuizFigures) -> Markup:
    labels = [str(item.number) for item in figures.items]
    svg = charts.grouped_bar(
        "", labels, {str(COLUMNS["facility"]): [one(i.facility, 100) for i in figures.items],
                     str(COLUMNS["discrimination"]): [one(i.discrimination)
                                                      for i in figures.items]},
        no_data=_("No graded attempts yet"), formatter=lambda v: f"{v:.0f}")
    return charts.img(svg, _("Each question's facility and discrimination index, as the "
                             "table below says."))


# -- the XLSX -------------------------------------------------------------------------------------

EXPORT_HEADER = (_l("Question no."), _l("ID number"), _l("Question"), _l("Choice"), _l("Key"),
                 _l("Answers"), COLUMNS["facility"], COLUMNS["sd"], COLUMNS["discrimination"],
                 COLUMNS["efficiency"], COLUMNS["all"], COLUMNS["top"], COLUMNS["bottom"],
                 _l("Flags"))
EXPORT_WIDTHS = (6, 12, 40, 30, 6, 8, 10, 10, 10, 10, 10, 10, 10, 40)


def header() -> list[str]:
    return [str(h) for h in EXPORT_HEADER]


def _flags_text(item: stats.ItemFigures, flags: list[stats.Flag]) -> str:
    if not item.enough:
        return _("Not enough answers yet")
    return "；".join(flag_label(f) for f in flags)


def export_rows(numbered: list[tuple[int, str, stats.ItemFigures]]) -> Iterator[list[Any]]:
    """A row per question (its figures), then a row per choice (how often it was picked):
    (number, ID number, item) each."""
    for number, id_number, item in numbered:
        yield [number, id_number, shorten(item.question.stem, 200), "", "", item.n,
               one(item.facility, 100), one(item.sd, 100),
               one(item.discrimination) if item.discrimination is not None
               else undefined(item.discrimination_reason), one(item.efficiency),
               "", "", "", _flags_text(item, [f for f in item.flags if f.choice is None])]
        for index, choice in enumerate(item.choices):
            own = [f for f in item.flags if f.choice == index]
            key = pgettext("choice is the key", "Yes") if choice.key else ""
            yield [number, id_number, "", f"{letter(index)}. {shorten(choice.text, 200)}", key,
                   choice.picked, None, None, None, None, one(choice.percent),
                   one(choice.percent_top), one(choice.percent_bottom),
                   "；".join(flag_label(f) for f in own)]
