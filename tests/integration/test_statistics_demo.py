"""The item-statistics demo as `trainer setup --demo` makes it (run twice), on SQLite and on
PostgreSQL: sixty agents of their own department each sat the fixed-list exam once, through the
engine, so every question has sixty answers; the stronger score higher; the questions designed to
be flagged are, and the others are not; running the step again creates nothing."""
from __future__ import annotations

from collections import defaultdict
from statistics import fmean, pstdev

import pytest
from sqlalchemy import create_engine, func, select

from tests.conftest import PG_URL, _postgres_answers, skip_or_fail
from tests.integration.test_attendance_demo import sign_in
from trainer import create_app
from trainer.accounts.models import Department, StaffMember
from trainer.core.models import AuditEvent
from trainer.core.db import db
from trainer.core.timeutil import utcnow
from trainer.learning.models import Enrolment
from trainer.quizzes.demo_statistics import (
    DEPARTMENT,
    EXAM_TITLE,
    PLAN,
    create_statistics_demo,
    demo_exam,
    simulated_people,
)
from trainer.quizzes.models import Attempt, AttemptItem, QuizAssignment

SCHEMA = "statistics_demo"


def _pg_demo(tmp_path_factory):
    if not PG_URL or not _postgres_answers(PG_URL):
        skip_or_fail("no PostgreSQL for the statistics demo")
    admin = create_engine(PG_URL.replace("postgresql://", "postgresql+psycopg://", 1))
    with admin.begin() as conn:
        conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
        conn.exec_driver_sql(f"CREATE SCHEMA {SCHEMA}")
    sep = "&" if "?" in PG_URL else "?"
    path = tmp_path_factory.mktemp("statistics_demo")
    application = create_app({"INSTANCE_PATH": str(path), "SECRET_KEY": "k" * 32,
                              "DATABASE_URL": PG_URL + f"{sep}options=-csearch_path%3D{SCHEMA}",
                              "TEMPLATE_CACHE_DIR": ""})
    for _run in range(2):   # idempotent
        result = application.test_cli_runner().invoke(args=["setup", "--demo"])
        assert result.exit_code == 0, result.output
    return application, admin


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def site(request, tmp_path_factory):
    """The demo site: the shared SQLite one, or one of our own in a PostgreSQL schema."""
    if request.param == "sqlite":
        yield request.getfixturevalue("demo")
        return
    application, admin = _pg_demo(tmp_path_factory)
    try:
        yield application
    finally:
        with application.app_context():
            db.engine.dispose()
        with admin.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
        admin.dispose()


def _attempts():
    """The exam's attempts with their items, by employee number."""
    quiz = demo_exam()
    rows = db.session.execute(select(Attempt, StaffMember.employee_no).join(
        StaffMember, StaffMember.id == Attempt.staff_id).where(Attempt.quiz_id == quiz.id)).all()
    return quiz, {number: attempt for attempt, number in rows}


def test_sixty_agents_of_their_own_department_each_sat_the_exam_once(site):
    with site.app_context():
        department = db.session.scalar(select(Department).where(Department.name == DEPARTMENT))
        staff = db.session.scalars(select(StaffMember).where(
            StaffMember.department_id == department.id)).all()
        people = {p.employee_no: p for p in simulated_people()}
        assert sorted(s.employee_no for s in staff) == sorted(people)
        assert all(s.status == "active" and s.role_names == {"learner"} for s in staff)
        # hired before the go-live: cleared for duty, no onboarding, nobody overdue
        assert db.session.scalar(select(func.count()).select_from(Enrolment).where(
            Enrolment.staff_id.in_([s.id for s in staff]))) == 0

        quiz, attempts = _attempts()
        assert quiz.title == EXAM_TITLE and quiz.fixed_list and len(quiz.fixed) == 20
        assert quiz.mode == "exam" and quiz.grading == "highest"
        owner = db.session.get(StaffMember, quiz.owner_id)
        assert owner.employee_no == "T0001"
        assert sorted(attempts) == sorted(people)
        answered = defaultdict(int)
        for attempt in attempts.values():
            assert attempt.state == "submitted" and attempt.number == 1
            assert quiz.open_at <= attempt.started_at < attempt.submitted_at <= attempt.deadline_at
            assert len(attempt.items) == 20 and attempt.max_score == 100
            assert attempt.score == sum(i.mark for i in attempt.items)
            for item in attempt.items:
                assert item.selected and item.mark is not None and item.saved_at is not None
                assert sorted(item.choice_order) == list(range(len(item.snapshot["choices"])))
                answered[item.lineage_id] += 1
        assert sorted(answered) == sorted(f.lineage_id for f in quiz.fixed)
        assert set(answered.values()) == {60}

        # the stronger half scores higher than the weaker half
        by_ability = sorted(attempts, key=lambda n: people[n].ability)
        weak = fmean(float(attempts[n].percent) for n in by_ability[:30])
        strong = fmean(float(attempts[n].percent) for n in by_ability[30:])
        assert strong > weak + 15
        passed = sum(a.passed for a in attempts.values())
        assert 10 < passed < 50
        db.session.remove()


def _discrimination(marks: list[float], totals: list[float]) -> float:
    """DESIGN.md's discrimination index: 100 · corr(item mark, rest of the attempt)."""
    rest = [t - m for m, t in zip(marks, totals)]
    mx, mr = fmean(marks), fmean(rest)
    cov = fmean([(m - mx) * (r - mr) for m, r in zip(marks, rest)])
    return 100 * cov / (pstdev(marks) * pstdev(rest)) if pstdev(marks) else 0.0


def test_the_questions_designed_to_be_flagged_are_and_the_others_are_not(site):
    """The figures DESIGN.md's flags read, computed here by hand from the stored items."""
    with site.app_context():
        quiz, attempts = _attempts()
        plans = {f.lineage_id: plan for f, plan in zip(quiz.fixed, PLAN)}
        ranked = sorted(attempts.values(), key=lambda a: a.score)
        group = round(0.27 * len(ranked))
        bottom, top = {a.id for a in ranked[:group]}, {a.id for a in ranked[-group:]}
        items = defaultdict(list)
        for attempt in attempts.values():
            for item in attempt.items:
                items[item.lineage_id].append((attempt, item))
        for lineage, plan in plans.items():
            pairs = items[lineage]
            marks = [float(i.mark / i.max_mark) for _a, i in pairs]
            facility = fmean(marks)
            index = _discrimination(marks, [float(a.score / i.max_mark) for a, i in pairs])
            if plan.kind == "easy":
                assert facility > 0.9, plan
            elif plan.kind == "hard":
                assert facility < 0.2 and index > 0, plan
            elif plan.kind == "random":
                assert index < 20 and 0.2 <= facility <= 0.9, (plan, index)
            else:
                assert 0.2 <= facility <= 0.9 and index >= 20, (plan, facility, index)
            texts = [c["text"] for c in pairs[0][1].snapshot["choices"]]
            if plan.unpicked:
                (absurd,) = [k for k, t in enumerate(texts) if plan.unpicked in t]
                assert not any(absurd in i.selected for _a, i in pairs)
            if plan.tempting:
                (tempting,) = [k for k, t in enumerate(texts) if plan.tempting in t]
                picks = [a.id for a, i in pairs if tempting in i.selected]
                assert len(top & set(picks)) > len(bottom & set(picks))
        db.session.remove()


def test_running_the_step_again_creates_nothing(site):
    with site.app_context():
        def counts():
            return [db.session.scalar(select(func.count()).select_from(model))
                    for model in (StaffMember, Department, Attempt, AttemptItem, QuizAssignment,
                                  AuditEvent)]
        before = counts()
        again = create_statistics_demo(now=utcnow())
        assert again is not None and again.quiz.id == demo_exam().id
        assert (again.staff_created, again.attempts_made) == (0, 0)
        assert counts() == before
        db.session.rollback()
        db.session.remove()


def test_the_trainer_finds_the_exam_and_its_sixty_results(site):
    with site.app_context():
        quiz_id = demo_exam().id
        db.session.remove()
    client, _ = sign_in(site, "T0001")
    assert EXAM_TITLE in client.get("/quizzes/manage").get_data(as_text=True)
    # (the page may show its people and attempts a page at a time: read two)
    pages = "".join(client.get(f"/quizzes/{quiz_id}/attempts?people={n}&page={n}")
                    .get_data(as_text=True) for n in (1, 2))
    assert all(p.name in pages for p in simulated_people())
