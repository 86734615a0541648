"""Property-based tests: no input makes an importer raise, and valid banks survive export→import.

Profiles: HYPOTHESIS_PROFILE=ci runs 500 examples per property, the default "dev" 100.
"""

from __future__ import annotations

import dataclasses
import time
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from trainer.banks.formats import (
    FORMATS,
    QTYPES,
    TEXT_FORMATS,
    ParsedChoice,
    ParsedQuestion,
    ParseResult,
    export_gift,
    export_moodlexml,
    export_xlsx,
    parse_aiken,
    parse_csv,
    parse_file,
    parse_gift,
    parse_moodlexml,
    parse_paper,
    parse_rows,
    parse_xlsx,
    validate_question,
)
from trainer.banks.formats.base import (
    BLANK,
    WEIGHT_QUANTUM,
    is_keep_in_place_text,
    quantize_weight,
    truefalse_choices,
)

from tests.hypothesis_profiles import register_profiles

register_profiles()

D = Decimal
ISSUE_KINDS = {"error", "incomplete", "unsupported", "skipped"}


def check(result: object) -> None:
    """What every importer promises, whatever it was given."""
    assert isinstance(result, ParseResult)
    for issue in result.issues:
        assert type(issue.line) is int and issue.line >= 0
        assert issue.kind in ISSUE_KINDS
        assert isinstance(issue.render(), str)
        assert "Internal error" not in issue.message, issue.render()
    for q in result.questions:
        assert validate_question(q) == []
        assert type(q.line) is int


def without_lines(questions: list[ParsedQuestion]) -> list[ParsedQuestion]:
    return [dataclasses.replace(q, line=0) for q in questions]


# -- any input ------------------------------------------------------------------------------------

FILENAMES = ["", "x.txt", "x.gift", "x.xml", "x.csv", "x.xlsx", "x.xls"]


@given(st.binary(max_size=3000), st.sampled_from(["auto", *FORMATS]), st.sampled_from(FILENAMES))
def test_parse_file_never_raises_on_any_bytes(data: bytes, fmt: str, filename: str) -> None:
    check(parse_file(data, filename, fmt))


@given(st.text(max_size=3000))
def test_text_importers_never_raise_on_any_text(text: str) -> None:
    for parse in (parse_gift, parse_aiken, parse_paper, parse_csv):
        check(parse(text))
    check(parse_moodlexml(text.encode("utf-8", "surrogatepass")))


GIFT_TOKENS = [
    "::",
    "{",
    "}",
    "~",
    "=",
    "#",
    "####",
    "%",
    "%50%",
    "%-100%",
    "\\",
    "\\n",
    "->",
    "T",
    "FALSE",
    "//",
    "// [id:x] [tag:y] [difficulty:2] [points:3]",
    "[difficulty:9]",
    "$CATEGORY: a/b",
    "[html]",
    "\n",
    "\n\n",
    " ",
    "\t",
    "问题",
    "以上都不对",
    "（\u3000\u3000）",
    "}，后文。",
    "a",
    "1",
]


@given(st.lists(st.sampled_from(GIFT_TOKENS), max_size=80).map("".join))
def test_gift_never_raises_on_gift_like_text(text: str) -> None:
    check(parse_gift(text))


PAPER_TOKENS = [
    "一、单选题(共20题,每题1分,共20分)",
    "二、多选题（每题2分）",
    "三、判断题",
    "四、组织管理",
    "单选题",
    "\n",
    "\n\n",
    "1、",
    "2、",
    "3.",
    "12）",
    "A、",
    "B、",
    "C.",
    "D．",
    "E）",
    "H：",
    "正确答案:",
    "答案：",
    "参考答案:",
    "解析：",
    "B",
    "ABD",
    "A,C",
    "对",
    "×",
    "正确",
    "( )",
    "题干文字",
    "以上都不对",
    "第 2 页 共 5 页",
    "万一网",
    " ",
    "客户服务",
]


@given(st.lists(st.sampled_from(PAPER_TOKENS), max_size=80).map("".join))
def test_paper_and_aiken_never_raise_on_paper_like_text(text: str) -> None:
    check(parse_paper(text))
    check(parse_aiken(text))


CELL = st.one_of(
    st.sampled_from(
        [
            "",
            "单选",
            "多选",
            "判断",
            "填空",
            "A",
            "ABD",
            "对",
            "易",
            "难",
            "2",
            "-1",
            "x/y",
            "a,b",
            "50,50",
            "1e9",
        ]
    ),
    st.text(max_size=12),
)
HEADER_CELLS = [
    "题型",
    "题干",
    "选项A",
    "选项B",
    "选项C",
    "答案",
    "解析",
    "难度",
    "分值",
    "知识点",
    "标签",
    "编号",
    "权重",
    "反馈A",
    "格式",
    "名称",
]


@given(
    st.lists(st.sampled_from(HEADER_CELLS), max_size=16),
    st.lists(
        st.lists(st.one_of(CELL, st.none(), st.integers(), st.floats(allow_nan=True)), max_size=18),
        max_size=12,
    ),
)
def test_rows_never_raise(header: list[str], rows: list[list[object]]) -> None:
    check(parse_rows([header, *rows]))


XML_SAMPLE = (
    b'<?xml version="1.0" encoding="UTF-8"?><quiz><question type="category"><category><text>$course$/top/a</text>'
    b'</category></question><question type="multichoice"><name><text>n</text></name><questiontext format="html">'
    b"<text><![CDATA[<p>q</p>]]></text></questiontext><single>false</single><defaultgrade>2</defaultgrade>"
    b'<answer fraction="50"><text>a</text><feedback><text>f</text></feedback></answer><answer fraction="50">'
    b'<text>b</text></answer><tags><tag><text>difficulty:3</text></tag></tags></question><question type="truefalse">'
    b'<questiontext><text>t</text></questiontext><answer fraction="100"><text>true</text></answer></question></quiz>'
)


@given(st.integers(0, len(XML_SAMPLE)), st.integers(0, len(XML_SAMPLE)), st.binary(max_size=8))
def test_moodlexml_never_raises_on_damaged_xml(cut: int, at: int, junk: bytes) -> None:
    check(parse_moodlexml(XML_SAMPLE[:cut]))
    check(parse_moodlexml(XML_SAMPLE[:at] + junk + XML_SAMPLE[at:]))


_WORKBOOK = export_xlsx(
    [ParsedQuestion("single", "q", [ParsedChoice("a", D(100)), ParsedChoice("b", D(0))])]
)


@settings(max_examples=min(settings.default.max_examples, 100))
@given(
    st.integers(0, len(_WORKBOOK) - 1),
    st.binary(min_size=1, max_size=16),
    st.integers(0, len(_WORKBOOK)),
)
def test_xlsx_never_raises_on_damaged_workbooks(at: int, junk: bytes, cut: int) -> None:
    check(parse_xlsx(_WORKBOOK[:at] + junk + _WORKBOOK[at + len(junk) :]))
    check(parse_xlsx(_WORKBOOK[:cut]))


def test_hostile_sizes_are_reported_not_fatal() -> None:
    many = "q{=right " + " ".join(f"~wrong{i}" for i in range(500)) + "}"
    assert "Too many choices" in parse_gift(many).errors[0].render()
    aiken = "q\n" + "".join(f"{chr(65 + i % 26)}. c{i}\n" for i in range(26)) + "ANSWER: A\n"
    check(parse_aiken(aiken))
    script = "[html]<script>alert(1)</script><img src=x onerror=alert(1)>{=a ~b}"
    (q,) = parse_gift(script).questions
    assert q.text_format == "html"  # kept as data; the site sanitises when rendering


def test_a_one_line_paper_is_read_in_linear_time() -> None:
    one = "{n}、题干文字（ ）A、甲B、乙C、丙D、丁正确答案:B"
    text = "一、单选题" + "".join(one.format(n=n) for n in range(1, 3001))
    start = time.perf_counter()
    result = parse_paper(text)
    assert len(result.questions) == 3000 and result.ok
    assert time.perf_counter() - start < 3.0
    junk = "x" * 2_000_000
    start = time.perf_counter()
    check(parse_gift(junk + "{" + junk))
    check(parse_paper("一、单选题\n1、" + junk))
    assert time.perf_counter() - start < 3.0


# -- round trips ----------------------------------------------------------------------------------

_CJK = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF)
_ANY = st.characters(blacklist_categories=("Cs", "Cc", "Cn", "Co"))
_CHAR = st.one_of(st.sampled_from(list("~=#{}:\\%[]/$-> \n\tabcXYZ019")), _CJK, _ANY)
# Sequences that mean something to one of the formats.
_TOKENS = st.sampled_from(
    ["//", "::", "####", "]]>", "&amp;", "<b>", "\\n", "{T}", "%50%", "$CATEGORY:", "[html]"]
)


def _texts(min_size: int = 0, max_size: int = 30) -> st.SearchStrategy[str]:
    # Importers trim texts, so generated ones have no surrounding whitespace.
    pieces = st.lists(st.one_of(st.text(_CHAR, max_size=max_size // 3), _TOKENS), max_size=4).map(
        "".join
    )
    return pieces.map(str.strip).filter(lambda s: len(s) >= min_size)


_WORD = st.text(st.one_of(_CJK, st.sampled_from(list("abcXYZ019-_."))), min_size=1, max_size=8)
_SEGMENT = st.text(
    st.one_of(_CJK, st.sampled_from(list("abcXYZ019$_-./"))), min_size=1, max_size=8
).filter(lambda s: not s.startswith("/") and not s.endswith("/"))
_CHOICE_TEXT = st.one_of(
    _texts(1), st.sampled_from(["以上都不对", "以上都是", "all of the above", "T", "%50%"])
)
_NEGATIVE = st.sampled_from([D(0), D(-100), D(-50), D("-33.33333"), D("-0.00001")])
_SINGLE_OTHER = st.sampled_from([D(0), D(0), D(100), D(50), D("33.33333"), D(-100), D("-12.5")])


@st.composite
def _questions(draw: st.DrawFn) -> ParsedQuestion:
    qtype = draw(st.sampled_from(QTYPES))
    if qtype == "truefalse":
        choices = truefalse_choices(draw(st.booleans()), draw(_texts()), draw(_texts()))
    else:
        count = draw(st.integers(2, 10))
        if qtype == "single":
            weights = [draw(_SINGLE_OTHER) for _ in range(count)]
            weights[draw(st.integers(0, count - 1))] = D(100)
        else:
            correct = draw(st.integers(1, count))
            order = draw(st.permutations(range(count)))
            # Positive weights: a random partition of 100 % into steps of 0.00001.
            steps = 100 * 10**5
            cuts = sorted(
                draw(st.sets(st.integers(1, steps - 1), min_size=correct - 1, max_size=correct - 1))
            )
            shares = [b - a for a, b in zip([0, *cuts], [*cuts, steps], strict=True)]
            weights = [draw(_NEGATIVE) for _ in range(count)]
            for index, share in zip(order[:correct], shares, strict=True):
                weights[index] = D(share) * WEIGHT_QUANTUM
        choices = []
        for weight in weights:
            text = draw(_CHOICE_TEXT)
            choices.append(
                ParsedChoice(
                    text, quantize_weight(weight), draw(_texts()), is_keep_in_place_text(text)
                )
            )
    stem, blank_number = draw(_texts(1, 60)), None
    if qtype != "truefalse" and draw(st.booleans()):
        # GIFT's missing-word form: the blank stands where the answer block stood, possibly
        # after other blanks, with or without spaces around it, and text follows it.
        before = draw(_texts()) + draw(st.sampled_from(["", " ", BLANK]))
        after = draw(st.sampled_from(["", " ", BLANK])) + draw(_texts(1))
        stem = (before + BLANK + after).strip()
        blank_number = before.count(BLANK) + 1
    return ParsedQuestion(
        qtype=qtype,
        stem=stem,
        blank_number=blank_number,
        choices=choices,
        name=draw(_texts(0, 20)),
        text_format=draw(st.sampled_from(TEXT_FORMATS)),
        explanation=draw(_texts()),
        category_path=tuple(draw(st.lists(_SEGMENT, max_size=3))),
        tags=draw(st.lists(_WORD, max_size=4, unique=True)),
        id_number=draw(st.one_of(st.just(""), _WORD)),
        difficulty=draw(st.integers(1, 3)),
        default_points=draw(
            st.sampled_from([D(1), D(2), D("0.5"), D("1.5"), D("3.25"), D(10), D(100)])
        ),
    )


BANKS = st.lists(_questions(), min_size=1, max_size=6)


@given(BANKS, _WORD, _WORD)
def test_gift_round_trip(questions: list[ParsedQuestion], name: str, description: str) -> None:
    assert all(validate_question(q) == [] for q in questions)  # the generator makes valid banks
    result = parse_gift(export_gift(questions, name, description))
    assert not result.issues, [(i.line, i.render()) for i in result.issues]
    assert without_lines(result.questions) == questions
    assert (result.bank_name, result.bank_description) == (name, description)


@given(BANKS)
def test_moodlexml_round_trip(questions: list[ParsedQuestion]) -> None:
    result = parse_moodlexml(export_moodlexml(questions))
    assert not result.issues, [(i.line, i.render()) for i in result.issues]
    assert without_lines(result.questions) == questions


@settings(max_examples=min(settings.default.max_examples, 200))
@given(BANKS)
def test_xlsx_round_trip(questions: list[ParsedQuestion]) -> None:
    result = parse_xlsx(export_xlsx(questions))
    assert not result.issues, [(i.line, i.render()) for i in result.issues]
    assert without_lines(result.questions) == questions
