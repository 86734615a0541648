"""The timed attempt through its services, with an injected clock: start, autosave with versions,
deadline and grace, overrides, sweep, grading, practice and the mistakes notebook."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from tests.integration.quiz_fixtures import key_of, make_bank, make_quiz, wrong_of
from trainer.core.models import AuditEvent
from trainer.core.errors import DomainError, Forbidden
from trainer.core.timeutil import utcnow
from trainer.quizzes import services
from trainer.quizzes.models import MistakeEntry


@pytest.fixture
def bank(db_session):
    bank = make_bank()
    db_session.commit()
    return bank


def test_builder_refuses_rules_the_bank_cannot_fill(bank, users):
    with pytest.raises(DomainError) as error:
        make_quiz(bank, users["trainer"], count=99)
    assert error.value.params["need"] == 99 and error.value.params["have"] == 18


def test_start_snapshots_and_resumes(bank, users, db_session):
    quiz = make_quiz(bank, users["trainer"], count=6)
    learner = users["learner"]
    now = utcnow()
    attempt = services.start_attempt(learner, quiz, now=now)
    assert attempt.deadline_at == now + timedelta(seconds=600)
    assert len(attempt.items) == 6 and len({i.lineage_id for i in attempt.items}) == 6
    again = services.start_attempt(learner, quiz, now=now + timedelta(seconds=200))
    assert again.id == attempt.id and again.deadline_at == attempt.deadline_at


def test_snapshots_survive_bank_edits(bank, users, db_session):
    from trainer.banks import services as banks
    from trainer.banks.models import Question

    quiz = make_quiz(bank, users["trainer"], count=3)
    attempt = services.start_attempt(users["learner"], quiz, now=utcnow())
    item = attempt.items[0]
    question = db_session.get(Question, item.question_id)
    parsed = banks.to_parsed(question)
    parsed.stem = "改过的题干"
    banks.edit_question(None, question, parsed, now=utcnow())
    db_session.refresh(item)
    assert item.snapshot["stem"] != "改过的题干"


def test_saves_carry_versions_and_stale_ones_are_refused(bank, users):
    quiz = make_quiz(bank, users["trainer"], count=3)
    learner = users["learner"]
    now = utcnow()
    attempt = services.start_attempt(learner, quiz, now=now)
    saved = services.save_answer(learner, attempt.id, 0, [1], 0, now=now)
    assert saved.version == 1
    # A retry of the same save is idempotent.
    assert services.save_answer(learner, attempt.id, 0, [1], 0, now=now).version == 1
    # A save from another tab based on version 0 with a different answer is refused.
    with pytest.raises(services.StaleAnswer) as stale:
        services.save_answer(learner, attempt.id, 0, [2], 0, now=now)
    assert stale.value.version == 1 and stale.value.selected == [1]
    assert services.save_answer(learner, attempt.id, 0, [2], 1, now=now).version == 2


def test_deadline_grace_and_late_saves(bank, users, db_session):
    quiz = make_quiz(bank, users["trainer"], count=3, time_limit_s=600)
    learner = users["learner"]
    start = utcnow()
    attempt = services.start_attempt(learner, quiz, now=start)
    deadline = attempt.deadline_at
    services.save_answer(learner, attempt.id, 0, [0], 0, now=deadline - timedelta(seconds=1))
    services.save_answer(learner, attempt.id, 1, [0], 0, now=deadline + timedelta(seconds=20))
    with pytest.raises(services.TimeUp):
        services.save_answer(learner, attempt.id, 2, [0], 0, now=deadline + timedelta(seconds=31))
    db_session.refresh(attempt)
    assert attempt.state == "expired" and attempt.submitted_at == deadline
    assert [i.selected for i in attempt.items] == [[0], [0], []]


def test_override_extends_and_close_time_caps(bank, users, db_session):
    quiz = make_quiz(bank, users["trainer"], count=3, time_limit_s=600)
    learner = users["learner"]
    start = utcnow()
    attempt = services.start_attempt(learner, quiz, now=start)
    services.set_override(users["trainer"], quiz, learner, extra_time_s=300, extra_attempts=0,
                          open_at=None, close_at=None, now=start)
    db_session.refresh(attempt)
    assert attempt.deadline_at == start + timedelta(seconds=900)
    # Exam-day incident: moving the close time recomputes every deadline in progress.
    settings = services.QuizSettings(title=quiz.title, time_limit_s=600, open_to_all=True,
                                     close_at=start + timedelta(seconds=120))
    services.save_quiz(users["trainer"], quiz, settings,
                       rule_specs=[services.RuleSpec(bank.id, 3, Decimal(2))], now=start)
    db_session.refresh(attempt)
    assert attempt.deadline_at == start + timedelta(seconds=120)
    events = db_session.scalars(select(AuditEvent.action).where(
        AuditEvent.object_type == "attempt", AuditEvent.object_id == str(attempt.id))).all()
    assert events.count("attempt.deadline_changed") == 2


def test_sweep_submits_expired_attempts_with_their_last_answers(bank, users, db_session):
    quiz = make_quiz(bank, users["trainer"], count=3, time_limit_s=600)
    learner, other = users["learner"], users["learner2"]
    start = utcnow()
    a = services.start_attempt(learner, quiz, now=start)
    b = services.start_attempt(other, quiz, now=start + timedelta(seconds=100))
    services.save_answer(learner, a.id, 0, key_of(a.items[0]), 0, now=start + timedelta(seconds=5))
    count = services.sweep(now=a.deadline_at + timedelta(seconds=31))
    assert count == 1
    db_session.refresh(a)
    db_session.refresh(b)
    assert a.state == "expired" and a.submitted_at == a.deadline_at and a.score == Decimal(2)
    assert b.state == "in_progress"
    assert services.sweep(now=a.deadline_at + timedelta(seconds=31)) == 0


def test_double_submit_gives_one_result(bank, users, db_session):
    quiz = make_quiz(bank, users["trainer"], count=3)
    learner = users["learner"]
    attempt = services.start_attempt(learner, quiz, now=utcnow())
    for item in attempt.items:
        services.save_answer(learner, attempt.id, item.position, key_of(item), 0, now=utcnow())
    services.submit_attempt(learner, attempt, now=utcnow())
    services.submit_attempt(learner, attempt, now=utcnow())
    assert attempt.score == Decimal(6) and attempt.percent == 100 and attempt.passed
    submitted = db_session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "attempt.submitted", AuditEvent.object_id == str(attempt.id)))
    assert submitted == 1


def test_attempt_limit_delay_and_window(bank, users):
    learner = users["learner"]
    now = utcnow()
    quiz = make_quiz(bank, users["trainer"], count=2, attempts_allowed=1, delay_s=0)
    services.submit_attempt(learner, services.start_attempt(learner, quiz, now=now), now=now)
    with pytest.raises(DomainError):
        services.start_attempt(learner, quiz, now=now)
    services.set_override(users["trainer"], quiz, learner, extra_time_s=0, extra_attempts=1,
                          open_at=None, close_at=None, now=now)
    assert services.start_attempt(learner, quiz, now=now).number == 2
    later_quiz = make_quiz(bank, users["trainer"], count=2, title="以后开放",
                           open_at=now + timedelta(hours=1))
    with pytest.raises(DomainError):
        services.start_attempt(learner, later_quiz, now=now)


def test_attempt_limit_counts_per_enrolment(bank, users):
    learner = users["learner"]
    quiz = make_quiz(bank, users["trainer"], count=2, attempts_allowed=1)
    now = utcnow()
    first = services.start_attempt(learner, quiz, now=now, enrolment_id=1)
    services.submit_attempt(learner, first, now=now)
    second = services.start_attempt(learner, quiz, now=now, enrolment_id=2)
    assert second.enrolment_id == 2


def test_unassigned_quiz_is_refused(bank, users):
    quiz = make_quiz(bank, users["trainer"], count=2, open_to_all=False)
    with pytest.raises(Forbidden):
        services.start_attempt(users["learner"], quiz, now=utcnow())
    services.assign_quiz(users["trainer"], quiz, [users["learner"].id], now=utcnow())
    assert services.start_attempt(users["learner"], quiz, now=utcnow())


def test_another_persons_attempt_is_refused(bank, users):
    quiz = make_quiz(bank, users["trainer"], count=2)
    attempt = services.start_attempt(users["learner"], quiz, now=utcnow())
    with pytest.raises(Forbidden):
        services.save_answer(users["learner2"], attempt.id, 0, [0], 0, now=utcnow())
    with pytest.raises(Forbidden):
        services.submit_attempt(users["learner2"], attempt, now=utcnow())


def test_least_seen_questions_come_first(bank, users):
    quiz = make_quiz(bank, users["trainer"], count=9, shuffle_questions=False)
    learner = users["learner"]
    first = services.start_attempt(learner, quiz, now=utcnow())
    services.submit_attempt(learner, first, now=utcnow())
    second = services.start_attempt(learner, quiz, now=utcnow())
    # 18 questions in the bank: the second attempt draws the nine not seen yet.
    assert not {i.lineage_id for i in first.items} & {i.lineage_id for i in second.items}


def test_practice_notebook_enters_at_once_and_leaves_after_two_in_a_row(bank, users,
                                                                         db_session):
    learner = users["learner"]
    quiz = make_quiz(bank, users["trainer"], count=3, mode="practice", time_limit_s=None,
                     shuffle_questions=False)
    attempt = services.start_attempt(learner, quiz, now=utcnow())
    item = attempt.items[0]
    services.save_answer(learner, attempt.id, 0, wrong_of(item), 0, now=utcnow())
    services.lock_answer(learner, attempt, 0, now=utcnow())
    entry = db_session.get(MistakeEntry, (learner.id, item.lineage_id))
    assert entry is not None and entry.cleared_at is None
    services.submit_attempt(learner, attempt, now=utcnow())
    for round_ in range(2):
        practice = services.start_mistakes_practice(learner, now=utcnow())
        for it in practice.items:
            services.save_answer(learner, practice.id, it.position, key_of(it), 0, now=utcnow())
        services.submit_attempt(learner, practice, now=utcnow())
        db_session.refresh(entry)
        assert (entry.cleared_at is not None) == (round_ == 1)


def test_exam_mistakes_wait_for_the_review_policy(bank, users, db_session):
    learner = users["learner"]
    now = utcnow()
    quiz = make_quiz(bank, users["trainer"], count=2, review_when="after_close",
                     close_at=now + timedelta(hours=1), time_limit_s=None)
    attempt = services.start_attempt(learner, quiz, now=now)
    services.submit_attempt(learner, attempt, now=now)  # nothing answered: all wrong
    assert db_session.scalar(select(func.count()).select_from(MistakeEntry)) == 0
    services.collect_exam_mistakes(attempt, now=now + timedelta(hours=2))
    assert db_session.scalar(select(func.count()).select_from(MistakeEntry)) == 2


def test_multiple_choice_all_or_nothing_quiz_setting(bank, users):
    learner = users["learner"]
    quiz = services.save_quiz(users["trainer"], None, services.QuizSettings(
        title="多选全对", open_to_all=True, all_or_nothing=True),
        rule_specs=[services.RuleSpec(bank.id, 2, Decimal(2), qtype="multiple")], now=utcnow())
    attempt = services.start_attempt(learner, quiz, now=utcnow())
    for item in attempt.items:
        services.save_answer(learner, attempt.id, item.position, key_of(item)[:1], 0,
                             now=utcnow())
    services.submit_attempt(learner, attempt, now=utcnow())
    assert attempt.score == 0


def _finish_with(person, quiz, percent, db_session, enrolment_id=None):
    """A finished attempt graded `percent` (set after the submit: the tests need exact grades)."""
    attempt = services.start_attempt(person, quiz, now=utcnow(), enrolment_id=enrolment_id,
                                     authorised=True)
    services.submit_attempt(person, attempt, now=utcnow())
    attempt.percent = Decimal(percent)
    attempt.passed = attempt.percent >= quiz.pass_mark
    db_session.flush()
    return attempt


def test_the_grade_kept_is_the_highest_or_the_last_for_one_person_and_for_many(
        app, bank, users, db_session):
    from sqlalchemy import event

    from trainer.core.db import db

    quiz = make_quiz(bank, users["trainer"], count=2, attempts_allowed=None)
    learner, learner2 = users["learner"], users["learner2"]
    a = [_finish_with(learner, quiz, p, db_session) for p in (40, 80, 60)]
    b = [_finish_with(learner2, quiz, p, db_session) for p in (90, 30)]
    services.start_attempt(learner, quiz, now=utcnow())   # in progress: never counts
    db_session.flush()
    with app.app_context():
        engine = db.engine
    statements = []

    def log(_conn, _cursor, statement, *_args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", log)
    try:
        highest = services.kept_grades(quiz.id)
    finally:
        event.remove(engine, "before_cursor_execute", log)
    assert len(statements) == 1, statements   # one statement, however many people
    assert highest == {learner.id: services.KeptGrade(Decimal(80), True, a[1].id),
                       learner2.id: services.KeptGrade(Decimal(90), True, b[0].id)}
    assert services.kept_grade(learner.id, quiz) == highest[learner.id]
    assert services.kept_grade(users["trainer"].id, quiz) is None
    assert services.kept_grades(quiz.id, staff_ids=[learner2.id]) == {
        learner2.id: highest[learner2.id]}

    quiz.grading = "last"
    db_session.flush()
    last = services.kept_grades(quiz.id)
    assert last == {learner.id: services.KeptGrade(Decimal(60), True, a[2].id),
                    learner2.id: services.KeptGrade(Decimal(30), False, b[1].id)}
    assert services.kept_grade(learner2.id, quiz) == last[learner2.id]


def test_the_grade_kept_per_enrolment(bank, users, db_session):
    from trainer.accounts.models import StaffMember

    quiz = make_quiz(bank, users["trainer"], count=2, attempts_allowed=None, grading="last")
    learner = users["learner"]
    older = [_finish_with(learner, quiz, p, db_session, enrolment_id=501) for p in (95, 20)]
    newer = _finish_with(learner, quiz, 70, db_session, enrolment_id=502)
    _finish_with(users["learner2"], quiz, 10, db_session, enrolment_id=503)
    assert services.kept_grades(quiz.id, enrolment_ids=[501, 502]) == {
        501: services.KeptGrade(Decimal(20), False, older[1].id),
        502: services.KeptGrade(Decimal(70), True, newer.id)}
    assert services.kept_grade(learner.id, quiz, enrolment_id=501).attempt_id == older[1].id
    # Filters take a SELECT of ids as well (HR's pages: a department's people).
    department = select(StaffMember.id).where(StaffMember.employee_no == "L0002")
    assert list(services.kept_grades(quiz.id, staff_ids=department)) == [users["learner2"].id]
