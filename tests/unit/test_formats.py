"""Shared shapes, validation, encodings, format detection and parse_file (pure, no app)."""

from __future__ import annotations

import codecs
import io
from decimal import Decimal

import openpyxl
import pytest

from trainer.banks.formats import (
    EXPORT_FILE_TYPES,
    EXPORTERS,
    FORMATS,
    ParsedChoice,
    ParsedQuestion,
    ParseIssue,
    ParseResult,
    detect_format,
    export_gift,
    parse_file,
    question_key,
    validate_question,
)
from trainer.banks.formats.base import (
    format_category_path,
    is_keep_in_place_text,
    parse_category_path,
    split_evenly,
    truefalse_choices,
    weights_from_letters,
)
from trainer.banks.formats.encoding import DecodeError, decode_bytes

D = Decimal


def single(**overrides: object) -> ParsedQuestion:
    q = ParsedQuestion(
        qtype="single",
        stem="结束服务时应当使用哪一声？",
        choices=[
            ParsedChoice("问候声", D(0)),
            ParsedChoice("道别声", D(100)),
            ParsedChoice("致谢声", D(0)),
        ],
    )
    for key, value in overrides.items():
        setattr(q, key, value)
    return q


def messages(q: ParsedQuestion) -> list[str]:
    return [m for m, _ in validate_question(q)]


# -- validation -----------------------------------------------------------------------------------


def test_a_valid_single_choice_question_passes() -> None:
    assert validate_question(single()) == []


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [
        ({"stem": "   "}, "no text"),
        ({"difficulty": 4}, "Difficulty"),
        ({"difficulty": 0}, "Difficulty"),
        ({"default_points": D(0)}, "Points"),
        ({"default_points": D(-1)}, "Points"),
        ({"choices": [ParsedChoice("a", D(100))]}, "at least two"),
        ({"choices": [ParsedChoice("a", D(50)), ParsedChoice("b", D(0))]}, "100 %"),
        ({"choices": [ParsedChoice("a", D(100)), ParsedChoice(" ", D(0))]}, "no text"),
        ({"choices": [ParsedChoice("a", D(100)), ParsedChoice("b", D(-150))]}, "outside"),
        (
            {"choices": [ParsedChoice(str(i), D(100 if i == 0 else 0)) for i in range(21)]},
            "Too many choices",
        ),
        ({"qtype": "essay"}, "Unknown question type"),
        ({"text_format": "rtf"}, "Unknown text format"),
    ],
)
def test_validation_reports_each_rule(overrides: dict[str, object], fragment: str) -> None:
    assert any(fragment in m for m in messages(single(**overrides)))


def test_twenty_choices_are_allowed_twenty_one_are_not() -> None:
    twenty = [ParsedChoice(str(i), D(100 if i == 0 else 0)) for i in range(20)]
    assert validate_question(single(choices=twenty)) == []


def test_multiple_choice_weights_must_total_100_within_a_hundredth() -> None:
    ok = [
        ParsedChoice("a", D("33.33333")),
        ParsedChoice("b", D("33.33333")),
        ParsedChoice("c", D("33.33334")),
        ParsedChoice("d", D(-100)),
    ]
    assert validate_question(single(qtype="multiple", choices=ok)) == []
    near = [ParsedChoice("a", D("50")), ParsedChoice("b", D("49.995"))]
    assert validate_question(single(qtype="multiple", choices=near)) == []
    off = [ParsedChoice("a", D("50")), ParsedChoice("b", D("40"))]
    problems = validate_question(single(qtype="multiple", choices=off))
    assert problems and problems[0][1]["total"] == "90"
    over = [ParsedChoice("a", D("150")), ParsedChoice("b", D("-50"))]
    assert any("outside" in m for m, _ in validate_question(single(qtype="multiple", choices=over)))


def test_true_false_needs_exactly_its_two_choices_and_an_answer() -> None:
    assert validate_question(single(qtype="truefalse", choices=truefalse_choices(False))) == []
    no_answer = [ParsedChoice("正确", D(0)), ParsedChoice("错误", D(0))]
    assert messages(single(qtype="truefalse", choices=no_answer))
    assert messages(single(qtype="truefalse", choices=truefalse_choices(True)[:1]))


def test_question_key_ignores_case_spacing_and_choice_order_but_not_the_key() -> None:
    a = single(stem="Which  ONE\nis right?")
    b = single(stem="which one is right?", choices=list(reversed(single().choices)))
    assert question_key(a) == question_key(b)
    c = single(
        choices=[
            ParsedChoice("问候声", D(100)),
            ParsedChoice("道别声", D(0)),
            ParsedChoice("致谢声", D(0)),
        ]
    )
    assert question_key(a) != question_key(c)
    assert question_key(a) != question_key(single(qtype="multiple"))


def test_issue_render_translates_then_formats() -> None:
    issue = ParseIssue(3, "error", "Row {row}: bad {x}", {"row": 3, "x": "{braces}"}, "…")
    assert issue.render() == "Row 3: bad {braces}"
    assert issue.render(lambda s: "第 {row} 行：{x} 有误") == "第 3 行：{braces} 有误"
    # A translation with a wrong placeholder falls back to English instead of failing.
    assert issue.render(lambda s: "第 {line} 行") == "Row 3: bad {braces}"


def test_result_properties() -> None:
    result = ParseResult(
        format="gift",
        questions=[single(), single(qtype="truefalse", choices=truefalse_choices(True))],
    )
    result.issues = [
        ParseIssue(1, "skipped", "s"),
        ParseIssue(2, "unsupported", "u"),
        ParseIssue(3, "incomplete", "i"),
    ]
    assert result.counts_by_type() == {"single": 1, "multiple": 0, "truefalse": 1}
    assert [i.line for i in result.errors] == [3]
    assert [i.line for i in result.skipped] == [1]
    assert [i.line for i in result.unsupported] == [2]
    assert not result.ok
    result.issues = result.issues[:2]
    assert result.ok


# -- weights, keep in place, category paths ---------------------------------------------------------


@pytest.mark.parametrize("count", [1, 2, 3, 6, 7])
def test_split_evenly_adds_up_exactly(count: int) -> None:
    shares = split_evenly(count, D(100))
    assert sum(shares) == D(100)
    assert all(s.as_tuple().exponent == -5 for s in shares)
    assert max(shares) - min(shares) <= D("0.0001")


def test_weights_from_letters_gives_wrong_choices_minus_100_in_total() -> None:
    weights = weights_from_letters(5, {0, 2, 3}, multiple=True)
    assert weights == [D("33.33333"), D("-50"), D("33.33333"), D("33.33334"), D("-50")]
    assert weights_from_letters(3, {1}, multiple=False) == [D(0), D(100), D(0)]
    assert weights_from_letters(2, {0, 1}, multiple=True) == [D(50), D(50)]


@pytest.mark.parametrize(
    "text",
    ["以上都不对", " 以上都是 ", "以上皆非。", "None of the above", "ALL OF THE ABOVE.", "都不对"],
)
def test_keep_in_place_texts(text: str) -> None:
    assert is_keep_in_place_text(text)


@pytest.mark.parametrize("text", ["以上都不对的说法", "none", "问候声"])
def test_ordinary_texts_are_not_kept_in_place(text: str) -> None:
    assert not is_keep_in_place_text(text)


@pytest.mark.parametrize(
    ("raw", "path"),
    [
        ("服务规范/服务七声", ("服务规范", "服务七声")),
        ("$course$/top/服务规范/服务七声", ("服务规范", "服务七声")),
        ("top/a", ("a",)),
        ("$course$/Default for X/b", ("Default for X", "b")),
        ("a//b/c", ("a/b", "c")),
        (" a / b ", ("a", "b")),
        ("top", ()),
        ("", ()),
    ],
)
def test_category_paths(raw: str, path: tuple[str, ...]) -> None:
    assert parse_category_path(raw) == path


@pytest.mark.parametrize("path", [("top", "x"), ("$course$", "x"), ("a/b", "c"), ("服务规范",)])
def test_category_paths_round_trip(path: tuple[str, ...]) -> None:
    assert parse_category_path(format_category_path(path)) == path


# -- encoding -------------------------------------------------------------------------------------

SAMPLE = "客户服务理念\r\n第二行\r第三行\n"


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        (SAMPLE.encode("utf-8"), "utf-8"),
        (codecs.BOM_UTF8 + SAMPLE.encode("utf-8"), "utf-8-sig"),
        (codecs.BOM_UTF16_LE + SAMPLE.encode("utf-16-le"), "utf-16"),
        (codecs.BOM_UTF16_BE + SAMPLE.encode("utf-16-be"), "utf-16"),
        (SAMPLE.encode("gbk"), "gb18030"),
        (SAMPLE.encode("gb18030"), "gb18030"),
    ],
)
def test_decode_bytes(data: bytes, encoding: str) -> None:
    text, name = decode_bytes(data)
    assert text == "客户服务理念\n第二行\n第三行\n"
    assert name == encoding


def test_short_gbk_is_not_misread() -> None:
    # Two characters: the kind of input statistical detectors get wrong.
    assert decode_bytes("对错".encode("gbk")) == ("对错", "gb18030")


@pytest.mark.parametrize(
    "data",
    [
        b"\x00\x01\x02binary\x00",
        bytes(range(256)) * 4,
        b"PK\x03\x04" + bytes(200),
        "no BOM UTF-16".encode("utf-16-le"),
        b"\x1b\x1c\x1d\x1e\x1f" * 20 + b"text",
        b"\x80\xff\xfe\x81",
    ],
)
def test_decode_bytes_refuses_binary(data: bytes) -> None:
    with pytest.raises(DecodeError) as info:
        decode_bytes(data)
    assert info.value.message.format(**info.value.params) == str(info.value)


def test_a_bom_that_lies_is_an_error() -> None:
    with pytest.raises(DecodeError):
        decode_bytes(codecs.BOM_UTF8 + b"\xff\xfe\xfd")


# -- detection and parse_file -----------------------------------------------------------------------

GIFT = "::q::问题？{=对 ~错}\n"
AIKEN = "问题？\nA. 一\nB. 二\nANSWER: A\n"
PAPER = "一、单选题（每题2分）\n1、问题（ ）\nA、一\nB、二\n正确答案：A\n"
XML = '<?xml version="1.0"?><quiz></quiz>'


@pytest.mark.parametrize(
    ("filename", "data", "fmt"),
    [
        ("bank.gift", b"anything", "gift"),
        ("bank.xml", b"anything", "moodlexml"),
        ("bank.csv", b"anything", "csv"),
        ("bank.xlsx", b"anything", "xlsx"),
        ("OLD.XLS", b"anything", "xlsx"),
        ("", b"PK\x03\x04rest", "xlsx"),
        ("bank.txt", GIFT.encode(), "gift"),
        ("bank.txt", AIKEN.encode(), "aiken"),
        ("bank.txt", PAPER.encode("gbk"), "paper"),
        ("", XML.encode("utf-16"), "moodlexml"),
        ("upload", XML.encode(), "moodlexml"),
        ("bank.txt", b"$CATEGORY: a\n\nq{T}", "gift"),
        ("bank.txt", b"", "gift"),
        ("notes.txt", "客户服务理念\n第二行".encode("gbk"), "paper"),
        ("notes.txt", b"plain english words", "gift"),
    ],
)
def test_detect_format(filename: str, data: bytes, fmt: str) -> None:
    assert detect_format(filename, data) == fmt


@pytest.mark.parametrize("data", [GIFT.encode(), AIKEN.encode(), PAPER.encode("gb18030")])
def test_parse_file_detects_decodes_and_parses(data: bytes) -> None:
    result = parse_file(data, "upload.txt")
    assert result.ok, [i.render() for i in result.issues]
    assert len(result.questions) == 1


def test_parse_file_reports_the_encoding() -> None:
    result = parse_file(PAPER.encode("gbk"), "paper.txt", "paper")
    assert result.encoding == "gb18030"
    assert result.questions[0].default_points == 2


@pytest.mark.parametrize("fmt", ["auto", *FORMATS])
@pytest.mark.parametrize(
    "data", [b"", b"\x00\x00\xff\xfe garbage \x00", bytes(range(256)), b"\xff" * 10]
)
def test_parse_file_turns_garbage_into_errors(fmt: str, data: bytes) -> None:
    result = parse_file(data, "x.bin", fmt)
    assert not result.questions
    assert result.errors
    assert all(isinstance(i.line, int) for i in result.issues)


def test_parse_file_rejects_an_unknown_format_name() -> None:
    result = parse_file(GIFT.encode(), "", "docx")
    assert result.errors and "docx" in result.errors[0].render()


def test_exporters_return_bytes_that_parse_file_reads_back() -> None:
    q = single(id_number="SV-1", tags=["入职"])
    for fmt, export in EXPORTERS.items():
        extension, mimetype = EXPORT_FILE_TYPES[fmt]
        data = export([q], bank_name="题库", description="说明")
        assert isinstance(data, bytes) and mimetype
        back = parse_file(data, "bank" + extension)
        assert back.ok and len(back.questions) == 1, fmt
        assert back.questions[0].id_number == "SV-1"


BLANK = "（\u3000\u3000）"


def missing_word(**overrides: object) -> ParsedQuestion:
    """The question GIFT's 第一空（　　）已印好，宗旨是{=客户满意 ~企业利润}。 reads as."""
    values: dict[str, object] = {
        "stem": f"第一空{BLANK}已印好，宗旨是{BLANK}。",
        "choices": [ParsedChoice("客户满意", D(100)), ParsedChoice("企业利润", D(0))],
        "blank_number": 2,
    }
    return single(**{**values, **overrides})


@pytest.mark.parametrize(("fmt", "filename"),
                         [("gift", "x.gift"), ("moodlexml", "x.xml"), ("xlsx", "x.xlsx")])
def test_a_missing_word_question_keeps_its_blank_in_every_export_format(
    fmt: str, filename: str
) -> None:
    q = missing_word(id_number="MW-1")
    back = parse_file(EXPORTERS[fmt]([q]), filename)
    assert back.ok and not back.issues, [i.render() for i in back.issues]
    (again,) = back.questions
    again.line = 0
    assert again == q
    # …and a plain stem holding the same blank stays plain in every format.
    plain = missing_word(blank_number=None)
    (again,) = parse_file(EXPORTERS[fmt]([plain]), filename).questions
    assert again.blank_number is None


def test_moodle_xml_and_the_spreadsheet_say_which_blank_it_is() -> None:
    xml = EXPORTERS["moodlexml"]([missing_word()]).decode("utf-8")
    # Moodle itself reads a missing-word question as multichoice with the blank in its text;
    # the blank's number travels as a tag, as the difficulty does.
    assert '<question type="multichoice">' in xml
    assert f"<text>第一空{BLANK}已印好，宗旨是{BLANK}。</text>" in xml
    assert "<text>blank:2</text>" in xml
    sheet = openpyxl.load_workbook(io.BytesIO(EXPORTERS["xlsx"]([missing_word()]))).active
    header = [c.value for c in sheet[1]]
    assert sheet.cell(2, header.index("空位") + 1).value == 2


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [
        ({"blank_number": 3}, "blank 3"),
        ({"blank_number": 0}, "blank 0"),
        ({"stem": "没有空位的题干", "blank_number": 1}, "blank 1"),
        ({"stem": f"空位在最后{BLANK}", "blank_number": 1}, "text after its blank"),
        ({"qtype": "truefalse", "choices": truefalse_choices(True)}, "choice question"),
    ],
)
def test_a_blank_must_point_at_a_blank_of_a_choice_question(
    overrides: dict[str, object], fragment: str
) -> None:
    assert validate_question(missing_word()) == []
    q = missing_word()
    for key, value in overrides.items():
        setattr(q, key, value)
    assert any(fragment in m.format(**p) for m, p in validate_question(q)), validate_question(q)


def test_gift_export_is_text() -> None:
    assert isinstance(export_gift([single()]), str)


def test_a_document_without_questions_is_an_error_not_an_empty_success() -> None:
    result = parse_file("客户服务理念\n第二行\n".encode(), "notes.txt")
    assert result.format == "paper" and [i.line for i in result.skipped] == [1, 2]
    assert not result.ok and "No questions" in result.errors[0].render()


# -- text lengths: one rule for the form and every importer --------------------------------------


def test_texts_longer_than_the_forms_limits_are_refused_by_validation() -> None:
    from trainer.banks.formats.base import (
        MAX_CHOICE_LENGTH,
        MAX_EXPLANATION_LENGTH,
        MAX_FEEDBACK_LENGTH,
        MAX_STEM_LENGTH,
    )

    assert MAX_STEM_LENGTH == 20_000
    assert validate_question(single(stem="问" * MAX_STEM_LENGTH)) == []
    assert validate_question(single(stem="问" * (MAX_STEM_LENGTH + 1))) == [(
        "The question text is {length} characters long; at most {max} are allowed.",
        {"length": MAX_STEM_LENGTH + 1, "max": MAX_STEM_LENGTH})]
    too_long = single(explanation="解" * (MAX_EXPLANATION_LENGTH + 1))
    too_long.choices[2] = ParsedChoice("甲" * (MAX_CHOICE_LENGTH + 1), D(0),
                                       "馈" * (MAX_FEEDBACK_LENGTH + 1))
    assert [params for _, params in validate_question(too_long)] == [
        {"number": 3, "length": MAX_CHOICE_LENGTH + 1, "max": MAX_CHOICE_LENGTH},
        {"number": 3, "length": MAX_FEEDBACK_LENGTH + 1, "max": MAX_FEEDBACK_LENGTH},
        {"length": MAX_EXPLANATION_LENGTH + 1, "max": MAX_EXPLANATION_LENGTH}]


def test_every_importer_refuses_a_stem_over_the_limit_with_its_line_or_row() -> None:
    from trainer.banks.formats.base import MAX_STEM_LENGTH
    from trainer.banks.formats.table import export_xlsx

    # Varied characters: a run of one character compresses past the XLSX reader's zip-bomb
    # ratio, which is refused before any row is read.
    long_stem = "".join(chr(0x4E00 + (i * 7919) % 20000) for i in range(MAX_STEM_LENGTH + 1))
    gift = f"短题？{{=是 ~否}}\n\n\n{long_stem}{{=是 ~否}}\n".encode()
    xml = ('<?xml version="1.0"?>\n<quiz>\n<question type="truefalse">\n'
           f'<questiontext format="html"><text>{long_stem}</text></questiontext>\n'
           '<answer fraction="100"><text>true</text></answer>\n'
           '<answer fraction="0"><text>false</text></answer>\n</question>\n</quiz>\n').encode()
    xlsx = export_xlsx([single(), single(stem=long_stem)])
    for name, data, line in (("a.gift", gift, 4), ("a.xml", xml, 3), ("a.xlsx", xlsx, 3)):
        result = parse_file(data, name)
        assert [(issue.line, issue.params) for issue in result.errors] == [
            (line, {"length": MAX_STEM_LENGTH + 1, "max": MAX_STEM_LENGTH})], name
        assert all(len(q.stem) <= MAX_STEM_LENGTH for q in result.questions), name


# -- resources from other sites: refused by every importer, hyperlinks kept ----------------------

PIXEL = "https://tracker.example/pixel.gif"


def test_validation_refuses_resources_from_elsewhere_naming_the_question_and_the_url() -> None:
    problems = validate_question(single(id_number="SE-9", text_format="html",
                                        stem=f'<p>看图<img src="{PIXEL}"></p>'))
    assert [params for _, params in problems] == [{"question": "SE-9", "url": PIXEL}]
    q = single(explanation=f"![标志]({PIXEL})")
    q.choices[0].text = "![其他](//cdn.example/a.png)"
    assert [params for _, params in validate_question(q)] == [
        {"question": "结束服务时应当使用哪一声？", "url": "//cdn.example/a.png"},
        {"question": "结束服务时应当使用哪一声？", "url": PIXEL}]
    assert validate_question(single(stem="见[服务规范](https://example.com/std)。")) == []


def test_every_importer_refuses_resources_from_elsewhere_and_keeps_links() -> None:
    from trainer.banks.formats.table import export_xlsx

    gift = (f"::G1::[html]<p>看图<img src=\"{PIXEL}\"></p>{{=是 ~否}}\n\n"
            "::G2::见[服务规范](https://example.com/std)。{=是 ~否}\n")
    xml = ('<?xml version="1.0"?>\n<quiz>\n<question type="truefalse">\n'
           '<name><text>X1</text></name>\n<questiontext format="html">'
           f'<text><![CDATA[<p style="background: url({PIXEL})">看图</p>]]></text>'
           '</questiontext>\n<answer fraction="100"><text>true</text></answer>\n'
           '<answer fraction="0"><text>false</text></answer>\n</question>\n</quiz>\n').encode()
    xlsx = export_xlsx([single(stem=f"看图 ![]({PIXEL})", id_number="T-1"),
                        single(stem="见[规范](https://example.com/std)。")])
    for name, data, line, question, kept in (("a.gift", gift.encode(), 1, "看图", 1),
                                             ("a.xml", xml, 3, "看图", 0),
                                             ("a.xlsx", xlsx, 2, "T-1", 1)):
        result = parse_file(data, name)
        assert [(issue.line, issue.params["url"]) for issue in result.errors] == [
            (line, PIXEL)], name
        assert question in result.errors[0].params["question"], name
        assert len(result.questions) == kept, name
        assert PIXEL in result.errors[0].render()
