"""The shipped banks: enough questions of each kind, complete metadata, and every one survives
export → import unchanged in every export format (pure: no database)."""
from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from trainer.banks import formats

ROOT = Path(__file__).resolve().parents[2]
BANK_FILES = sorted((ROOT / "question_banks").glob("*.gift"))
TRACK_TAGS = {"入职", "在岗", "复岗", "晋升"}


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
