"""Moodle XML: the supported subset, unsupported types, hostile and broken XML, export."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest

from trainer.banks.formats import (
    ParsedChoice,
    ParsedQuestion,
    export_moodlexml,
    parse_file,
    parse_moodlexml,
)
from trainer.banks.formats.base import truefalse_choices

D = Decimal

SAMPLE = """\
<?xml version="1.0" encoding="UTF-8"?>
<quiz>
  <question type="category">
    <category><text>$course$/top/服务规范/服务七声</text></category>
  </question>
  <question type="multichoice">
    <name><text>结束服务</text></name>
    <questiontext format="html"><text><![CDATA[<p>结束服务时用哪一声？</p><script>alert(1)</script>]]></text></questiontext>
    <generalfeedback format="html"><text>服务七声</text></generalfeedback>
    <defaultgrade>2.0000000</defaultgrade>
    <idnumber>SV-7</idnumber>
    <single>true</single>
    <shuffleanswers>true</shuffleanswers>
    <answer fraction="0" format="html"><text>问候声</text><feedback format="html"><text>不对</text></feedback></answer>
    <answer fraction="100" format="html"><text>道别声</text></answer>
    <answer fraction="0" format="html"><text>以上都不对</text></answer>
    <tags><tag><text>入职</text></tag><tag><text>difficulty:1</text></tag></tags>
  </question>
  <question type="multichoice">
    <name><text>多选</text></name>
    <questiontext format="plain_text"><text>哪些？</text></questiontext>
    <single>false</single>
    <answer fraction="33.33333"><text>a</text></answer>
    <answer fraction="33.33333"><text>b</text></answer>
    <answer fraction="33.33334"><text>c</text></answer>
    <answer fraction="-100"><text>d</text></answer>
  </question>
  <question type="truefalse">
    <name><text>判断</text></name>
    <questiontext format="moodle_auto_format"><text>客户信息可以外传。</text></questiontext>
    <answer fraction="0"><text>true</text><feedback><text>不得外传</text></feedback></answer>
    <answer fraction="100"><text>false</text><feedback><text>对</text></feedback></answer>
  </question>
  <question type="shortanswer">
    <name><text>简答</text></name>
    <questiontext format="html"><text>什么是投诉？</text></questiontext>
  </question>
</quiz>
"""


def test_sample() -> None:
    result = parse_moodlexml(SAMPLE.encode("utf-8"))
    single, multiple, truefalse = result.questions
    assert single.category_path == ("服务规范", "服务七声") == truefalse.category_path
    assert single.text_format == "html" and "<script>" in single.stem  # kept; sanitised on render
    assert (single.name, single.id_number, single.explanation) == ("结束服务", "SV-7", "服务七声")
    assert (single.difficulty, single.tags, single.default_points) == (1, ["入职"], 2)
    assert str(single.default_points) == "2"
    assert [(c.text, c.weight, c.feedback) for c in single.choices] == [
        ("问候声", 0, "不对"),
        ("道别声", 100, ""),
        ("以上都不对", 0, ""),
    ]
    assert single.choices[2].keep_in_place and single.line == 6
    assert (
        multiple.qtype == "multiple"
        and multiple.text_format == "plain"
        and multiple.difficulty == 2
    )
    assert truefalse.choices == truefalse_choices(
        False, feedback_true="不得外传", feedback_false="对"
    )
    (issue,) = result.issues
    assert (issue.kind, issue.line, issue.params["type"]) == ("unsupported", 34, "shortanswer")


def test_multichoiceset_reads_as_weighted_multiple_choice() -> None:
    xml = """<quiz><question type="multichoiceset"><questiontext><text>q</text></questiontext>
    <answer fraction="100"><text>a</text></answer><answer fraction="100"><text>b</text></answer>
    <answer fraction="0"><text>c</text></answer></question></quiz>"""
    (q,) = parse_moodlexml(xml.encode()).questions
    assert [c.weight for c in q.choices] == [50, 50, -100]


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (
            '<question type="multichoice"><questiontext><text>q</text></questiontext><answer fraction="0"><text>a</text></answer><answer fraction="0"><text>b</text></answer></question>',
            "100 %",
        ),
        (
            '<question type="multichoice"><questiontext><text>q</text></questiontext><single>false</single><answer fraction="50"><text>a</text></answer><answer fraction="0"><text>b</text></answer></question>',
            "total 100",
        ),
        (
            '<question type="multichoice"><questiontext><text>q</text></questiontext><answer fraction="x"><text>a</text></answer><answer fraction="100"><text>b</text></answer></question>',
            "not a number",
        ),
        (
            '<question type="truefalse"><questiontext><text>q</text></questiontext><answer fraction="0"><text>true</text></answer></question>',
            "true/false",
        ),
        (
            '<question type="multichoice"><questiontext><text>q</text></questiontext><defaultgrade>lots</defaultgrade><answer fraction="100"><text>a</text></answer><answer fraction="0"><text>b</text></answer></question>',
            "Points",
        ),
        (
            '<question type="multichoice"><questiontext><text>q</text></questiontext><answer fraction="100"><text>a</text></answer><answer fraction="0"><text>b</text></answer><tags><tag><text>difficulty:9</text></tag></tags></question>',
            "Difficulty",
        ),
        ("<question><name><text>n</text></name></question>", "no type"),
    ],
)
def test_invalid_questions(body: str, fragment: str) -> None:
    result = parse_moodlexml(f"<quiz>\n{body}\n</quiz>".encode())
    assert not result.questions
    assert result.errors[0].line == 2 and fragment in result.errors[0].render()


XXE = b"""<?xml version="1.0"?>
<!DOCTYPE quiz [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<quiz><question type="truefalse"><questiontext><text>&secret;</text></questiontext>
<answer fraction="100"><text>true</text></answer><answer fraction="0"><text>false</text></answer></question></quiz>"""

LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<quiz>&lol3;</quiz>"""


@pytest.mark.parametrize("data", [XXE, LAUGHS])
def test_dtds_and_entities_are_refused(data: bytes) -> None:
    result = parse_moodlexml(data)
    assert not result.questions
    (issue,) = result.issues
    assert issue.line == 2 and "DTD" in issue.render()
    assert "root:" not in repr(result)


@pytest.mark.parametrize(
    ("data", "line"),
    [
        (b"<quiz>\n<question type='truefalse'>\n</quiz>", 3),
        (b"", 1),
        (b"<quiz>\n<question>&undefined;</question></quiz>", 2),
        (b"\x00\x01\x02", 1),
    ],
)
def test_malformed_xml_reports_its_line(data: bytes, line: int) -> None:
    result = parse_moodlexml(data)
    assert [(i.kind, i.line) for i in result.issues] == [("error", line)]
    assert "malformed" in result.issues[0].render()


def test_other_root_element() -> None:
    result = parse_moodlexml(b"<html><body/></html>")
    assert "not a Moodle XML quiz" in result.errors[0].render()


def test_gbk_declared_and_undeclared_encodings() -> None:
    body = "<quiz><question type='truefalse'><questiontext><text>客户信息</text></questiontext><answer fraction='100'><text>true</text></answer><answer fraction='0'><text>false</text></answer></question></quiz>"
    declared = ('<?xml version="1.0" encoding="GBK"?>' + body).encode("gbk")
    assert parse_moodlexml(declared).questions[0].stem == "客户信息"
    assert parse_moodlexml(body.encode("gbk")).questions[0].stem == "客户信息"
    assert parse_moodlexml(body.encode("utf-16")).questions[0].stem == "客户信息"
    bogus = parse_moodlexml(b'<?xml version="1.0" encoding="no-such-codec"?><quiz/>')
    assert "no-such-codec" in bogus.errors[0].render()


def test_export_round_trip() -> None:
    questions = [
        ParsedQuestion(
            "single",
            "<p>a & b < c</p> ]]> \n second line",
            [ParsedChoice("x", D(0), "fb"), ParsedChoice("以上都是", D(100), keep_in_place=True)],
            name="",
            text_format="html",
            explanation="e",
            category_path=("top", "a/b"),
            tags=["t1", "t2"],
            id_number="ID-1",
            difficulty=3,
            default_points=D("2.5"),
        ),
        ParsedQuestion(
            "multiple",
            "m",
            [
                ParsedChoice("a", D("33.33333")),
                ParsedChoice("b", D("66.66667")),
                ParsedChoice("c", D(-100)),
            ],
            text_format="markdown",
        ),
        ParsedQuestion(
            "truefalse",
            "t",
            truefalse_choices(True, "yes", "no"),
            text_format="plain",
            category_path=(),
        ),
    ]
    data = export_moodlexml(questions)
    assert data.startswith(b"<?xml") and b"difficulty:3" in data
    result = parse_file(data, "bank.xml")
    assert result.ok, [i.render() for i in result.issues]
    assert [dataclasses.replace(q, line=0) for q in result.questions] == questions


def test_export_drops_characters_xml_cannot_hold() -> None:
    q = ParsedQuestion("truefalse", "bell\x07 here", truefalse_choices(True))
    (back,) = parse_moodlexml(export_moodlexml([q])).questions
    assert back.stem == "bell here"
