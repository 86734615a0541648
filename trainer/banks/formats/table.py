"""Spreadsheets (XLSX or CSV), one row per question (FORMATS.md "Spreadsheet").

Headers are matched loosely: Chinese or English, full-width or not, ignoring case, spaces, a
required-field ``*`` and hints in brackets (``题型(单选/多选/判断)``). The standard columns are
题型, 题干, 选项A…选项H, 答案, 解析, 难度, 分值, 知识点, 标签, 编号. Beyond the spec, so that a bank
exported here comes back field for field, the reader also accepts 选项I…选项T (up to 20 choices),
名称 (name), 格式 (markdown / plain / html; plain when absent), 权重 (the choice weights in percent,
comma separated, when they are not what the answer letters imply), 空位 (for a missing-word
question, which （　　） of the text stands where GIFT's answer block stood: 1 for the first) and
反馈A… (choice feedback).
Category paths use ``/`` with ``//`` for a literal slash, as in GIFT and Moodle; tags are
separated by commas (or ，、;；). Keep-in-place is implied by the choice text (see ``base``).

Every problem is reported with its row number and column, like ``第 5 行``; empty rows are ignored.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterable, Sequence
from datetime import date, datetime, time
from decimal import Decimal

from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from trainer.core.spreadsheets import SpreadsheetRefused, check_xlsx_archive

from .aiken import parse_letters, parse_truefalse_answer
from .base import (
    N_,
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
    weights_from_letters,
)

__all__ = ["parse_rows", "parse_xlsx", "parse_csv", "export_xlsx", "template_xlsx", "HEADERS"]

LETTERS = "ABCDEFGHIJKLMNOPQRST"
_Cell = str | int | float | None  # what the writer puts in a cell
# Beyond these the reader stops: a sheet this large is a mistake, not a question bank.
MAX_ROWS = 100_000
MAX_COLUMNS = 100
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # the old binary .xls

_ALIASES: dict[str, tuple[str, ...]] = {
    "type": ("题型", "类型", "题目类型", "试题类型", "type", "qtype", "questiontype"),
    "stem": (
        "题干",
        "题目",
        "试题",
        "题目内容",
        "试题内容",
        "问题",
        "stem",
        "question",
        "questiontext",
    ),
    "answer": ("答案", "正确答案", "参考答案", "标准答案", "answer", "correctanswer", "key"),
    "explanation": ("解析", "答案解析", "试题解析", "explanation", "analysis", "generalfeedback"),
    "difficulty": ("难度", "难易度", "难易程度", "difficulty", "level"),
    "points": ("分值", "分数", "points", "score", "mark", "marks", "defaultpoints"),
    "category": ("知识点", "分类", "类别", "category", "knowledgepoint"),
    "tags": ("标签", "tags", "tag"),
    "id": ("编号", "试题编号", "题目编号", "id", "idnumber"),
    "name": ("名称", "题目名称", "标题", "name", "title"),
    "format": ("格式", "文本格式", "format", "textformat"),
    "weights": ("权重", "选项权重", "weights", "weight"),
    "blank": ("空位", "blank", "blanknumber"),
}
_ALIAS_TO_FIELD = {alias: name for name, aliases in _ALIASES.items() for alias in aliases}
_OPTION = re.compile(r"^(?:选项|option|choice)?([a-t])$")
_FEEDBACK = re.compile(
    r"^(?:(?:选项)?反馈|feedback)([a-t])$|^(?:选项|option|choice)?([a-t])(?:反馈|feedback)$"
)
_HINT = re.compile(r"[(（\[【][^)）\]】]*[)）\]】]")
_HEADER_NOISE = re.compile(r"[\s*_\-.:：]+")

_TYPES: dict[str, str] = {}
for _value in (
    "单选",
    "单选题",
    "单项选择",
    "单项选择题",
    "单",
    "single",
    "singlechoice",
    "s",
    "radio",
):
    _TYPES[_value] = "single"
for _value in (
    "多选",
    "多选题",
    "多项选择",
    "多项选择题",
    "不定项",
    "不定项选择",
    "不定项选择题",
    "多",
    "multiple",
    "multiplechoice",
    "multi",
    "m",
    "checkbox",
):
    _TYPES[_value] = "multiple"
for _value in (
    "判断",
    "判断题",
    "是非",
    "是非题",
    "对错",
    "truefalse",
    "true/false",
    "tf",
    "judge",
):
    _TYPES[_value] = "truefalse"
_UNSUPPORTED_TYPES = frozenset(
    {
        "填空",
        "填空题",
        "问答",
        "问答题",
        "简答",
        "简答题",
        "论述",
        "论述题",
        "计算",
        "计算题",
        "匹配",
        "匹配题",
        "连线",
        "连线题",
        "案例",
        "案例分析",
        "案例分析题",
        "essay",
        "shortanswer",
        "matching",
        "numerical",
        "cloze",
        "fillin",
        "fillintheblank",
        "description",
    }
)
_TYPE_LABELS = {"single": "单选", "multiple": "多选", "truefalse": "判断"}

_DIFFICULTY = {
    "易": 1,
    "简单": 1,
    "容易": 1,
    "较易": 1,
    "低": 1,
    "easy": 1,
    "1": 1,
    "中": 2,
    "中等": 2,
    "一般": 2,
    "普通": 2,
    "适中": 2,
    "medium": 2,
    "normal": 2,
    "2": 2,
    "难": 3,
    "困难": 3,
    "较难": 3,
    "高": 3,
    "hard": 3,
    "difficult": 3,
    "3": 3,
}
_DIFFICULTY_LABELS = {1: "易", 2: "中", 3: "难"}
_FORMATS = {
    "markdown": "markdown",
    "md": "markdown",
    "plain": "plain",
    "text": "plain",
    "纯文本": "plain",
    "文本": "plain",
    "html": "html",
}
_LIST_SEPARATORS = re.compile(r"[,，;；、]")
_WEIGHT_SEPARATORS = re.compile(r"[\s,，;；]+")

HEADERS = [
    "题型",
    "题干",
    *[f"选项{x}" for x in "ABCDEFGH"],
    "答案",
    "解析",
    "难度",
    "分值",
    "知识点",
    "标签",
    "编号",
]


def _key(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold()
    return _HEADER_NOISE.sub("", _HINT.sub("", text))


def _column_of(header: str) -> str | None:
    """The field a header names: "type", "option:A", "feedback:B"…, or None."""
    candidates = [_key(header)]
    # "题型 type" or "题干/stem": try each part too.
    plain = _HINT.sub("", unicodedata.normalize("NFKC", header).casefold())
    candidates += [_key(part) for part in re.split(r"[\s/|]+", plain) if part]
    for key in candidates:
        if not key:
            continue
        if key in _ALIAS_TO_FIELD:
            return _ALIAS_TO_FIELD[key]
        if m := _OPTION.match(key):
            return "option:" + m.group(1).upper()
        if m := _FEEDBACK.match(key):
            return "feedback:" + (m.group(1) or m.group(2)).upper()
    return None


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    return str(value)


# -- reading --------------------------------------------------------------------------------------


def parse_rows(
    rows: Sequence[Sequence[object]], header_row: int = 1, fmt: str = "xlsx"
) -> ParseResult:
    """Read rows of cells (row 1 first). Never raises: problems become issues with row numbers."""
    result = ParseResult(format=fmt)
    try:
        _parse_rows(rows, header_row, result)
    except Exception as exc:  # noqa: BLE001 - the contract is a result, never an exception
        result.add(
            0, "error", N_("Internal error while reading the file: {detail}"), detail=repr(exc)
        )
    return result


def _parse_rows(rows: Sequence[Sequence[object]], header_row: int, result: ParseResult) -> None:
    if header_row < 1 or len(rows) < header_row:
        result.add(header_row, "error", N_("Row {row}: the header row is missing."), row=header_row)
        return
    header = [_cell_text(v).strip() for v in rows[header_row - 1][:MAX_COLUMNS]]
    columns: dict[str, int] = {}
    for index, title in enumerate(header):
        field = _column_of(title) if title else None
        if field and field not in columns:
            columns[field] = index
    missing = [
        label
        for field, label in (("type", "题型 type"), ("stem", "题干 stem"))
        if field not in columns
    ]
    if "answer" not in columns and "weights" not in columns:
        missing.append("答案 answer")
    for label in missing:
        result.add(
            header_row,
            "error",
            N_("Row {row}: the header has no column “{column}”."),
            row=header_row,
            column=label,
        )
    if missing:
        return
    for offset, row in enumerate(rows[header_row:], header_row + 1):
        cells = [_cell_text(v) for v in row[:MAX_COLUMNS]]
        if not any(c.strip() for c in cells):
            continue
        _Row(offset, cells, header, columns, result).read()


class _Row:
    def __init__(
        self,
        number: int,
        cells: list[str],
        header: list[str],
        columns: dict[str, int],
        result: ParseResult,
    ) -> None:
        self.number = number
        self.cells = cells
        self.header = header
        self.columns = columns
        self.result = result
        self.failed = False
        self.stem = self.get("stem").strip()

    def get(self, field: str) -> str:
        index = self.columns.get(field)
        return self.cells[index] if index is not None and index < len(self.cells) else ""

    def error(self, field: str, message: str, **params: object) -> None:
        index = self.columns.get(field)
        if index is not None:
            column = self.header[index]
        else:
            column = "选项" + field[-1] if field.startswith("option:") else field
        self.result.issues.append(
            ParseIssue(
                self.number,
                "error",
                message,
                {"row": self.number, "column": column, **params},
                excerpt_of(self.stem),
            )
        )
        self.failed = True

    def read(self) -> None:
        raw_type = self.get("type").strip()
        type_key = _key(raw_type)
        if type_key in _UNSUPPORTED_TYPES:
            self.result.add(
                self.number,
                "unsupported",
                N_("Row {row}: “{type}” questions are not supported; the row was skipped."),
                self.stem,
                row=self.number,
                type=raw_type,
            )
            return
        qtype = _TYPES.get(type_key) or _TYPES.get(raw_type.casefold().replace(" ", ""))
        if qtype is None:
            if raw_type:
                self.error(
                    "type",
                    N_(
                        "Row {row}, column {column}: unknown question type “{value}” (use 单选, 多选 or 判断)."
                    ),
                    value=raw_type,
                )
            else:
                self.error(
                    "type",
                    N_(
                        "Row {row}, column {column}: the question type is empty (use 单选, 多选 or 判断)."
                    ),
                )
        if not self.stem:
            self.error("stem", N_("Row {row}, column {column}: the question text is empty."))

        q = ParsedQuestion(
            qtype=qtype or "single",
            stem=self.stem,
            choices=[],
            name=self.get("name").strip(),
            explanation=self.get("explanation").strip(),
            category_path=parse_category_path(self.get("category")),
            tags=dedupe(_LIST_SEPARATORS.split(self.get("tags"))),
            id_number=self.get("id").strip(),
            text_format="plain",
            line=self.number,
        )
        self.read_format(q)
        self.read_difficulty(q)
        self.read_points(q)
        self.read_blank(q)
        if qtype == "truefalse":
            self.read_truefalse(q)
        elif qtype is not None:
            self.read_choices(q)
        if not self.failed:
            self.result.accept(q)

    def read_format(self, q: ParsedQuestion) -> None:
        raw = self.get("format").strip()
        if raw:
            fmt = _FORMATS.get(raw.casefold())
            if fmt is None:
                self.error(
                    "format",
                    N_(
                        "Row {row}, column {column}: unknown text format “{value}” (use markdown, plain or html)."
                    ),
                    value=raw,
                )
            else:
                q.text_format = fmt

    def read_difficulty(self, q: ParsedQuestion) -> None:
        raw = self.get("difficulty").strip()
        if raw:
            level = _DIFFICULTY.get(unicodedata.normalize("NFKC", raw).casefold())
            if level is None:
                self.error(
                    "difficulty",
                    N_("Row {row}, column {column}: difficulty “{value}” is not 易/中/难 or 1–3."),
                    value=raw,
                )
            else:
                q.difficulty = level

    def read_points(self, q: ParsedQuestion) -> None:
        raw = self.get("points").strip()
        if raw:
            points = parse_decimal(raw)
            if points is None or points <= 0:
                self.error(
                    "points",
                    N_(
                        "Row {row}, column {column}: points “{value}” must be a number greater than 0."
                    ),
                    value=raw,
                )
            else:
                q.default_points = points

    def read_blank(self, q: ParsedQuestion) -> None:
        raw = self.get("blank").strip()
        if raw:
            number = unicodedata.normalize("NFKC", raw)
            if not (number.isascii() and number.isdigit() and len(number) <= 9):
                self.error(
                    "blank",
                    N_(
                        "Row {row}, column {column}: the blank “{value}” is not a number (1 for the first （　　） of the question text)."
                    ),
                    value=raw,
                )
            else:
                q.blank_number = int(number)

    def option_cells(self) -> list[tuple[str, str]]:
        """(letter, text) of the filled choice columns, in letter order, up to the last filled one."""
        present = [
            (letter, self.get("option:" + letter).strip())
            for letter in LETTERS
            if "option:" + letter in self.columns
        ]
        while present and not present[-1][1]:
            present.pop()
        return present

    def feedback(self, letter: str) -> str:
        return self.get("feedback:" + letter).strip()

    def read_truefalse(self, q: ParsedQuestion) -> None:
        raw = self.get("answer").strip()
        truth = parse_truefalse_answer(raw)
        options = dict(self.option_cells())
        if truth is None and raw.upper() in ("A", "B") and raw.upper() in options:
            truth = parse_truefalse_answer(options[raw.upper()])
        if truth is None:
            self.error(
                "answer",
                N_(
                    "Row {row}, column {column}: a true/false answer must be 对 or 错, not “{value}”."
                ),
                value=raw,
            )
            return
        q.qtype = "truefalse"
        q.choices = truefalse_choices(truth, self.feedback("A"), self.feedback("B"))

    def read_choices(self, q: ParsedQuestion) -> None:
        options = self.option_cells()
        for letter, text in options:
            if not text:
                self.error(
                    "option:" + letter,
                    N_("Row {row}, column {column}: empty choice between filled ones."),
                )
        if len(options) < 2:
            self.error(
                "option:A",
                N_("Row {row}, column {column}: a choice question needs at least two choices."),
            )
            return
        texts = [text for _, text in options]
        multiple = q.qtype == "multiple"

        raw_answer = self.get("answer").strip()
        letters: list[str] | None = None
        if raw_answer:
            letters = parse_letters(raw_answer)
            if letters is None:
                self.error(
                    "answer",
                    N_("Row {row}, column {column}: the answer “{value}” is not a choice letter."),
                    value=raw_answer,
                )
                return
            beyond = [x for x in letters if LETTERS.find(x) < 0 or LETTERS.index(x) >= len(texts)]
            if beyond:
                self.error(
                    "answer",
                    N_(
                        "Row {row}, column {column}: the answer names choice {letter}, which the row does not have."
                    ),
                    letter="".join(beyond),
                )
                return
            if not multiple and len(letters) > 1 and not self.get("weights").strip():
                self.error(
                    "answer",
                    N_(
                        "Row {row}, column {column}: a single-choice question has one answer, not “{value}”."
                    ),
                    value=raw_answer,
                )
                return

        raw_weights = self.get("weights").strip()
        if raw_weights:
            weights = self.read_weights(raw_weights, len(texts))
            if weights is None:
                return
            if letters is not None:
                implied = {i for i, w in enumerate(weights) if (w > 0 if multiple else w == 100)}
                if implied != {LETTERS.index(x) for x in letters}:
                    self.error(
                        "answer",
                        N_(
                            "Row {row}, column {column}: the answer “{value}” does not match the weights."
                        ),
                        value=raw_answer,
                    )
                    return
        elif letters is None:
            self.error("answer", N_("Row {row}, column {column}: the answer is empty."))
            return
        else:
            weights = weights_from_letters(
                len(texts), {LETTERS.index(x) for x in letters}, multiple
            )

        q.choices = [
            ParsedChoice(text, weight, self.feedback(letter), is_keep_in_place_text(text))
            for (letter, text), weight in zip(options, weights, strict=True)
        ]

    def read_weights(self, raw: str, count: int) -> list[Decimal] | None:
        parts = [p for p in _WEIGHT_SEPARATORS.split(raw) if p]
        weights = [parse_decimal(p) for p in parts]
        if any(w is None for w in weights):
            self.error(
                "weights",
                N_("Row {row}, column {column}: the weights “{value}” are not numbers."),
                value=raw,
            )
            return None
        if len(weights) != count:
            self.error(
                "weights",
                N_("Row {row}, column {column}: {count} weights for {choices} choices."),
                count=len(weights),
                choices=count,
            )
            return None
        return [quantize_weight(w) for w in weights if w is not None]


def parse_csv(text: str) -> ParseResult:
    """Read CSV text (comma, tab or semicolon separated). Never raises."""
    result = ParseResult(format="csv")
    try:
        text = text.lstrip("\ufeff")
        first = text.split("\n", 1)[0]
        counts = {d: first.count(d) for d in (",", "\t", ";")}
        delimiter = max(counts, key=lambda d: (counts[d], d == ","))
        rows: list[list[str]] = []
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        try:
            for row in reader:
                rows.append(row[:MAX_COLUMNS])
                if len(rows) > MAX_ROWS:
                    result.add(
                        len(rows), "error", N_("The file has more than {max} rows."), max=MAX_ROWS
                    )
                    return result
        except csv.Error as exc:
            result.add(
                len(rows) + 1,
                "error",
                N_("Row {row}: the CSV is malformed ({detail})."),
                row=len(rows) + 1,
                detail=str(exc),
            )
            return result
        parsed = parse_rows(rows, fmt="csv")
        result.questions, result.issues = parsed.questions, result.issues + parsed.issues
    except Exception as exc:  # noqa: BLE001 - the contract is a result, never an exception
        result.add(
            0, "error", N_("Internal error while reading the file: {detail}"), detail=repr(exc)
        )
    return result


def parse_xlsx(data: bytes) -> ParseResult:
    """Read the first worksheet of an XLSX workbook. Never raises."""
    result = ParseResult(format="xlsx")
    try:
        try:
            check_xlsx_archive(data)  # before openpyxl unpacks anything
            workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except SpreadsheetRefused as exc:
            result.add(0, "error", exc.message, **exc.params)
            return result
        except Exception as exc:  # noqa: BLE001 - zip, XML and openpyxl errors alike mean "unreadable"
            if data[:8] == _OLE_MAGIC:
                result.add(
                    0,
                    "error",
                    N_(
                        "This is an old .xls workbook: open it in Excel or WPS and save it as .xlsx."
                    ),
                )
            else:
                result.add(
                    0,
                    "error",
                    N_("This is not a readable XLSX workbook: {detail}"),
                    detail=_short(exc),
                )
            return result
        try:
            sheet = workbook.worksheets[0]
            rows: list[list[str]] = []
            for row in sheet.iter_rows(values_only=True, max_col=MAX_COLUMNS):
                rows.append([_cell_text(v) for v in row])
                if len(rows) > MAX_ROWS:
                    result.add(
                        len(rows), "error", N_("The file has more than {max} rows."), max=MAX_ROWS
                    )
                    return result
        except Exception as exc:  # noqa: BLE001 - a workbook that opens can still be corrupt inside
            result.add(
                0,
                "error",
                N_("This is not a readable XLSX workbook: {detail}"),
                detail=_short(exc),
            )
            return result
        finally:
            workbook.close()
        parsed = parse_rows(rows)
        result.questions, result.issues = parsed.questions, result.issues + parsed.issues
    except Exception as exc:  # noqa: BLE001 - the contract is a result, never an exception
        result.add(
            0, "error", N_("Internal error while reading the file: {detail}"), detail=repr(exc)
        )
    return result


def _short(exc: Exception) -> str:
    text = f"{type(exc).__name__}: {exc}"
    return text if len(text) <= 200 else text[:200] + "…"


# -- writing --------------------------------------------------------------------------------------


def _answer_and_weights(q: ParsedQuestion) -> tuple[str, str]:
    if q.qtype == "truefalse":
        truth = bool(q.choices) and q.choices[0].weight > 0
        return ("对" if truth else "错"), ""
    multiple = q.qtype == "multiple"
    weights = [c.weight for c in q.choices]
    correct = {i for i, w in enumerate(weights) if (w > 0 if multiple else w == 100)}
    answer = "".join(LETTERS[i] for i in sorted(correct) if i < len(LETTERS))
    implied = weights_from_letters(len(weights), correct, multiple)
    # A single-choice answer names one letter; several full-mark choices need the weights.
    if implied == weights and (multiple or len(correct) == 1):
        return answer, ""
    return answer, ",".join(format_decimal(w) for w in weights)


def _points_cell(points: Decimal) -> _Cell:
    if points == points.to_integral_value() and abs(points) < 10**15:
        return int(points)
    as_float = float(points)
    return as_float if Decimal(repr(as_float)) == points else format_decimal(points)


def _write_sheet(
    sheet: Worksheet, header: list[str], rows: Iterable[list[_Cell]], widths: dict[int, int]
) -> None:
    sheet.append(header)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDEBF7")
    for row_index, values in enumerate(rows, 2):
        for col_index, value in enumerate(values, 1):
            if value is None or value == "":
                continue
            cell = sheet.cell(row=row_index, column=col_index)
            if isinstance(value, str):
                cell.value = ILLEGAL_CHARACTERS_RE.sub("", value)
                # Text such as "=A1" or "+86…" must stay text, never become a formula.
                cell.data_type = "s"
                if "\n" in value:
                    cell.alignment = Alignment(wrap_text=True, vertical="top")
            else:
                cell.value = value
    sheet.freeze_panes = "A2"
    for col_index in range(1, len(header) + 1):
        sheet.column_dimensions[get_column_letter(col_index)].width = widths.get(col_index, 14)


def _new_workbook() -> tuple[Workbook, Worksheet]:
    workbook = Workbook()
    sheet = workbook.active
    assert isinstance(sheet, Worksheet)  # a new workbook always has one worksheet
    sheet.title = "题目"
    return workbook, sheet


def _workbook_bytes(workbook: Workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def export_xlsx(questions: Iterable[ParsedQuestion]) -> bytes:
    """Write *questions* as an XLSX workbook that :func:`parse_xlsx` reads back field for field."""
    questions = list(questions)
    option_count = max([8, *(len(q.choices) for q in questions if q.qtype != "truefalse")])
    option_count = min(option_count, len(LETTERS))
    feedback_count = max(
        [0, *(i + 1 for q in questions for i, c in enumerate(q.choices) if c.feedback)]
    )
    feedback_count = min(feedback_count, len(LETTERS))
    header = [
        "题型",
        "题干",
        *[f"选项{LETTERS[i]}" for i in range(option_count)],
        "答案",
        "解析",
        "难度",
        "分值",
        "知识点",
        "标签",
        "编号",
        "名称",
        "格式",
        "权重",
        "空位",
        *[f"反馈{LETTERS[i]}" for i in range(feedback_count)],
    ]
    rows: list[list[_Cell]] = []
    for q in questions:
        answer, weights = _answer_and_weights(q)
        options: list[_Cell] = [""] * option_count
        if q.qtype != "truefalse":
            for i, c in enumerate(q.choices[:option_count]):
                options[i] = c.text
        feedbacks: list[_Cell] = [""] * feedback_count
        for i, c in enumerate(q.choices[:feedback_count]):
            feedbacks[i] = c.feedback
        rows.append(
            [
                _TYPE_LABELS.get(q.qtype, q.qtype),
                q.stem,
                *options,
                answer,
                q.explanation,
                _DIFFICULTY_LABELS.get(q.difficulty, str(q.difficulty)),
                _points_cell(q.default_points),
                format_category_path(q.category_path),
                ", ".join(q.tags),
                q.id_number,
                q.name,
                q.text_format,
                weights,
                q.blank_number,
                *feedbacks,
            ]
        )
    workbook, sheet = _new_workbook()
    _write_sheet(sheet, header, rows, {2: 50})
    return _workbook_bytes(workbook)


_TEMPLATE_ROWS: list[list[_Cell]] = [
    [
        "单选",
        "结束服务、送别客户时，服务人员应当使用“服务七声”中的哪一声？",
        "问候声",
        "致谢声",
        "道别声",
        "提醒声",
        "",
        "",
        "",
        "",
        "C",
        "服务七声依次为问候声、回应声、道歉声、致谢声、提醒声、告知声、道别声；送别客户时用道别声。",
        "易",
        1,
        "服务规范/服务七声",
        "入职, 服务七声",
        "SV-001",
    ],
    [
        "多选",
        "下列哪些做法符合客户信息保密的要求？",
        "未经客户同意，不向任何第三方提供客户资料",
        "离开座位时锁定电脑屏幕",
        "在公共区域大声复述客户的证件号码",
        "只在工作需要的范围内查阅客户资料",
        "",
        "",
        "",
        "",
        "ABD",
        "客户信息只在工作需要时使用，不外传、不当众复述；离座锁屏防止他人查看。",
        "中",
        2,
        "服务规范/信息保密",
        "入职, 保密",
        "SV-002",
    ],
]

_TEMPLATE_NOTES = [
    ["填写说明"],
    ["每行一道题，第一行是表头，请勿修改表头文字。"],
    ["题型：单选、多选或判断。"],
    ["选项A…选项H：不用的选项留空，中间不要空列。判断题不填选项。"],
    ["答案：单选填一个字母（如 B），多选填多个字母（如 ABD），判断填 对 或 错。"],
    ["多选题答对的选项平分 100%，答错的选项平分 −100%，全选不得分。"],
    ["难度：易、中、难（或 1、2、3），不填为中。分值：每题默认分值，不填为 1。"],
    [
        "知识点：用 / 分隔层级，如 服务规范/服务七声。标签：用逗号分隔。编号：可选，用于更新同一道题。"
    ],
    ["“以上都不对”“以上都是”等选项在打乱选项顺序时保持在原位。"],
]


def template_xlsx() -> bytes:
    """The downloadable template: the header row and two example rows (single, multiple)."""
    workbook, sheet = _new_workbook()
    _write_sheet(sheet, HEADERS, _TEMPLATE_ROWS, {2: 50, 12: 40})
    notes = workbook.create_sheet("填写说明")
    for line in _TEMPLATE_NOTES:
        notes.append(line)
    notes.column_dimensions["A"].width = 90
    return _workbook_bytes(workbook)
