"""Item analysis of exams: the graded attempts a quiz keeps (each person's, by its grading
method), read in a few set-based statements and handed to the pure `quizzes.statistics`; and one
question followed across every exam it appeared in. Reads only: nothing here writes."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from trainer.accounts.models import StaffMember
from trainer.banks.models import Question
from trainer.core.db import db
from trainer.quizzes import statistics as stats
from trainer.quizzes.models import Attempt, AttemptItem, Quiz
from trainer.quizzes.services.definitions import may_read_results
from trainer.quizzes.services.grades import kept_attempts


@dataclass(frozen=True)
class CurrentQuestion:
    """The bank's current version of a question (lineage): what an edit starts from."""

    question_id: int
    id_number: str
    name: str
    retired: bool


@dataclass
class QuizStatistics:
    quiz: Quiz
    figures: stats.QuizFigures
    # lineage → its current version in the bank (absent when the bank no longer has it)
    current: dict[int, CurrentQuestion] = field(default_factory=dict)


@dataclass
class QuestionAcrossQuizzes:
    lineage_id: int
    # (quiz, the question's figures in it), most answered first
    rows: list[tuple[Quiz, stats.ItemFigures]]
    current: CurrentQuestion | None
    # exams holding this question whose results the viewer may not read
    hidden: int = 0

    @property
    def answers(self) -> int:
        return sum(item.n for _quiz, item in self.rows)

    @property
    def facility(self) -> float | None:
        """Over every answer pooled (each quiz weighing by its answers)."""
        pooled = [(item.facility, item.n) for _quiz, item in self.rows
                  if item.facility is not None]
        total = sum(n for _f, n in pooled)
        return sum(f * n for f, n in pooled) / total if total else None


def _float(value: Decimal | None) -> float:
    return float(value) if value is not None else 0.0


def _question_shown(question_id: int, snapshot: dict[str, Any]) -> stats.QuestionShown:
    return stats.QuestionShown(
        question_id=question_id, qtype=snapshot.get("qtype", ""), stem=snapshot.get("stem", ""),
        name=snapshot.get("name", ""), version=int(snapshot.get("version") or 1),
        choices=tuple(stats.Choice(c.get("text", ""), Decimal(str(c.get("weight", 0))) > 0)
                      for c in snapshot.get("choices", [])))


def _snapshots(items_filter) -> dict[int, stats.QuestionShown]:
    """One snapshot per question version among the items the filter selects: every item of a
    version holds the same choices, so one row is read per version, not one per answer."""
    first = select(func.min(AttemptItem.id)).where(*items_filter).group_by(
        AttemptItem.question_id)
    return {qid: _question_shown(qid, snapshot) for qid, snapshot in db.session.execute(
        select(AttemptItem.question_id, AttemptItem.snapshot).where(AttemptItem.id.in_(first)))}


def _current(lineages) -> dict[int, CurrentQuestion]:
    return {row.lineage_id: CurrentQuestion(row.id, row.id_number, row.name, row.retired)
            for row in db.session.execute(
                select(Question.id, Question.lineage_id, Question.id_number, Question.name,
                       Question.retired).where(Question.lineage_id.in_(lineages),
                                               Question.is_current.is_(True)))}


def _response(row: Any, question: stats.QuestionShown) -> stats.Response:
    return stats.Response(
        lineage_id=row.lineage_id, question=question, position=row.position,
        mark=_float(row.mark), max_mark=_float(row.max_mark),
        shown=tuple(row.choice_order or ()), picked=frozenset(row.selected or ()))


_ITEM_COLUMNS = (AttemptItem.attempt_id, AttemptItem.position, AttemptItem.question_id,
                 AttemptItem.lineage_id, AttemptItem.choice_order, AttemptItem.selected,
                 AttemptItem.mark, AttemptItem.max_mark)


def quiz_statistics(quiz: Quiz) -> QuizStatistics:
    """The item analysis of an exam over the attempt it keeps of each person (the highest or
    the last finished one, as `Quiz.grading` says). Four statements, whatever the number of
    attempts: the kept attempts' items, one snapshot per question version, the attempts' maxima
    and the bank's current versions. A practice quiz has no item analysis (no attempts)."""
    if quiz.mode != "exam":
        return QuizStatistics(quiz, stats.analyse([]))
    kept = kept_attempts([quiz.id]).subquery()
    in_kept = (AttemptItem.attempt_id.in_(select(kept.c.id)),)
    responses: dict[int, list[Any]] = defaultdict(list)
    for row in db.session.execute(select(*_ITEM_COLUMNS).where(*in_kept)
                                  .order_by(AttemptItem.attempt_id, AttemptItem.position)):
        responses[row.attempt_id].append(row)
    questions = _snapshots(in_kept)
    maxima = dict(db.session.execute(select(Attempt.id, Attempt.max_score).where(
        Attempt.id.in_(select(kept.c.id)))).all())
    attempts = []
    for attempt_id, rows in responses.items():
        answered = tuple(_response(r, questions[r.question_id]) for r in rows)
        # The total as the attempt's score was made: the sum of its items' marks.
        attempts.append(stats.GradedAttempt(
            key=attempt_id, total=sum(r.mark for r in answered),
            max_total=_float(maxima.get(attempt_id)), responses=answered))
    order = {f.lineage_id: f.position for f in quiz.fixed} if quiz.fixed_list else None
    figures = stats.analyse(attempts, order=order)
    current = _current(select(AttemptItem.lineage_id).where(*in_kept)) if attempts else {}
    return QuizStatistics(quiz, figures, current)


def question_statistics(actor: StaffMember, question: Question) -> QuestionAcrossQuizzes:
    """One question (all its versions) in every exam that asked it, over each exam's kept
    attempts, in the exams whose results `actor` may read (the others are only counted). Each
    exam's figures are its own: the rest of the attempt (R) differs from exam to exam."""
    lineage = question.lineage_id or question.id
    asked = select(Attempt.quiz_id).join(AttemptItem, AttemptItem.attempt_id == Attempt.id) \
        .where(AttemptItem.lineage_id == lineage).distinct()
    exams = db.session.scalars(select(Quiz).where(
        Quiz.id.in_(asked), Quiz.mode == "exam", Quiz.personal_for_id.is_(None))).all()
    readable = {quiz.id: quiz for quiz in exams if may_read_results(actor, quiz)}
    current = _current([lineage]).get(lineage)
    result = QuestionAcrossQuizzes(lineage, [], current, hidden=len(exams) - len(readable))
    if not readable:
        return result
    kept = kept_attempts(list(readable)).subquery()
    in_kept = (AttemptItem.lineage_id == lineage, AttemptItem.attempt_id.in_(select(kept.c.id)))
    questions = _snapshots(in_kept)
    by_quiz: dict[int, list[stats.GradedAttempt]] = defaultdict(list)
    for row in db.session.execute(
            select(*_ITEM_COLUMNS, Attempt.quiz_id, Attempt.score, Attempt.max_score)
            .join(Attempt, Attempt.id == AttemptItem.attempt_id).where(*in_kept)):
        by_quiz[row.quiz_id].append(stats.GradedAttempt(
            key=row.attempt_id, total=_float(row.score), max_total=_float(row.max_score),
            responses=(_response(row, questions[row.question_id]),)))
    for quiz_id, attempts in by_quiz.items():
        item = stats.analyse_item(lineage, attempts)
        if item is not None:
            result.rows.append((readable[quiz_id], item))
    result.rows.sort(key=lambda row: (-row[1].n, row[0].title, row[0].id))
    return result
