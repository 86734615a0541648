"""The shipped courses: four tracks, enough courses and lessons, each lesson a real handout with
the sections a trainer expects, and every course quiz drawable from the shipped banks."""
from __future__ import annotations

import tomllib
from collections import Counter
from pathlib import Path

import pytest

from trainer.banks import formats
from trainer.learning.content import lesson_title, missing_sections
from trainer.learning.models import TRACK_KEYS

ROOT = Path(__file__).resolve().parents[2]
COURSES = ROOT / "courses"
LESSONS = sorted(COURSES.glob("*/*/*.md"))
MIN_CHARS = 600


def test_four_tracks_twelve_courses_forty_lessons():
    assert {p.name for p in COURSES.iterdir() if (p / "track.toml").exists()} == set(TRACK_KEYS)
    assert len(list(COURSES.glob("*/*/course.toml"))) >= 12
    assert len(LESSONS) >= 40


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.relative_to(COURSES).as_posix())
def test_lesson_has_the_sections_and_length_of_a_handout(path):
    text = path.read_text(encoding="utf-8")
    assert missing_sections(text) == []
    assert lesson_title(text, "") != ""
    assert len("".join(text.split())) >= MIN_CHARS
    assert "<script" not in text.lower() and "](http" not in text


def test_every_course_quiz_can_be_drawn_from_the_shipped_banks():
    available: dict[str, Counter] = {}
    for path in (ROOT / "question_banks").glob("*.gift"):
        result = formats.parse_file(path.read_bytes(), path.name, "gift")
        available[path.stem] = Counter(q.category_path[0] for q in result.questions)
    for path in COURSES.glob("*/*/course.toml"):
        spec = tomllib.loads(path.read_text(encoding="utf-8"))
        if "quiz" not in spec:  # an assessment course (its requirement is a form, no quiz)
            continue
        quiz = spec["quiz"]
        assert 10 * 60 <= quiz["time_limit_minutes"] * 60 <= 20 * 60
        for rule in quiz["rules"]:
            counts = available[rule["bank"]]
            have = counts[rule["category"]] if rule.get("category") else sum(counts.values())
            assert have >= rule["count"], (path, rule)
