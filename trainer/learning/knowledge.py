"""Teach to the test, pure: a course declares the knowledge points (知识点) its lessons teach, and
its quiz may draw only from them.

A course.toml says, lesson by lesson, which bank categories (a category is a knowledge point;
its path may have sub-points) the lesson teaches:

    [knowledge_points]
    "01-customer-first" = ["philosophy:服务理念/服务宗旨", "philosophy:服务理念/理念演变"]

A draw rule (bank, category) is covered when its category is a declared point of the same bank
or sits under one: drawing `服务理念` needs `服务理念` itself declared (the lessons teach all of
it), while drawing `服务理念/服务宗旨` is covered by either. A rule with no category draws the
whole bank and needs the bank declared whole (`"philosophy:"`).

Used by the course loader (which also checks each point names a category the bank has) and by
the test over the shipped courses; no app, no database."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Point:
    bank: str
    path: str  # "" for the whole bank

    def __str__(self) -> str:
        return f"{self.bank}:{self.path}"

    def covers(self, bank: str, path: str) -> bool:
        if bank != self.bank:
            return False
        return self.path == "" or path == self.path or path.startswith(self.path + "/")


@dataclass
class KnowledgePoints:
    by_lesson: dict[str, list[Point]]
    errors: list[str]

    @property
    def points(self) -> list[Point]:
        return sorted({p for points in self.by_lesson.values() for p in points})

    def lessons_teaching(self, bank: str, path: str) -> list[str]:
        return [lesson for lesson, points in self.by_lesson.items()
                if any(p.covers(bank, path) for p in points)]


def parse_point(text: object) -> Point | None:
    """ "bank:category/path" → Point; None when it is not of that shape."""
    if not isinstance(text, str) or text.count(":") != 1:
        return None
    bank, path = (part.strip() for part in text.split(":"))
    parts = path.split("/") if path else []
    if not bank or any(not part.strip() for part in parts):
        return None
    return Point(bank, "/".join(part.strip() for part in parts))


def read_points(spec: Mapping, lessons: Iterable[str]) -> KnowledgePoints:
    """The `knowledge_points` table of a course.toml, checked against the course's lesson names
    (file names without .md). Errors are plain sentences naming what is wrong."""
    lessons = set(lessons)
    table = spec.get("knowledge_points")
    result = KnowledgePoints({}, [])
    if table is None:
        return result
    if not isinstance(table, Mapping):
        result.errors.append("knowledge_points must be a table: lesson = [\"bank:category\", …]")
        return result
    for lesson, values in table.items():
        if lesson not in lessons:
            result.errors.append(f"knowledge_points names lesson {lesson!r}, which the course "
                                 "does not have")
            continue
        if not isinstance(values, list) or not values:
            result.errors.append(f"knowledge_points of {lesson!r} must be a non-empty list")
            continue
        points = []
        for value in values:
            point = parse_point(value)
            if point is None:
                result.errors.append(f"knowledge point {value!r} of {lesson!r} is not "
                                     "\"bank:category/path\"")
            else:
                points.append(point)
        result.by_lesson[lesson] = points
    return result


def uncovered_rules(rules: Iterable[Mapping], points: KnowledgePoints) -> list[str]:
    """The draw rules no declared point covers, each as a sentence."""
    declared = points.points
    problems = []
    for rule in rules:
        bank, path = str(rule.get("bank", "")), str(rule.get("category") or "")
        if not any(p.covers(bank, path) for p in declared):
            what = f"{bank}:{path}" if path else f"the whole bank {bank}"
            problems.append(f"the quiz draws {what}, which no lesson's knowledge_points "
                            "declare")
    return problems
