"""The monthly business exam on both databases: a trainer keeps a schedule in the site (bad
input refused, nothing written); the daily run gives this month's sitting to every active agent
in scope who is cleared for duty — not on leave or stood down that day, not a new hire not yet
cleared — each with a fresh draw, and running it again creates nothing; results and misses go
to the sitting and the record; a failed sitting's follow-up per the schedule's setting; re-entry
takes its extended content after 90 days of leave, not 89."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from tests.integration.quiz_fixtures import key_of, make_bank, make_quiz, wrong_of
from tests.integration.test_learning import content  # noqa: F401 - fixture
from trainer.accounts.models import Department
from trainer.accounts.services import record_staff_event
from trainer.core.models import TodoItem
from trainer.core.settings import set_setting
from trainer.core.timeutil import utcnow
from trainer.learning import schedules
from trainer.learning import services as learning
from trainer.learning.models import Course, Enrolment, ExamSitting, Track
from trainer.quizzes import services as quizzes


@pytest.fixture
def centre(users, make_staff, db_session, today):
    """Go-live 60 days ago (staff hired before count as cleared); in 客服三部 four agents: one
    who sits, one on leave, one stood down, one hired after the go-live and not onboarded; in
    客服二部 one agent (out of scope); a bank and a quiz to copy."""
    set_setting("go_live_date", (today - timedelta(days=60)).isoformat(), actor=None,
                now=utcnow())
    db_session.commit()
    people = {
        "sits": make_staff("learner", employee_no="M0001", name="参考甲", department="客服三部"),
        "leave": make_staff("learner", employee_no="M0002", name="休假乙", department="客服三部"),
        "down": make_staff("learner", employee_no="M0003", name="待岗丙", department="客服三部"),
        "new": make_staff("learner", employee_no="M0004", name="新人丁", hired_days_ago=5,
                          department="客服三部"),
        "other": make_staff("learner", employee_no="M0005", name="二部戊",
                            department="客服二部"),
    }
    record_staff_event(None, people["leave"], kind="leave_start", now=utcnow(), today=today,
                       occurred_on=today - timedelta(days=10))
    record_staff_event(None, people["down"], kind="stood_down", reason="performance",
                       now=utcnow(), today=today, occurred_on=today - timedelta(days=3))
    bank = make_bank("业务题库")
    quiz = make_quiz(bank, users["trainer"], count=6, title="业务考试（模板）",
                     open_to_all=False)
    db_session.commit()
    one = db_session.scalar(select(Department.id).where(Department.name == "客服三部"))
    return {"people": people, "quiz": quiz, "department": one}


def form(template, department, today, **extra):
    data = {"title": "月度业务考试", "quiz": str(template.id),
            "day_of_month": str(today.day), "window_days": "5", "pass_mark": "60",
            "follow_up": "refresher", "departments": str(department), "active": "y"}
    data.update(extra)
    return data


def test_a_trainer_keeps_a_schedule_and_the_daily_run_creates_the_months_sittings(
        client, centre, db_session, today, users):
    quiz, people = centre["quiz"], centre["people"]
    client.login("TR001")
    for bad in ({"day_of_month": "32"}, {"window_days": "0"}, {"quiz": "999999"},
                {"title": ""}):
        page = client.post("/training/exams/new", form(quiz, centre["department"], today,
                                                         **bad), follow_redirects=True)
        assert page.status_code == 200 and "alert-danger" in page.get_data(as_text=True)
        assert db_session.scalar(select(func.count()).select_from(schedules.ExamSchedule)) == 0
    client.post("/training/exams/new", form(quiz, centre["department"], today))
    schedule = db_session.scalar(select(schedules.ExamSchedule))
    assert schedule is not None and schedule.department_ids == [centre["department"]]
    report = schedules.run(now=utcnow(), today=today)
    db_session.commit()
    sitters = {s.staff_id for s in db_session.scalars(select(ExamSitting))}
    assert sitters == {people["sits"].id}, report
    # idempotent: a second run the same day (and the next) creates nothing
    assert schedules.run(now=utcnow(), today=today).created == 0
    assert schedules.run(now=utcnow(), today=today + timedelta(days=1)).created == 0
    db_session.commit()
    sitting = db_session.scalar(select(ExamSitting))
    assert sitting.due_on == today + timedelta(days=4) and sitting.state == "assigned"
    month_quiz = db_session.get(quizzes.Quiz, sitting.quiz_id)
    assert month_quiz.id != quiz.id and month_quiz.pass_mark == Decimal(60)
    assert quizzes.is_assigned(people["sits"], month_quiz)
    assert not quizzes.is_assigned(people["other"], month_quiz)
    assert db_session.scalar(select(TodoItem).where(TodoItem.staff_id == people["sits"].id,
                                                    TodoItem.kind == "exam.sitting"))
    page = client.get(f"/training/exams/{schedule.id}").get_data(as_text=True)
    assert "参考甲" in page and "休假乙" not in page


def test_each_sitting_draws_afresh_and_results_go_to_the_record(client, centre, db_session,
                                                                today, users, make_staff):
    people = centre["people"]
    second = make_staff("learner", employee_no="M0006", name="参考己", department="客服三部")
    schedule = schedules.save_schedule(users["trainer"], None, schedules.ScheduleFields(
        title="月度业务考试", quiz_id=centre["quiz"].id, day_of_month=today.day, window_days=5,
        pass_mark=Decimal(60), follow_up="refresher",
        department_ids=[centre["department"]]), now=utcnow())
    db_session.add(Track(key="refresher", title="业务复训", position=7, issues_certificate=False))
    schedules.run(now=utcnow(), today=today)
    db_session.commit()
    sittings = {s.staff_id: s for s in db_session.scalars(select(ExamSitting))}
    assert set(sittings) == {people["sits"].id, second.id}
    quiz = db_session.get(quizzes.Quiz, sittings[second.id].quiz_id)
    drawn = []
    for person, answer in ((people["sits"], key_of), (second, wrong_of)):
        attempt = quizzes.start_attempt(person, quiz, now=utcnow())
        drawn.append([(i.question_id, tuple(i.choice_order)) for i in attempt.items])
        for item in attempt.items:
            quizzes.save_answer(person, attempt.id, item.position, answer(item), 0,
                                now=utcnow())
        quizzes.submit_attempt(person, attempt, now=utcnow())
        db_session.commit()
    assert drawn[0] != drawn[1]          # a draw of its own for each person
    db_session.expire_all()
    passed, failed = sittings[people["sits"].id], sittings[second.id]
    assert (passed.state, passed.percent) == ("passed", Decimal(100))
    assert failed.state == "failed" and failed.follow_up_enrolment_id is not None
    refresher = db_session.get(Enrolment, failed.follow_up_enrolment_id)
    assert refresher.reason == "exam_failed" and refresher.due_on == today + timedelta(days=14)
    # the record's monthly scores (a line from two months on), the department's trend
    client.login("HR001")
    record = client.get(f"/records/staff/{second.id}").get_data(as_text=True)
    assert "data-monthly-exams" in record and "月度业务考试" in record
    assert "data-exam-chart" not in record
    last_month = (failed.month - timedelta(days=1)).replace(day=1)
    db_session.add(ExamSitting(schedule_id=schedule.id, month=last_month, staff_id=second.id,
                               quiz_id=quiz.id, sits_on=last_month, due_on=last_month,
                               state="passed", percent=Decimal(70), created_at=utcnow()))
    db_session.commit()
    record = client.get(f"/records/staff/{second.id}").get_data(as_text=True)
    assert "data-exam-chart" in record and "data:image/svg+xml" in record
    trend = client.get("/records/exams").get_data(as_text=True)
    assert "data-exam-trend-chart" in trend
    assert "客服三部" in trend and "<span data-average>50.0</span>" in trend   # (100 + 0) / 2
    assert schedule.id


@pytest.mark.parametrize("follow_up,attempts,refresher", [
    ("none", 1, False), ("retake", 2, False), ("refresher", 1, True)])
def test_a_failed_sittings_follow_up_per_setting(centre, db_session, today, users, follow_up,
                                                 attempts, refresher):
    person = centre["people"]["sits"]
    schedules.save_schedule(users["trainer"], None, schedules.ScheduleFields(
        title=f"月考-{follow_up}", quiz_id=centre["quiz"].id, day_of_month=today.day,
        window_days=5, pass_mark=Decimal(60), follow_up=follow_up,
        department_ids=[centre["department"]]), now=utcnow())
    db_session.add(Track(key="refresher", title="业务复训", position=7, issues_certificate=False))
    schedules.run(now=utcnow(), today=today)
    sitting = db_session.scalar(select(ExamSitting))
    quiz = db_session.get(quizzes.Quiz, sitting.quiz_id)
    assert quiz.attempts_allowed == attempts
    attempt = quizzes.start_attempt(person, quiz, now=utcnow())
    for item in attempt.items:
        quizzes.save_answer(person, attempt.id, item.position, wrong_of(item), 0, now=utcnow())
    quizzes.submit_attempt(person, attempt, now=utcnow())
    db_session.commit()
    assert sitting.state == "failed"
    assert (sitting.follow_up_enrolment_id is not None) is refresher
    if follow_up == "retake":   # the retake within the window: a pass replaces the fail
        again = quizzes.start_attempt(person, quiz, now=utcnow())
        for item in again.items:
            quizzes.save_answer(person, again.id, item.position, key_of(item), 0, now=utcnow())
        quizzes.submit_attempt(person, again, now=utcnow())
        db_session.commit()
        assert sitting.state == "passed"


def test_a_sitting_not_taken_by_the_windows_end_is_missed(centre, db_session, today, users):
    schedules.save_schedule(users["trainer"], None, schedules.ScheduleFields(
        title="月度业务考试", quiz_id=centre["quiz"].id, day_of_month=today.day, window_days=2,
        pass_mark=Decimal(60), department_ids=[centre["department"]]), now=utcnow())
    schedules.run(now=utcnow(), today=today)
    assert schedules.run(now=utcnow(), today=today + timedelta(days=1)).missed == 0
    assert schedules.run(now=utcnow(), today=today + timedelta(days=2)).missed == 1
    db_session.commit()
    assert db_session.scalar(select(ExamSitting)).state == "missed"
    assert db_session.scalar(select(TodoItem).where(TodoItem.kind == "exam.sitting")).done_at


@pytest.mark.parametrize("days,extended", [(89, False), (90, True)])
def test_reentry_adds_the_extended_course_from_90_days_of_leave(content, make_staff, db_session,
                                                                today, days, extended):
    track = learning.track_by_key("reentry")
    courses = list(track.courses)
    courses[-1].extended = True                  # as `extended = true` in a course.toml
    db_session.commit()
    person = make_staff("learner", employee_no="M0100")
    record_staff_event(None, person, kind="leave_start", now=utcnow(), today=today,
                       occurred_on=today - timedelta(days=days))
    record_staff_event(None, person, kind="leave_return", now=utcnow(), today=today,
                       occurred_on=today)
    db_session.commit()
    enrolment = db_session.scalar(select(Enrolment).where(
        Enrolment.staff_id == person.id, Enrolment.track_id == track.id))
    keys = [c.course.key for c in learning.progress(enrolment).courses]
    assert (courses[-1].key in keys) is extended
    assert len(keys) == len(courses) - (0 if extended else 1)
    assert db_session.get(Course, courses[-1].id).extended
