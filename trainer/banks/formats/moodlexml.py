"""Moodle XML (the subset in FORMATS.md): categories, multichoice and truefalse questions.

The file is read with expat directly, with every DTD refused: no DOCTYPE means no entity
declarations, so neither external entities (XXE) nor entity expansion bombs can occur — the same
protection defusedxml gives, plus the line number of every element for the issue list. Files
declaring an encoding expat lacks (GBK, GB18030, …) are decoded in Python first; undeclared
non-UTF-8 files are tried as GB18030 like our text formats.

Texts keep Moodle's formats: ``html`` stays HTML (the site sanitises it when rendering, it is
never executed), ``plain_text`` and ``moodle_auto_format`` become plain, ``markdown`` stays.
Difficulty travels as the tag ``difficulty:N``, default points as ``<defaultgrade>``, category
paths as category pseudo-questions. A missing-word question (GIFT's text after the answer block)
is what Moodle makes of one, a ``multichoice`` whose text shows the blank; which blank of the text
it is travels as the tag ``blank:N``, so it comes back in the missing-word form. ``multichoiceset`` (all-or-nothing) is read as a
multiple-choice question whose correct choices share +100 % and wrong ones −100 %.
Keep-in-place is implied by the choice text (see ``base``).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from xml.parsers import expat

from .aiken import parse_truefalse_answer
from .base import (
    N_,
    W0,
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
    truefalse_choices,
    validate_question,
    weights_from_letters,
)
from .encoding import DecodeError, decode_bytes

__all__ = ["parse_moodlexml", "export_moodlexml"]

_FORMATS_IN = {
    "html": "html",
    "plain_text": "plain",
    "moodle_auto_format": "plain",
    "markdown": "markdown",
}
_FORMATS_OUT = {"html": "html", "plain": "plain_text", "markdown": "markdown"}
_EXPAT_ENCODINGS = frozenset(
    {"utf-8", "utf8", "utf-16", "utf16", "iso-8859-1", "latin-1", "latin1", "us-ascii", "ascii"}
)
_DECLARATION = re.compile(rb"^\s*<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._-]+)[\"']")
_DECLARED_ENCODING = re.compile(r"(<\?xml[^>]*?encoding\s*=\s*[\"'])[A-Za-z0-9._-]+")
_DIFFICULTY_TAG = re.compile(r"^difficulty:\s*(\d+)$", re.I)
_BLANK_TAG = re.compile(r"^blank:\s*([0-9]{1,9})$", re.I)
_TAGS = re.compile(r"<[^>]*>")
# Characters XML 1.0 cannot carry at all; they are dropped on export.
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


class _Refused(Exception):
    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


@dataclass
class _Node:
    tag: str
    attrib: dict[str, str]
    line: int
    children: list[_Node] = field(default_factory=list)
    parts: list[str] = field(default_factory=list)

    def child(self, tag: str) -> _Node | None:
        return next((c for c in self.children if c.tag == tag), None)

    def all(self, tag: str) -> list[_Node]:
        return [c for c in self.children if c.tag == tag]

    @property
    def own_text(self) -> str:
        return "".join(self.parts)

    def text_of(self, *path: str) -> str | None:
        """Text of the <text> (or own text) at *path*, or None when the path is absent."""
        node: _Node | None = self
        for tag in path:
            node = node.child(tag) if node is not None else None
        if node is None:
            return None
        inner = node.child("text")
        return (inner.own_text if inner is not None else node.own_text).strip()


def _build_tree(data: bytes) -> _Node:
    """Parse with expat, refusing any DTD; raises expat.ExpatError or _Refused."""
    parser = expat.ParserCreate()
    parser.buffer_text = True
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    stack: list[_Node] = []
    roots: list[_Node] = []

    def refuse(*_args: object) -> int:
        raise _Refused(
            N_("The XML declares a DTD or entities, which are not allowed in an import file."),
            parser.CurrentLineNumber,
        )

    def start(tag: str, attrib: dict[str, str]) -> None:
        node = _Node(tag, attrib, parser.CurrentLineNumber)
        (stack[-1].children if stack else roots).append(node)
        stack.append(node)

    def end(_tag: str) -> None:
        stack.pop()

    def chars(text: str) -> None:
        if stack:
            stack[-1].parts.append(text)

    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.UnparsedEntityDeclHandler = refuse
    parser.ExternalEntityRefHandler = refuse
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = chars
    parser.Parse(data, True)
    return roots[0]


def _prepare(data: bytes) -> bytes:
    """Bytes expat can read: re-encode declared encodings it lacks and undeclared GB18030."""
    if data.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")):
        return data
    m = _DECLARATION.match(data[:500])
    if m:
        declared = m.group(1).decode("ascii").lower()
        if declared in _EXPAT_ENCODINGS:
            return data
        try:
            text = data.decode(declared)
        except LookupError:
            raise DecodeError(
                N_("The XML declares an unknown encoding “{encoding}”."), encoding=declared
            ) from None
        except UnicodeDecodeError as exc:
            raise DecodeError(
                N_("The XML is not valid {encoding} text (byte {position})."),
                encoding=declared,
                position=exc.start,
            ) from None
        return _DECLARED_ENCODING.sub(r"\g<1>UTF-8", text, count=1).encode("utf-8")
    try:
        data.decode("utf-8")
        return data
    except UnicodeDecodeError:
        text, _ = decode_bytes(data)
        return text.encode("utf-8")


def parse_moodlexml(data: bytes) -> ParseResult:
    """Read Moodle XML bytes. Never raises: every problem becomes an issue with its line."""
    result = ParseResult(format="moodlexml")
    try:
        _parse(data, result)
    except Exception as exc:  # noqa: BLE001 - the contract is a result, never an exception
        result.add(
            0, "error", N_("Internal error while reading the file: {detail}"), detail=repr(exc)
        )
    return result


def _parse(data: bytes, result: ParseResult) -> None:
    if isinstance(data, str):  # tolerate text callers
        data = data.encode("utf-8")
    try:
        root = _build_tree(_prepare(data))
    except DecodeError as exc:
        result.add(0, "error", exc.message, **exc.params)
        return
    except _Refused as exc:
        result.add(exc.line, "error", exc.message)
        return
    except expat.ExpatError as exc:
        line = exc.lineno or 0
        result.add(
            line,
            "error",
            N_("The XML is malformed at line {line}, column {column}: {detail}"),
            line=line,
            column=(exc.offset or 0) + 1,
            detail=expat.ErrorString(exc.code),
        )
        return
    if root.tag != "quiz":
        result.add(
            root.line,
            "error",
            N_("This is not a Moodle XML quiz: the root element is <{tag}>, not <quiz>."),
            tag=root.tag,
        )
        return

    category: tuple[str, ...] = ()
    for node in root.all("question"):
        qtype = node.attrib.get("type", "").strip()
        if qtype == "category":
            category = parse_category_path(node.text_of("category") or "")
        elif qtype in ("multichoice", "multichoiceset", "truefalse"):
            _read_question(node, qtype, category, result)
        elif not qtype:
            result.add(
                node.line,
                "error",
                N_("A <question> element has no type."),
                node.text_of("name") or "",
            )
        else:
            result.add(
                node.line,
                "unsupported",
                N_("“{type}” questions are not supported; the question was skipped."),
                node.text_of("questiontext") or node.text_of("name") or "",
                type=qtype,
            )


def _read_question(node: _Node, qtype: str, category: tuple[str, ...], result: ParseResult) -> None:
    stem = node.text_of("questiontext") or ""
    excerpt = excerpt_of(_TAGS.sub("", stem) or node.text_of("name") or "")
    problems: list[tuple[str, dict[str, object]]] = []
    text_node = node.child("questiontext")
    fmt = text_node.attrib.get("format", "html") if text_node is not None else "html"

    q = ParsedQuestion(
        qtype="single",
        stem=stem,
        choices=[],
        name=node.text_of("name") or "",
        text_format=_FORMATS_IN.get(fmt, "html"),
        explanation=node.text_of("generalfeedback") or "",
        category_path=category,
        id_number=node.text_of("idnumber") or "",
        line=node.line,
    )

    grade = node.text_of("defaultgrade")
    if grade:
        points = parse_decimal(grade)
        if points is None:
            problems.append((N_("Points must be a number, not “{points}”."), {"points": grade}))
        else:
            q.default_points = Decimal(format_decimal(points))

    tags: list[str] = []
    tags_node = node.child("tags")
    for tag_node in tags_node.all("tag") if tags_node is not None else []:
        tag = tag_node.text_of() or ""
        if m := _DIFFICULTY_TAG.match(tag):
            if m.group(1) in ("1", "2", "3"):
                q.difficulty = int(m.group(1))
            else:
                problems.append(
                    (
                        N_("Difficulty must be 1, 2 or 3, not {difficulty}."),
                        {"difficulty": m.group(1)},
                    )
                )
        elif m := _BLANK_TAG.match(tag):
            q.blank_number = int(m.group(1))
        else:
            tags.append(tag)
    q.tags = dedupe(tags)

    answers: list[tuple[Decimal, str, str]] = []
    for number, answer in enumerate(node.all("answer"), 1):
        raw = answer.attrib.get("fraction", "0")
        fraction = parse_decimal(raw)
        if fraction is None:
            problems.append(
                (
                    N_("Choice {number}: the weight “{weight}” is not a number."),
                    {"number": number, "weight": raw},
                )
            )
            fraction = Decimal(0)
        answers.append(
            (quantize_weight(fraction), answer.text_of() or "", answer.text_of("feedback") or "")
        )

    if qtype == "truefalse":
        q.qtype = "truefalse"
        truth: bool | None = None
        feedback = {True: "", False: ""}
        for weight, text, fb in answers:
            value = parse_truefalse_answer(text)
            if value is None:
                continue
            feedback[value] = fb
            if weight == 100:
                truth = value
        # Without an answer the uniform two choices are still built, so validation reports it once.
        q.choices = truefalse_choices(bool(truth), feedback[True], feedback[False])
        if truth is None:
            q.choices[1].weight = W0
    else:
        single = (node.text_of("single") or "true").lower() in ("true", "1")
        if qtype == "multichoiceset":
            single = False
            correct = {i for i, (w, _, _) in enumerate(answers) if w > 0}
            weights = weights_from_letters(len(answers), correct, True)
            answers = [(w, text, fb) for w, (_, text, fb) in zip(weights, answers, strict=True)]
        q.qtype = "single" if single else "multiple"
        q.choices = [
            ParsedChoice(text, w, fb, is_keep_in_place_text(text)) for w, text, fb in answers
        ]

    problems.extend(validate_question(q))
    if problems:
        for message, params in problems:
            result.issues.append(ParseIssue(q.line, "error", message, params, excerpt))
        return
    result.questions.append(q)


# -- writing --------------------------------------------------------------------------------------


def _clean(text: str) -> str:
    return _XML_ILLEGAL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


def _text(parent: ET.Element, tag: str, value: str, fmt: str | None = None) -> ET.Element:
    element = ET.SubElement(parent, tag, {"format": fmt} if fmt else {})
    ET.SubElement(element, "text").text = _clean(value)
    return element


def _plain(parent: ET.Element, tag: str, value: str) -> None:
    ET.SubElement(parent, tag).text = _clean(value)


def export_moodlexml(questions: Iterable[ParsedQuestion]) -> bytes:
    """Write *questions* as Moodle XML (UTF-8) that :func:`parse_moodlexml` reads back unchanged."""
    quiz = ET.Element("quiz")
    current: tuple[str, ...] | None = None
    for q in questions:
        if q.category_path != current:
            current = q.category_path
            cat = ET.SubElement(quiz, "question", {"type": "category"})
            path = format_category_path(q.category_path, protect_top=False)
            _text(cat, "category", "$course$/top" + ("/" + path if path else ""))
        fmt = _FORMATS_OUT.get(q.text_format, "html")
        element = ET.SubElement(
            quiz, "question", {"type": "truefalse" if q.qtype == "truefalse" else "multichoice"}
        )
        _text(element, "name", q.name)
        _text(element, "questiontext", q.stem, fmt)
        _text(element, "generalfeedback", q.explanation, fmt)
        _plain(element, "defaultgrade", format_decimal(q.default_points))
        _plain(element, "penalty", "0")
        _plain(element, "hidden", "0")
        _plain(element, "idnumber", q.id_number)
        if q.qtype == "truefalse":
            for choice, word in zip(q.choices, ("true", "false"), strict=False):
                answer = ET.SubElement(
                    element,
                    "answer",
                    {"fraction": format_decimal(choice.weight), "format": "moodle_auto_format"},
                )
                ET.SubElement(answer, "text").text = word
                _text(answer, "feedback", choice.feedback, fmt)
        else:
            _plain(element, "single", "true" if q.qtype == "single" else "false")
            _plain(element, "shuffleanswers", "true")
            _plain(element, "answernumbering", "ABCD")
            for choice in q.choices:
                answer = _text(element, "answer", choice.text, fmt)
                answer.set("fraction", format_decimal(choice.weight))
                _text(answer, "feedback", choice.feedback, fmt)
        tags = ET.SubElement(element, "tags")
        blank = [f"blank:{q.blank_number}"] if q.blank_number is not None else []
        for tag in [*q.tags, *blank, f"difficulty:{q.difficulty}"]:
            _text(tags, "tag", tag)
    ET.indent(quiz)
    return bytes(ET.tostring(quiz, encoding="utf-8", xml_declaration=True)) + b"\n"
