"""Spreadsheets: rows with Chinese or English headers, XLSX and CSV files, template, export."""

from __future__ import annotations

import dataclasses
import io
import zipfile
from decimal import Decimal

import openpyxl
import pytest

from trainer.banks.formats import (
    ParsedChoice,
    ParsedQuestion,
    export_xlsx,
    parse_csv,
    parse_file,
    parse_rows,
    parse_xlsx,
    template_xlsx,
)
from trainer.banks.formats.base import truefalse_choices

from tests.spreadsheet_bombs import xlsx_bomb

D = Decimal
HEADER = [
    "题型",
    "题干",
    "选项A",
    "选项B",
    "选项C",
    "选项D",
    "答案",
    "解析",
    "难度",
    "分值",
    "知识点",
    "标签",
    "编号",
]


def row(**cells: str) -> list[str]:
    values = dict.fromkeys(HEADER, "")
    values.update({"题型": "单选", "题干": "q", "选项A": "a", "选项B": "b", "答案": "A"})
    names = {
        "type": "题型",
        "stem": "题干",
        "a": "选项A",
        "b": "选项B",
        "c": "选项C",
        "d": "选项D",
        "answer": "答案",
        "explanation": "解析",
        "difficulty": "难度",
        "points": "分值",
        "category": "知识点",
        "tags": "标签",
        "id": "编号",
    }
    for key, value in cells.items():
        values[names[key]] = value
    return [values[h] for h in HEADER]


def parse(*rows: list[str]) -> object:
    return parse_rows([HEADER, *rows])


def test_a_full_row() -> None:
    result = parse(
        row(
            type="多选",
            stem="哪些属于服务七声？",
            a="问候声",
            b="抱怨声",
            c="道歉声",
            d="以上都不对",
            answer="A,C",
            explanation="因为",
            difficulty="难",
            points="2",
            category="服务规范/服务七声",
            tags="入职，服务七声、礼仪",
            id="SV-9",
        )
    )
    assert result.ok, [i.render() for i in result.issues]
    (q,) = result.questions
    assert q.qtype == "multiple" and q.line == 2 and q.text_format == "plain"
    assert [c.weight for c in q.choices] == [50, -50, 50, -50]
    assert q.choices[3].keep_in_place
    assert (q.explanation, q.difficulty, q.default_points) == ("因为", 3, 2)
    assert q.category_path == ("服务规范", "服务七声")
    assert q.tags == ["入职", "服务七声", "礼仪"] and q.id_number == "SV-9"


@pytest.mark.parametrize(
    ("header", "field_value"),
    [
        (
            ["type", "stem", "option A", "option B", "answer", "difficulty"],
            ["single", "q", "a", "b", "B", "easy"],
        ),
        (
            ["Type", "Question", "A", "B", "Correct Answer", "Level"],
            ["SINGLE", "q", "a", "b", "b", "1"],
        ),
        (
            ["题型(单选/多选/判断)*", "题干*", "选项 A", "选项Ｂ", "正确答案", "难易度"],
            ["单选题", "q", "a", "b", "Ｂ", "易"],
        ),
        (
            ["题型 type", "题干 stem", "选项A", "选项B", "答案 answer", "难度 difficulty"],
            ["单项选择题", "q", "a", "b", "B", "1"],
        ),
    ],
)
def test_header_spellings(header: list[str], field_value: list[str]) -> None:
    result = parse_rows([header, field_value])
    assert result.ok, [i.render() for i in result.issues]
    (q,) = result.questions
    assert [c.weight for c in q.choices] == [0, 100] and q.difficulty == 1


def test_true_false_rows() -> None:
    result = parse(
        row(type="判断", a="", b="", answer="错"),
        row(type="是非题", answer="√"),
        row(type="判断", a="正确", b="错误", answer="A"),
    )
    assert result.ok, [i.render() for i in result.issues]
    assert [q.choices for q in result.questions] == [
        truefalse_choices(False),
        truefalse_choices(True),
        truefalse_choices(True),
    ]


def test_unsupported_types_are_skipped_and_empty_rows_ignored() -> None:
    result = parse(row(type="填空题"), [""] * len(HEADER), row())
    assert len(result.questions) == 1 and result.questions[0].line == 4
    (issue,) = result.issues
    assert (issue.line, issue.kind) == (2, "unsupported") and "填空题" in issue.render()


@pytest.mark.parametrize(
    ("cells", "column", "fragment"),
    [
        ({"type": "问卷"}, "题型", "unknown question type"),
        ({"type": ""}, "题型", "empty"),
        ({"stem": ""}, "题干", "empty"),
        ({"answer": "E"}, "答案", "choice E"),
        ({"answer": "AB"}, "答案", "one answer"),
        ({"answer": "？"}, "答案", "not a choice letter"),
        ({"answer": ""}, "答案", "empty"),
        ({"b": "", "c": "c"}, "选项B", "empty choice"),
        ({"b": ""}, "选项A", "two choices"),
        ({"difficulty": "超难"}, "难度", "difficulty"),
        ({"points": "0"}, "分值", "points"),
        ({"points": "abc"}, "分值", "points"),
        ({"type": "判断", "answer": "也许"}, "答案", "true/false"),
    ],
)
def test_row_errors_name_the_row_and_the_column(
    cells: dict[str, str], column: str, fragment: str
) -> None:
    result = parse(row(), row(**cells))
    assert len(result.questions) == 1
    issue = result.errors[0]
    assert issue.line == 3 and issue.params["row"] == 3 and issue.params["column"] == column
    text = issue.render()
    assert text.startswith(f"Row 3, column {column}:") and fragment in text
    assert issue.render(
        lambda m: m.replace("Row {row}, column {column}:", "第 {row} 行，“{column}”列：")
    ).startswith("第 3 行，“" + column)


def test_validation_errors_carry_the_row() -> None:
    result = parse(row(type="多选", answer="AB"))  # every choice correct: fine
    assert result.ok
    result = parse_rows([HEADER + ["权重"], row(type="多选", answer="A") + ["60,0"]])
    assert result.errors[0].line == 2 and "100" in result.errors[0].render()


def test_missing_required_columns() -> None:
    result = parse_rows([["题干", "选项A"], ["q", "a"]])
    assert [i.params["column"] for i in result.errors] == ["题型 type", "答案 answer"]
    assert all(i.line == 1 for i in result.errors)
    assert parse_rows([]).errors[0].line == 1
    assert parse_rows([HEADER, row()], header_row=0).errors


def test_header_row_argument() -> None:
    result = parse_rows([["题库导出"], HEADER, row()], header_row=2)
    assert result.ok and result.questions[0].line == 3


def test_weights_column() -> None:
    header = HEADER + ["权重"]
    result = parse_rows(
        [
            header,
            row(type="多选", answer="AB") + ["70, 30"],
            row(type="单选", answer="") + ["50,100"],
        ]
    )
    assert result.ok, [i.render() for i in result.issues]
    assert [c.weight for c in result.questions[0].choices] == [70, 30]
    assert [c.weight for c in result.questions[1].choices] == [50, 100]
    bad = parse_rows([header, row(type="多选", answer="A") + ["70,30"], row() + ["1,2,3"]])
    assert [i.params["column"] for i in bad.errors] == ["答案", "权重"]


# -- files ----------------------------------------------------------------------------------------


def test_blank_column() -> None:
    """空位 names which （　　） of a missing-word question's text stands for its answer block."""
    blank = "（\u3000\u3000）"
    result = parse_rows(
        [
            [*HEADER, "空位"],
            [*row(stem=f"宗旨是{blank}。"), "1"],
            [*row(stem=f"宗旨是{blank}。"), ""],
            [*row(stem=f"宗旨是{blank}。"), "第一个"],
            [*row(stem="没有空位。"), "1"],
        ]
    )
    assert [q.blank_number for q in result.questions] == [1, None]
    (not_a_number, nowhere) = result.errors
    assert (not_a_number.line, not_a_number.params["column"]) == (4, "空位")
    assert "第一个" in not_a_number.render()
    assert nowhere.line == 5 and "blank 1" in nowhere.render()


def test_csv_in_gbk_with_quoted_newlines_through_parse_file() -> None:
    text = (
        '题型,题干,选项A,选项B,答案\r\n单选,"两行\r\n题干",甲,乙,B\r\n判断,"说法,含逗号",,,对\r\n'
    )
    result = parse_file(text.encode("gbk"), "bank.csv")
    assert result.format == "csv" and result.encoding == "gb18030"
    assert result.ok, [i.render() for i in result.issues]
    assert [q.stem for q in result.questions] == ["两行\n题干", "说法,含逗号"]
    assert [q.line for q in result.questions] == [2, 3]


def test_tab_separated_csv() -> None:
    result = parse_csv("题型\t题干\t选项A\t选项B\t答案\n单选\tq\ta\tb\tA\n")
    assert result.ok and len(result.questions) == 1


def test_malformed_csv_is_an_issue() -> None:
    result = parse_csv('题型,题干,答案\n单选,"' + "x" * 200_000 + '",A\n')
    assert result.errors and not result.questions


def test_template_has_a_header_and_two_valid_examples() -> None:
    data = template_xlsx()
    sheet = openpyxl.load_workbook(io.BytesIO(data)).worksheets[0]
    assert [c.value for c in sheet[1]] == HEADER[:2] + [f"选项{x}" for x in "ABCDEFGH"] + HEADER[6:]
    result = parse_xlsx(data)
    assert result.ok, [i.render() for i in result.issues]
    assert [q.qtype for q in result.questions] == ["single", "multiple"]


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"not a workbook",
        b"PK\x03\x04" + b"\x00" * 100,
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 500,
    ],
)
def test_unreadable_workbooks_are_issues(data: bytes) -> None:
    result = parse_xlsx(data)
    assert not result.questions and result.errors and result.errors[0].line == 0


def test_a_zip_that_is_not_a_workbook_is_an_issue() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("word/document.xml", "<w:document/>")
        archive.writestr("[Content_Types].xml", "<Types/>")
    result = parse_xlsx(buffer.getvalue())
    assert result.errors and "XLSX" in result.errors[0].render()


def test_old_xls_gets_a_hint() -> None:
    result = parse_file(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 500, "bank.xls")
    assert ".xlsx" in result.errors[0].render()


def test_export_round_trip_and_formula_like_text_stays_text() -> None:
    questions = [
        ParsedQuestion(
            "single",
            "=SUM(A1:A2)",
            [ParsedChoice("#N/A", D(0)), ParsedChoice("+86 电话", D(100), "反馈")],
            name="公式",
            text_format="markdown",
            explanation="-1",
            category_path=("top", "a/b"),
            tags=["x", "y"],
            id_number="007",
            difficulty=3,
            default_points=D("0.5"),
        ),
        ParsedQuestion(
            "multiple",
            "多选",
            [
                ParsedChoice("a", D("33.33333")),
                ParsedChoice("b", D("66.66667")),
                ParsedChoice("以上都对", D(0), keep_in_place=True),
            ],
        ),
        ParsedQuestion(
            "truefalse",
            "判断",
            truefalse_choices(False, "错选反馈", "对选反馈"),
            text_format="html",
        ),
        ParsedQuestion(
            "single", "多个", [ParsedChoice(str(i), D(100 if i == 11 else 0)) for i in range(12)]
        ),
    ]
    data = export_xlsx(questions)
    result = parse_xlsx(data)
    assert result.ok, [i.render() for i in result.issues]
    assert [dataclasses.replace(q, line=0) for q in result.questions] == questions
    sheet = openpyxl.load_workbook(io.BytesIO(data)).worksheets[0]
    assert sheet["B2"].data_type == "s" and sheet["B2"].value == "=SUM(A1:A2)"


def test_decompression_bombs_are_refused() -> None:
    result = parse_xlsx(xlsx_bomb())
    assert not result.questions and "too large" in result.errors[0].render()
