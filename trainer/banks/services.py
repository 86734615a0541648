"""Question banks: authoring, versioning, import staging, export and content sync.
Services flush, never commit; routes and commands commit once."""
from __future__ import annotations

import secrets
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Select, delete, func, insert, or_, select, update

from trainer.accounts.models import StaffMember
from trainer.banks import formats, health
from trainer.banks.formats import ParsedChoice, ParsedQuestion, ParseResult
from trainer.banks.formats.base import format_decimal
from trainer.banks.models import (
    Category,
    Choice,
    ImportStaging,
    Question,
    QuestionBank,
    QuestionTag,
)
from trainer.banks.rules import content_hash
from trainer.banks.settings import giveaway_words
from trainer.core.audit import record_event
from trainer.core.db import bulk_insert, db, reserve_ids
from trainer.core.errors import BraceDomainError, DomainError

STAGING_LIFETIME = timedelta(hours=2)
UNCATEGORISED = "未分类"


# -- banks and categories ---------------------------------------------------------------------

def create_bank(actor: StaffMember | None, *, name: str, description: str = "", now: datetime,
                key: str | None = None, shipped: bool = False) -> QuestionBank:
    """A new, empty bank. Web-created banks get a random key; shipped ones their file name."""
    name = name.strip()
    if not name:
        raise DomainError("The bank needs a name.")
    if len(name) > 120:
        raise DomainError("The bank name is longer than 120 characters.")
    bank = QuestionBank(key=key or f"bank-{secrets.token_hex(4)}", name=name,
                        description=description.strip(), shipped=shipped, created_at=now,
                        updated_at=now)
    db.session.add(bank)
    db.session.flush()
    record_event(actor.id if actor else None, "bank.created", "bank", bank.id, now=now,
                 details={"name": name})
    return bank


def update_bank(actor: StaffMember, bank: QuestionBank, *, name: str, description: str,
                now: datetime) -> None:
    if not name.strip():
        raise DomainError("The bank needs a name.")
    bank.name, bank.description, bank.updated_at = name.strip(), description.strip(), now
    record_event(actor.id, "bank.updated", "bank", bank.id, now=now, details={"name": name})
    db.session.flush()


def ensure_category(bank: QuestionBank, path: tuple[str, ...] | list[str]) -> Category:
    """The category at `path` in the bank, created with its parents when missing."""
    segments = [s.strip().replace("/", "／") for s in path if s.strip()] or [UNCATEGORISED]
    parent: Category | None = None
    for depth in range(1, len(segments) + 1):
        full = "/".join(segments[:depth])
        category = db.session.scalar(select(Category).where(Category.bank_id == bank.id,
                                                            Category.path == full))
        if category is None:
            category = Category(bank_id=bank.id, parent_id=parent.id if parent else None,
                                name=segments[depth - 1][:120], path=full)
            db.session.add(category)
            db.session.flush()
        parent = category
    assert parent is not None
    return parent


def category_ids_under(category: Category) -> list[int]:
    """The category and all its descendants: a draw or a filter on a topic includes subtopics."""
    return list(db.session.scalars(select(Category.id).where(
        Category.bank_id == category.bank_id,
        or_(Category.id == category.id, Category.path.startswith(category.path + "/")))))


# -- questions ----------------------------------------------------------------------------------

def _validate(parsed: ParsedQuestion) -> None:
    problems = formats.validate_question(parsed)
    if problems:
        message, params = problems[0]
        raise BraceDomainError(message, **params)


def _build(bank: QuestionBank, parsed: ParsedQuestion, category: Category, *, origin: str,
           actor_id: int | None, now: datetime, lineage_id: int | None, version: int,
           edited_in_site: bool) -> Question:
    question = Question(
        bank_id=bank.id, category_id=category.id, lineage_id=lineage_id, version=version,
        is_current=True, retired=False, id_number=parsed.id_number.strip()[:64],
        name=parsed.name.strip()[:255], qtype=parsed.qtype, stem=parsed.stem,
        text_format=parsed.text_format, explanation=parsed.explanation,
        difficulty=parsed.difficulty, default_points=parsed.default_points,
        tags=formats.base.dedupe(parsed.tags), blank_number=parsed.blank_number, origin=origin,
        content_hash=content_hash(parsed), edited_in_site=edited_in_site, created_at=now,
        created_by_id=actor_id)
    question.choices = [Choice(position=i, text=c.text, weight=c.weight, feedback=c.feedback,
                               keep_in_place=c.keep_in_place)
                        for i, c in enumerate(parsed.choices)]
    return question


def _save_new(questions: list[Question]) -> None:
    """Insert built questions in one flush (batched INSERTs), then their lineage and tag rows."""
    db.session.add_all(questions)
    db.session.flush()
    tags = []
    for question in questions:
        if question.lineage_id is None:
            question.lineage_id = question.id
        tags.extend({"question_id": question.id, "tag": tag[:64]} for tag in question.tags)
    if tags:
        db.session.execute(QuestionTag.__table__.insert(), tags)
    db.session.flush()


def _new_version(bank: QuestionBank, parsed: ParsedQuestion, *, origin: str, actor_id: int | None,
                 now: datetime, lineage_id: int | None, version: int,
                 edited_in_site: bool) -> Question:
    category = ensure_category(bank, parsed.category_path)
    question = _build(bank, parsed, category, origin=origin, actor_id=actor_id, now=now,
                      lineage_id=lineage_id, version=version, edited_in_site=edited_in_site)
    _save_new([question])
    return question


def create_question(actor: StaffMember | None, bank: QuestionBank, parsed: ParsedQuestion, *,
                    now: datetime, origin: str = "web") -> Question:
    """Add a question (first version) to a bank."""
    _validate(parsed)
    if parsed.id_number and find_by_id_number(bank, parsed.id_number) is not None:
        raise DomainError("The id number %(id)s is already used in this bank.",
                          id=parsed.id_number)
    question = _new_version(bank, parsed, origin=origin, actor_id=actor.id if actor else None,
                            now=now, lineage_id=None, version=1,
                            edited_in_site=origin == "web")
    if origin == "web":
        record_event(actor.id if actor else None, "question.created", "question",
                     question.lineage_id, now=now, details={"bank": bank.id})
    return question


def create_questions(actor: StaffMember | None, bank: QuestionBank,
                     questions: list[ParsedQuestion], *, now: datetime, origin: str) -> None:
    """Add many questions at once (imports, content sync): validated, then inserted with a few
    batched statements instead of one ORM flush per question (10,000 questions in seconds).
    The caller has already excluded id numbers the bank uses (plan_import)."""
    if not questions:
        return
    for parsed in questions:
        _validate(parsed)
    categories: dict[tuple[str, ...], int] = {}
    rows = []
    for parsed in questions:
        path = tuple(parsed.category_path)
        if path not in categories:
            categories[path] = ensure_category(bank, path).id
        rows.append({
            "bank_id": bank.id, "category_id": categories[path], "lineage_id": None,
            "version": 1, "is_current": True, "retired": False,
            "id_number": parsed.id_number.strip()[:64], "name": parsed.name.strip()[:255],
            "qtype": parsed.qtype, "stem": parsed.stem, "text_format": parsed.text_format,
            "explanation": parsed.explanation, "difficulty": parsed.difficulty,
            "default_points": parsed.default_points,
            "tags": formats.base.dedupe(parsed.tags), "blank_number": parsed.blank_number,
            "origin": origin,
            "content_hash": content_hash(parsed), "edited_in_site": origin == "web",
            "created_at": now, "created_by_id": actor.id if actor else None})
    ids = reserve_ids(Question.__table__, len(rows))
    if ids is not None:  # PostgreSQL: ids known up front, rows written with COPY
        for qid, row in zip(ids, rows):
            row["id"] = row["lineage_id"] = qid
        bulk_insert(Question.__table__, rows)
    else:
        ids = db.session.scalars(
            insert(Question).returning(Question.id, sort_by_parameter_order=True), rows).all()
        db.session.execute(update(Question).where(Question.bank_id == bank.id,
                                                  Question.lineage_id.is_(None))
                           .values(lineage_id=Question.id).execution_options(
                               synchronize_session=False))
    bulk_insert(Choice.__table__, [
        {"question_id": qid, "position": i, "text": c.text, "weight": c.weight,
         "feedback": c.feedback, "keep_in_place": c.keep_in_place}
        for qid, parsed in zip(ids, questions) for i, c in enumerate(parsed.choices)])
    bulk_insert(QuestionTag.__table__, [{"question_id": qid, "tag": tag[:64]}
                                        for qid, row in zip(ids, rows) for tag in row["tags"]])


def edit_question(actor: StaffMember | None, question: Question, parsed: ParsedQuestion, *,
                  now: datetime, origin: str = "web") -> Question:
    """Save changes as a new version; the old one stays, unchanged, for history."""
    if not question.is_current:
        raise DomainError("Only the current version of a question can be edited.")
    _validate(parsed)
    if parsed.id_number and parsed.id_number != question.id_number:
        other = find_by_id_number(question.bank, parsed.id_number)
        if other is not None and other.lineage_id != question.lineage_id:
            raise DomainError("The id number %(id)s is already used in this bank.",
                              id=parsed.id_number)
    if content_hash(parsed) == question.content_hash:
        return question
    question.is_current = False
    db.session.flush()
    new = _new_version(question.bank, parsed, origin=origin,
                       actor_id=actor.id if actor else None, now=now,
                       lineage_id=question.lineage_id, version=question.version + 1,
                       edited_in_site=origin == "web")
    new.retired = question.retired
    record_event(actor.id if actor else None, "question.edited", "question", new.lineage_id,
                 now=now, details={"version": new.version, "origin": origin})
    return new


def duplicate_question(actor: StaffMember, question: Question, *, now: datetime) -> Question:
    parsed = to_parsed(question)
    parsed.id_number = ""
    parsed.name = (parsed.name + "（副本）")[:255] if parsed.name else "副本"
    return create_question(actor, question.bank, parsed, now=now)


def set_retired(actor: StaffMember, question: Question, retired: bool, *, now: datetime) -> None:
    """Retire (hide from new quizzes, keep history) or bring a question back."""
    if question.retired == retired:
        return
    question.retired = retired
    question.edited_in_site = True
    record_event(actor.id, "question.retired" if retired else "question.restored", "question",
                 question.lineage_id, now=now)
    db.session.flush()


def move_questions(actor: StaffMember, bank: QuestionBank, question_ids: list[int],
                   category: Category, *, now: datetime) -> int:
    """Refile current questions under another category of the same bank."""
    if category.bank_id != bank.id:
        raise DomainError("The category belongs to another bank.")
    questions = db.session.scalars(select(Question).where(
        Question.id.in_(question_ids), Question.bank_id == bank.id,
        Question.is_current.is_(True))).all()
    for question in questions:
        question.category_id = category.id
        question.edited_in_site = True
    record_event(actor.id, "question.moved", "bank", bank.id, now=now,
                 details={"questions": [q.lineage_id for q in questions],
                          "category": category.path})
    db.session.flush()
    return len(questions)


def find_by_id_number(bank: QuestionBank, id_number: str) -> Question | None:
    return db.session.scalar(select(Question).where(
        Question.bank_id == bank.id, Question.id_number == id_number,
        Question.is_current.is_(True)))


def versions_of(question: Question) -> list[Question]:
    return list(db.session.scalars(select(Question).where(
        Question.lineage_id == question.lineage_id).order_by(Question.version.desc())))


def to_parsed(question: Question) -> ParsedQuestion:
    """The format-neutral shape of a stored question (for export, forms and snapshots)."""
    path = tuple(question.category.path.split("/")) if question.category else ()
    if path == (UNCATEGORISED,):
        path = ()
    return ParsedQuestion(
        qtype=question.qtype, stem=question.stem, name=question.name,
        text_format=question.text_format, explanation=question.explanation,
        category_path=path, tags=list(question.tags or []), id_number=question.id_number,
        difficulty=question.difficulty, blank_number=question.blank_number,
        default_points=Decimal(question.default_points).quantize(Decimal("0.01")).normalize()
        if question.default_points % 1 else Decimal(int(question.default_points)),
        choices=[ParsedChoice(text=c.text, weight=Decimal(c.weight).quantize(Decimal("0.00001")),
                              feedback=c.feedback, keep_in_place=c.keep_in_place)
                 for c in question.choices])


# -- browsing -----------------------------------------------------------------------------------

@dataclass
class BrowseFilter:
    category_id: int | None = None
    tag: str = ""
    difficulty: int | None = None
    qtype: str = ""
    text: str = ""
    show_retired: bool = False


def browse_query(bank: QuestionBank, flt: BrowseFilter) -> Select:
    """Current versions of a bank's questions matching the filter, in a stable order."""
    query = select(Question).where(Question.bank_id == bank.id, Question.is_current.is_(True))
    if not flt.show_retired:
        query = query.where(Question.retired.is_(False))
    if flt.category_id:
        category = db.session.get(Category, flt.category_id)
        if category is not None and category.bank_id == bank.id:
            query = query.where(Question.category_id.in_(category_ids_under(category)))
    if flt.tag:
        query = query.where(Question.id.in_(select(QuestionTag.question_id).where(
            QuestionTag.tag == flt.tag)))
    if flt.difficulty in (1, 2, 3):
        query = query.where(Question.difficulty == flt.difficulty)
    if flt.qtype in ("single", "multiple", "truefalse"):
        query = query.where(Question.qtype == flt.qtype)
    if flt.text:
        like = f"%{flt.text}%"
        query = query.where(or_(Question.stem.ilike(like), Question.name.ilike(like),
                                Question.id_number.ilike(like)))
    return query.order_by(Question.id_number, Question.id)


def bank_tags(bank: QuestionBank) -> list[str]:
    return list(db.session.scalars(
        select(QuestionTag.tag).join(Question, Question.id == QuestionTag.question_id)
        .where(Question.bank_id == bank.id, Question.is_current.is_(True),
               Question.retired.is_(False)).distinct().order_by(QuestionTag.tag)))


def bank_counts() -> dict[int, dict[str, int]]:
    """Per bank: current, non-retired questions by type."""
    rows = db.session.execute(
        select(Question.bank_id, Question.qtype, func.count())
        .where(Question.is_current.is_(True), Question.retired.is_(False))
        .group_by(Question.bank_id, Question.qtype)).all()
    counts: dict[int, dict[str, int]] = {}
    for bank_id, qtype, n in rows:
        counts.setdefault(bank_id, {"single": 0, "multiple": 0, "truefalse": 0})[qtype] = n
    return counts


def coverage(bank: QuestionBank) -> list[tuple[Category, dict[int, int]]]:
    """What a quiz can draw: per category (its own questions), counts per difficulty."""
    rows = db.session.execute(
        select(Question.category_id, Question.difficulty, func.count())
        .where(Question.bank_id == bank.id, Question.is_current.is_(True),
               Question.retired.is_(False))
        .group_by(Question.category_id, Question.difficulty)).all()
    counts: dict[int, dict[int, int]] = {}
    for category_id, difficulty, n in rows:
        counts.setdefault(category_id, {1: 0, 2: 0, 3: 0})[difficulty] = n
    return [(c, counts.get(c.id, {1: 0, 2: 0, 3: 0})) for c in bank.categories]


# -- the health check (题库体检) ----------------------------------------------------------------

def health_questions(bank_ids: Collection[int]) -> dict[int, list[health.QuestionData]]:
    """Per bank: its current, not-retired questions with their choices as the health check reads
    them, in two statements whatever the number of banks and questions."""
    if not bank_ids:
        return {}
    live = (Question.bank_id.in_(list(bank_ids)), Question.is_current.is_(True),
            Question.retired.is_(False))
    choices: dict[int, list[health.ChoiceData]] = defaultdict(list)
    for question_id, text, weight in db.session.execute(
            select(Choice.question_id, Choice.text, Choice.weight)
            .join(Question, Question.id == Choice.question_id).where(*live)
            .order_by(Choice.question_id, Choice.position)):
        choices[question_id].append(health.ChoiceData(text, weight))
    banks: dict[int, list[health.QuestionData]] = {bank_id: [] for bank_id in bank_ids}
    for row in db.session.execute(
            select(Question.id, Question.bank_id, Question.id_number, Question.qtype,
                   Question.stem, Question.text_format, Question.difficulty, Question.tags,
                   Category.path)
            .join(Category, Category.id == Question.category_id).where(*live)
            .order_by(Question.id_number, Question.id)):
        banks[row.bank_id].append(health.QuestionData(
            id=row.id, qtype=row.qtype, stem=row.stem, choices=tuple(choices[row.id]),
            id_number=row.id_number, tags=tuple(row.tags or ()), difficulty=row.difficulty,
            category=row.path, text_format=row.text_format))
    return banks


def check_health(bank_ids: Collection[int], *,
                 flags: bool = False) -> dict[int, health.HealthReport]:
    """The health check of several banks (the quiz builder asks only for the verdicts), with the
    centre's giveaway words."""
    words = giveaway_words()
    return {bank_id: health.check_bank(questions, giveaway_words=words, flags=flags)
            for bank_id, questions in health_questions(bank_ids).items()}


def bank_health(bank: QuestionBank) -> health.HealthReport:
    """The full health check of one bank: verdicts, shares and flagged questions."""
    return check_health([bank.id], flags=True)[bank.id]


# -- import -------------------------------------------------------------------------------------

def _existing_keys(bank: QuestionBank) -> set[str]:
    questions = db.session.scalars(select(Question).where(
        Question.bank_id == bank.id, Question.is_current.is_(True))).all()
    return {formats.question_key(to_parsed(q)) for q in questions}


def _question_to_json(q: ParsedQuestion) -> dict[str, Any]:
    return {"qtype": q.qtype, "stem": q.stem, "name": q.name, "text_format": q.text_format,
            "explanation": q.explanation, "category_path": list(q.category_path),
            "tags": list(q.tags), "id_number": q.id_number, "difficulty": q.difficulty,
            "default_points": format_decimal(q.default_points), "line": q.line,
            "blank_number": q.blank_number,
            "choices": [{"text": c.text, "weight": format_decimal(c.weight),
                         "feedback": c.feedback, "keep_in_place": c.keep_in_place}
                        for c in q.choices]}


def _question_from_json(data: dict[str, Any]) -> ParsedQuestion:
    return ParsedQuestion(
        qtype=data["qtype"], stem=data["stem"], name=data["name"],
        text_format=data["text_format"], explanation=data["explanation"],
        category_path=tuple(data["category_path"]), tags=list(data["tags"]),
        id_number=data["id_number"], difficulty=int(data["difficulty"]),
        default_points=Decimal(data["default_points"]), line=int(data["line"]),
        # Stagings written before missing-word questions were read have no blank.
        blank_number=data.get("blank_number"),
        choices=[ParsedChoice(c["text"], Decimal(c["weight"]), c["feedback"],
                              bool(c["keep_in_place"])) for c in data["choices"]])


@dataclass
class ImportPlan:
    """What confirming an upload would do."""

    result: ParseResult
    duplicates: list[int] = field(default_factory=list)  # indexes into result.questions
    id_clashes: list[int] = field(default_factory=list)

    @property
    def importable(self) -> list[ParsedQuestion]:
        skip = set(self.duplicates) | set(self.id_clashes)
        return [q for i, q in enumerate(self.result.questions) if i not in skip]


def plan_import(bank: QuestionBank, result: ParseResult) -> ImportPlan:
    """Flag questions already in the bank (same normalised stem and choices) or in the file twice,
    and id numbers the bank already uses for another question."""
    plan = ImportPlan(result)
    keys = _existing_keys(bank)
    used_ids = set(db.session.scalars(select(Question.id_number).where(
        Question.bank_id == bank.id, Question.is_current.is_(True), Question.id_number != "")))
    seen_ids: set[str] = set()
    for index, question in enumerate(result.questions):
        key = formats.question_key(question)
        if key in keys:
            plan.duplicates.append(index)
            continue
        keys.add(key)
        if question.id_number:
            if question.id_number in used_ids or question.id_number in seen_ids:
                plan.id_clashes.append(index)
                continue
            seen_ids.add(question.id_number)
    return plan


def stage_import(actor: StaffMember, bank: QuestionBank, data: bytes, filename: str, fmt: str,
                 *, now: datetime) -> ImportStaging:
    """Parse an upload and keep the result server-side until the trainer confirms it."""
    db.session.execute(delete(ImportStaging).where(ImportStaging.expires_at < now))
    result = formats.parse_file(data, filename, fmt)
    staging = ImportStaging(
        token=secrets.token_urlsafe(16), bank_id=bank.id, actor_id=actor.id,
        filename=filename[:255], format=result.format, created_at=now,
        expires_at=now + STAGING_LIFETIME,
        payload={"encoding": result.encoding,
                 "questions": [_question_to_json(q) for q in result.questions],
                 "issues": [{"line": i.line, "kind": i.kind, "message": i.message,
                             "params": {k: str(v) for k, v in i.params.items()},
                             "excerpt": i.excerpt} for i in result.issues]})
    db.session.add(staging)
    db.session.flush()
    return staging


def load_staging(actor: StaffMember, bank: QuestionBank, token: str, *,
                 now: datetime) -> tuple[ImportStaging, ImportPlan]:
    staging = db.session.get(ImportStaging, token)
    if staging is None or staging.bank_id != bank.id or staging.actor_id != actor.id:
        raise DomainError("This import is not waiting any more. Upload the file again.")
    if staging.expires_at < now:
        raise DomainError("This import waited too long and expired. Upload the file again.")
    payload = staging.payload
    result = ParseResult(format=staging.format, encoding=payload["encoding"],
                         questions=[_question_from_json(q) for q in payload["questions"]],
                         issues=[formats.ParseIssue(i["line"], i["kind"], i["message"],
                                                    i["params"], i["excerpt"])
                                 for i in payload["issues"]])
    return staging, plan_import(bank, result)


@dataclass
class ImportOutcome:
    imported: int
    duplicates: int
    id_clashes: int
    invalid: int


def import_questions(actor: StaffMember | None, bank: QuestionBank, plan: ImportPlan, *,
                     skip_invalid: bool, now: datetime, origin: str = "import",
                     source: str = "") -> ImportOutcome:
    """All or nothing: refuse when the file had errors, unless told to take the valid ones."""
    if plan.result.errors and not skip_invalid:
        raise DomainError("The file has %(n)d errors: nothing was imported. Fix them, or "
                          "choose to import only the valid questions.",
                          n=len(plan.result.errors))
    questions = plan.importable
    create_questions(actor, bank, questions, now=now, origin=origin)
    outcome = ImportOutcome(len(questions), len(plan.duplicates), len(plan.id_clashes),
                            len(plan.result.errors))
    record_event(actor.id if actor else None, "bank.imported", "bank", bank.id, now=now,
                 details={"source": source, "format": plan.result.format,
                          **outcome.__dict__})
    return outcome


def confirm_import(actor: StaffMember, bank: QuestionBank, token: str, *, skip_invalid: bool,
                   now: datetime) -> ImportOutcome:
    staging, plan = load_staging(actor, bank, token, now=now)
    outcome = import_questions(actor, bank, plan, skip_invalid=skip_invalid, now=now,
                               source=staging.filename)
    db.session.delete(staging)
    db.session.flush()
    return outcome


# -- export -------------------------------------------------------------------------------------

def current_questions(bank: QuestionBank, *, include_retired: bool = False) -> list[Question]:
    query = select(Question).where(Question.bank_id == bank.id, Question.is_current.is_(True))
    if not include_retired:
        query = query.where(Question.retired.is_(False))
    return list(db.session.scalars(query.order_by(Question.id)))


def export_bank(bank: QuestionBank, fmt: str) -> tuple[bytes, str, str]:
    """(file bytes, MIME type, file name) of the bank's current questions in a format."""
    if fmt not in formats.EXPORT_FORMATS:
        raise DomainError("Unknown export format %(fmt)s.", fmt=fmt)
    parsed = [to_parsed(q) for q in current_questions(bank)]
    data = formats.EXPORTERS[fmt](parsed, bank.name, bank.description)
    extension, mimetype = formats.EXPORT_FILE_TYPES[fmt]
    return data, mimetype, f"{bank.key}{extension}"


# -- content sync -------------------------------------------------------------------------------

@dataclass
class SyncReport:
    created: int = 0
    updated: int = 0
    retired: int = 0
    unchanged: int = 0
    conflicts: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    banks: int = 0

    def summary(self) -> str:
        return (f"Question banks: {self.banks} files; {self.created} questions created, "
                f"{self.updated} updated, {self.retired} retired, {self.unchanged} unchanged, "
                f"{len(self.conflicts)} conflicts, {len(self.errors)} errors")


def sync_bank_file(path: Path, *, now: datetime, report: SyncReport) -> None:
    """Load one shipped bank file: new questions created, changed ones versioned, removed ones
    retired; questions a trainer edited in the site since the last sync are left alone."""
    key = path.stem
    result = formats.parse_file(path.read_bytes(), path.name, "gift")
    if result.errors:
        for issue in result.errors:
            report.errors.append(f"{path.name}:{issue.line}: {issue.render()}")
        return
    bank = db.session.scalar(select(QuestionBank).where(QuestionBank.key == key))
    if bank is None:
        bank = create_bank(None, name=result.bank_name or key, description=result.bank_description,
                           now=now, key=key, shipped=True)
    elif (bank.name, bank.description) != (result.bank_name or bank.name,
                                            result.bank_description or bank.description):
        bank.name = result.bank_name or bank.name
        bank.description = result.bank_description or bank.description
        bank.updated_at = now
    report.banks += 1
    current = {q.id_number: q for q in current_questions(bank, include_retired=True)
               if q.origin == "shipped" or q.id_number}
    in_file: set[str] = set()
    new: list[ParsedQuestion] = []
    for parsed in result.questions:
        if not parsed.id_number:
            report.errors.append(f"{path.name}:{parsed.line}: a shipped question needs an [id:…]")
            continue
        in_file.add(parsed.id_number)
        existing = current.get(parsed.id_number)
        if existing is None:
            new.append(parsed)
            continue
        same = content_hash(parsed) == existing.content_hash
        if existing.edited_in_site:
            if same and not existing.retired:
                existing.edited_in_site = False
                report.unchanged += 1
            else:
                report.conflicts.append(f"{key}:{parsed.id_number}")
            continue
        if existing.retired:
            existing.retired = False
        if same:
            report.unchanged += 1
            continue
        edit_question(None, existing, parsed, now=now, origin="shipped")
        report.updated += 1
    for id_number, question in current.items():
        if id_number not in in_file and question.origin == "shipped" and not question.retired:
            if question.edited_in_site:
                report.conflicts.append(f"{key}:{id_number}")
                continue
            question.retired = True
            report.retired += 1
    create_questions(None, bank, new, now=now, origin="shipped")
    report.created += len(new)


def sync_banks(folder: Path, *, now: datetime) -> SyncReport:
    """Load every shipped bank (question_banks/*.gift) idempotently."""
    report = SyncReport()
    for path in sorted(folder.glob("*.gift")):
        sync_bank_file(path, now=now, report=report)
    record_event(None, "content.banks_synced", "content", "question_banks", now=now,
                 details={"created": report.created, "updated": report.updated,
                          "retired": report.retired, "conflicts": report.conflicts})
    return report
