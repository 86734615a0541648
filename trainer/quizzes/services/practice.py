"""Practice: locking an answer to see its key and feedback, the mistakes notebook (错题本), and
a practice quiz built from it."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import and_, select

from trainer.accounts.models import StaffMember
from trainer.banks.models import Question
from trainer.core.db import db
from trainer.core.errors import DomainError, Forbidden, NotFound
from trainer.quizzes import rules
from trainer.quizzes.models import Attempt, AttemptItem, MistakeEntry, Quiz
from trainer.quizzes.services.attempts import in_progress, start_attempt
from trainer.quizzes.services.definitions import DEFAULT_GRACE_S, QuizSettings, save_quiz
from trainer.quizzes.services.errors import MOVED_ON, AttemptClosed, QuestionClosed
from trainer.quizzes.services.finishing import grade_item, note_answers, submit_attempt


def lock_answer(person: StaffMember, attempt: Attempt, position: int, *, now: datetime,
                grace_s: int = DEFAULT_GRACE_S) -> AttemptItem:
    """Practice: lock an answer; its mark, feedback and key become visible at once."""
    if attempt.staff_id != person.id:
        raise Forbidden("This is not your attempt.")
    if attempt.quiz.mode != "practice":
        raise DomainError("Answers are locked only in practice.")
    if attempt.state != "in_progress" or not rules.accepts_answers(attempt.deadline_at, now,
                                                                   grace_s):
        raise AttemptClosed("This attempt is already submitted.")
    item = next((i for i in attempt.items if i.position == position), None)
    if item is None:
        raise NotFound("No such question in this attempt.")
    if item.locked:
        return item
    if position < attempt.open_from:
        raise QuestionClosed(MOVED_ON, n=position + 1)
    item.locked = True
    grade_item(item, attempt.quiz.all_or_nothing)
    _note_answer(person.id, item, practice=True, now=now)
    db.session.flush()
    return item


def _note_answer(staff_id: int, item: AttemptItem, *, practice: bool, now: datetime) -> None:
    note_answers(staff_id, [item], practice=practice, now=now)


def notebook(person: StaffMember) -> list[tuple[MistakeEntry, Question]]:
    rows = db.session.execute(
        select(MistakeEntry, Question)
        .join(Question, and_(Question.lineage_id == MistakeEntry.lineage_id,
                             Question.is_current.is_(True)))
        .where(MistakeEntry.staff_id == person.id, MistakeEntry.cleared_at.is_(None))
        .order_by(MistakeEntry.last_wrong_at.desc())).all()
    return [(entry, question) for entry, question in rows]


def start_mistakes_practice(person: StaffMember, *, now: datetime,
                            limit: int = 20) -> Attempt:
    """A practice quiz built from the person's notebook (练习错题)."""
    entries = [(e, q) for e, q in notebook(person) if not q.retired][:limit]
    if not entries:
        raise DomainError("Your mistakes notebook is empty.")
    quiz = db.session.scalar(select(Quiz).where(Quiz.personal_for_id == person.id))
    settings = QuizSettings(title="练习错题", mode="practice", attempts_allowed=None,
                            shuffle_questions=True, shuffle_choices=True, review_what="full")
    existing = in_progress(person.id, quiz.id) if quiz else None
    if existing is not None:
        submit_attempt(person, existing, now=now)
    quiz = save_quiz(None, quiz, settings, fixed=[(e.lineage_id, Decimal(1)) for e, _ in entries],
                     now=now, personal_for=person)
    return start_attempt(person, quiz, now=now)
