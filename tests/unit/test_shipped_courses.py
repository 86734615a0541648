"""The shipped courses: five tracks, enough courses and lessons, each lesson a real handout with
the sections a trainer expects, every course quiz drawable from the shipped banks, and drawing
only the knowledge points its own lessons teach (teach to the test)."""
from __future__ import annotations

import tomllib
from collections import Counter
from pathlib import Path

import pytest

from trainer.banks import formats
from trainer.learning.content import lesson_title, missing_sections
from trainer.learning.knowledge import read_points, uncovered_rules
from trainer.learning.models import TRACK_KEYS

ROOT = Path(__file__).resolve().parents[2]
COURSES = ROOT / "courses"
LESSONS = sorted(COURSES.glob("*/*/*.md"))
MIN_CHARS = 600


def test_six_tracks_twenty_courses_seventy_five_lessons():
    assert {p.name for p in COURSES.iterdir() if (p / "track.toml").exists()} == set(TRACK_KEYS)
    assert len(list(COURSES.glob("*/*/course.toml"))) >= 20
    assert len(LESSONS) >= 75


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.relative_to(COURSES).as_posix())
def test_lesson_has_the_sections_and_length_of_a_handout(path):
    text = path.read_text(encoding="utf-8")
    assert missing_sections(text) == []
    assert lesson_title(text, "") != ""
    assert len("".join(text.split())) >= MIN_CHARS
    assert "<script" not in text.lower() and "](http" not in text


COURSE_FILES = sorted(COURSES.glob("*/*/course.toml"))
# The assessment courses (上岗测试, 复职鉴定) have no quiz: a practical assessment instead.
QUIZ_COURSES = [p for p in COURSE_FILES if "quiz" in tomllib.loads(p.read_text(encoding="utf-8"))]


def bank_paths() -> dict[str, Counter]:
    """Per shipped bank, its questions counted by full category path."""
    available: dict[str, Counter] = {}
    for path in (ROOT / "question_banks").glob("*.gift"):
        result = formats.parse_file(path.read_bytes(), path.name, "gift")
        available[path.stem] = Counter("/".join(q.category_path) for q in result.questions)
    return available


def under(counts: Counter, path: str) -> int:
    return sum(n for p, n in counts.items() if not path or p == path or p.startswith(path + "/"))


def test_every_course_quiz_can_be_drawn_from_the_shipped_banks():
    available = bank_paths()
    for path in COURSE_FILES:
        spec = tomllib.loads(path.read_text(encoding="utf-8"))
        if "quiz" not in spec:  # an assessment course (its requirement is a form, no quiz)
            continue
        quiz = spec["quiz"]
        assert 10 * 60 <= quiz["time_limit_minutes"] * 60 <= 20 * 60
        for rule in quiz["rules"]:
            have = under(available[rule["bank"]], rule.get("category", ""))
            assert have >= rule["count"], (path, rule)


@pytest.mark.parametrize("path", QUIZ_COURSES,
                         ids=lambda p: p.parent.relative_to(COURSES).as_posix())
def test_each_course_quiz_draws_only_what_its_lessons_teach(path):
    spec = tomllib.loads(path.read_text(encoding="utf-8"))
    points = read_points(spec, (p.stem for p in path.parent.glob("*.md")))
    assert points.errors == []
    assert points.by_lesson, "a course with a quiz declares its knowledge_points"
    available = bank_paths()
    for point in points.points:
        assert point.bank in available, point
        assert under(available[point.bank], point.path) > 0, f"{point} has no question"
    assert uncovered_rules(spec["quiz"]["rules"], points) == []
