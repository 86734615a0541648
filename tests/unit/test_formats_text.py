"""Aiken (with Chinese variants) and the Chinese practice paper, including seed 000."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from tests.conftest import skip_or_fail
from trainer.banks.formats import parse_aiken, parse_file, parse_paper
from trainer.banks.formats.base import truefalse_choices

D = Decimal
SEEDS = Path(__file__).resolve().parents[3] / "shared" / "seeds"


def renders(result: object) -> list[str]:
    return [i.render() for i in result.issues]  # type: ignore[attr-defined]


# -- Aiken ----------------------------------------------------------------------------------------


def test_aiken_english() -> None:
    result = parse_aiken("Which is the farewell?\nA) Hello\nB) Goodbye\nC) Thanks\nANSWER: B\n")
    (q,) = result.questions
    assert q.qtype == "single" and q.text_format == "plain" and q.line == 1
    assert [(c.text, c.weight) for c in q.choices] == [
        ("Hello", 0),
        ("Goodbye", 100),
        ("Thanks", 0),
    ]


@pytest.mark.parametrize("mark", [")", ".", "、", "．", "："])
@pytest.mark.parametrize("answer", ["ANSWER: B", "答案：B", "答案:B", "正确答案：B", "answer:b"])
def test_aiken_chinese_variants(mark: str, answer: str) -> None:
    text = f"结束服务时用哪一声？\nA{mark}问候声\nB{mark}道别声\n{answer}\n"
    result = parse_aiken(text)
    assert result.ok, renders(result)
    assert [c.weight for c in result.questions[0].choices] == [0, 100]


def test_aiken_several_letters_make_a_weighted_multiple_choice_question() -> None:
    text = "哪些属于服务七声？\nA、问候声\nB、抱怨声\nC、道歉声\nD、告知声\nE、争辩声\n答案：ACD\n"
    (q,) = parse_aiken(text).questions
    assert q.qtype == "multiple"
    assert [c.weight for c in q.choices] == [
        D("33.33333"),
        D(-50),
        D("33.33333"),
        D("33.33334"),
        D(-50),
    ]
    assert sum(c.weight for c in q.choices if c.weight > 0) == 100


def test_aiken_separated_letters_and_explanation_and_true_false() -> None:
    text = (
        "q1\nA. a\nB. b\nC. c\nANSWER: A, C\n解析：因为\n\n"
        "客户资料可以随意外传。\n答案：错\n\n"
        "q3\nA. 甲\nB. 以上都不对\nANSWER: B\n"
    )
    result = parse_aiken(text)
    assert result.ok, renders(result)
    q1, q2, q3 = result.questions
    assert q1.qtype == "multiple" and q1.explanation == "因为"
    assert q2.qtype == "truefalse" and q2.choices == truefalse_choices(False) and q2.line == 8
    assert q3.choices[1].keep_in_place and q3.line == 11


def test_aiken_errors() -> None:
    text = (
        "A. orphan choice\n"  # 1: a choice with no stem
        "q2\nA. a\nB. b\n"  # 2: a new stem comes before the answer
        "q3\nA. a\nB. b\nANSWER: D\n"  # 5: an answer letter with no such choice
        "ANSWER: A\n"  # 9: an answer with no question
        "q5\nA. a\nB. b\nANSWER: 不知道\n"  # 10
        "q6\nA. a\nB. b\n"  # 14: cut off at the end
    )
    result = parse_aiken(text)
    assert not result.questions
    assert [(i.line, i.kind) for i in result.issues] == [
        (1, "error"),
        (2, "error"),
        (5, "error"),
        (9, "error"),
        (10, "error"),
        (14, "incomplete"),
    ]
    assert "D" in result.issues[2].render()


def test_aiken_single_choice_with_one_choice_is_invalid() -> None:
    result = parse_aiken("q\nA. only\nANSWER: A\n")
    assert not result.questions and "at least two" in result.errors[0].render()


# -- practice paper -------------------------------------------------------------------------------

SPEC_PAPER = """\
一、单选题(共20题,每题1分,共20分)
1、对企业而言……的关键客户。这类客户称为( )A、黄金客户B、白金客户C、铁质客户D、铅质客户正确答案:B2、人员分析的途径有两个:一是岗位定位,二是( )
A、能力定位
B、人员定位
C、职责定位
D、事件定位
正确答案:B
二、多选题（每题2分）
3、下列哪些属于服务七声？（ ）
A.问候声  B.抱怨声  C.道歉声  D.告知声
正确答案:A,C,D
解析：服务七声包括问候、道歉、告知等。
三、判断题
4、客户信息可以随意外传。(　)
正确答案:错
5、结束服务要有道别声。（ ）正确答案：√
"""


def test_spec_paper() -> None:
    result = parse_paper(SPEC_PAPER)
    assert result.ok and not result.issues, renders(result)
    q1, q2, q3, q4, q5 = result.questions
    assert (q1.qtype, q1.line, q1.stem) == ("single", 2, "对企业而言……的关键客户。这类客户称为( )")
    assert [c.text for c in q1.choices] == ["黄金客户", "白金客户", "铁质客户", "铅质客户"]
    assert [c.weight for c in q1.choices] == [0, 100, 0, 0]
    assert (q2.line, q2.stem, q2.choices[1].weight) == (
        2,
        "人员分析的途径有两个:一是岗位定位,二是( )",
        100,
    )
    assert q1.default_points == q2.default_points == 1
    assert q3.qtype == "multiple" and q3.default_points == 2 and q3.line == 9
    assert [c.text for c in q3.choices] == ["问候声", "抱怨声", "道歉声", "告知声"]
    assert [c.weight for c in q3.choices] == [D("33.33333"), D(-100), D("33.33333"), D("33.33334")]
    assert q3.explanation == "服务七声包括问候、道歉、告知等。"
    assert (
        q4.qtype == "truefalse"
        and q4.choices == truefalse_choices(False)
        and q4.stem == "客户信息可以随意外传。(　)"
    )
    assert q5.choices == truefalse_choices(True)


@pytest.mark.parametrize(
    ("answer", "truth"),
    [
        ("对", True),
        ("错", False),
        ("√", True),
        ("×", False),
        ("正确", True),
        ("错误", False),
        ("T", True),
        ("F", False),
    ],
)
def test_paper_true_false_answers(answer: str, truth: bool) -> None:
    (q,) = parse_paper(f"判断题\n1、说法。（ ）\n答案：{answer}\n").questions
    assert q.choices == truefalse_choices(truth)


def test_paper_true_false_with_lettered_choices() -> None:
    text = "一、是非题（每题0.5分）\n1、说法。\nA、正确\nB、错误\n参考答案：B\n"
    (q,) = parse_paper(text).questions
    assert q.choices == truefalse_choices(False) and q.default_points == D("0.5")


def test_points_from_count_and_total() -> None:
    (q,) = parse_paper("二、多项选择题（共10题，共20分）\n1、q\nA、a\nB、b\n答案：AB\n").questions
    assert q.default_points == 2 and q.qtype == "multiple"


def test_numbered_statements_stay_in_the_stem() -> None:
    text = "一、单选题\n5、下列说法正确的是（ ）\n1、甲\n2、乙\nA、1和2\nB、只有1\n正确答案：A\n6、下一题\nA、x\nB、y\n答案：B\n"
    result = parse_paper(text)
    assert result.ok, renders(result)
    first, second = result.questions
    assert first.stem == "下列说法正确的是（ ）\n1、甲\n2、乙"
    assert second.stem == "下一题"


def test_lines_outside_sections_and_page_headers_are_skipped() -> None:
    text = (
        "某某网 文档下载\n"  # 1: before any section
        "1、不是题目\n"  # 2: a numbered line outside a section is text
        "一、单选题\n"
        "1、题目（ ）\n"
        "A、甲\n"
        "第 2 页 共 5 页\n"  # 6: page header between choices
        "B、乙\n"
        "正确答案：A\n"
        "万一网制作收集整理\n"  # 9: a notice after the answer
        "二、组织管理\n"  # 10: another heading ends the section
        "2、不是题目\n"  # 11
    )
    result = parse_paper(text)
    assert result.ok
    assert [c.text for c in result.questions[0].choices] == ["甲", "乙"]
    assert [i.line for i in result.skipped] == [1, 2, 6, 9, 10, 11]
    assert result.skipped[1].excerpt == "1、不是题目"


def test_page_breaks_inside_a_question_do_not_end_the_section() -> None:
    text = "一、单选题\n1、题目（ ）\n\n- 3 -\n\nA、甲\n万一网制作收集整理,未经授权请勿转载\n\nB、乙\n正确答案：B\n2、下一题\nA、x\nB、y\n答案：A\n"
    result = parse_paper(text)
    assert result.ok, renders(result)
    assert [len(q.choices) for q in result.questions] == [2, 2]
    assert [i.line for i in result.skipped] == [4, 7]


def test_a_document_title_ends_the_section() -> None:
    text = "一、单选题\n1、题目（ ）\nA、甲\nB、乙\n正确答案：B\n客户服务管理标准\n\n2、不是题目\nA、x\n"
    result = parse_paper(text)
    assert len(result.questions) == 1
    assert [i.line for i in result.skipped] == [6, 8, 9]


def test_paper_errors() -> None:
    text = (
        "一、单选题\n"
        "1、q\nA、a\nB、b\n正确答案：C\n"  # 2: no choice C
        "2、q\nA、a\nB、b\n正确答案：AB\n"  # 6: several answers in a single-choice section
        "3、q\nA、a\nB、b\n正确答案：略\n"  # 10: no answer
        "4、q\nA、a\nB、b\n"  # 14: cut off at the end
    )
    result = parse_paper(text)
    assert not result.questions
    assert [(i.line, i.kind) for i in result.issues] == [
        (2, "error"),
        (6, "error"),
        (10, "error"),
        (14, "incomplete"),
    ]


def test_seed_000_practice_paper() -> None:
    if not list(SEEDS.glob("000_*.txt")):
        skip_or_fail("seed 000 is not beside the checkout")
    path = next(SEEDS.glob("000_*.txt"))
    data = path.read_bytes()
    result = parse_file(data, path.name, "paper")
    lines = data.decode("utf-8").split("\n")

    assert len(result.questions) == 11
    assert [i.kind for i in result.errors] == ["incomplete"]
    incomplete = result.errors[0]
    assert incomplete.params["number"] == 12 and "客户档案" in incomplete.excerpt
    assert all(q.qtype == "single" and q.default_points == 1 for q in result.questions)

    answers = "BBDAABAABCC"
    keys = ["ABCD"[[c.weight for c in q.choices].index(100)] for q in result.questions]
    assert "".join(keys) == answers
    assert result.questions[0].stem.endswith("这类客户称为( )")
    assert [c.text for c in result.questions[0].choices] == [
        "黄金客户",
        "白金客户",
        "铁质客户",
        "铅质客户",
    ]
    assert (
        result.questions[7].choices[3].text == "以上都不对"
        and result.questions[7].choices[3].keep_in_place
    )

    # Every non-blank line outside the questions is reported, with its number: the practice
    # questions occupy lines 83–91 (and the end of 82, after the document title glued to it).
    question_lines = set(range(83, 92))
    expected = {n for n, line in enumerate(lines, 1) if line.strip()} - question_lines
    assert {i.line for i in result.skipped} == expected
    title = next(i for i in result.skipped if i.line == 82)
    assert title.excerpt == "客户服务管理员三级练习题含参考答案"
