"""Finishing an attempt: the submit, the finalisation once its time is up, the sweep, grading
its items, and the wrong answers it enters in the mistakes notebook."""
from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import select, update

from trainer.accounts.models import StaffMember
from trainer.core.audit import record_event
from trainer.core.db import db
from trainer.core.errors import Forbidden
from trainer.quizzes import grading, rules
from trainer.quizzes.models import Attempt, AttemptItem, MistakeEntry
from trainer.quizzes.services.definitions import DEFAULT_GRACE_S, visibility
from trainer.quizzes.services.errors import TimeUp
from trainer.quizzes.signals import attempt_finished


def _weights(item: AttemptItem) -> list[Decimal]:
    return [Decimal(c["weight"]) for c in item.snapshot["choices"]]


def grade_item(item: AttemptItem, all_or_nothing: bool) -> Decimal:
    frac = grading.fraction(item.snapshot["qtype"], _weights(item), item.selected or [],
                            all_or_nothing)
    item.mark = grading.mark(Decimal(item.snapshot["points"]), frac)
    return frac


# -- finishing ----------------------------------------------------------------------------------

def submit_attempt(person: StaffMember | None, attempt: Attempt, *, now: datetime,
                   grace_s: int = DEFAULT_GRACE_S) -> Attempt:
    """Grade and close the attempt. A double submit or a second tab gets the same result; a
    submit after deadline + grace finalises the attempt at its deadline instead."""
    if person is not None and attempt.staff_id != person.id:
        raise Forbidden("This is not your attempt.")
    if attempt.state != "in_progress":
        return attempt
    if rules.is_overdue(attempt.deadline_at, now, grace_s):
        finalize_if_overdue(attempt, now=now, grace_s=grace_s)
        raise TimeUp("Time is up: your answers saved before the deadline were submitted.")
    _finish(attempt, state="submitted", at=now, actor_id=person.id if person else None, now=now)
    return attempt


def is_overdue(attempt: Attempt, *, now: datetime, grace_s: int) -> bool:
    """In progress past deadline + grace: `finalize_if_overdue` would write."""
    return attempt.state == "in_progress" and rules.is_overdue(attempt.deadline_at, now, grace_s)


def finalize_if_overdue(attempt: Attempt, *, now: datetime, grace_s: int) -> bool:
    """Once deadline + grace has passed, submit the last saved answers at the deadline."""
    if not is_overdue(attempt, now=now, grace_s=grace_s):
        return False
    _finish(attempt, state="expired", at=attempt.deadline_at, actor_id=None, now=now)
    return True


def _finish(attempt: Attempt, *, state: str, at: datetime, actor_id: int | None,
            now: datetime) -> None:
    # Compare-and-set: of two concurrent submits (or a submit and the sweep) exactly one wins.
    won = db.session.execute(
        update(Attempt).where(Attempt.id == attempt.id, Attempt.state == "in_progress")
        .values(state=state, submitted_at=at).execution_options(synchronize_session=False)
    ).rowcount == 1
    db.session.refresh(attempt)
    if not won:
        return
    quiz = attempt.quiz
    total = Decimal(0)
    # The answers as saved (autosaves update the rows directly), all items in one query.
    db.session.execute(select(AttemptItem).where(AttemptItem.attempt_id == attempt.id)
                       .execution_options(populate_existing=True)).all()
    for item in attempt.items:
        grade_item(item, quiz.all_or_nothing)
        total += item.mark or Decimal(0)
    attempt.score = total
    attempt.percent = grading.percent(total, attempt.max_score)
    attempt.passed = attempt.percent >= quiz.pass_mark
    if quiz.mode == "practice":
        note_answers(attempt.staff_id, [i for i in attempt.items if not i.locked],
                      practice=True, now=now)
        attempt.mistakes_collected = True
    db.session.flush()
    collect_exam_mistakes(attempt, now=now)
    record_event(actor_id, f"attempt.{state}", "attempt", attempt.id, now=now,
                 details={"score": str(total), "percent": str(attempt.percent),
                          "passed": attempt.passed, "submitted_at": at.isoformat()})
    attempt_finished.send(attempt, now=now)


def sweep(*, now: datetime, grace_s: int = DEFAULT_GRACE_S) -> int:
    """Finalise every attempt whose deadline + grace has passed (for cron)."""
    cutoff = now - timedelta(seconds=grace_s)
    overdue = db.session.scalars(select(Attempt).where(
        Attempt.state == "in_progress", Attempt.deadline_at.is_not(None),
        Attempt.deadline_at < cutoff)).all()
    return sum(finalize_if_overdue(a, now=now, grace_s=grace_s) for a in overdue)


# -- the mistakes notebook: what finishing enters ------------------------------------------------

def exam_mistakes_due(attempt: Attempt, *, now: datetime) -> bool:
    """Whether the attempt's answers are to enter the notebook now (`collect_exam_mistakes`
    would write)."""
    return not attempt.mistakes_collected and attempt.finished and \
        visibility(attempt, now=now).answers


def collect_exam_mistakes(attempt: Attempt, *, now: datetime) -> None:
    """An exam's wrong answers enter the notebook only once its review policy lets the person
    see the answers, so the notebook never leaks an exam."""
    if not exam_mistakes_due(attempt, now=now):
        return
    note_answers(attempt.staff_id, attempt.items, practice=False, now=now)
    attempt.mistakes_collected = True
    db.session.flush()


def note_answers(staff_id: int, items: list[AttemptItem], *, practice: bool,
                  now: datetime) -> None:
    """Enter wrong answers in the notebook; count right practice answers towards leaving it.
    The person's entries for these questions are read in one query and written in one flush."""
    if not items:
        return
    lineages = {item.lineage_id for item in items}
    entries = {e.lineage_id: e for e in db.session.scalars(select(MistakeEntry).where(
        MistakeEntry.staff_id == staff_id, MistakeEntry.lineage_id.in_(lineages)))}
    for item in items:
        full = item.mark is not None and item.mark >= item.max_mark
        entry = entries.get(item.lineage_id)
        if not full:
            if entry is None:
                entries[item.lineage_id] = entry = MistakeEntry(
                    staff_id=staff_id, lineage_id=item.lineage_id, added_at=now,
                    last_wrong_at=now, streak=0, times_wrong=1)
                db.session.add(entry)
            else:
                entry.cleared_at, entry.streak, entry.last_wrong_at = None, 0, now
                entry.times_wrong += 1
        elif practice and entry is not None and entry.cleared_at is None:
            entry.streak += 1
            if entry.streak >= 2:
                entry.cleared_at = now
    db.session.flush()
