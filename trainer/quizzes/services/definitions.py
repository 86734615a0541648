"""Quiz definitions: who may manage and take a quiz, building it (settings, draw rules or a
fixed list, checked against the banks), per-person overrides and the deadlines they move,
assignments, and the review policy applied to an attempt."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select

from trainer.accounts.models import StaffMember
from trainer.banks.models import Category, Question, QuestionBank, QuestionTag
from trainer.banks.services import category_ids_under, check_health
from trainer.core.audit import record_event
from trainer.core.db import db
from trainer.core.errors import DomainError, Forbidden
from trainer.quizzes import draw as drawing
from trainer.quizzes import rules
from trainer.quizzes.models import (
    Attempt,
    DrawRule,
    FixedQuestion,
    Quiz,
    QuizAssignment,
    QuizOverride,
)

DEFAULT_GRACE_S = 30


# -- who may do what -----------------------------------------------------------------------------

def may_manage(actor: StaffMember, quiz: Quiz) -> bool:
    """Admins manage every quiz; trainers their own and the system's (course quizzes)."""
    if actor.has_role("admin"):
        return True
    return actor.has_role("trainer") and quiz.personal_for_id is None and \
        quiz.owner_id in (None, actor.id)


def check_may_manage(actor: StaffMember, quiz: Quiz) -> None:
    if not may_manage(actor, quiz):
        raise Forbidden("You may not manage this quiz.")


def may_read_results(actor: StaffMember, quiz: Quiz) -> bool:
    """Who manages a quiz reads its results; HR reads every quiz's results, read-only."""
    return may_manage(actor, quiz) or actor.has_role("hr")


def check_may_read_results(actor: StaffMember, quiz: Quiz) -> None:
    if not may_read_results(actor, quiz):
        raise Forbidden("You may not read this quiz's results.")


def is_assigned(person: StaffMember, quiz: Quiz) -> bool:
    if quiz.personal_for_id is not None:
        return quiz.personal_for_id == person.id
    if quiz.open_to_all:
        return True
    return db.session.get(QuizAssignment, (quiz.id, person.id)) is not None


def get_override(quiz: Quiz, staff_id: int) -> QuizOverride | None:
    return db.session.get(QuizOverride, (quiz.id, staff_id))


def window(quiz: Quiz, override: QuizOverride | None) -> tuple[datetime | None, datetime | None]:
    if override is None:
        return quiz.open_at, quiz.close_at
    return (override.open_at or quiz.open_at, override.close_at or quiz.close_at)


# -- building -----------------------------------------------------------------------------------

@dataclass
class RuleSpec:
    bank_id: int
    count: int
    points: Decimal = Decimal(1)
    category_id: int | None = None
    tag: str = ""
    difficulty: int | None = None
    qtype: str = ""


@dataclass
class QuizSettings:
    title: str
    description: str = ""
    mode: str = "exam"
    time_limit_s: int | None = None
    open_at: datetime | None = None
    close_at: datetime | None = None
    pass_mark: Decimal = Decimal(60)
    attempts_allowed: int | None = None
    grading: str = "highest"
    delay_s: int = 0
    shuffle_questions: bool = True
    shuffle_choices: bool = True
    layout: str = "all"
    navigation: str = "free"
    all_or_nothing: bool = False
    review_what: str = "full"
    review_when: str = "immediately"
    open_to_all: bool = False


def candidates_for(rule: RuleSpec | DrawRule) -> list[drawing.Candidate]:
    """Current, non-retired questions a rule may draw."""
    query = select(Question.id, Question.lineage_id).where(
        Question.bank_id == rule.bank_id, Question.is_current.is_(True),
        Question.retired.is_(False))
    if rule.category_id:
        category = db.session.get(Category, rule.category_id)
        if category is None:
            return []
        query = query.where(Question.category_id.in_(category_ids_under(category)))
    if rule.tag:
        query = query.where(Question.id.in_(
            select(QuestionTag.question_id).where(QuestionTag.tag == rule.tag)))
    if rule.difficulty:
        query = query.where(Question.difficulty == rule.difficulty)
    if rule.qtype:
        query = query.where(Question.qtype == rule.qtype)
    return [drawing.Candidate(qid, lid) for qid, lid in db.session.execute(query)]


def candidates_for_rules(rules_: list[DrawRule]) -> list[list[drawing.Candidate]]:
    """`candidates_for` each rule; rules that take a whole bank share one query (an exam drawn
    from six banks cost six queries per start)."""
    plain = {r.bank_id for r in rules_
             if not (r.category_id or r.tag or r.difficulty or r.qtype)}
    by_bank: dict[int, list[drawing.Candidate]] = {bank: [] for bank in plain}
    if plain:
        for qid, lid, bank in db.session.execute(
                select(Question.id, Question.lineage_id, Question.bank_id).where(
                    Question.bank_id.in_(plain), Question.is_current.is_(True),
                    Question.retired.is_(False))):
            by_bank[bank].append(drawing.Candidate(qid, lid))
    return [list(by_bank[r.bank_id]) if r.bank_id in plain and not (
        r.category_id or r.tag or r.difficulty or r.qtype) else candidates_for(r)
        for r in rules_]


def describe_rule(rule: RuleSpec | DrawRule) -> str:
    bank = db.session.get(QuestionBank, rule.bank_id)
    parts = [bank.name if bank else str(rule.bank_id)]
    if rule.category_id:
        category = db.session.get(Category, rule.category_id)
        parts.append(category.path if category else "?")
    if rule.tag:
        parts.append(f"#{rule.tag}")
    if rule.difficulty:
        parts.append(f"难度{rule.difficulty}")
    if rule.qtype:
        parts.append(rule.qtype)
    return " / ".join(parts)


def check_rules(rule_specs: list[RuleSpec]) -> None:
    """Refuse rules the banks cannot fill, naming the shortfall (at save time, not at start)."""
    needs = [drawing.RuleNeed(candidates_for(r), r.count, r.points) for r in rule_specs]
    problems = drawing.check_fill(needs)
    if problems:
        first = problems[0]
        raise DomainError("Rule %(n)d (%(rule)s) needs %(need)d questions but only %(have)d "
                          "can be drawn.", n=first.rule_index + 1,
                          rule=describe_rule(rule_specs[first.rule_index]),
                          need=first.needed, have=first.available)


@dataclass
class BankWarning:
    """A failing bank a quiz draws from: the draw rules (numbered from 1) that draw from it,
    whether fixed questions come from it, and the health rules it fails."""

    bank: QuestionBank
    rules: list[int]
    fixed: bool
    failed: list[str]


def failing_banks(rule_bank_ids: list[int],
                  fixed_lineages: list[int] | None = None) -> list[BankWarning]:
    """The banks a quiz draws from that fail the bank health check (banks.health: the
    bank-level rules only, so no near-duplicate search), in the order the quiz uses them.
    Advice for the trainer: a failing bank does not stop a quiz from being saved."""
    fixed_banks: set[int] = set()
    if fixed_lineages:
        fixed_banks = set(db.session.scalars(select(Question.bank_id).where(
            Question.lineage_id.in_(fixed_lineages), Question.is_current.is_(True)).distinct()))
    order = list(dict.fromkeys([b for b in rule_bank_ids if b] + sorted(fixed_banks)))
    reports = check_health(order)
    banks = {b.id: b for b in db.session.scalars(select(QuestionBank).where(
        QuestionBank.id.in_(order)))} if order else {}
    return [BankWarning(banks[bank_id],
                        [n for n, b in enumerate(rule_bank_ids, start=1) if b == bank_id],
                        bank_id in fixed_banks, reports[bank_id].failed_rules)
            for bank_id in order if bank_id in banks and not reports[bank_id].passed]


def _validate_settings(s: QuizSettings) -> None:
    if not s.title.strip():
        raise DomainError("The quiz needs a title.")
    if s.time_limit_s is not None and not 60 <= s.time_limit_s <= 24 * 3600:
        raise DomainError("The time limit must be between 1 minute and 24 hours.")
    if not Decimal(0) <= s.pass_mark <= Decimal(100):
        raise DomainError("The pass mark must be between 0 and 100 %.")
    if s.attempts_allowed is not None and s.attempts_allowed < 1:
        raise DomainError("Allow at least one attempt, or leave it empty for no limit.")
    if s.open_at and s.close_at and s.close_at <= s.open_at:
        raise DomainError("The quiz must close after it opens.")
    if s.delay_s < 0:
        raise DomainError("The delay between attempts cannot be negative.")


def save_quiz(actor: StaffMember | None, quiz: Quiz | None, settings: QuizSettings, *,
              rule_specs: list[RuleSpec] | None = None, fixed: list[tuple[int, Decimal]] | None
              = None, now: datetime, personal_for: StaffMember | None = None) -> Quiz:
    """Create or change a quiz. Rules are checked against the banks; changing the time limit or
    the close time recomputes the deadlines of attempts in progress (audited)."""
    _validate_settings(settings)
    if quiz is not None and actor is not None:
        check_may_manage(actor, quiz)
    if fixed is None:
        if not rule_specs:
            raise DomainError("Add at least one draw rule.")
        check_rules(rule_specs)
    elif not fixed:
        raise DomainError("Choose at least one question.")
    created = quiz is None
    if quiz is None:
        quiz = Quiz(created_at=now, owner_id=actor.id if actor and personal_for is None else None,
                    personal_for_id=personal_for.id if personal_for else None)
        db.session.add(quiz)
    timing_before = (quiz.time_limit_s, quiz.close_at)
    for name, value in settings.__dict__.items():
        setattr(quiz, name, value.strip() if isinstance(value, str) and name == "title" else value)
    quiz.updated_at = now
    quiz.fixed_list = fixed is not None
    quiz.rules = [DrawRule(position=i, bank_id=r.bank_id, category_id=r.category_id,
                           tag=r.tag, difficulty=r.difficulty, qtype=r.qtype, count=r.count,
                           points=r.points) for i, r in enumerate(rule_specs or [])]
    quiz.fixed = [FixedQuestion(lineage_id=lineage, position=i, points=points)
                  for i, (lineage, points) in enumerate(fixed or [])]
    db.session.flush()
    record_event(actor.id if actor else None, "quiz.created" if created else "quiz.updated",
                 "quiz", quiz.id, now=now, details={"title": quiz.title})
    if not created and timing_before != (quiz.time_limit_s, quiz.close_at):
        recompute_deadlines(actor, quiz, now=now)
    return quiz


def set_override(actor: StaffMember, quiz: Quiz, staff: StaffMember, *, extra_time_s: int,
                 extra_attempts: int, open_at: datetime | None, close_at: datetime | None,
                 now: datetime) -> QuizOverride:
    """Extra time, attempts or other dates for one person; their attempt in progress follows."""
    check_may_manage(actor, quiz)
    if extra_time_s < 0 or extra_attempts < 0:
        raise DomainError("Extra time and attempts cannot be negative.")
    if open_at and close_at and close_at <= open_at:
        raise DomainError("The quiz must close after it opens.")
    override = get_override(quiz, staff.id)
    if override is None:
        override = QuizOverride(quiz_id=quiz.id, staff_id=staff.id, updated_at=now)
        db.session.add(override)
    override.extra_time_s, override.extra_attempts = extra_time_s, extra_attempts
    override.open_at, override.close_at, override.updated_at = open_at, close_at, now
    db.session.flush()
    record_event(actor.id, "quiz.override_set", "quiz", quiz.id, now=now,
                 details={"staff": staff.id, "extra_time_s": extra_time_s,
                          "extra_attempts": extra_attempts})
    recompute_deadlines(actor, quiz, now=now, staff_id=staff.id)
    return override


def recompute_deadlines(actor: StaffMember | None, quiz: Quiz, *, now: datetime,
                        staff_id: int | None = None) -> int:
    """Apply the quiz's current limit, close time and overrides to attempts in progress."""
    query = select(Attempt).where(Attempt.quiz_id == quiz.id, Attempt.state == "in_progress")
    if staff_id is not None:
        query = query.where(Attempt.staff_id == staff_id)
    changed = 0
    for attempt in db.session.scalars(query):
        override = get_override(quiz, attempt.staff_id)
        _open, close_at = window(quiz, override)
        deadline = rules.deadline_for(attempt.started_at, quiz.time_limit_s,
                                      override.extra_time_s if override else 0, close_at)
        if deadline != attempt.deadline_at:
            record_event(actor.id if actor else None, "attempt.deadline_changed", "attempt",
                         attempt.id, now=now, details={
                             "from": attempt.deadline_at.isoformat() if attempt.deadline_at
                             else None,
                             "to": deadline.isoformat() if deadline else None})
            attempt.deadline_at = deadline
            changed += 1
    db.session.flush()
    return changed


def assign_quiz(actor: StaffMember, quiz: Quiz, staff_ids: list[int], *, now: datetime) -> int:
    check_may_manage(actor, quiz)
    added = 0
    for staff_id in set(staff_ids):
        if db.session.get(QuizAssignment, (quiz.id, staff_id)) is None:
            db.session.add(QuizAssignment(quiz_id=quiz.id, staff_id=staff_id, assigned_at=now))
            added += 1
    db.session.flush()
    record_event(actor.id, "quiz.assigned", "quiz", quiz.id, now=now,
                 details={"staff": sorted(set(staff_ids))})
    return added


# -- the review policy --------------------------------------------------------------------------

def visibility(attempt: Attempt, *, now: datetime) -> rules.ReviewVisibility:
    quiz = attempt.quiz
    if quiz.mode == "practice":
        return rules.review_visibility("full", "immediately", None, now, attempt.finished)
    _open, close_at = window(quiz, get_override(quiz, attempt.staff_id))
    return rules.review_visibility(quiz.review_what, quiz.review_when, close_at, now,
                                   attempt.finished)
