"""Loading `courses/` (one folder per track, one per course, a course.toml and one Markdown file
per lesson) idempotently: changed lessons get a new revision, removed ones are retired."""
from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select

from trainer.banks.models import Category, QuestionBank
from trainer.core.audit import record_event
from trainer.core.db import db
from trainer.core.markdown import external_resources
from trainer.learning import requirements as reqs
from trainer.learning.knowledge import read_points, uncovered_rules
from trainer.learning.models import (
    TRACK_KEYS,
    Course,
    CourseRequirement,
    Lesson,
    LessonRevision,
    PostTraining,
    Track,
)
from trainer.learning.services import ensure_course_requirements, hours_categories
from trainer.quizzes import services as quizzes
from trainer.quizzes.models import Quiz

REQUIRED_SECTIONS = (("## 要点", "## 标准"), ("## 示例", "## 案例"), ("## 检查清单",))


@dataclass
class CourseSyncReport:
    tracks: int = 0
    courses: int = 0
    lessons_created: int = 0
    lessons_revised: int = 0
    lessons_retired: int = 0
    lessons_unchanged: int = 0
    conflicts: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (f"Courses: {self.tracks} tracks, {self.courses} courses; lessons "
                f"{self.lessons_created} created, {self.lessons_revised} revised, "
                f"{self.lessons_retired} retired, {self.lessons_unchanged} unchanged, "
                f"{len(self.conflicts)} conflicts, {len(self.errors)} errors")


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def lesson_title(text: str, fallback: str) -> str:
    for line in text.splitlines():
        if line.startswith("# "):
            return line[2:].strip()[:200]
    return fallback


def missing_sections(text: str) -> list[str]:
    lines = {line.strip() for line in text.splitlines()}
    return [" / ".join(options) for options in REQUIRED_SECTIONS
            if not any(option in lines for option in options)]


def _quiz_rules(spec: dict, where: str, report: CourseSyncReport) -> list[quizzes.RuleSpec]:
    specs = []
    for rule in spec.get("rules", []):
        bank = db.session.scalar(select(QuestionBank).where(QuestionBank.key == rule["bank"]))
        if bank is None:
            report.errors.append(f"{where}: no bank {rule['bank']}")
            continue
        category_id = None
        if rule.get("category"):
            category = db.session.scalar(select(Category).where(
                Category.bank_id == bank.id, Category.path == rule["category"]))
            if category is None:
                report.errors.append(f"{where}: bank {rule['bank']} has no {rule['category']}")
                continue
            category_id = category.id
        specs.append(quizzes.RuleSpec(bank.id, int(rule["count"]),
                                      Decimal(str(rule.get("points", 1))), category_id))
    return specs


def _teaches_what_it_tests(spec: dict, folder: Path, where: str,
                           report: CourseSyncReport) -> bool:
    """Whether the course's quiz draws only knowledge points its lessons declare, each a category
    its bank has (learning.knowledge). When not, the errors are reported and the quiz is left as
    it was: a quiz never starts drawing what no lesson teaches."""
    points = read_points(spec, (path.stem for path in folder.glob("*.md")))
    errors = list(points.errors)
    if not points.by_lesson and not errors:
        report.errors.append(f"{where}: the course has a quiz but no knowledge_points: declare "
                             "what each lesson teaches; the quiz is not changed")
        return False
    for point in points.points:
        bank = db.session.scalar(select(QuestionBank).where(QuestionBank.key == point.bank))
        if bank is None:
            errors.append(f"knowledge point {point}: no bank {point.bank}")
        elif point.path and db.session.scalar(select(Category.id).where(
                Category.bank_id == bank.id, Category.path == point.path)) is None:
            errors.append(f"knowledge point {point}: bank {point.bank} has no {point.path}")
    errors += uncovered_rules(spec["quiz"].get("rules", []), points)
    report.errors += [f"{where}: {error}; the quiz is not changed" for error in errors]
    return not errors


def _sync_quiz(course: Course, spec: dict, where: str, *, now: datetime,
               report: CourseSyncReport) -> None:
    rule_specs = _quiz_rules(spec, where, report)
    if not rule_specs:
        return
    settings = quizzes.QuizSettings(
        title=spec.get("title", course.title + " 测验"),
        description=spec.get("description", ""), mode="exam",
        time_limit_s=int(spec.get("time_limit_minutes", 15)) * 60,
        pass_mark=Decimal(str(spec.get("pass_mark", 60))),
        attempts_allowed=spec.get("attempts_allowed"), review_what="full")
    quiz = db.session.get(Quiz, course.quiz_id) if course.quiz_id else None
    try:
        quiz = quizzes.save_quiz(None, quiz, settings, rule_specs=rule_specs, now=now)
    except Exception as exc:  # noqa: BLE001 - reported per course, the rest still loads
        report.errors.append(f"{where}: quiz not saved: {exc}")
        return
    course.quiz_id = quiz.id


def _sync_hours(course: Course, spec: dict, where: str, report: CourseSyncReport) -> None:
    """`hours` (学时, halves allowed) and `category` (one of the settings' categories),
    credited to the learner when the course is completed."""
    try:
        hours = Decimal(str(spec.get("hours", 0)))
    except ArithmeticError:
        hours = Decimal(-1)
    if hours < 0 or hours > 200 or hours * 2 != int(hours * 2):
        report.errors.append(f"{where}: hours must be a number of half 学时 (0 to 200)")
        return
    category = str(spec.get("category", ""))
    if hours and category not in hours_categories():
        report.errors.append(f"{where}: category {category!r} is not one of "
                             f"{', '.join(hours_categories())}")
        return
    course.hours, course.hours_category = hours, category


def _sync_lessons(course: Course, folder: Path, root: Path, *, now: datetime,
                  report: CourseSyncReport) -> None:
    seen = set()
    for position, path in enumerate(sorted(folder.glob("*.md"))):
        key = path.relative_to(root).as_posix()
        seen.add(key)
        text = path.read_text(encoding="utf-8")
        # A picture from another site would tell that site who reads the lesson: refused, and
        # a lesson already loaded keeps its last revision.
        elsewhere = external_resources(text, "markdown")
        for url in elsewhere:
            report.errors.append(f"{key}: not loaded: {url} would be fetched from another site "
                                 "by every reader's browser (a link to it is fine)")
        if elsewhere:
            continue
        for section in missing_sections(text):
            report.errors.append(f"{key}: missing section {section}")
        digest = content_hash(text)
        lesson = db.session.scalar(select(Lesson).where(Lesson.path == key))
        if lesson is None:
            lesson = Lesson(course_id=course.id, path=key, title=lesson_title(text, path.stem),
                            position=position)
            lesson.revisions.append(LessonRevision(number=1, content=text, content_hash=digest,
                                                   revised_at=now, source="shipped"))
            db.session.add(lesson)
            report.lessons_created += 1
            continue
        lesson.course_id, lesson.position, lesson.retired = course.id, position, False
        current = lesson.current
        if current.content_hash == digest:
            report.lessons_unchanged += 1
        elif current.source == "web":
            report.conflicts.append(key)  # edited in the site since the last sync: kept
        else:
            lesson.title = lesson_title(text, path.stem)
            lesson.revisions.append(LessonRevision(number=current.number + 1, content=text,
                                                   content_hash=digest, revised_at=now,
                                                   source="shipped"))
            report.lessons_revised += 1
    for lesson in db.session.scalars(select(Lesson).where(Lesson.course_id == course.id,
                                                          Lesson.retired.is_(False))):
        if lesson.path not in seen:
            lesson.retired = True  # its reads stay: progress history is kept
            report.lessons_retired += 1


def _sync_declared_requirements(course: Course, spec: dict, where: str, *, now: datetime,
                                report: CourseSyncReport) -> None:
    """`[[requirements]]` of a course.toml: kinds a higher area registered that can find what
    a name refers to (`resolve`), e.g. kind = "assessment", ref = "duty-test" (a shipped form's
    key). Kept in step with the file; what trainers added in the site is left alone."""
    wanted: dict[str, int] = {}
    for item in spec.get("requirements", []):
        kind = reqs.KINDS.get(str(item.get("kind", "")))
        if kind is None or not hasattr(kind, "resolve"):
            report.errors.append(f"{where}: no requirement kind {item.get('kind')!r} can be "
                                 "declared in a course.toml")
            continue
        ref_id = kind.resolve(str(item.get("ref", "")))
        if ref_id is None:
            report.errors.append(f"{where}: {kind.key} {item.get('ref')!r} not found")
            continue
        wanted[kind.key] = ref_id
    declared = {r.kind: r for r in db.session.scalars(select(CourseRequirement).where(
        CourseRequirement.course_id == course.id)) if (r.params or {}).get("declared")}
    for key, ref_id in wanted.items():
        row = declared.pop(key, None)
        if row is None:
            db.session.add(CourseRequirement(course_id=course.id, kind=key, ref_id=ref_id,
                                             params={"declared": True}, position=90,
                                             created_at=now))
        elif row.ref_id != ref_id:
            row.ref_id = ref_id
    for row in declared.values():
        db.session.delete(row)
    db.session.flush()


def sync_courses(root: Path, *, now: datetime) -> CourseSyncReport:
    """Load every track folder of `courses/` (idempotent)."""
    report = CourseSyncReport()
    for position, key in enumerate(TRACK_KEYS):
        folder = root / key
        if not (folder / "track.toml").exists():
            continue
        meta = tomllib.loads((folder / "track.toml").read_text(encoding="utf-8"))
        track = db.session.scalar(select(Track).where(Track.key == key))
        if track is None:
            track = Track(key=key, title=meta["title"], position=position)
            db.session.add(track)
        track.title, track.title_en = meta["title"], meta.get("title_en", "")
        track.description, track.position = meta.get("description", ""), position
        track.issues_certificate = bool(meta.get("issues_certificate", True))
        db.session.flush()
        report.tracks += 1
        present = set()
        for course_position, course_dir in enumerate(sorted(p for p in folder.iterdir()
                                                            if (p / "course.toml").exists())):
            spec = tomllib.loads((course_dir / "course.toml").read_text(encoding="utf-8"))
            present.add(course_dir.name)
            course = db.session.scalar(select(Course).where(Course.track_id == track.id,
                                                            Course.key == course_dir.name))
            if course is None:
                course = Course(track_id=track.id, key=course_dir.name, title=spec["title"])
                db.session.add(course)
            course.title, course.title_en = spec["title"], spec.get("title_en", "")
            course.description = spec.get("description", "")
            course.position, course.retired = course_position, False
            course.extended = bool(spec.get("extended", False))
            where = f"{key}/{course_dir.name}"
            _sync_hours(course, spec, where, report)
            db.session.flush()
            quiz_digest = content_hash(repr(sorted(spec.get("quiz", {}).items())))
            if "quiz" in spec and _teaches_what_it_tests(spec, course_dir, where, report) and (
                    course.quiz_id is None or course.quiz_hash != quiz_digest):
                _sync_quiz(course, spec["quiz"], where, now=now, report=report)
                course.quiz_hash = quiz_digest
            _sync_lessons(course, course_dir, root, now=now, report=report)
            ensure_course_requirements(course, now=now)
            _sync_declared_requirements(course, spec, where, now=now, report=report)
            report.courses += 1
        for course in db.session.scalars(select(Course).where(Course.track_id == track.id,
                                                              Course.retired.is_(False))):
            if course.key not in present:
                course.retired = True
    db.session.flush()
    record_event(None, "content.courses_synced", "content", "courses", now=now,
                 details={"created": report.lessons_created, "revised": report.lessons_revised,
                          "retired": report.lessons_retired, "conflicts": report.conflicts})
    return report


@dataclass
class PostSyncReport:
    posts: int = 0
    retired: int = 0
    conflicts: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (f"Posts: {self.posts} with their own training, {self.retired} retired, "
                f"{len(self.errors)} errors")


POST_MIN_HOURS = Decimal(20)   # seed 004: at least 20 hours of training for a new post


def _post_errors(spec: dict, where: str, courses: dict[str, Course],
                 declared: dict[str, list[str]]) -> list[str]:
    """What is wrong with one post file: missing fields, courses not in the transfer track or
    not declaring the post, under 20 学时, a final assessment no course of the post asks for."""
    errors = []
    for key in ("name", "courses", "final_assessment", "internship_days", "due_days"):
        if not spec.get(key):
            errors.append(f"{where}: {key} is missing")
    if errors:
        return errors
    names = {str(spec["name"]), *map(str, spec.get("aliases", []))}
    for key in spec["courses"]:
        course = courses.get(key)
        if course is None:
            errors.append(f"{where}: no course {key!r} in courses/transfer")
        elif not names & set(declared.get(key, [])):
            errors.append(f"{where}: courses/transfer/{key} does not name the post in `posts`")
    hours = sum((courses[k].hours for k in spec["courses"] if k in courses), Decimal(0))
    if hours < POST_MIN_HOURS:
        errors.append(f"{where}: its courses give {hours} 学时, at least {POST_MIN_HOURS} are "
                      "needed")
    refs = {ref for key in spec["courses"] for ref in declared.get(f"{key}:assessments", [])}
    if spec["final_assessment"] not in refs:
        errors.append(f"{where}: no course of the post asks for the assessment "
                      f"{spec['final_assessment']!r}")
    if not 1 <= int(spec["internship_days"]) <= int(spec["due_days"]) <= 730:
        errors.append(f"{where}: internship_days and due_days must be 1 ≤ internship ≤ due ≤ 730")
    return errors


def sync_posts(root: Path, *, courses_root: Path, now: datetime) -> PostSyncReport:
    """Load `posts/*.toml` (idempotent): each post's courses (folders of courses/transfer, in
    order), internship length, due days and final assessment. A post whose file is wrong keeps
    what it had; a post whose file is gone is retired (enrolments keep their copied courses)."""
    report = PostSyncReport()
    courses = {c.key: c for c in db.session.scalars(select(Course).join(Track).where(
        Track.key == "transfer", Course.retired.is_(False)))}
    declared: dict[str, list[str]] = {}
    for key in courses:
        path = courses_root / "transfer" / key / "course.toml"
        if path.exists():
            spec = tomllib.loads(path.read_text(encoding="utf-8"))
            declared[key] = [str(p) for p in spec.get("posts", [])]
            declared[f"{key}:assessments"] = [str(r.get("ref", ""))
                                             for r in spec.get("requirements", [])
                                             if r.get("kind") == "assessment"]
    present = set()
    for path in sorted(root.glob("*.toml")) if root.exists() else []:
        key, where = path.stem, f"posts/{path.name}"
        try:
            spec = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as error:
            report.errors.append(f"{where}: {error}")
            present.add(key)
            continue
        present.add(key)
        errors = _post_errors(spec, where, courses, declared)
        if errors:
            report.errors.extend(errors)
            continue
        post = db.session.scalar(select(PostTraining).where(PostTraining.key == key))
        if post is None:
            post = PostTraining(key=key, name=str(spec["name"]), updated_at=now)
            db.session.add(post)
        post.name, post.aliases = str(spec["name"]), [str(a) for a in spec.get("aliases", [])]
        post.title_en, post.description = spec.get("title_en", ""), spec.get("description", "")
        post.internship_days, post.due_days = int(spec["internship_days"]), int(spec["due_days"])
        post.final_assessment = str(spec["final_assessment"])
        post.course_keys, post.retired, post.updated_at = list(spec["courses"]), False, now
        report.posts += 1
    for post in db.session.scalars(select(PostTraining).where(PostTraining.retired.is_(False))):
        if post.key not in present:
            post.retired = True
            report.retired += 1
    db.session.flush()
    record_event(None, "content.posts_synced", "content", "posts", now=now,
                 details={"count": report.posts, "retired": report.retired})
    return report
