"""Question-bank import and export formats: pure functions, no Flask, no database.

``parse_file(data, filename, fmt)`` turns any uploaded bytes into a :class:`ParseResult` (the
valid questions plus every problem with its line or row) and never raises. ``EXPORTERS`` maps
the export formats to functions returning file bytes; ``EXPORT_FILE_TYPES`` gives each one's
file extension and MIME type.

Keep-in-place: no format has syntax for it, so every importer marks a choice keep-in-place when
its text is one of ``KEEP_IN_PLACE_TEXTS`` (以上都不对, 以上都是, 以上都对, 以上皆非, 都不对,
none of the above, all of the above, …), and exporters carry it implicitly through that text.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable, Iterable
from pathlib import PurePath

from .aiken import parse_aiken
from .base import (
    KEEP_IN_PLACE_TEXTS,
    N_,
    QTYPES,
    TEXT_FORMATS,
    ParsedChoice,
    ParsedQuestion,
    ParseIssue,
    ParseResult,
    question_key,
    validate_question,
)
from .encoding import DecodeError, decode_bytes
from .gift import export_gift, parse_gift
from .moodlexml import export_moodlexml, parse_moodlexml
from .paper import parse_paper
from .table import export_xlsx, parse_csv, parse_rows, parse_xlsx, template_xlsx

__all__ = [
    "FORMATS",
    "EXPORT_FORMATS",
    "EXPORTERS",
    "EXPORT_FILE_TYPES",
    "KEEP_IN_PLACE_TEXTS",
    "QTYPES",
    "TEXT_FORMATS",
    "N_",
    "DecodeError",
    "ParsedChoice",
    "ParsedQuestion",
    "ParseIssue",
    "ParseResult",
    "decode_bytes",
    "detect_format",
    "parse_file",
    "parse_gift",
    "parse_aiken",
    "parse_paper",
    "parse_rows",
    "parse_xlsx",
    "parse_csv",
    "parse_moodlexml",
    "export_gift",
    "export_moodlexml",
    "export_xlsx",
    "template_xlsx",
    "question_key",
    "validate_question",
]

FORMATS = ("gift", "aiken", "paper", "xlsx", "csv", "moodlexml")
EXPORT_FORMATS = ("gift", "moodlexml", "xlsx")

_TEXT_PARSERS: dict[str, Callable[[str], ParseResult]] = {
    "gift": parse_gift,
    "aiken": parse_aiken,
    "paper": parse_paper,
    "csv": parse_csv,
}

_EXTENSIONS = {
    ".gift": "gift",
    ".xml": "moodlexml",
    ".csv": "csv",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".xls": "xlsx",  # read as XLSX so the trainer gets "save it as .xlsx", not a misparse
}
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_PAPER_HEADING = re.compile(
    r"(?:^|[一二三四五六七八九十]+\s*[、.．])\s*(?:单项选择题|单选题|多项选择题|不定项选择题|多选题|判断题|是非题)",
    re.M,
)
_PAPER_ANSWER = re.compile(r"(?:正确答案|参考答案|答案)\s*[:：]")
_GIFT_SIGNS = re.compile(
    r"^\s*(?:\$CATEGORY:|::)|\{\s*(?:[~=]|T(?:RUE)?\s*[#}]|F(?:ALSE)?\s*[#}])", re.M
)
_CJK = re.compile(r"[\u4e00-\u9fff]")
_AIKEN_ANSWER = re.compile(r"^\s*(?:ANSWER|正确答案|参考答案|答案)\s*[:：]\s*[A-Z]", re.M | re.I)


def _sniff_text(data: bytes) -> str:
    """The start of the file as text, good enough to look for signs (errors are ignored here;
    the parser decodes the whole file strictly and reports problems)."""
    head = data[:65536]
    for bom, codec in (
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if head.startswith(bom):
            return head.decode(codec, errors="ignore")
    try:
        return head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start >= len(head) - 3:  # a character cut by the slice
            return head[: exc.start].decode("utf-8", errors="ignore")
        return head.decode("gb18030", errors="ignore")


def detect_format(filename: str, data: bytes) -> str:
    """The most likely format of an upload: the extension when it is decisive, else the content."""
    by_extension = _EXTENSIONS.get(PurePath(filename or "").suffix.lower())
    if by_extension:
        return by_extension
    if data.startswith((_ZIP_MAGIC, _OLE_MAGIC)):
        return "xlsx"
    text = _sniff_text(data)
    head = text.lstrip()[:2048]
    if head.startswith("<?xml") or "<quiz" in head:
        return "moodlexml"
    if _PAPER_HEADING.search(text) and _PAPER_ANSWER.search(text):
        return "paper"
    if _GIFT_SIGNS.search(text):
        return "gift"
    if _AIKEN_ANSWER.search(text):
        return "aiken"
    # No sign of any format: a Chinese document is most likely a paper pasted without its
    # headings (the reader then lists every line it skipped); anything else reads as GIFT.
    return "paper" if _CJK.search(head) else "gift"


def parse_file(data: bytes, filename: str = "", fmt: str = "auto") -> ParseResult:
    """Read an uploaded file in *fmt* (or the detected format). Never raises for any bytes."""
    chosen = fmt if fmt in FORMATS else "gift"
    try:
        if isinstance(data, str):
            data = data.encode("utf-8")
        if fmt == "auto":
            chosen = detect_format(filename, data)
        elif fmt not in FORMATS:
            result = ParseResult(format=fmt)
            result.add(0, "error", N_("Unknown import format “{format}”."), format=fmt)
            return result
        if chosen == "xlsx":
            result = parse_xlsx(data)
        elif chosen == "moodlexml":
            result = parse_moodlexml(data)
        else:
            try:
                text, encoding = decode_bytes(data)
            except DecodeError as exc:
                result = ParseResult(format=chosen)
                result.add(0, "error", exc.message, **exc.params)
                return result
            result = _TEXT_PARSERS[chosen](text)
            result.encoding = encoding
        if not result.questions and not result.errors:
            result.add(0, "error", N_("No questions were found in the file."))
        return result
    except Exception as exc:  # noqa: BLE001 - the contract is a result, never an exception
        result = ParseResult(format=chosen)
        result.add(
            0, "error", N_("Internal error while reading the file: {detail}"), detail=repr(exc)
        )
        return result


def _gift_bytes(
    questions: Iterable[ParsedQuestion],
    bank_name: str | None = None,
    description: str | None = None,
) -> bytes:
    return export_gift(questions, bank_name, description).encode("utf-8")


def _moodlexml_bytes(
    questions: Iterable[ParsedQuestion],
    bank_name: str | None = None,
    description: str | None = None,
) -> bytes:
    return export_moodlexml(questions)


def _xlsx_bytes(
    questions: Iterable[ParsedQuestion],
    bank_name: str | None = None,
    description: str | None = None,
) -> bytes:
    return export_xlsx(questions)


# Each exporter: (questions, bank_name=None, description=None) -> file bytes.
EXPORTERS: dict[str, Callable[..., bytes]] = {
    "gift": _gift_bytes,
    "moodlexml": _moodlexml_bytes,
    "xlsx": _xlsx_bytes,
}

EXPORT_FILE_TYPES: dict[str, tuple[str, str]] = {
    "gift": (".gift", "text/plain; charset=utf-8"),
    "moodlexml": (".xml", "application/xml"),
    "xlsx": (".xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
}
