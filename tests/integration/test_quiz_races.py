"""Races with real concurrent transactions (committed data, truncated afterwards): two submits,
autosave against submit, sweep against submit, two tabs starting at once."""
from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import delete, func, select

from tests.integration.quiz_fixtures import key_of, make_bank, make_quiz
from trainer.accounts.models import StaffMember
from trainer.core.db import db, write_intent
from trainer.core.errors import DomainError
from trainer.core.models import AuditEvent
from trainer.core.timeutil import utcnow
from trainer.quizzes import services
from trainer.quizzes.models import Attempt, AttemptItem

ROUNDS = 6


@pytest.fixture
def committed(app, backend):
    """Committed data visible to other threads; everything is deleted afterwards."""
    from datetime import date

    from trainer.accounts.services import create_staff

    with app.app_context():
        with write_intent():
            bank = make_bank("并发题库")
            people = [create_staff(None, employee_no=f"RACE{i}", name=f"并发{i}",
                                   hire_date=date(2024, 1, 1), now=utcnow(),
                                   password="race-pass-1")[0] for i in range(2)]
            quiz = make_quiz(bank, None, count=4, time_limit_s=600, attempts_allowed=None)
            db.session.commit()
        ids = {"bank": bank.id, "quiz": quiz.id, "people": [p.id for p in people]}
        db.session.remove()
    yield ids
    with app.app_context():
        with write_intent():
            for table in reversed(db.metadata.sorted_tables):
                db.session.execute(delete(table))
            db.session.commit()
        db.session.remove()


def run_together(app, *jobs: Callable[[], object]) -> list[object]:
    """Run each job in its own thread and app context, started at the same moment."""
    barrier = threading.Barrier(len(jobs))
    results: list[object] = [None] * len(jobs)

    def worker(index: int, job: Callable[[], object]) -> None:
        with app.app_context():
            try:
                barrier.wait()
                with write_intent():
                    results[index] = job()
                    db.session.commit()
            except Exception as exc:  # noqa: BLE001 - collected for the assertions
                db.session.rollback()
                results[index] = exc
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


def _start(app, ids, person_index=0) -> int:
    with app.app_context():
        with write_intent():
            person = db.session.get(StaffMember, ids["people"][person_index])
            quiz = db.session.get(services.Quiz, ids["quiz"])
            attempt = services.start_attempt(person, quiz, now=utcnow())
            db.session.commit()
            attempt_id = attempt.id
        db.session.remove()
    return attempt_id


def _submit_job(attempt_id: int, person_id: int, at=None):
    def job():
        person = db.session.get(StaffMember, person_id)
        attempt = db.session.get(Attempt, attempt_id)
        return services.submit_attempt(person, attempt, now=at or utcnow()).score
    return job


def test_two_concurrent_submits_give_one_result(app, committed):
    for _ in range(ROUNDS):
        attempt_id = _start(app, committed)
        person_id = committed["people"][0]
        results = run_together(app, _submit_job(attempt_id, person_id),
                               _submit_job(attempt_id, person_id))
        assert not any(isinstance(r, Exception) for r in results), results
        with app.app_context():
            submitted = db.session.scalar(select(func.count()).select_from(AuditEvent).where(
                AuditEvent.action == "attempt.submitted",
                AuditEvent.object_id == str(attempt_id)))
            assert submitted == 1
            assert db.session.get(Attempt, attempt_id).state == "submitted"
            db.session.remove()


def test_autosave_against_submit_never_loses_an_acknowledged_answer(app, committed):
    person_id = committed["people"][0]
    for _ in range(ROUNDS):
        attempt_id = _start(app, committed)
        with app.app_context():
            item = db.session.get(Attempt, attempt_id).items[0]
            key = key_of(item)
            db.session.remove()

        def save():
            person = db.session.get(StaffMember, person_id)
            return services.save_answer(person, attempt_id, 0, key, 0, now=utcnow())

        saved, _score = run_together(app, save, _submit_job(attempt_id, person_id))
        with app.app_context():
            attempt = db.session.get(Attempt, attempt_id)
            graded_item = attempt.items[0]
            if isinstance(saved, services.Saved):
                # Acknowledged: it must be in the graded result.
                assert graded_item.selected == key and graded_item.mark == graded_item.max_mark
            else:
                assert isinstance(saved, DomainError)
                assert graded_item.selected == []
            db.session.remove()


def test_sweep_against_submit_gives_one_result(app, committed):
    person_id = committed["people"][0]
    for _ in range(ROUNDS):
        attempt_id = _start(app, committed)
        with app.app_context():
            deadline = db.session.get(Attempt, attempt_id).deadline_at
            db.session.remove()
        late = deadline + timedelta(seconds=31)

        def sweep():
            return services.sweep(now=late)

        results = run_together(app, sweep, _submit_job(attempt_id, person_id, at=late))
        with app.app_context():
            attempt = db.session.get(Attempt, attempt_id)
            assert attempt.state == "expired" and attempt.submitted_at == deadline
            finals = db.session.scalar(select(func.count()).select_from(AuditEvent).where(
                AuditEvent.action.in_(["attempt.expired", "attempt.submitted"]),
                AuditEvent.object_id == str(attempt_id)))
            assert finals == 1
            db.session.remove()
        assert not any(isinstance(r, Exception) and not isinstance(r, services.TimeUp)
                       for r in results), results


def test_two_tabs_starting_at_once_share_one_attempt(app, committed):
    person_id = committed["people"][1]

    def start():
        person = db.session.get(StaffMember, person_id)
        quiz = db.session.get(services.Quiz, committed["quiz"])
        return services.start_attempt(person, quiz, now=utcnow()).id

    results = run_together(app, start, start)
    assert not any(isinstance(r, Exception) for r in results), results
    assert results[0] == results[1]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Attempt).where(
            Attempt.staff_id == person_id, Attempt.state == "in_progress")) == 1
        # The tab that lost wrote nothing of its own: no second set of items, no second event.
        assert db.session.scalar(select(func.count()).select_from(AttemptItem).where(
            AttemptItem.attempt_id == results[0])) == 4
        assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "attempt.started",
            AuditEvent.object_id == str(results[0]))) == 1
        db.session.remove()
