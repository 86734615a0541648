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


def test_two_prepared_starts_written_at_once_share_one_attempt(app, committed):
    """The start route reads and draws first and writes in a transaction of its own; two tabs
    that both prepared a new attempt still end with one, and the loser writes nothing."""
    person_id = committed["people"][1]
    prepared = []
    for _ in range(2):
        with app.app_context():
            person = db.session.get(StaffMember, person_id)
            prepared.append(services.prepare_start(person, db.session.get(
                services.Quiz, committed["quiz"]), now=utcnow()))
            db.session.remove()
    assert all(isinstance(p, services.PreparedStart) for p in prepared)

    results = run_together(app, *[lambda p=p: services.begin_prepared(p, now=utcnow()).id
                                  for p in prepared])
    assert not any(isinstance(r, Exception) for r in results), results
    assert results[0] == results[1]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AttemptItem).where(
            AttemptItem.attempt_id == results[0])) == 4
        assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "attempt.started")) == 1
        db.session.remove()


def test_the_start_route_holds_its_write_transaction_for_the_writes_alone(app, committed):
    """On SQLite the write transaction holds the database's one write lock, which every save
    waits for: the start's reading and drawing happen before it, and it only inserts."""
    from sqlalchemy import event

    from tests.conftest import Client
    from trainer.core.db import _write_intent

    client = Client(app.test_client())
    assert client.login("RACE0", "race-pass-1").status_code == 302
    log: list[str] = []
    with app.app_context():
        engine = db.engine
    listeners = {
        "begin": lambda _conn: log.append("<begin write>" if _write_intent.get() else "<begin>"),
        "commit": lambda _conn: log.append("<commit>"),
        "rollback": lambda _conn: log.append("<rollback>"),
        "before_cursor_execute": lambda _c, _cur, statement, *_a: log.append(statement),
    }
    csrf = client.csrf()
    for name, listener in listeners.items():
        event.listen(engine, name, listener)
    try:
        response = client.raw.post(f"/quizzes/{committed['quiz']}/start",
                                   data={"csrf_token": csrf})
    finally:
        for name, listener in listeners.items():
            event.remove(engine, name, listener)
    assert response.status_code == 302 and "/attempts/" in response.headers["Location"]

    transactions, current = [], []
    for entry in log:
        if entry.startswith("<begin"):
            current = [entry]
        elif entry in ("<commit>", "<rollback>"):
            transactions.append((current, entry))
        else:
            current.append(" ".join(entry.split()))
    writing = [(statements, end) for statements, end in transactions
               if any(s.startswith("INSERT INTO attempts ") for s in statements)]
    assert len(writing) == 1
    statements, end = writing[0]
    assert end == "<commit>"
    reads = [s for s in statements if s.startswith("SELECT")]
    assert reads == [], reads   # no draw, no snapshot, no person or quiz reloaded inside
    assert any(s.startswith("INSERT INTO audit_events") for s in statements)
    assert statements[0] == "<begin write>"   # on SQLite: BEGIN IMMEDIATE, the write lock
    # …and the drawing did happen, before it, in a transaction that wrote nothing.
    assert any("FROM questions" in s for before, _end in transactions[:transactions.index(
        writing[0])] for s in before)



def _get_while_a_save_commits(app, committed, url: str, other: int):
    """GET `url` as RACE0, paused right after it read the attempt while a save of RACE1's
    attempt `other` is committed; the response, or the exception it raised."""
    from sqlalchemy import event

    from tests.conftest import Client

    with app.app_context():
        key = key_of(db.session.get(Attempt, other).items[0])
        engine = db.engine
        db.session.remove()
    client = Client(app.test_client())
    assert client.login("RACE0", "race-pass-1").status_code == 302
    read, saved = threading.Event(), threading.Event()
    getter: list[int] = []

    def pause_after_reading_the_attempt(_conn, _cursor, statement, *_args):
        if getter and threading.get_ident() == getter[0] and not read.is_set() and \
                statement.lstrip().startswith("SELECT") and "FROM attempts" in statement:
            read.set()
            saved.wait(30)

    answers: list[object] = []

    def get():
        getter.append(threading.get_ident())
        try:
            answers.append(client.get(url))
        except Exception as exc:  # noqa: BLE001 - the exception behind a 500
            answers.append(exc)

    event.listen(engine, "after_cursor_execute", pause_after_reading_the_attempt)
    try:
        thread = threading.Thread(target=get)
        thread.start()
        assert read.wait(30), "the GET never read the attempt"
        with app.app_context():
            with write_intent():
                person = db.session.get(StaffMember, committed["people"][1])
                services.save_answer(person, other, 0, key, 0, now=utcnow())
                db.session.commit()
            db.session.remove()
        saved.set()
        thread.join(60)
    finally:
        event.remove(engine, "after_cursor_execute", pause_after_reading_the_attempt)
    with app.app_context():
        assert db.session.get(Attempt, other).items[0].selected == key
        db.session.remove()
    return answers[0]


@pytest.mark.parametrize("view", ["", "/result", "/state", "/submit"])
def test_a_get_that_finalises_an_overdue_attempt_survives_a_save_committed_meanwhile(
        app, committed, view):
    """Opening an overdue attempt (or its result, state or submit page) finalises it. On SQLite
    a transaction that has read and then writes fails at once ("database is locked") when
    another connection committed in between, whatever the busy timeout: the GET must still
    answer, not fail with a 500."""
    from sqlalchemy import update

    overdue, other = _start(app, committed, 0), _start(app, committed, 1)
    with app.app_context():
        with write_intent():
            db.session.execute(update(Attempt).where(Attempt.id == overdue).values(
                deadline_at=utcnow() - timedelta(seconds=31)))
            db.session.commit()
        db.session.remove()
    response = _get_while_a_save_commits(app, committed, f"/attempts/{overdue}{view}",
                                         other)
    assert not isinstance(response, Exception), response
    assert response.status_code in (200, 302), response.status_code
    with app.app_context():
        attempt = db.session.get(Attempt, overdue)
        assert attempt.state == "expired" and attempt.submitted_at == attempt.deadline_at
        db.session.remove()


def test_a_result_page_that_collects_mistakes_survives_a_save_committed_meanwhile(
        app, committed):
    """An exam reviewed after it closes: the first result page after the close enters the
    wrong answers in the notebook, a write, done on the write path."""
    from sqlalchemy import update

    from trainer.quizzes.models import MistakeEntry, Quiz

    with app.app_context():
        with write_intent():
            db.session.execute(update(Quiz).where(Quiz.id == committed["quiz"]).values(
                review_when="after_close", close_at=utcnow() + timedelta(hours=1)))
            db.session.commit()
        db.session.remove()
    finished, other = _start(app, committed, 0), _start(app, committed, 1)
    with app.app_context():
        with write_intent():
            services.submit_attempt(None, db.session.get(Attempt, finished), now=utcnow())
            db.session.execute(update(Quiz).where(Quiz.id == committed["quiz"]).values(
                close_at=utcnow() - timedelta(seconds=1)))
            db.session.commit()
        assert not db.session.get(Attempt, finished).mistakes_collected
        db.session.remove()
    response = _get_while_a_save_commits(app, committed, f"/attempts/{finished}/result",
                                         other)
    assert not isinstance(response, Exception), response
    assert response.status_code == 200
    with app.app_context():
        assert db.session.get(Attempt, finished).mistakes_collected
        assert db.session.scalar(select(func.count()).select_from(MistakeEntry).where(
            MistakeEntry.staff_id == committed["people"][0])) == 4   # nothing was answered
        db.session.remove()
