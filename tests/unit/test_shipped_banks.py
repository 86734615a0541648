"""The shipped banks: enough questions of each kind, complete metadata, every one survives
export → import unchanged in every export format, and every bank passes the health check
(题库体检) with enough case questions, so the banks cannot drift back to answer cues (pure: no
database)."""
from __future__ import annotations

from collections import Counter
from fractions import Fraction
from pathlib import Path

import pytest

from trainer.banks import formats, health

ROOT = Path(__file__).resolve().parents[2]
BANK_FILES = sorted((ROOT / "question_banks").glob("*.gift"))
TRACK_TAGS = {"入职", "在岗", "复岗", "晋升", "待岗", "转岗"}
# Replaced by issue 19 (a car dealership's after-sales material, manufacturing and life
# insurance, one company's fines and sanctions, org-chart trivia): retired, never to return.
REPLACED = (
    ["FU-002"] + [f"FU-{n:03d}" for n in range(4, 14)]
    + ["FU-021", "FU-030", "FU-037", "FU-038"] + [f"FU-{n:03d}" for n in range(43, 47)]
    + ["FU-048", "FU-050", "FU-052", "FU-053", "FU-057", "CP-020", "ST-010",
       "CP-005", "CP-032", "CP-036", "FU-017", "PH-014", "PH-015", "PH-018"]
    + [f"ET-{n:03d}" for n in range(4, 9)]
    + ["ET-034", "ET-035", "MG-022", "ST-011", "ST-035", "ST-036", "ST-037", "CP-044",
       "SA-042"])
# Words of the trades the banks no longer borrow from (an agent of a call centre is examined on
# a call centre's work).
FOREIGN_TRADES = ("汽车", "车辆", "4S", "服务站", "交车", "修车", "维修站", "寿险", "保单", "车间",
                  "生产线")


def load(path: Path) -> formats.ParseResult:
    return formats.parse_file(path.read_bytes(), path.name, "gift")


def test_there_are_at_least_eight_banks_and_320_questions():
    assert len(BANK_FILES) >= 8
    total = sum(len(load(p).questions) for p in BANK_FILES)
    assert total >= 320


@pytest.mark.parametrize("path", BANK_FILES, ids=lambda p: p.stem)
def test_bank_parses_cleanly_with_complete_metadata(path):
    result = load(path)
    assert result.issues == [], [i.render() for i in result.issues][:5]
    assert result.bank_name and result.bank_description
    questions = result.questions
    ids = [q.id_number for q in questions]
    assert all(ids) and len(set(ids)) == len(ids)
    for q in questions:
        assert q.explanation.strip(), q.id_number
        assert q.category_path, q.id_number
        assert TRACK_TAGS & set(q.tags), q.id_number
    counts = Counter(q.qtype for q in questions)
    assert counts["multiple"] * 4 >= len(questions), "at least a quarter multiple choice"
    assert counts["truefalse"] * 6 >= len(questions), "at least a sixth true/false"
    assert {q.difficulty for q in questions} == {1, 2, 3}


def test_at_least_forty_case_questions_with_a_scene():
    cases = [q for p in BANK_FILES for q in load(p).questions if "案例" in q.tags]
    assert len(cases) >= 40
    for q in cases:
        # A scene: a dialogue of at least two turns before the question.
        assert q.stem.count("\n") >= 2 and "：" in q.stem, q.id_number


def test_wrong_choices_are_not_throwaways():
    for path in BANK_FILES:
        for q in load(path).questions:
            if q.qtype == "single":
                assert len(q.choices) >= 3, q.id_number
                assert len({c.text for c in q.choices}) == len(q.choices), q.id_number


@pytest.mark.parametrize("fmt,suffix", [("gift", "gift"), ("moodlexml", "xml"),
                                        ("xlsx", "xlsx")])
@pytest.mark.parametrize("path", BANK_FILES, ids=lambda p: p.stem)
def test_export_then_import_gives_the_same_questions(path, fmt, suffix):
    original = load(path)
    data = formats.EXPORTERS[fmt](original.questions, original.bank_name,
                                  original.bank_description)
    again = formats.parse_file(data, f"bank.{suffix}", fmt)
    assert again.issues == [], [i.render() for i in again.issues][:5]
    assert len(again.questions) == len(original.questions)
    for before, after in zip(original.questions, again.questions):
        after.line = before.line
        assert after == before, before.id_number


def health_of(path: Path) -> health.HealthReport:
    return health.check_bank(health.from_parsed(load(path).questions))


@pytest.mark.parametrize("path", BANK_FILES, ids=lambda p: p.stem)
def test_bank_passes_the_health_check_with_a_share_of_cases(path):
    report = health_of(path)
    flagged = {item.question.label: [f.kind for f in item.flags] for item in report.flagged}
    assert report.passed, (report.failed_rules, flagged)
    assert report.rule("longest_choice").figure <= health.LONGEST_CHOICE_LIMIT
    assert report.shares.case * 100 >= 15 * report.shares.total, "at least 15 % cases"
    assert not [label for label, kinds in flagged.items()
                if {"unnamed_subject", "duplicate_stem"} & set(kinds)]


@pytest.mark.parametrize("path", BANK_FILES, ids=lambda p: p.stem)
def test_the_shortest_choice_is_no_cue_either(path):
    """Fixing "the key is the longest" by making keys short would only move the cue: a learner
    who always picks the shortest choice scores at most 30 % too (ties as the check counts
    them)."""
    score, single = Fraction(0), 0
    for q in health.from_parsed(load(path).questions):
        if q.qtype != "single":
            continue
        single += 1
        lengths = [health.visible_length(c.text, q.text_format) for c in q.choices]
        tied = [c for c, n in zip(q.choices, lengths) if n == min(lengths)]
        score += sum(Fraction(max(0, min(100, c.weight))) / 100 for c in tied) / len(tied)
    assert single and score / single <= Fraction(30, 100), float(score / single)


def test_a_quarter_of_all_questions_are_cases():
    reports = [health_of(path) for path in BANK_FILES]
    assert sum(r.shares.case for r in reports) * 4 >= sum(r.shares.total for r in reports)


def test_the_replaced_questions_are_gone_and_no_foreign_trade_remains():
    ids = {q.id_number for path in BANK_FILES for q in load(path).questions}
    assert ids.isdisjoint(REPLACED), sorted(ids & set(REPLACED))
    texts = [(q.id_number, " ".join([q.stem, q.explanation, *(c.text for c in q.choices)]))
             for path in BANK_FILES for q in load(path).questions]
    lessons = [(p.name, p.read_text(encoding="utf-8"))
               for p in sorted((ROOT / "courses").glob("*/*/*.md"))]
    found = [(name, word) for name, text in texts + lessons for word in FOREIGN_TRADES
             if word in text]
    assert found == []


def test_a_bank_that_cues_its_answers_fails_the_check():
    """The check this file relies on does fail: the same bank with every single-answer key made
    the longest choice."""
    original = health.from_parsed(load(BANK_FILES[0]).questions)
    cued = []
    for q in original:
        if q.qtype == "single":
            longest = max(len(c.text) for c in q.choices)
            q = health.QuestionData(**{**q.__dict__, "choices": tuple(
                health.ChoiceData(c.text + "，并且按规定认真完整地做好" * (c.weight > 0) * (
                    longest // 8 + 2), c.weight) for c in q.choices)})
        cued.append(q)
    assert "longest_choice" in health.check_bank(cued).failed_rules
