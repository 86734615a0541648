"""Teach to the test (learning.knowledge), pure: reading a course's knowledge points and finding
the draw rules no lesson covers."""
from __future__ import annotations

from trainer.learning.knowledge import Point, parse_point, read_points, uncovered_rules

LESSONS = ("01-first", "02-second")


def spec(points):
    return {"knowledge_points": points}


def test_a_point_covers_itself_and_what_sits_under_it_not_its_parent_or_a_sibling():
    point = Point("philosophy", "服务理念/服务宗旨")
    assert point.covers("philosophy", "服务理念/服务宗旨")
    assert point.covers("philosophy", "服务理念/服务宗旨/细节")
    assert not point.covers("philosophy", "服务理念")            # the parent holds more
    assert not point.covers("philosophy", "服务理念/服务宗旨二")  # a prefix is not a path
    assert not point.covers("philosophy", "服务理念/理念演变")
    assert not point.covers("ethics", "服务理念/服务宗旨")
    whole = Point("philosophy", "")
    assert whole.covers("philosophy", "") and whole.covers("philosophy", "任何/路径")


def test_points_are_read_by_lesson_and_malformed_ones_named():
    points = read_points(spec({
        "01-first": ["philosophy:服务理念/服务宗旨", " philosophy : 客户价值 "],
        "02-second": ["no-colon", "a:b:c", "bank:路径//空"],
        "03-missing": ["philosophy:服务理念"],
    }), LESSONS)
    assert points.by_lesson["01-first"] == [Point("philosophy", "服务理念/服务宗旨"),
                                            Point("philosophy", "客户价值")]
    assert points.by_lesson["02-second"] == []
    assert len(points.errors) == 4
    assert any("'03-missing'" in e and "does not have" in e for e in points.errors)
    assert any("'no-colon'" in e for e in points.errors)
    assert parse_point("philosophy:") == Point("philosophy", "")
    assert parse_point(":路径") is None and parse_point(3) is None


def test_a_table_of_the_wrong_shape_is_an_error_not_a_crash():
    assert read_points(spec(["philosophy:x"]), LESSONS).errors
    assert read_points(spec({"01-first": "philosophy:x"}), LESSONS).errors
    assert read_points(spec({"01-first": []}), LESSONS).errors
    assert read_points({}, LESSONS).by_lesson == {} and read_points({}, LESSONS).errors == []


def test_rules_drawing_what_no_lesson_teaches_are_reported():
    points = read_points(spec({"01-first": ["philosophy:服务理念/服务宗旨"],
                               "02-second": ["satisfaction:"]}), LESSONS)
    rules = [{"bank": "philosophy", "category": "服务理念/服务宗旨", "count": 2},
             {"bank": "philosophy", "category": "服务理念", "count": 2},
             {"bank": "philosophy", "count": 2},
             {"bank": "satisfaction", "category": "客户流失", "count": 2},
             {"bank": "satisfaction", "count": 2}]
    problems = uncovered_rules(rules, points)
    assert problems == [
        "the quiz draws philosophy:服务理念, which no lesson's knowledge_points declare",
        "the quiz draws the whole bank philosophy, which no lesson's knowledge_points declare"]
    assert points.lessons_teaching("satisfaction", "客户流失") == ["02-second"]
    assert points.lessons_teaching("philosophy", "服务理念") == []
