"""GIFT: reading (FORMATS.md example, escapes, every unsupported type, errors), writing, speed."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from pathlib import Path

import pytest

from trainer.banks.formats import ParsedChoice, ParsedQuestion, export_gift, parse_gift
from trainer.banks.formats.base import truefalse_choices

D = Decimal
REPO = Path(__file__).resolve().parents[2]

SPEC_EXAMPLE = """\
$CATEGORY: 服务规范/服务七声

// [id:SV-007] [tag:onboarding] [tag:服务七声] [difficulty:1]
::结束服务::结束服务时，柜台人员应当有哪一声？{
\t~问候声
\t~致谢声
\t=道别声#正确：结束服务有道别声
\t~提醒声
\t####服务七声：问候、回应、道歉、致谢、提醒、告知、道别。
}

// [difficulty:2]
::七声（多选）::下列哪些属于“服务七声”？{
\t~%33.33333%问候声
\t~%33.33333%道歉声
\t~%33.33334%告知声
\t~%-100%抱怨声
}

客户信息可以在未经客户同意时提供给合作伙伴。{FALSE#不得泄露客户信息。}
"""


def without_lines(questions: list[ParsedQuestion]) -> list[ParsedQuestion]:
    return [dataclasses.replace(q, line=0) for q in questions]


def only(text: str) -> ParsedQuestion:
    result = parse_gift(text)
    assert result.ok, [i.render() for i in result.issues]
    assert len(result.questions) == 1
    return result.questions[0]


def issue_kinds(text: str) -> list[tuple[int, str]]:
    return [(i.line, i.kind) for i in parse_gift(text).issues]


def test_spec_example() -> None:
    result = parse_gift(SPEC_EXAMPLE)
    assert result.ok and not result.issues
    first, second, third = result.questions

    assert first.qtype == "single"
    assert first.name == "结束服务"
    assert first.stem == "结束服务时，柜台人员应当有哪一声？"
    assert first.category_path == ("服务规范", "服务七声")
    assert (first.id_number, first.tags, first.difficulty) == (
        "SV-007",
        ["onboarding", "服务七声"],
        1,
    )
    assert [c.text for c in first.choices] == ["问候声", "致谢声", "道别声", "提醒声"]
    assert [c.weight for c in first.choices] == [0, 0, 100, 0]
    assert first.choices[2].feedback == "正确：结束服务有道别声"
    assert first.explanation == "服务七声：问候、回应、道歉、致谢、提醒、告知、道别。"
    assert first.line == 4 and first.text_format == "markdown"

    assert second.qtype == "multiple" and second.difficulty == 2 and second.line == 13
    assert [c.weight for c in second.choices] == [
        D("33.33333"),
        D("33.33333"),
        D("33.33334"),
        D(-100),
    ]
    assert second.category_path == ("服务规范", "服务七声")

    assert third.qtype == "truefalse" and third.line == 20
    assert third.choices == [
        ParsedChoice("正确", D(0), "不得泄露客户信息。"),
        ParsedChoice("错误", D(100), ""),
    ]


def test_shared_line_choices_and_format_markers() -> None:
    q = only("[html]<p>Pick <b>b</b></p>{~a =b ~c}")
    assert q.text_format == "html" and q.stem == "<p>Pick <b>b</b></p>"
    assert [(c.text, c.weight) for c in q.choices] == [("a", 0), ("b", 100), ("c", 0)]
    assert only("::n::[plain]x{=a ~b}").text_format == "plain"
    assert only("[moodle]x{=a ~b}").text_format == "plain"
    assert only("[markdown]x{=a ~b}").text_format == "markdown"


def test_escapes_and_newlines() -> None:
    q = only(r"::a\:b::Is 1\=1 \{really\}\nsure\\?{=yes \~ sure#\#1 ~no}")
    assert q.name == "a:b"
    assert q.stem == "Is 1=1 {really}\nsure\\?"
    assert q.choices[0].text == "yes ~ sure" and q.choices[0].feedback == "#1"


def test_weights_override_the_marks_and_equals_with_weight_stays_single() -> None:
    q = only("q{=%50%half ~%100%full ~none}")
    assert q.qtype == "single"
    assert [c.weight for c in q.choices] == [50, 100, 0]


def test_true_false_feedback_maps_onto_the_choices() -> None:
    q = only("q{TRUE#if wrong#if right####general}")
    assert q.choices == truefalse_choices(True, feedback_true="if right", feedback_false="if wrong")
    assert q.explanation == "general"
    q = only("q{F#if wrong#if right}")
    assert q.choices == truefalse_choices(
        False, feedback_true="if wrong", feedback_false="if right"
    )
    assert only("q{T}").choices == truefalse_choices(True)
    assert only("q{ false }").choices == truefalse_choices(False)


def test_keep_in_place_follows_the_choice_text() -> None:
    q = only("q{=甲 ~乙 ~以上都不对}")
    assert [c.keep_in_place for c in q.choices] == [False, False, True]


def test_bank_header_comments() -> None:
    result = parse_gift("// 题库：客户投诉处理\n// 说明：覆盖客诉。\n\nq{T}\n")
    assert (result.bank_name, result.bank_description) == ("客户投诉处理", "覆盖客诉。")
    # Later comments of that shape are ordinary comments.
    assert parse_gift("q{T}\n\n// 题库：别的\nr{F}").bank_name == ""


def test_category_prefixes_and_reset() -> None:
    result = parse_gift("$CATEGORY: $course$/top/a//b/c\n\nq{T}\n\n$CATEGORY: top\n\nr{T}")
    assert [q.category_path for q in result.questions] == [("a/b", "c"), ()]


def test_points_comment() -> None:
    assert only("// [points:2.5]\nq{T}").default_points == D("2.5")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("essay{}", "Essay"),
        ("essay{\n}", "Essay"),
        ("numerical{#3:1}", "Numerical"),
        ("match{=a -> 1 =b -> 2 =c -> 3}", "Matching"),
        ("short{=answer =other}", "Short-answer"),
        ("short{answer}", "Short-answer"),
        ("Missing {T} word.", "Missing-word"),
        ("Missing {=a =b} word.", "Missing-word"),
        ("Missing {} word.", "Missing-word"),
    ],
)
def test_unsupported_types_are_reported_and_skipped(text: str, expected: str) -> None:
    result = parse_gift("ok{T}\n\n// comment\n" + text + "\n\nok2{F}")
    assert len(result.questions) == 2
    (issue,) = result.issues
    assert (issue.line, issue.kind) == (4, "unsupported")
    assert expected in issue.render()
    assert result.ok


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("::no end name{T}", "name"),
        ("no answer block at all", "answer block"),
        ("unclosed{=a ~b", "not closed"),
        ("q{~a ~b}", "No choice is marked right"),
        ("q{~%60%a ~%60%b}", "total 100"),
        ("q{=a}", "Short-answer"),
        ("q{~%abc%a =b}", "not a number"),
        ("q{~%150%a =b}", "outside"),
        ("// [difficulty:7]\nq{T}", "Difficulty"),
        ("// [points:many]\nq{T}", "Points"),
        ("q{=x " + " ".join(f"~c{i}" for i in range(25)) + "}", "Too many choices"),
        ("{=a ~b}", "no text"),
        ("q{=a ~b}\nr{=c ~d}", "blank line"),
        ("q{junk =a ~b}", "before the first choice"),
    ],
)
def test_errors_name_the_problem_and_the_line(text: str, fragment: str) -> None:
    result = parse_gift("ok{T}\n\n" + text)
    assert len(result.questions) == 1
    # The question's line is its text's first line, after any metadata comment.
    line = 4 if text.startswith("//") else 3
    assert result.issues and all(i.line == line for i in result.issues)
    assert any(fragment in i.render() for i in result.issues), [i.render() for i in result.issues]


BLANK = "（\u3000\u3000）"


def test_the_missing_word_form_is_a_choice_question_with_its_blank() -> None:
    """Moodle reads text after the answer block as a choice question with a blank; so do we,
    and export writes it back in the same form."""
    q = only(
        "// [id:MW-1]\n::宗旨::客户服务的宗旨是{=客户满意#对 ~企业利润 ~员工方便####以客户为中心。}"
        "，这是服务体系的核心。"
    )
    assert q.qtype == "single" and q.name == "宗旨" and q.id_number == "MW-1"
    assert q.stem == f"客户服务的宗旨是{BLANK}，这是服务体系的核心。"
    assert q.blank_number == 1
    assert [(c.text, c.weight) for c in q.choices] == [
        ("客户满意", 100),
        ("企业利润", 0),
        ("员工方便", 0),
    ]
    assert q.choices[0].feedback == "对" and q.explanation == "以客户为中心。"
    text = export_gift([q])
    assert (
        "::宗旨::客户服务的宗旨是{\n\t=客户满意#对\n\t~企业利润\n\t~员工方便\n"
        "\t####以客户为中心。\n}，这是服务体系的核心。\n"
    ) in text
    assert without_lines(parse_gift(text).questions) == without_lines([q])


def test_the_blank_remembered_is_the_one_where_the_block_stood() -> None:
    q = only(f"第一空{BLANK}已印好，第二空{{~%50%甲 ~%50%乙 ~%-100%丙}}在这里。")
    assert q.qtype == "multiple" and q.blank_number == 2
    assert q.stem == f"第一空{BLANK}已印好，第二空{BLANK}在这里。"
    text = export_gift([q])
    assert f"第一空{BLANK}已印好，第二空{{\n" in text and "\n}在这里。" in text
    assert without_lines(parse_gift(text).questions) == without_lines([q])
    # Spaces around the block are the stem's own; a block at the very start leaves no text before.
    q = only("Gandhi was born in {=1869 ~1900} in Porbandar.")
    assert (q.stem, q.blank_number) == (f"Gandhi was born in {BLANK} in Porbandar.", 1)
    q = only("::n::{=甲 ~乙}是第一个字。")
    assert (q.stem, q.blank_number) == (f"{BLANK}是第一个字。", 1)
    assert without_lines(parse_gift(export_gift([q])).questions) == without_lines([q])


@pytest.mark.parametrize("stem", ["客户服务的宗旨是（\u3000），这是核心。", f"练习卷的空{BLANK}照印。"])
def test_a_stem_that_merely_contains_a_blank_stays_plain_text(stem: str) -> None:
    q = only(stem + "{=客户满意 ~企业利润}")
    assert (q.stem, q.blank_number) == (stem, None)
    text = export_gift([q])
    assert stem + "{\n" in text
    (again,) = parse_gift(text).questions
    assert (again.stem, again.blank_number) == (stem, None)


def test_a_single_choice_question_without_equals_says_what_is_wrong() -> None:
    (issue,) = parse_gift("客户离开时应当说？{~您好 ~再见 ~请稍等}").issues
    message = issue.render()
    assert "No choice is marked right" in message and "“=”" in message
    assert "total" not in message
    # Weights that do not add up are still a multiple-choice weight error.
    (issue,) = parse_gift("q{~%60%a ~%60%b}").issues
    assert "total 100" in issue.render()


def test_an_answer_block_cut_by_a_blank_line_is_joined() -> None:
    q = only("q{\n=a\n\n~b\n}")
    assert [c.text for c in q.choices] == ["a", "b"]
    # …but an unclosed block does not swallow the next question.
    result = parse_gift("q{=a ~b\n\nr{=c ~d}")
    assert [q.stem for q in result.questions] == ["r"]
    assert [(i.line, i.kind) for i in result.issues] == [(1, "error")]


def test_excerpt_is_the_start_of_the_stem() -> None:
    (issue,) = parse_gift(
        "::名字::这是一道很长很长很长很长很长很长很长很长很长的题目，没有正确答案{~a ~b}"
    ).issues
    assert issue.excerpt.startswith("这是一道很长") and len(issue.excerpt) <= 31


# -- writing --------------------------------------------------------------------------------------


def test_export_layout() -> None:
    q = ParsedQuestion(
        qtype="single",
        stem="结束服务时？",
        choices=[
            ParsedChoice("问候声", D(0)),
            ParsedChoice("道别声", D(100), "对"),
            ParsedChoice("部分", D(50)),
        ],
        name="结束服务",
        explanation="七声",
        category_path=("服务规范", "服务七声"),
        tags=["入职"],
        id_number="SV-7",
        difficulty=1,
        default_points=D(2),
    )
    text = export_gift([q], bank_name="服务规范", description="两行\n说明")
    assert text.splitlines() == [
        "// 题库：服务规范",
        "// 说明：两行 说明",
        "",
        "$CATEGORY: 服务规范/服务七声",
        "",
        "// [id:SV-7] [tag:入职] [difficulty:1] [points:2]",
        "::结束服务::结束服务时？{",
        "\t~问候声",
        "\t=道别声#对",
        "\t~%50%部分",
        "\t####七声",
        "}",
    ]


def test_export_writes_true_false_natively_and_multiple_weights_always() -> None:
    tf = ParsedQuestion(
        "truefalse", "说法", truefalse_choices(False, "错了", "对了"), explanation="因为"
    )
    mc = ParsedQuestion(
        "multiple",
        "多选",
        [ParsedChoice("a", D(100)), ParsedChoice("b", D(0))],
        text_format="plain",
    )
    text = export_gift([tf, mc])
    assert "说法{FALSE#错了#对了####因为}" in text
    assert "[plain]多选{\n\t~%100%a\n\t~%0%b\n}" in text


def test_export_escapes_everything_special() -> None:
    q = ParsedQuestion(
        "single",
        "// looks like a comment {x} = y ~ z # : \\ \nnext line",
        [
            ParsedChoice("%50% literal", D(0)),
            ParsedChoice("=all", D(100)),
            ParsedChoice("also 100", D(100)),
        ],
        name="n::m",
    )
    back = parse_gift(export_gift([q]))
    assert back.ok, [i.render() for i in back.issues]
    assert without_lines(back.questions) == [q]
    # Without a name, a stem starting with // must not become a comment.
    q.name = ""
    assert without_lines(parse_gift(export_gift([q])).questions) == [q]


@pytest.mark.parametrize(
    "path", sorted((REPO / "question_banks").glob("*.gift")), ids=lambda p: p.name
)
def test_shipped_banks_import_cleanly_and_round_trip(path: Path) -> None:
    result = parse_gift(path.read_text(encoding="utf-8"))
    assert result.ok and not result.issues, [(i.line, i.render()) for i in result.issues]
    assert result.questions and result.bank_name
    again = parse_gift(export_gift(result.questions, result.bank_name, result.bank_description))
    assert without_lines(again.questions) == without_lines(result.questions)
    assert (again.bank_name, again.bank_description) == (result.bank_name, result.bank_description)


def test_ten_thousand_questions_parse() -> None:
    """(How fast is measured by `make bench-import`, not here.)"""
    block = (
        "// [id:Q{n}] [tag:入职] [tag:服务七声] [difficulty:2]\n"
        "::第{n}题::结束服务时，柜台人员应当有哪一声？这是一段稍长的题干，用来模拟真实题库。{{\n"
        "\t~问候声#不对\n\t~致谢声\n\t=道别声#正确：结束服务有道别声\n\t~以上都不对\n"
        "\t####服务七声：问候、回应、道歉、致谢、提醒、告知、道别。\n}}\n\n"
        "// [id:M{n}] [difficulty:3]\n::多选{n}::下列哪些属于服务七声？{{\n"
        "\t~%33.33333%问候声\n\t~%33.33333%道歉声\n\t~%33.33334%告知声\n\t~%-100%抱怨声\n}}\n\n"
    )
    text = "$CATEGORY: 服务规范/服务七声\n\n" + "".join(block.format(n=n) for n in range(5000))
    result = parse_gift(text)
    assert len(result.questions) == 10_000 and result.ok
