"""Aiken, with the Chinese variants found in Word documents.

A stem (one line; further lines before the first choice are joined to it, as Word wraps), at
least two choice lines (``A) text``, ``A. text``, ``A、text``, ``A．text``, ``A：text``), then
``ANSWER: B`` / ``答案：B`` / ``正确答案：B`` / ``参考答案：B``. Several letters make a multiple-choice
question whose correct choices share +100 % and wrong ones −100 %. Extensions: an answer of
对/错 (or TRUE/FALSE …) after a stem with no choices makes a true/false question, and a
``解析：`` line right after the answer is the explanation. Texts are plain text.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from .base import (
    N_,
    ParsedChoice,
    ParsedQuestion,
    ParseResult,
    excerpt_of,
    is_keep_in_place_text,
    truefalse_choices,
    weights_from_letters,
)

__all__ = ["parse_aiken", "parse_truefalse_answer", "parse_letters"]

_CHOICE = re.compile(r"^\s*([A-Z])\s*[).．、：:]\s*(.*)$")
_ANSWER = re.compile(r"^\s*(?:ANSWER|正确答案|参考答案|答案)\s*[:：]\s*(.*)$", re.I)
_EXPLANATION = re.compile(r"^\s*(?:解析|答案解析|EXPLANATION)\s*[:：]\s*(.*)$", re.I)
_LETTER_SEPARATORS = re.compile(r"[\s,，、;；/]+")

_TRUE_WORDS = frozenset({"对", "正确", "√", "✓", "✔", "T", "TRUE", "是", "Y", "YES"})
_FALSE_WORDS = frozenset({"错", "错误", "×", "✗", "✘", "X", "F", "FALSE", "否", "N", "NO"})


def parse_truefalse_answer(text: str) -> bool | None:
    """True/False for 对/错, √/×, 正确/错误, T/F, TRUE/FALSE…; None for anything else."""
    key = unicodedata.normalize("NFKC", text).strip().rstrip("。.").upper()
    if key in _TRUE_WORDS:
        return True
    if key in _FALSE_WORDS:
        return False
    return None


def parse_letters(text: str) -> list[str] | None:
    """``ACD``, ``A,C,D``, ``A、C D`` → ["A", "C", "D"]; None when anything else is in it."""
    cleaned = _LETTER_SEPARATORS.sub("", unicodedata.normalize("NFKC", text).upper())
    if not cleaned or not all("A" <= ch <= "Z" for ch in cleaned):
        return None
    return list(dict.fromkeys(cleaned))


@dataclass
class _Open:
    line: int
    stem: list[str]
    letters: list[str] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)

    @property
    def excerpt(self) -> str:
        return excerpt_of(" ".join(self.stem))


def parse_aiken(text: str) -> ParseResult:
    """Read Aiken text. Never raises: every problem becomes an issue with its line."""
    result = ParseResult(format="aiken")
    try:
        _parse(text.replace("\r\n", "\n").replace("\r", "\n"), result)
    except Exception as exc:  # noqa: BLE001 - the contract is a result, never an exception
        result.add(
            0, "error", N_("Internal error while reading the file: {detail}"), detail=repr(exc)
        )
    return result


def _parse(text: str, result: ParseResult) -> None:
    current: _Open | None = None
    # The last question closed by an answer line, while a 解析 line may still follow it.
    answered: ParsedQuestion | None = None

    for number, line in enumerate(text.lstrip("\ufeff").split("\n"), 1):
        if not line.strip():
            continue
        if (m := _EXPLANATION.match(line)) and answered is not None and current is None:
            answered.explanation = m.group(1).strip()
            answered = None
            continue
        answered = None
        if m := _ANSWER.match(line):
            if current is None:
                result.add(number, "error", N_("An answer line with no question before it."), line)
            else:
                answered = _close(current, m.group(1), result)
                current = None
            continue
        if m := _CHOICE.match(line):
            if current is None:
                result.add(number, "error", N_("A choice line with no question before it."), line)
            elif m.group(1) in current.letters:
                result.add(
                    current.line,
                    "error",
                    N_("Choice {letter} appears twice."),
                    current.excerpt,
                    letter=m.group(1),
                )
                current.texts[current.letters.index(m.group(1))] = m.group(2).strip()
            else:
                current.letters.append(m.group(1))
                current.texts.append(m.group(2).strip())
            continue
        if current is not None and current.letters:
            result.add(
                current.line,
                "error",
                N_("A new question starts (line {next_line}) before the answer line of this one."),
                current.excerpt,
                next_line=number,
            )
            current = None
        if current is None:
            current = _Open(line=number, stem=[line.strip()])
        else:
            current.stem.append(line.strip())

    if current is not None:
        result.add(
            current.line,
            "incomplete",
            N_("The question ends before its answer line."),
            current.excerpt,
        )


def _close(current: _Open, answer: str, result: ParseResult) -> ParsedQuestion | None:
    stem = "\n".join(current.stem)
    q = ParsedQuestion(
        qtype="single", stem=stem, choices=[], text_format="plain", line=current.line
    )
    if not current.letters:
        truth = parse_truefalse_answer(answer)
        if truth is None:
            result.add(current.line, "error", N_("The question has no choices."), current.excerpt)
            return None
        q.qtype = "truefalse"
        q.choices = truefalse_choices(truth)
        return q if result.accept(q) else None

    letters = parse_letters(answer)
    if letters is None:
        result.add(
            current.line,
            "error",
            N_("The answer “{answer}” is not a choice letter."),
            current.excerpt,
            answer=answer.strip(),
        )
        return None
    missing = [letter for letter in letters if letter not in current.letters]
    if missing:
        result.add(
            current.line,
            "error",
            N_("The answer names choice {letter}, which the question does not have."),
            current.excerpt,
            letter="".join(missing),
        )
        return None
    multiple = len(letters) > 1
    correct = {current.letters.index(letter) for letter in letters}
    weights = weights_from_letters(len(current.texts), correct, multiple)
    q.qtype = "multiple" if multiple else "single"
    q.choices = [
        ParsedChoice(text, weight, keep_in_place=is_keep_in_place_text(text))
        for text, weight in zip(current.texts, weights, strict=True)
    ]
    return q if result.accept(q) else None
