"""GIFT, Moodle's text format, with our comment extensions.

Reading follows FORMATS.md "GIFT". Beyond Moodle:

* ``// [difficulty:N]`` and ``// [points:N]`` comments carry the difficulty and default points
  (Moodle ignores comments, so files stay Moodle-compatible). Metadata comments apply to the
  question in the same blank-line-separated block.
* The shipped banks open with ``// 题库：NAME`` and ``// 说明：DESCRIPTION``; they come back as
  ``ParseResult.bank_name`` / ``bank_description`` (one line each: export joins lines).
* An answer block that a stray blank line cut in two is joined again when the next block(s)
  close it (Moodle would reject both halves).
* Keep-in-place has no GIFT syntax: it is implied by the choice text (see ``base``).
* A choice block with text after it (the missing-word form) becomes a choice question whose stem
  shows ``base.BLANK`` where the block stood; ``blank_number`` says which blank that is, so
  export puts the block back there. A stem that merely shows such a blank exports as it is.

Writing produces one choice per line, always a ``[difficulty:N]`` comment, weights wherever the
mark alone would not say them (multiple-choice weights always), and ``\\n`` for newlines, so a
question never contains a blank line. Export then import gives back the same questions as long
as texts have no surrounding whitespace, and ids/tags/category names contain no ``]`` or newline
(those are replaced, as GIFT comments and category lines cannot hold them).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import Decimal

from .base import (
    BLANK,
    MULTIPLE_TOTAL,
    N_,
    W0,
    W100,
    ParsedChoice,
    ParsedQuestion,
    ParseIssue,
    ParseResult,
    dedupe,
    excerpt_of,
    format_category_path,
    format_decimal,
    is_keep_in_place_text,
    parse_category_path,
    parse_decimal,
    quantize_weight,
    split_at_blank,
    truefalse_choices,
    validate_question,
)

__all__ = ["parse_gift", "export_gift", "escape_gift", "unescape_gift"]

_HUNDRED = Decimal(100)

# Each scanner matches an escape (two characters, skipped) or the wanted unescaped token, so one
# left-to-right C-level pass finds the token: no backtracking, linear in the text.
_OPEN = re.compile(r"\\.|\{", re.S)
_CLOSE = re.compile(r"\\.|\}", re.S)
_NAME_END = re.compile(r"\\.|::", re.S)
_GENERAL_FEEDBACK = re.compile(r"\\.|####", re.S)
_HASH = re.compile(r"\\.|#", re.S)
_MARKS = re.compile(r"\\.|[=~]", re.S)
_TILDE = re.compile(r"\\.|~", re.S)
_EQUALS = re.compile(r"\\.|=", re.S)
_UNESCAPE = re.compile(r"\\(.)", re.S)
_ESCAPE = re.compile(r"[\\~=#{}:\n]")

_FORMAT_MARKER = re.compile(r"\s*\[(html|moodle|plain|markdown)\]")
_WEIGHT = re.compile(r"\s*%([^%\n]*)%")
_META = re.compile(r"\[(id|tag|difficulty|points):([^\]\n]*)\]")
_BANK_NAME = re.compile(r"^//\s*(?:题库|bank)\s*[:：]\s*(.*)$", re.I)
_BANK_DESCRIPTION = re.compile(r"^//\s*(?:说明|description)\s*[:：]\s*(.*)$", re.I)

_FORMATS = {"html": "html", "plain": "plain", "markdown": "markdown", "moodle": "plain"}
_TF = {"T": True, "TRUE": True, "F": False, "FALSE": False}

# How many following blocks may be joined to close an answer block cut by a blank line.
_MAX_JOIN = 10

_UNSUPPORTED = {
    "essay": N_("Essay questions are not supported; the question was skipped."),
    "numerical": N_("Numerical questions are not supported; the question was skipped."),
    "matching": N_("Matching questions are not supported; the question was skipped."),
    "shortanswer": N_("Short-answer questions are not supported; the question was skipped."),
    "missingword": N_(
        "Missing-word questions (text after the answer block) are supported only as choice "
        "questions ({{=right ~wrong}}); the question was skipped."
    ),
    "description": N_("No answer block {{…}}: the text is not a question."),
}
_NO_RIGHT_CHOICE = N_(
    "No choice is marked right: mark the answer of a single-choice question with “=” "
    "({{=right ~wrong}}), or give the right choices of a multiple-choice question their "
    "weights ({{~%50%right ~%50%right ~%-100%wrong}})."
)


def _first(scanner: re.Pattern[str], text: str, start: int = 0) -> int:
    """Index of the first unescaped token *scanner* looks for, or -1."""
    if "\\" not in text:
        m = scanner.search(text, start)
        return m.start() if m else -1
    for m in scanner.finditer(text, start):
        if m.group()[0] != "\\":
            return m.start()
    return -1


def _split(scanner: re.Pattern[str], text: str) -> list[str]:
    """Split *text* at every unescaped one-character token."""
    parts: list[str] = []
    last = 0
    for m in scanner.finditer(text):
        if m.group()[0] != "\\":
            parts.append(text[last : m.start()])
            last = m.end()
    parts.append(text[last:])
    return parts


def _unescape_char(m: re.Match[str]) -> str:
    ch = m.group(1)
    if ch == "n":
        return "\n"
    if ch in "~=#{}:\\":
        return ch
    return m.group(0)


def unescape_gift(text: str) -> str:
    return _UNESCAPE.sub(_unescape_char, text) if "\\" in text else text


def escape_gift(text: str) -> str:
    return _ESCAPE.sub(lambda m: "\\n" if m.group() == "\n" else "\\" + m.group(), text)


# -- reading --------------------------------------------------------------------------------------


class _Block:
    __slots__ = ("lines",)

    def __init__(self) -> None:
        self.lines: list[tuple[int, str]] = []


def _blocks(text: str) -> list[_Block]:
    blocks: list[_Block] = []
    current = _Block()
    for number, line in enumerate(text.split("\n"), 1):
        if line.strip():
            current.lines.append((number, line))
        elif current.lines:
            blocks.append(current)
            current = _Block()
    if current.lines:
        blocks.append(current)
    return blocks


def _unclosed(text: str) -> bool:
    """True when the text opens an answer block that it does not close."""
    opening = _first(_OPEN, text)
    return opening >= 0 and _first(_CLOSE, text, opening + 1) < 0


def _join_cut_blocks(blocks: list[_Block]) -> list[_Block]:
    joined: list[_Block] = []
    i = 0
    while i < len(blocks):
        block = blocks[i]
        body = "\n".join(line for _, line in block.lines)
        if _unclosed(body):
            for k in range(i + 1, min(len(blocks), i + 1 + _MAX_JOIN)):
                nxt = "\n".join(line for _, line in blocks[k].lines)
                closing = _first(_CLOSE, nxt)
                opening = _first(_OPEN, nxt)
                if closing >= 0 and (opening < 0 or closing < opening):
                    merged = _Block()
                    for b in blocks[i : k + 1]:
                        merged.lines.extend(b.lines)
                    block = merged
                    i = k
                    break
                if opening >= 0:
                    break
        joined.append(block)
        i += 1
    return joined


def parse_gift(text: str) -> ParseResult:
    """Read a GIFT file. Never raises: every problem becomes an issue with its line."""
    result = ParseResult(format="gift")
    try:
        _parse(text.replace("\r\n", "\n").replace("\r", "\n"), result)
    except Exception as exc:  # noqa: BLE001 - the contract is a result, never an exception
        result.add(
            0, "error", N_("Internal error while reading the file: {detail}"), detail=repr(exc)
        )
    return result


def _parse(text: str, result: ParseResult) -> None:
    if text.startswith("\ufeff"):
        text = text[1:]
    category: tuple[str, ...] = ()
    seen_question = False
    for block in _join_cut_blocks(_blocks(text)):
        comments: list[str] = []
        content: list[tuple[int, str]] = []
        for number, line in block.lines:
            stripped = line.strip()
            if stripped.startswith("//"):
                if not seen_question and not content:
                    if m := _BANK_NAME.match(stripped):
                        result.bank_name = m.group(1).strip()
                        continue
                    if m := _BANK_DESCRIPTION.match(stripped):
                        result.bank_description = m.group(1).strip()
                        continue
                comments.append(stripped)
            elif stripped.startswith("$CATEGORY:") and not content:
                category = parse_category_path(stripped[len("$CATEGORY:") :])
            else:
                content.append((number, line))
        if not content:
            continue
        seen_question = True
        line_no = content[0][0]
        body = "\n".join(line for _, line in content)
        _parse_question(body, line_no, comments, category, result)


def _read_meta(
    comments: list[str], q: ParsedQuestion, problems: list[tuple[str, dict[str, object]]]
) -> None:
    tags: list[str] = []
    for comment in comments:
        for m in _META.finditer(comment):
            key, value = m.group(1), m.group(2).strip()
            if key == "id":
                q.id_number = value
            elif key == "tag":
                tags.append(value)
            elif key == "difficulty":
                if value in ("1", "2", "3"):
                    q.difficulty = int(value)
                else:
                    problems.append(
                        (
                            N_("Difficulty must be 1, 2 or 3, not {difficulty}."),
                            {"difficulty": value},
                        )
                    )
            else:
                points = parse_decimal(value)
                if points is None:
                    problems.append(
                        (N_("Points must be a number, not “{points}”."), {"points": value})
                    )
                else:
                    q.default_points = points
    q.tags = dedupe(tags)


def _parse_question(
    body: str,
    line_no: int,
    comments: list[str],
    category: tuple[str, ...],
    result: ParseResult,
) -> None:
    text = body.lstrip()
    excerpt = text

    def issue(kind: str, message: str, **params: object) -> None:
        result.issues.append(ParseIssue(line_no, kind, message, params, excerpt_of(excerpt)))

    name = ""
    if text.startswith("::"):
        end = _first(_NAME_END, text, 2)
        if end < 0:
            issue("error", N_("The question name is not closed with “::”."))
            return
        name = unescape_gift(text[2:end]).strip()
        text = text[end + 2 :]
    excerpt = text.strip() or name
    text_format = "markdown"
    if m := _FORMAT_MARKER.match(text):
        text_format = _FORMATS[m.group(1)]
        text = text[m.end() :]
        excerpt = text.strip() or name

    opening = _first(_OPEN, text)
    if opening < 0:
        issue("error", _UNSUPPORTED["description"])
        return
    stem = unescape_gift(text[:opening]).strip()
    excerpt = stem or name
    closing = _first(_CLOSE, text, opening + 1)
    if closing < 0:
        issue("error", N_("The answer block is not closed with “}}”."))
        return
    answer = text[opening + 1 : closing]
    after = text[closing + 1 :]
    missing_word = bool(after.strip())
    if missing_word and _first(_OPEN, after) >= 0:
        issue(
            "error",
            N_(
                "Two questions without a blank line between them: separate questions with a blank line."
            ),
        )
        return
    is_choice = _first(_TILDE, answer) >= 0
    if missing_word and not is_choice:
        issue("unsupported", _UNSUPPORTED["missingword"])
        return
    blank_number = None
    if missing_word:
        # Moodle shows a blank where the block stood; the text around it is kept as written.
        before = unescape_gift(text[:opening]).lstrip()
        stem = before + BLANK + unescape_gift(after).rstrip()
        blank_number = before.count(BLANK) + 1
        excerpt = stem

    q = ParsedQuestion(
        qtype="single",
        stem=stem,
        choices=[],
        name=name,
        text_format=text_format,
        category_path=category,
        blank_number=blank_number,
        line=line_no,
    )
    problems: list[tuple[str, dict[str, object]]] = []
    _read_meta(comments, q, problems)

    # General feedback first: "####" would otherwise read as choice feedback.
    gf_at = _first(_GENERAL_FEEDBACK, answer)
    if gf_at >= 0:
        q.explanation = unescape_gift(answer[gf_at + 4 :]).strip()
        answer_main = answer[:gf_at]
    else:
        answer_main = answer

    stripped = answer.strip()
    if not stripped:
        issue("unsupported", _UNSUPPORTED["essay"])
        return
    if stripped.startswith("#"):
        issue("unsupported", _UNSUPPORTED["numerical"])
        return
    if is_choice:
        _read_choices(answer_main, q, problems)
    elif _first(_EQUALS, answer) >= 0 and "->" in answer:
        issue("unsupported", _UNSUPPORTED["matching"])
        return
    else:
        parts = _split(_HASH, answer_main)
        key = parts[0].strip().upper()
        if key not in _TF:
            issue("unsupported", _UNSUPPORTED["shortanswer"])
            return
        truth = _TF[key]
        if_wrong = unescape_gift(parts[1]).strip() if len(parts) > 1 else ""
        if_right = unescape_gift("#".join(parts[2:])).strip() if len(parts) > 2 else ""
        q.qtype = "truefalse"
        # The choice the learner ticks when wrong gets the "if wrong" feedback.
        if truth:
            q.choices = truefalse_choices(True, feedback_true=if_right, feedback_false=if_wrong)
        else:
            q.choices = truefalse_choices(False, feedback_true=if_wrong, feedback_false=if_right)

    if q.qtype == "multiple" and not any(c.weight > 0 for c in q.choices):
        # Most often a single-choice question whose writer forgot the "=": say that, not that
        # the weights of a multiple-choice question total 0 %.
        problems.append((_NO_RIGHT_CHOICE, {}))
        problems.extend(p for p in validate_question(q) if p[0] != MULTIPLE_TOTAL)
    else:
        problems.extend(validate_question(q))
    if problems:
        for message, params in problems:
            result.issues.append(ParseIssue(line_no, "error", message, params, excerpt_of(excerpt)))
        return
    result.questions.append(q)


def _read_choices(
    answer: str, q: ParsedQuestion, problems: list[tuple[str, dict[str, object]]]
) -> None:
    marks = [m for m in _MARKS.finditer(answer) if m.group()[0] != "\\"]
    if answer[: marks[0].start()].strip():
        problems.append(
            (
                N_("Text before the first choice: “{text}”."),
                {"text": excerpt_of(answer[: marks[0].start()])},
            )
        )
    any_equals = False
    for index, m in enumerate(marks):
        end = marks[index + 1].start() if index + 1 < len(marks) else len(answer)
        body = answer[m.end() : end]
        if m.group() == "=":
            any_equals = True
            weight = W100
        else:
            weight = W0
        if w := _WEIGHT.match(body):
            parsed = parse_decimal(w.group(1))
            if parsed is None:
                problems.append(
                    (
                        N_("Choice {number}: the weight “{weight}” is not a number."),
                        {"number": index + 1, "weight": w.group(1)},
                    )
                )
                parsed = Decimal(0)
            weight = quantize_weight(parsed)
            body = body[w.end() :]
        hash_at = _first(_HASH, body)
        if hash_at >= 0:
            text, feedback = body[:hash_at], body[hash_at + 1 :]
        else:
            text, feedback = body, ""
        text = unescape_gift(text).strip()
        q.choices.append(
            ParsedChoice(
                text=text,
                weight=weight,
                feedback=unescape_gift(feedback).strip(),
                keep_in_place=is_keep_in_place_text(text),
            )
        )
    q.qtype = "single" if any_equals else "multiple"


# -- writing --------------------------------------------------------------------------------------


def _meta_value(value: str) -> str:
    # Comment metadata ends at "]" and at the end of the line; neither can be escaped.
    return " ".join(value.replace("]", ")").split())


def _one_line(value: str) -> str:
    return " ".join(value.split())


def _choice_line(mark: str, weight: str | None, c: ParsedChoice) -> str:
    text = escape_gift(c.text)
    # A text starting with "%" would be read as a weight: an explicit weight protects it.
    if weight is None and text.lstrip().startswith("%"):
        weight = "0" if mark == "~" else "100"
    line = "\t" + mark + (f"%{weight}%" if weight is not None else "") + text
    if c.feedback:
        line += "#" + escape_gift(c.feedback)
    return line


def _question_lines(q: ParsedQuestion) -> list[str]:
    meta = []
    if q.id_number:
        meta.append(f"[id:{_meta_value(q.id_number)}]")
    meta.extend(f"[tag:{_meta_value(t)}]" for t in q.tags)
    meta.append(f"[difficulty:{q.difficulty}]")
    if q.default_points != 1:
        meta.append(f"[points:{format_decimal(q.default_points)}]")
    lines = ["// " + " ".join(meta)]

    head = f"::{escape_gift(q.name)}::" if q.name else ""
    # A missing-word question's block goes back where its blank stands.
    around = split_at_blank(q.stem, q.blank_number) if q.blank_number else None
    before, tail = around or (q.stem, "")
    stem, tail = escape_gift(before), escape_gift(tail)
    # The marker is implicit for Markdown, but needed when the stem itself would look like one
    # (or, without a name, like a comment line).
    if (
        q.text_format != "markdown"
        or stem.lstrip().startswith("[")
        or (not head and stem.lstrip().startswith("//"))
    ):
        head += f"[{q.text_format}]"
    head += stem

    if q.qtype == "truefalse":
        truth = bool(q.choices) and q.choices[0].weight > 0
        right = next((c for c in q.choices if c.weight > 0), None)
        wrong = next((c for c in q.choices if c.weight <= 0), None)
        if_right = right.feedback if right else ""
        if_wrong = wrong.feedback if wrong else ""
        block = "TRUE" if truth else "FALSE"
        if if_right:
            block += "#" + escape_gift(if_wrong) + "#" + escape_gift(if_right)
        elif if_wrong:
            block += "#" + escape_gift(if_wrong)
        if q.explanation:
            block += "####" + escape_gift(q.explanation)
        lines.append(head + "{" + block + "}")
        return lines

    lines.append(head + "{")
    if q.qtype == "multiple":
        for c in q.choices:
            lines.append(_choice_line("~", format_decimal(c.weight), c))
    else:
        # "=" marks the question as single choice; "~" keeps it a choice question even when
        # every choice is worth 100 % (only "=" choices would read as short answer).
        equals_used = False
        for c in q.choices:
            if c.weight == _HUNDRED and not equals_used:
                lines.append(_choice_line("=", None, c))
                equals_used = True
            elif c.weight == 0:
                lines.append(_choice_line("~", None, c))
            else:
                lines.append(_choice_line("~", format_decimal(c.weight), c))
    if q.explanation:
        lines.append("\t####" + escape_gift(q.explanation))
    lines.append("}" + tail)
    return lines


def export_gift(
    questions: Iterable[ParsedQuestion],
    bank_name: str | None = None,
    description: str | None = None,
) -> str:
    """Write *questions* as GIFT text (LF line endings, ending with a newline)."""
    out: list[str] = []
    if bank_name:
        out.append(f"// 题库：{_one_line(bank_name)}")
    if description:
        out.append(f"// 说明：{_one_line(description)}")
    if out:
        out.append("")
    current: tuple[str, ...] = ()
    for q in questions:
        path = tuple(_one_line(s) for s in q.category_path)
        if path != current:
            out.append("$CATEGORY: " + (format_category_path(path) or "top"))
            out.append("")
            current = path
        out.extend(_question_lines(q))
        out.append("")
    return "\n".join(out)
