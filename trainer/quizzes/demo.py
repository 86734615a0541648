"""A standalone timed exam from the shipped banks, assigned to the demo learners, so the whole
flow can be tried before tracks exist."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import select

from trainer.accounts.models import StaffMember, StaffRole
from trainer.banks.models import Category, QuestionBank
from trainer.core.db import db
from trainer.quizzes.models import Quiz
from trainer.quizzes.services import QuizSettings, RuleSpec, assign_quiz, save_quiz

DEMO_TITLE = "服务规范与投诉处理 模拟考试"


def _all(query) -> list:
    return list(db.session.scalars(query))


def create_demo_exam(*, now: datetime) -> Quiz | None:
    """Idempotent: does nothing when the demo exam exists or the shipped banks are missing."""
    if db.session.scalar(select(Quiz).where(Quiz.title == DEMO_TITLE)) is not None:
        return None
    banks = {b.key: b for b in _all(select(QuestionBank).where(
        QuestionBank.key.in_(["etiquette", "complaints", "ethics"])))}
    if len(banks) < 3:
        return None

    def category(bank_key: str, path: str) -> int | None:
        found = db.session.scalar(select(Category).where(Category.bank_id == banks[bank_key].id,
                                                 Category.path == path))
        return found.id if found else None

    rules = [RuleSpec(banks["etiquette"].id, 4, Decimal(5), category("etiquette", "服务七声")),
             RuleSpec(banks["etiquette"].id, 4, Decimal(5), category("etiquette", "柜台服务")),
             RuleSpec(banks["complaints"].id, 6, Decimal(5)),
             RuleSpec(banks["ethics"].id, 6, Decimal(5))]
    quiz = save_quiz(None, None, QuizSettings(
        title=DEMO_TITLE, description="20 道题，限时 20 分钟，60 分及格，可作答 3 次。",
        mode="exam", time_limit_s=20 * 60, pass_mark=Decimal(60), attempts_allowed=3,
        review_what="full"), rule_specs=rules, now=now)
    learners = _all(select(StaffMember.id).join(StaffRole).where(
        StaffRole.role == "learner"))
    trainer = db.session.scalar(select(StaffMember).join(StaffRole).where(StaffRole.role == "admin"))
    if trainer is not None:
        assign_quiz(trainer, quiz, list(learners), now=now)
    return quiz

