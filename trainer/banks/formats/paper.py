"""Chinese practice papers as pasted from Word (FORMATS.md "Chinese practice-paper text").

Pasted papers lose their layout: a question, its choices, its answer and the next question often
share one line (``…D、铅质客户正确答案:B2、人员分析…``), and the paper sits between page headers,
site notices and unrelated documents. The reader therefore scans tokens rather than lines:

* a type heading (``一、单选题(共20题,每题1分,共20分)``) opens a section; its points per question
  become the questions' default points;
* inside a section, a number with ``、 . ． ) ）`` starts a question at a line start, right after
  the heading or right after the previous answer; choices ``A、``… are looked for in order, so a
  letter in running text only counts when it is the next expected one;
* ``正确答案:`` / ``答案:`` / ``参考答案:`` closes the question; an optional ``解析:`` follows.

Everything else is reported, never silently dropped nor glued to a stem: text outside a section
is a skipped line, and so is a page number or a line with no choice marker between choices. A
document title (a short line without sentence punctuation, followed by a blank line, and not
followed by choices or an answer) or any other numbered heading (``一、组织管理``) ends the
section; a question still open then is reported incomplete. A numbered line inside an unanswered
question only starts the next question when it carries the next number, so numbered statements
inside a stem (``1、…2、…``) stay in the stem.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from .aiken import parse_letters, parse_truefalse_answer
from .base import (
    N_,
    ParsedChoice,
    ParsedQuestion,
    ParseResult,
    excerpt_of,
    format_decimal,
    is_keep_in_place_text,
    truefalse_choices,
    weights_from_letters,
)

__all__ = ["parse_paper"]

_TYPES = {
    "单项选择题": "single",
    "单选题": "single",
    "单选": "single",
    "多项选择题": "multiple",
    "不定项选择题": "multiple",
    "多选题": "multiple",
    "多选": "multiple",
    "判断题": "truefalse",
    "是非题": "truefalse",
}
_TYPE_WORDS = "|".join(sorted(_TYPES, key=len, reverse=True))
_NUMERAL = r"[一二三四五六七八九十]+\s*[、.．]\s*"
_INFO = r"(?:\s*[(（](?P<info>[^)）\n]{0,80})[)）])?"
_QSTART_TEXT = r"\d{1,4}\s*[、.．)）](?!\d)"
# What may follow a heading: nothing, a colon, or the first question on the same line.
_HEADING_TAIL = re.compile(r"\s*(?:$|[:：]|" + _QSTART_TEXT + ")")

_HEADING_AT_START = re.compile(
    r"\s*(?:"
    + _NUMERAL
    + r")?(?:第[一二三四五六七八九十]+部分\s*[、:：]?\s*)?(?P<type>"
    + _TYPE_WORDS
    + ")"
    + _INFO
)
_HEADING_ANYWHERE = re.compile(_NUMERAL + r"(?P<type>" + _TYPE_WORDS + ")" + _INFO)
_OTHER_HEADING = re.compile(
    r"\s*(?:[一二三四五六七八九十]+\s*[、．]|第[一二三四五六七八九十\d]+\s*[章节部分篇])"
)
_QSTART_ANYWHERE = re.compile(_QSTART_TEXT)
_QSTART = re.compile(r"\s*(?P<num>\d{1,4})\s*[、.．)）](?!\d)")
_ANSWER = re.compile(r"(?:正确答案|参考答案|答案)\s*[:：]\s*")
_EXPLANATION = re.compile(r"\s*(?:答案)?解析\s*[:：]\s*")
_CHOICE = {
    letter: re.compile(r"(?<![A-Za-z])" + letter + r"\s*[、.．)）：]\s*") for letter in "ABCDEFGH"
}
_LETTERS_VALUE = re.compile(r"[A-HＡ-Ｈ](?:[\s,，、]*[A-HＡ-Ｈ])*")
_TF_VALUE = re.compile(r"正确|错误|对|错|√|×|✓|✔|✗|✘|TRUE|FALSE|True|False|true|false|[TFAB]")
_PAGE_NUMBER = re.compile(
    r"\s*(?:第\s*\d+\s*页(?:\s*[,，/]?\s*共\s*\d+\s*页)?|\d{1,4}|[-—]\s*\d+\s*[-—]|\d+\s*/\s*\d+|page\s*\d+(?:\s*of\s*\d+)?)\s*$",
    re.I,
)
# Titles have none of these; notices and sentences do.
_SENTENCE_PUNCTUATION = re.compile(r"[。？！?!；;：:，,]|[(（]\s*[)）]")
_TITLE_MAX = 40
_NON_BLANK = re.compile(r"\S")

_EACH_POINTS = re.compile(r"每(?:小)?题\s*(\d+(?:\.\d+)?)\s*分")
_COUNT_AND_TOTAL = re.compile(r"共\s*(\d+)\s*(?:小)?题.*?共\s*(\d+(?:\.\d+)?)\s*分")


def _points_from(info: str | None) -> Decimal:
    if not info:
        return Decimal(1)
    try:
        if m := _EACH_POINTS.search(info):
            points = Decimal(m.group(1))
            return points if points > 0 else Decimal(1)
        if m := _COUNT_AND_TOTAL.search(info):
            count, total = int(m.group(1)), Decimal(m.group(2))
            if count > 0 and total > 0:
                points = total / count
                # Only an exact share is meaningful (20 分 / 10 题); 10 / 3 is a typo or a mix.
                if points == points.quantize(Decimal("0.01")):
                    return Decimal(format_decimal(points))
    except (InvalidOperation, ValueError):
        pass
    return Decimal(1)


@dataclass
class _Question:
    number: int
    line: int
    qtype: str
    points: Decimal
    stem: list[str] = field(default_factory=list)
    choices: list[list[str]] = field(default_factory=list)  # text parts per choice

    @property
    def excerpt(self) -> str:
        return excerpt_of(" ".join(self.stem))

    @property
    def next_letter(self) -> str | None:
        return "ABCDEFGH"[len(self.choices)] if len(self.choices) < 8 else None

    def append_text(self, text: str, new_line: bool) -> None:
        target = self.choices[-1] if self.choices else self.stem
        if new_line or not target:
            target.append(text)
        else:
            target[-1] += text


class _Tokens:
    """Matches of each token pattern in one line, found once and then looked up by position.

    Searching forward from every token again would be quadratic on the one-line papers that a
    paste produces; the lists make each look-up a bisection.
    """

    def __init__(self, line: str) -> None:
        self.line = line
        self._found: dict[str, tuple[list[int], list[re.Match[str]]]] = {}

    def next(self, key: str, pattern: re.Pattern[str], pos: int) -> re.Match[str] | None:
        found = self._found.get(key)
        if found is None:
            matches = [
                m
                for m in pattern.finditer(self.line)
                if key != "heading" or _HEADING_TAIL.match(self.line, m.end())
            ]
            found = ([m.start() for m in matches], matches)
            self._found[key] = found
        starts, matches = found
        i = bisect_left(starts, pos)
        return matches[i] if i < len(matches) else None

    def heading(self, pos: int) -> re.Match[str] | None:
        return self.next("heading", _HEADING_ANYWHERE, pos)

    def answer(self, pos: int) -> re.Match[str] | None:
        return self.next("answer", _ANSWER, pos)

    def choice(self, letter: str | None, pos: int) -> re.Match[str] | None:
        return self.next(letter, _CHOICE[letter], pos) if letter else None


@dataclass
class _Section:
    qtype: str
    points: Decimal


def parse_paper(text: str) -> ParseResult:
    """Read a pasted practice paper. Never raises: every problem becomes an issue with its line."""
    result = ParseResult(format="paper")
    try:
        _Reader(text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff"), result).run()
    except Exception as exc:  # noqa: BLE001 - the contract is a result, never an exception
        result.add(
            0, "error", N_("Internal error while reading the file: {detail}"), detail=repr(exc)
        )
    return result


class _Reader:
    def __init__(self, text: str, result: ParseResult) -> None:
        self.lines = text.split("\n")
        self.result = result
        self.section: _Section | None = None
        self.question: _Question | None = None
        self.answered: ParsedQuestion | None = None  # may still receive a 解析 line

    # -- reporting ------------------------------------------------------------------------------

    def skip(self, line_no: int, text: str) -> None:
        if text.strip():
            self.result.add(
                line_no,
                "skipped",
                N_("Text on line {line} belongs to no question and was skipped."),
                text,
                line=line_no,
            )

    def incomplete(self) -> None:
        q = self.question
        if q is not None:
            self.result.add(
                q.line,
                "incomplete",
                N_("Question {number} is cut off before its answer."),
                q.excerpt,
                number=q.number,
            )
        self.question = None

    def end_section(self) -> None:
        self.incomplete()
        self.section = None
        self.answered = None

    # -- line classification --------------------------------------------------------------------

    def _next_non_blank(self, index: int) -> str | None:
        for i in range(index + 1, len(self.lines)):
            if self.lines[i].strip():
                return self.lines[i]
        return None

    def is_title(self, index: int) -> bool:
        """A document title: short, no sentence punctuation, then a blank line (or the end)."""
        line = self.lines[index].strip()
        if len(line) > _TITLE_MAX or _SENTENCE_PUNCTUATION.search(line):
            return False
        if index + 1 < len(self.lines) and self.lines[index + 1].strip():
            return False
        if _QSTART.match(line) or _ANSWER.search(line) or self.heading_at_start(line):
            return False
        if any(p.match(line) for p in _CHOICE.values()):
            return False
        following = self._next_non_blank(index)
        if following is not None and (
            _ANSWER.match(following.strip()) or _CHOICE["A"].match(following.strip())
        ):
            return False
        return True

    @staticmethod
    def heading_at_start(line: str, pos: int = 0) -> re.Match[str] | None:
        m = _HEADING_AT_START.match(line, pos)
        return m if m and _HEADING_TAIL.match(line, m.end()) else None

    def open_section(self, m: re.Match[str]) -> None:
        self.end_section()
        self.section = _Section(_TYPES[m.group("type")], _points_from(m.group("info")))

    # -- the scan -------------------------------------------------------------------------------

    def run(self) -> None:
        for index, line in enumerate(self.lines):
            line_no = index + 1
            if not line.strip():
                continue
            if self.section is not None and _PAGE_NUMBER.match(line):
                # Page numbers come with page breaks anywhere, even inside a question.
                self.answered = None
                self.skip(line_no, line)
                continue
            if self.is_title(index):
                self.end_section()
                self.skip(line_no, line)
                continue
            pos = 0
            if m := self.heading_at_start(line):
                self.open_section(m)
                pos = m.end()
            elif _OTHER_HEADING.match(line):
                self.end_section()
                self.skip(line_no, line)
                continue
            self.scan(_Tokens(line), line_no, pos)
        self.incomplete()

    def scan(self, tokens: _Tokens, line_no: int, pos: int) -> None:
        line = tokens.line
        at_line_start = pos == 0
        while _NON_BLANK.search(line, pos):
            if self.section is None:
                m = tokens.heading(pos)
                if m is None:
                    self.skip(line_no, line[pos:])
                    return
                self.skip(line_no, line[pos : m.start()])
                self.open_section(m)
                pos = m.end()
                at_line_start = False
                continue

            if self.question is None:
                pos = self.between_questions(line, line_no, pos)
                at_line_start = False
                continue

            q = self.question
            if (
                at_line_start
                and (m := _QSTART.match(line, pos))
                and int(m.group("num")) == q.number + 1
            ):
                self.incomplete()
                continue
            if (
                at_line_start
                and q.choices
                and not (
                    tokens.answer(pos) or tokens.choice(q.next_letter, pos) or tokens.heading(pos)
                )
            ):
                # A line with no choice and no answer between choices: a page header or notice.
                self.skip(line_no, line[pos:])
                return
            pos = self.inside_question(tokens, line_no, pos, at_line_start)
            at_line_start = False

    def between_questions(self, line: str, line_no: int, pos: int) -> int:
        """After a heading or an answer: an explanation, a question, a heading, or junk."""
        assert self.section is not None
        if self.answered is not None and (m := _EXPLANATION.match(line, pos)):
            self.answered.explanation = line[m.end() :].strip()
            self.answered = None
            return len(line)
        self.answered = None
        if m := _QSTART.match(line, pos):
            self.question = _Question(
                int(m.group("num")), line_no, self.section.qtype, self.section.points
            )
            return m.end()
        if m := self.heading_at_start(line, pos):
            self.open_section(m)
            return m.end()
        if _OTHER_HEADING.match(line, pos):
            self.end_section()
        self.skip(line_no, line[pos:])
        return len(line)

    def inside_question(self, tokens: _Tokens, line_no: int, pos: int, at_line_start: bool) -> int:
        """Consume stem or choice text up to the next token, then the token itself."""
        q = self.question
        assert q is not None
        line = tokens.line
        candidates: list[tuple[int, str, re.Match[str]]] = []
        if m := tokens.answer(pos):
            candidates.append((m.start(), "answer", m))
        if m := tokens.choice(q.next_letter, pos):
            candidates.append((m.start(), "choice", m))
        if m := tokens.heading(pos):
            candidates.append((m.start(), "heading", m))
        if not candidates:
            q.append_text(line[pos:].strip(), at_line_start)
            return len(line)
        start, kind, m = min(candidates, key=lambda c: c[0])
        before = line[pos:start].strip()
        if before:
            q.append_text(before, at_line_start)
        if kind == "choice":
            q.choices.append([])
            return m.end()
        if kind == "heading":
            self.open_section(m)
            return m.end()
        return self.close(line, m.end())

    def close(self, line: str, pos: int) -> int:
        """Read the answer at *pos*, finish the open question, return where reading goes on."""
        q = self.question
        assert q is not None
        self.question = None
        value_re = _TF_VALUE if q.qtype == "truefalse" else _LETTERS_VALUE
        value = value_re.match(line, pos)
        stem = "\n".join(part.strip() for part in q.stem if part.strip())
        choice_texts = ["\n".join(p.strip() for p in parts if p.strip()) for parts in q.choices]
        if value:
            raw, end = value.group(), value.end()
        else:
            # An unreadable answer takes the rest of the line, up to a following question.
            following = _QSTART_ANYWHERE.search(line, pos)
            end = following.start() if following else len(line)
            raw = excerpt_of(line[pos:end], 20)
        parsed = ParsedQuestion(
            qtype=q.qtype,
            stem=stem,
            choices=[],
            text_format="plain",
            default_points=q.points,
            line=q.line,
        )

        def fail(message: str, **params: object) -> int:
            self.result.add(q.line, "error", message, stem, **params)
            return end

        if value is None:
            return fail(
                N_("Question {number}: the answer “{answer}” is not valid."),
                number=q.number,
                answer=raw,
            )

        if q.qtype == "truefalse":
            truth = parse_truefalse_answer(raw)
            if raw in ("A", "B"):
                index = ord(raw) - ord("A")
                truth = (
                    parse_truefalse_answer(choice_texts[index])
                    if index < len(choice_texts)
                    else None
                )
            if truth is None:
                return fail(
                    N_("Question {number}: the answer “{answer}” is not valid."),
                    number=q.number,
                    answer=raw,
                )
            parsed.choices = truefalse_choices(truth)
        else:
            letters = parse_letters(raw) or []
            missing = [x for x in letters if ord(x) - ord("A") >= len(choice_texts)]
            if missing:
                return fail(
                    N_(
                        "Question {number}: the answer names choice {letter}, which the question does not have."
                    ),
                    number=q.number,
                    letter="".join(missing),
                )
            if q.qtype == "single" and len(letters) > 1:
                return fail(
                    N_(
                        "Question {number} is in a single-choice section but has several answers: {answer}."
                    ),
                    number=q.number,
                    answer=raw,
                )
            correct = {ord(x) - ord("A") for x in letters}
            weights = weights_from_letters(len(choice_texts), correct, q.qtype == "multiple")
            parsed.choices = [
                ParsedChoice(text, weight, keep_in_place=is_keep_in_place_text(text))
                for text, weight in zip(choice_texts, weights, strict=True)
            ]
        if self.result.accept(parsed):
            self.answered = parsed
        return end
