"""The seams the record areas stand on: course requirements copied per enrolment, completion
signals, the 学时 ledger, the to-do list and the settings registry."""
from __future__ import annotations

import shutil
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import event, func, select

from tests.integration.test_learning import ROOT, content  # noqa: F401 - fixture
from trainer.core.db import db
from trainer.core.models import AuditEvent, TodoItem
from trainer.core.settings import get_setting, set_setting
from trainer.core.timeutil import utcnow
from trainer.learning import services
from trainer.learning.content import sync_courses
from trainer.learning.models import (
    CourseRequirement,
    Enrolment,
    EnrolmentRequirement,
    HoursEntry,
    Lesson,
    Track,
)
from trainer.learning.signals import course_completed, track_completed


@pytest.fixture
def assign(users):
    """Assign a track to a person by hand (as an admin), returning the enrolment."""

    def assign_track(person, key, *, days=30):
        track = services.track_by_key(key)
        count, skipped = services.assign_manual(
            users["admin"], [person], track,
            due_on=services.today_local(utcnow()) + timedelta(days=days), now=utcnow())
        assert count == 1, skipped
        return db.session.scalar(select(Enrolment).where(
            Enrolment.staff_id == person.id, Enrolment.track_id == track.id))

    return assign_track


def _read_all(person, enrolment, now=None):
    for course in services.progress(enrolment).courses:
        for status in course.lessons:
            services.mark_lesson_read(person, status.lesson, now=now or utcnow())


def _pass_quiz(person, enrolment, course_progress, *, correct=True):
    from trainer.quizzes import services as quizzes

    attempt = services.start_course_quiz(person, enrolment, course_progress.course,
                                         now=utcnow(), grace_s=30)
    for item in attempt.items:
        weights = [c["weight"] for c in item.snapshot["choices"]]
        best = max(range(len(weights)), key=lambda i: Decimal(str(weights[i])))
        worst = min(range(len(weights)), key=lambda i: Decimal(str(weights[i])))
        wanted = [i for i, w in enumerate(weights) if Decimal(str(w)) > 0] \
            if item.snapshot["qtype"] == "multiple" else [best]
        item.selected = wanted if correct else [worst]
    quizzes.submit_attempt(person, attempt, now=utcnow())
    return attempt


def _pass_course(person, enrolment, course_progress, db_session):
    """Its quiz passed, or (the 复职鉴定 course) its practical assessment passed."""
    from tests.integration.test_learning import pass_assessment

    if course_progress.quiz is not None:
        _pass_quiz(person, enrolment, course_progress)
    for other in course_progress.others:
        if other.kind == "assessment":
            pass_assessment(db_session, person.id, other.status.detail.form)


def test_requirements_are_copied_when_assigned_and_later_changes_apply_to_new_ones(
        assign, content, users, db_session, tmp_path):
    first, second = users["learner"], users["learner2"]
    before = assign(first, "reentry")
    rows = db_session.scalars(select(EnrolmentRequirement).where(
        EnrolmentRequirement.enrolment_id == before.id)).all()
    # Re-entry ends with the 复职鉴定: a practical assessment beside the lessons and quizzes.
    assert {r.kind for r in rows} == {"lessons", "quiz", "assessment"}
    lessons_before = sum(len(r.params["lesson_ids"]) for r in rows if r.kind == "lessons")
    # The course gains a lesson: the enrolment assigned before keeps what it was given.
    root = tmp_path / "courses"
    shutil.copytree(ROOT / "courses" / "reentry", root / "reentry")
    course_dir = sorted((root / "reentry").glob("0*"))[0]
    shutil.copy(sorted(course_dir.glob("*.md"))[0], course_dir / "99-added.md")
    assert sync_courses(root, now=utcnow()).lessons_created == 1
    after = assign(second, "reentry")
    steps = {e.id: sum(len(c.lessons) for c in services.progress(e).courses)
             for e in (before, after)}
    assert steps[before.id] == lessons_before
    assert steps[after.id] == lessons_before + 1


def test_a_course_completes_from_its_requirements_and_announces_it_once(
        assign, content, users, db_session):
    person = users["learner"]
    enrolment = assign(person, "reentry")
    heard = {"course": [], "track": []}

    def on_course(sender, course, now):
        heard["course"].append((sender.id, course.key, now))

    def on_track(sender, now):
        heard["track"].append((sender.id, now))

    course_completed.connect(on_course)
    track_completed.connect(on_track)
    try:
        _read_all(person, enrolment)
        state = services.progress(enrolment)
        assert not any(c.complete for c in state.courses)  # the quizzes are not passed yet
        for course_progress in state.courses:
            _pass_course(person, enrolment, course_progress, db_session)
        services.refresh_enrolment(enrolment, now=utcnow())   # a second refresh: nothing new
    finally:
        course_completed.disconnect(on_course)
        track_completed.disconnect(on_track)
    assert len(heard["course"]) == len(state.courses)
    assert heard["track"] and len(heard["track"]) == 1 and heard["track"][0][0] == enrolment.id
    assert enrolment.state == "completed"
    # Each course credited its 学时 to the ledger, once.
    entries = db_session.scalars(select(HoursEntry).where(HoursEntry.staff_id == person.id)).all()
    assert {e.source_id for e in entries} == {c.course.id for c in state.courses}
    assert all(e.source_kind == "course" and e.minutes == int(c.hours * 60)
               for e, c in zip(sorted(entries, key=lambda e: e.source_id),
                               sorted((c.course for c in state.courses), key=lambda c: c.id)))


def test_a_completed_enrolment_is_never_reopened(assign, content, users, db_session, tmp_path):
    person = users["learner"]
    enrolment = assign(person, "reentry")
    _read_all(person, enrolment)
    for course_progress in services.progress(enrolment).courses:
        _pass_course(person, enrolment, course_progress, db_session)
    assert enrolment.state == "completed"
    completed_at = enrolment.completed_at
    root = tmp_path / "courses"
    shutil.copytree(ROOT / "courses" / "reentry", root / "reentry")
    course_dir = sorted((root / "reentry").glob("0*"))[0]
    shutil.copy(sorted(course_dir.glob("*.md"))[0], course_dir / "99-added.md")
    sync_courses(root, now=utcnow())
    services.refresh_enrolment(enrolment, now=utcnow())
    assert enrolment.state == "completed" and enrolment.completed_at == completed_at
    assert services.progress(enrolment).complete


def test_the_kept_grade_follows_the_quizs_grading_method(assign, content, users, db_session):
    person = users["learner"]
    enrolment = assign(person, "reentry")
    course_progress = services.progress(enrolment).courses[0]
    quiz = course_progress.quiz
    quiz.grading, quiz.attempts_allowed = "last", None
    db_session.flush()
    _pass_quiz(person, enrolment, course_progress, correct=True)
    _pass_quiz(person, enrolment, course_progress, correct=False)
    state = services.progress(enrolment).courses[0]
    assert state.kept_percent == state.attempts[-1].percent and not state.passed
    quiz.grading = "highest"
    db_session.flush()
    state = services.progress(enrolment).courses[0]
    assert state.passed and state.kept_percent == max(a.percent for a in state.attempts)


def test_progress_costs_one_query_per_requirement_kind_whatever_the_size(
        assign, app, content, users, make_staff, db_session):
    people = [make_staff("learner") for _ in range(4)]
    small = [assign(people[0], "reentry")]
    for p in people:
        assign(p, "promotion")
    for p in people[1:]:
        assign(p, "reentry")
    # (their hire gave each an onboarding too)
    large = db_session.scalars(select(Enrolment).where(
        Enrolment.staff_id.in_([p.id for p in people]))).all()
    assert len(large) == 12
    with app.app_context():
        engine = db.engine
    counts = []
    for batch in (small, large):
        db_session.expire_all()
        batch = db_session.scalars(select(Enrolment).where(   # loaded, as a page loads them
            Enrolment.id.in_([e.id for e in batch]))).all()
        statements = []

        def log(_c, _cur, statement, *_a):
            if statement.startswith("SELECT"):
                statements.append(statement)

        event.listen(engine, "before_cursor_execute", log)
        try:
            result = services.progress_many(batch)
            for p in result.values():
                [(c.lessons, c.quiz, c.attempts) for c in p.courses]
        finally:
            event.remove(engine, "before_cursor_execute", log)
        counts.append(len(statements))
    assert counts[0] == counts[1], counts


def test_the_ledger_credits_once_per_source_and_corrects(users, db_session):
    person = users["learner"]
    today = services.today_local(utcnow())
    for _ in range(2):
        services.credit_hours(person.id, "class", 7, on=today, category="岗位技能", minutes=150,
                              title="班前会", now=utcnow())
    assert db_session.scalar(select(func.count()).select_from(HoursEntry)) == 1
    [line] = services.hours_of(person.id)
    assert (line.minutes, line.hours, line.category) == (150, Decimal("2.5"), "岗位技能")
    services.credit_hours(person.id, "class", 7, on=today, category="岗位技能", minutes=100,
                          now=utcnow())
    assert services.hours_of(person.id)[0].hours == Decimal("1.5")
    set_setting("minutes_per_hour", 45, actor=None, now=utcnow())
    assert services.hours_of(person.id)[0].hours == Decimal("2")
    services.credit_hours(person.id, "class", 7, on=today, category="岗位技能", minutes=0,
                          now=utcnow())
    assert services.hours_of(person.id) == []


def test_a_late_return_is_not_overdue_and_hr_is_told_what_was_assigned(
        content, client, users, db_session, today):
    person = users["learner"]
    client.login(users["hr"].employee_no)
    client.post(f"/staff/{person.id}/events", {"kind": "leave_start",
                                               "occurred_on": (today - timedelta(days=80))})
    response = client.post(f"/staff/{person.id}/events", {
        "kind": "leave_return", "occurred_on": (today - timedelta(days=20)).isoformat()},
        follow_redirects=True)
    page = response.get_data(as_text=True)
    reentry = db_session.scalar(select(Enrolment).join(Track).where(
        Enrolment.staff_id == person.id, Track.key == "reentry"))
    assert reentry.due_on == today + timedelta(days=28) and reentry.state == "assigned"
    assert "复岗培训" in page and reentry.due_on.isoformat() in page
    response = client.post(f"/staff/{person.id}/events", {
        "kind": "leave_start", "occurred_on": today.isoformat()}, follow_redirects=True)
    assert "未因此安排培训" not in response.get_data(as_text=True)  # (not an assigning event)


def test_lessons_revised_while_away_are_on_the_to_do_list_until_read(
        content, client, users, db_session, today):
    person = users["learner"]
    lesson = db_session.scalar(select(Lesson).join(Lesson.course).join(Track).where(
        Track.key == "reentry").order_by(Lesson.id))
    from trainer.learning.models import LessonRevision

    lesson.revisions.append(LessonRevision(
        number=2, content=lesson.current.content + "\n新规定。\n", content_hash="x2",
        revised_at=utcnow() - timedelta(days=30), source="web"))
    db_session.commit()
    from trainer.accounts.services import record_staff_event

    record_staff_event(users["hr"], person, kind="leave_start",
                       occurred_on=today - timedelta(days=60), now=utcnow(), today=today)
    record_staff_event(users["hr"], person, kind="leave_return",
                       occurred_on=today - timedelta(days=1), now=utcnow(), today=today)
    db_session.commit()
    client.login(person.employee_no)
    page = client.get("/my").get_data(as_text=True)
    assert "data-todos" in page and lesson.title in page
    assert 'data-nav-count>1' in page
    enrolment = db_session.scalar(select(Enrolment).join(Track).where(
        Enrolment.staff_id == person.id, Track.key == "reentry"))
    assert f"/learn/{enrolment.id}/lessons/{lesson.id}" in page
    assert client.post(f"/learn/{enrolment.id}/lessons/{lesson.id}/read").status_code == 302
    page = client.get("/my").get_data(as_text=True)
    assert "data-todos" not in page and "data-nav-count" not in page
    assert db_session.scalar(select(TodoItem.done_at).where(
        TodoItem.staff_id == person.id)) is not None


def test_the_settings_page_groups_by_area_and_audits_each_change(client, users, db_session):
    client.login(users["hr"].employee_no)
    page = client.get("/settings").get_data(as_text=True)
    for group in ("培训路径", "学时"):
        assert group in page
    response = client.post("/settings", {"timezone": "Asia/Shanghai", "onboarding_due_days": "21",
                                         "reentry_min_leave_days": "30", "reentry_due_days": "28",
                                         "promotion_due_days": "60",
                                         "inservice_cycle_months": "12",
                                         "inservice_window_days": "30", "minutes_per_hour": "45",
                                         "hours_categories": "业务知识\n其他", "go_live_date": "",
                                         "checkout_required": "y",
                                         "hours_count_classes": "y"})  # (ticked by default)
    assert response.status_code == 302
    assert get_setting("onboarding_due_days") == 21 and get_setting("minutes_per_hour") == 45
    changed = db_session.scalars(select(AuditEvent.object_id).where(
        AuditEvent.action == "setting.changed")).all()
    assert set(changed) == {"onboarding_due_days", "minutes_per_hour", "hours_categories"}
    bad = client.post("/settings", {"timezone": "Mars/Base", "onboarding_due_days": "0",
                                    "reentry_min_leave_days": "30", "reentry_due_days": "28",
                                    "promotion_due_days": "60", "inservice_cycle_months": "12",
                                    "inservice_window_days": "30", "minutes_per_hour": "60",
                                    "hours_categories": "其他", "go_live_date": ""})
    assert bad.status_code == 200
    assert get_setting("minutes_per_hour") == 45  # nothing stored from a refused form


def test_a_stored_value_that_no_longer_validates_reads_as_the_default(db_session):
    from trainer.core.models import Setting
    from trainer.core.settings import forget_cached

    db_session.add(Setting(key="onboarding_due_days", value="soon", updated_at=utcnow()))
    db_session.flush()
    forget_cached()
    assert get_setting("onboarding_due_days") == 30


def test_a_course_page_during_an_attempt_offers_only_to_continue_it(assign, content, client,
                                                                    users, db_session):
    person = users["learner"]
    enrolment = assign(person, "reentry")
    course_progress = services.progress(enrolment).courses[0]
    course_progress.quiz.attempts_allowed = 3
    db_session.commit()
    client.login(person.employee_no)
    client.post(f"/learn/{enrolment.id}/courses/{course_progress.course.id}/quiz")
    page = client.get(f"/learn/{enrolment.id}/courses/{course_progress.course.id}")
    html = page.get_data(as_text=True)
    assert "data-continue" in html and "data-start" not in html
    assert "已用 1 次，共 3 次" in html


def test_a_trainer_adds_a_classroom_requirement_to_a_course_in_the_site(
        assign, content, client, users, make_staff, db_session):
    course = services.track_by_key("reentry").courses[0]
    before = assign(make_staff("learner"), "reentry")
    client.login(users["trainer"].employee_no)
    page = client.get(f"/tracks/courses/{course.id}").get_data(as_text=True)
    assert "参加面授课" in page and 'name="kind" value="class"' in page
    assert client.post(f"/tracks/courses/{course.id}/requirements",
                       {"kind": "class"}).status_code == 302
    refused = client.post(f"/tracks/courses/{course.id}/requirements", {"kind": "lessons"},
                          follow_redirects=True)
    assert "不能在此添加" in refused.get_data(as_text=True)
    after = assign(make_staff("learner"), "reentry")
    kinds = {e.id: {o.kind for o in services.progress(e).courses[0].others}
             for e in (before, after)}
    assert kinds[before.id] == set() and kinds[after.id] == {"class"}
    requirement = db_session.scalar(select(CourseRequirement).where(
        CourseRequirement.course_id == course.id, CourseRequirement.kind == "class"))
    assert client.post(f"/tracks/courses/{course.id}/requirements/{requirement.id}/remove"
                       ).status_code == 302
    assert services.progress(after).courses[0].others[0].kind == "class"   # kept its copy
    assert db_session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action.like("course.requirement_%"))) == 2
