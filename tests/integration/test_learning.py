"""Tracks and courses that follow the staff record: sync, lifecycle through the staff events,
progress and completion, the learner's pages, and what HR and trainers can do."""
from __future__ import annotations

import re
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.integration.quiz_fixtures import key_of
from trainer.accounts.demo import DEMO_PASSWORD
from trainer.accounts.models import Position, StaffMember
from trainer.accounts.services import create_list_entry
from trainer.assessments.content import sync_forms
from trainer.banks.services import sync_banks
from trainer.core.models import AuditEvent
from trainer.core.settings import set_setting
from trainer.core.timeutil import utcnow
from trainer.learning import services
from trainer.learning.content import sync_courses
from trainer.learning.models import CourseRequirement, Enrolment, Lesson, LessonRead, Track
from trainer.quizzes.models import Attempt

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def content(db_session):
    """The shipped banks and courses, loaded."""
    sync_banks(ROOT / "question_banks", now=utcnow())
    sync_forms(ROOT / "assessment_forms", now=utcnow())
    report = sync_courses(ROOT / "courses", now=utcnow())
    assert report.errors == []
    db_session.commit()
    return report


def enrolments_of(db_session, staff_id):
    return {e.track.key: e for e in db_session.scalars(
        select(Enrolment).where(Enrolment.staff_id == staff_id))}


def test_shipped_courses_load_and_sync_is_idempotent(content, db_session):
    assert content.tracks == 7 and content.courses >= 12 and content.lessons_created >= 40
    again = sync_courses(ROOT / "courses", now=utcnow())
    assert (again.lessons_created, again.lessons_revised, again.lessons_retired) == (0, 0, 0)
    assert again.lessons_unchanged == content.lessons_created
    # Every course has a quiz but the assessment courses (上岗测试, 复职鉴定), which ask for a
    # passed practical assessment instead.
    for course in (c for t in db_session.scalars(select(Track)) for c in t.courses):
        kinds = {r.kind for r in db_session.scalars(select(CourseRequirement).where(
            CourseRequirement.course_id == course.id))}
        assert bool(course.quiz_id) != ("assessment" in kinds), course.key


def test_changed_lesson_gets_a_revision_and_removed_one_is_retired(db_session, tmp_path):
    sync_banks(ROOT / "question_banks", now=utcnow())
    sync_forms(ROOT / "assessment_forms", now=utcnow())
    root = tmp_path / "courses"
    shutil.copytree(ROOT / "courses" / "reentry", root / "reentry")
    sync_courses(root, now=utcnow())
    lessons = sorted((root / "reentry").glob("*/*.md"))
    changed, removed = lessons[0], lessons[1]
    changed.write_text(changed.read_text(encoding="utf-8") + "\n补充一条新规定。\n",
                       encoding="utf-8")
    removed.unlink()
    report = sync_courses(root, now=utcnow())
    assert (report.lessons_revised, report.lessons_retired) == (1, 1)
    lesson = db_session.scalar(select(Lesson).where(
        Lesson.path == changed.relative_to(root).as_posix()))
    assert [r.number for r in lesson.revisions] == [1, 2]
    assert lesson.current.content.endswith("补充一条新规定。\n")
    gone = db_session.scalar(select(Lesson).where(
        Lesson.path == removed.relative_to(root).as_posix()))
    assert gone.retired


def _quiz_shape(db_session, course_key):
    from trainer.learning.models import Course
    from trainer.quizzes.models import Quiz
    course = db_session.scalar(select(Course).where(Course.key == course_key))
    quiz = db_session.get(Quiz, course.quiz_id)
    return quiz.id, [(r.bank_id, r.category_id, r.count) for r in quiz.rules]


def test_a_quiz_drawing_what_no_lesson_teaches_is_refused_and_left_as_it_was(db_session,
                                                                             tmp_path):
    """Teach to the test at load time: a course.toml whose quiz draws a category no lesson
    declares, whose knowledge point names a category the bank lacks or a lesson the course lacks,
    or which declares no knowledge points, gets a clear error and its quiz is not changed."""
    from trainer.banks.models import QuestionBank
    from trainer.learning.knowledge import read_points
    sync_banks(ROOT / "question_banks", now=utcnow())
    sync_forms(ROOT / "assessment_forms", now=utcnow())
    root = tmp_path / "courses"
    shutil.copytree(ROOT / "courses" / "reentry", root / "reentry")
    assert sync_courses(root, now=utcnow()).errors == []
    folder = sorted(p.parent for p in (root / "reentry").glob("*/course.toml"))[0]
    toml = folder / "course.toml"
    original = toml.read_text(encoding="utf-8")
    before = _quiz_shape(db_session, folder.name)
    import tomllib
    points = read_points(tomllib.loads(original), (p.stem for p in folder.glob("*.md")))
    untaught = next((bank.key, c.path) for bank in db_session.scalars(select(QuestionBank))
                    for c in bank.categories
                    if not any(p.covers(bank.key, c.path) for p in points.points))

    def sync_with(text):
        toml.write_text(text, encoding="utf-8")
        return [e for e in sync_courses(root, now=utcnow()).errors
                if e.startswith(f"reentry/{folder.name}: ")]

    errors = sync_with(original + f'\n[[quiz.rules]]\nbank = "{untaught[0]}"\n'
                       f'category = "{untaught[1]}"\ncount = 1\n')
    assert errors == [f"reentry/{folder.name}: the quiz draws {untaught[0]}:{untaught[1]}, "
                      "which no lesson's knowledge_points declare; the quiz is not changed"]
    assert _quiz_shape(db_session, folder.name) == before

    lesson = sorted(points.by_lesson)[0]
    errors = sync_with(original.replace("[knowledge_points]", "[knowledge_points]\n"
                                        '"99-absent" = ["philosophy:不存在的知识点"]', 1))
    assert any("'99-absent'" in e and "does not have" in e for e in errors)
    errors = sync_with(original.replace(f'"{lesson}" = [', f'"{lesson}" = ["{untaught[0]}:'
                                        '不存在的知识点", ', 1))
    assert any(f"bank {untaught[0]} has no 不存在的知识点" in e for e in errors)
    start, end = original.index("[knowledge_points]"), original.index("[quiz]")
    errors = sync_with(original[:start] + original[end:])
    assert errors == [f"reentry/{folder.name}: the course has a quiz but no knowledge_points: "
                      "declare what each lesson teaches; the quiz is not changed"]
    assert _quiz_shape(db_session, folder.name) == before
    assert sync_with(original) == []


def test_a_lesson_with_an_image_from_another_site_is_refused(db_session, tmp_path):
    """A lesson that would have each reader's browser fetch a file from another site is not
    loaded (a revised one keeps its last good revision); a link is fine."""
    sync_banks(ROOT / "question_banks", now=utcnow())
    sync_forms(ROOT / "assessment_forms", now=utcnow())
    root = tmp_path / "courses"
    shutil.copytree(ROOT / "courses" / "reentry", root / "reentry")
    sync_courses(root, now=utcnow())
    pixel = "https://tracker.example/pixel.gif"
    lessons = sorted((root / "reentry").glob("*/*.md"))
    revised = lessons[0]
    original = revised.read_text(encoding="utf-8")
    revised.write_text(original + f"\n![图]({pixel})\n", encoding="utf-8")
    fresh = lessons[0].parent / "99-new.md"
    fresh.write_text(original + f'\n<img src="{pixel}">\n', encoding="utf-8")
    linked = lessons[1]
    linked.write_text(linked.read_text(encoding="utf-8") + "\n[规范](https://example.com/)\n",
                      encoding="utf-8")
    report = sync_courses(root, now=utcnow())
    assert len(report.errors) == 2
    for path in (revised, fresh):
        key = path.relative_to(root).as_posix()
        assert any(error.startswith(key) and pixel in error for error in report.errors)
    assert report.lessons_revised == 1 and report.lessons_created == 0
    assert report.lessons_retired == 0
    lesson = db_session.scalar(select(Lesson).where(
        Lesson.path == revised.relative_to(root).as_posix()))
    assert lesson.current.content == original and not lesson.retired
    assert db_session.scalar(select(Lesson).where(
        Lesson.path == fresh.relative_to(root).as_posix())) is None


def test_a_hire_recorded_by_hr_gets_onboarding(content, client, users, db_session, today):
    client.login(users["hr"].employee_no)
    response = client.post("/staff/new", {
        "employee_no": "N1001", "name": "新人",
        "department": users["learner"].department_id, "hire_date": today.isoformat(), "roles": ["learner"], "locale": "zh_CN",
        "timezone": "Asia/Shanghai"})
    assert response.status_code == 200
    person = db_session.scalar(select(StaffMember).where(StaffMember.employee_no == "N1001"))
    onboarding = enrolments_of(db_session, person.id)["onboarding"]
    assert onboarding.reason == "hire" and onboarding.due_on == today + timedelta(days=30)
    page = client.get(f"/staff/{person.id}").get_data(as_text=True)
    assert "data-enrolment=\"onboarding\"" in page


def test_return_from_a_long_leave_gets_reentry(content, client, users, db_session, today):
    set_setting("go_live_date", (today - timedelta(days=365)).isoformat(), actor=None,
                now=utcnow())
    db_session.commit()
    learner = users["learner"]
    client.login(users["hr"].employee_no)
    client.post(f"/staff/{learner.id}/events", {"kind": "leave_start",
                                                "occurred_on": (today - timedelta(days=45)).isoformat()})
    assert "reentry" not in enrolments_of(db_session, learner.id)
    client.post(f"/staff/{learner.id}/events", {"kind": "leave_return",
                                                "occurred_on": today.isoformat()})
    reentry = enrolments_of(db_session, learner.id)["reentry"]
    assert reentry.due_on == today + timedelta(days=28)   # seed 004: at least four weeks
    assert reentry.away_from == today - timedelta(days=45)
    inspector = create_list_entry(None, Position, name="质检员", now=utcnow())
    db_session.commit()
    client.post(f"/staff/{learner.id}/events", {"kind": "nomination", "position": inspector.id,
                                                "occurred_on": today.isoformat()})
    assert enrolments_of(db_session, learner.id)["promotion"].target_position == "质检员"


def _pass_course(client, db_session, enrolment, course_progress):
    """Read the lessons, pass the quiz through the site, and have an assessor record a passed
    practical assessment where the course asks for one (the 上岗测试)."""
    for status in course_progress.lessons:
        response = client.post(f"/learn/{enrolment.id}/lessons/{status.lesson.id}/read")
        assert response.status_code == 302
    for other in course_progress.others:
        if other.kind == "assessment":
            pass_assessment(db_session, enrolment.staff_id, other.status.detail.form)
    if course_progress.course.quiz_id is None:
        return
    response = client.post(f"/learn/{enrolment.id}/courses/{course_progress.course.id}/quiz")
    attempt_id = int(re.search(r"/attempts/(\d+)", response.headers["Location"]).group(1))
    attempt = db_session.get(Attempt, attempt_id)
    assert attempt.enrolment_id == enrolment.id
    for item in attempt.items:
        shown = [item.choice_order.index(k) for k in key_of(item)]
        assert client.post_json(f"/attempts/{attempt_id}/save", {
            "position": item.position, "selected": shown, "version": 0}).status_code == 200
    client.post(f"/attempts/{attempt_id}/submit", {})


def pass_assessment(db_session, staff_id, form):
    """An assessor (made on first use) records full points on the form for the person."""
    from decimal import Decimal as D

    from trainer.accounts.services import create_staff, get_staff_by_employee_no
    from trainer.assessments import services as assessments
    from trainer.core.timeutil import local_date

    today = local_date(utcnow(), "Asia/Shanghai")
    assessor = get_staff_by_employee_no("AS999") or create_staff(
        None, employee_no="AS999", name="考评员", department="培训部", position="考评员",
        hire_date=today - timedelta(days=400), roles=("assessor",), now=utcnow())[0]
    assessments.record_assessment(
        assessor, form, db_session.get(StaffMember, staff_id), assessed_on=today, today=today,
        awarded={str(item.id): D(item.points) for item in form.items}, now=utcnow())
    db_session.commit()


def test_end_to_end_hire_to_completed_track(content, client, make_staff, db_session, today):
    person = make_staff("learner", hired_days_ago=0)
    onboarding = enrolments_of(db_session, person.id)["onboarding"]
    assert onboarding.state == "assigned"
    client.login(person.employee_no)
    home = client.get("/my").get_data(as_text=True)
    assert "入职培训" in home and onboarding.due_on.strftime("%Y") in home
    courses = services.progress(onboarding).courses
    for index, course_progress in enumerate(courses):
        _pass_course(client, db_session, onboarding, course_progress)
        db_session.expire_all()
        state = db_session.get(Enrolment, onboarding.id).state
        assert state == ("completed" if index == len(courses) - 1 else "in_progress")
    final = db_session.get(Enrolment, onboarding.id)
    assert final.completed_at is not None
    actions = db_session.scalars(select(AuditEvent.action).where(
        AuditEvent.object_type == "enrolment", AuditEvent.object_id == str(final.id))).all()
    assert actions.count("course.completed") == len(courses) and "enrolment.completed" in actions
    assert "已完成" in client.get("/my").get_data(as_text=True)


def test_reads_before_the_enrolment_do_not_count(content, make_staff, db_session):
    person = make_staff("learner", hired_days_ago=0)
    onboarding = enrolments_of(db_session, person.id)["onboarding"]
    lesson = services.progress(onboarding).courses[0].lessons[0].lesson
    db_session.add(LessonRead(staff_id=person.id, lesson_id=lesson.id,
                              revision_id=lesson.current.id,
                              read_at=onboarding.assigned_at - timedelta(days=1)))
    db_session.commit()
    assert services.progress(onboarding).courses[0].lessons[0].read is False


def test_quiz_attempt_limit_counts_per_enrolment(content, make_staff, db_session):
    from trainer.quizzes import services as quizzes

    person = make_staff("learner", hired_days_ago=0)
    onboarding = enrolments_of(db_session, person.id)["onboarding"]
    course = onboarding.track.courses[0]
    for _ in range(3):
        attempt = services.start_course_quiz(person, onboarding, course, now=utcnow(),
                                             grace_s=30)
        quizzes.submit_attempt(person, attempt, now=utcnow())
    with pytest.raises(Exception):
        services.start_course_quiz(person, onboarding, course, now=utcnow(), grace_s=30)
    services.waive(person if False else _hr(db_session), onboarding, "测试", now=utcnow())
    manual, _ = services.assign_manual(_hr(db_session), [person], onboarding.track,
                                       due_on=onboarding.due_on, now=utcnow())
    fresh = db_session.scalar(select(Enrolment).where(Enrolment.staff_id == person.id,
                                                      Enrolment.state == "assigned"))
    assert services.start_course_quiz(person, fresh, course, now=utcnow(), grace_s=30)


def _hr(db_session):
    from trainer.accounts.services import create_staff
    from datetime import date

    existing = db_session.scalar(select(StaffMember).where(StaffMember.employee_no == "HRX"))
    if existing:
        return existing
    staff, _ = create_staff(None, employee_no="HRX", name="人事", hire_date=date(2020, 1, 1),
                            roles=["hr"], now=utcnow(), password="hr-pass-123")
    return staff


def test_overdue_extend_and_waive_are_audited(content, client, users, make_staff, db_session,
                                              today):
    person = make_staff("learner", hired_days_ago=40)
    onboarding = enrolments_of(db_session, person.id)["onboarding"]
    onboarding.due_on = today - timedelta(days=10)
    services.mark_overdue(now=utcnow())
    assert onboarding.state == "overdue"
    client.login(users["hr"].employee_no)
    client.post(f"/training/enrolments/{onboarding.id}/extend",
                {"due_on": (today + timedelta(days=10)).isoformat()})
    db_session.expire_all()
    assert db_session.get(Enrolment, onboarding.id).state == "assigned"
    client.post(f"/training/enrolments/{onboarding.id}/waive", {"reason": "已在外部机构完成"})
    db_session.expire_all()
    waived = db_session.get(Enrolment, onboarding.id)
    assert waived.state == "waived" and waived.waived_reason == "已在外部机构完成"
    actions = set(db_session.scalars(select(AuditEvent.action).where(
        AuditEvent.object_id == str(onboarding.id), AuditEvent.object_type == "enrolment")))
    assert {"enrolment.assigned", "enrolment.overdue", "enrolment.extended",
            "enrolment.waived"} <= actions


def test_hr_assigns_a_whole_department(content, client, users, make_staff, db_session, today):
    people = [make_staff("learner", department="客服九部", hired_days_ago=900) for _ in range(3)]
    client.login(users["hr"].employee_no)
    response = client.post("/training/assign", {"track": "promotion", "department": "客服九部",
                                                "due_on": (today + timedelta(days=20)).isoformat()})
    assert response.status_code == 302
    for person in people:
        assert enrolments_of(db_session, person.id)["promotion"].reason == "manual"
    again = client.post("/training/assign", {"track": "promotion", "department": "客服九部",
                                             "due_on": (today + timedelta(days=20)).isoformat()})
    assert again.status_code == 302  # nobody gets a second open enrolment
    assert db_session.scalar(select(func.count()).select_from(Enrolment).where(
        Enrolment.reason == "manual")) == 3


def test_learner_pages_and_privacy(content, client, another_client, make_staff, db_session):
    person = make_staff("learner", hired_days_ago=0)
    other = make_staff("learner", hired_days_ago=0)
    onboarding = enrolments_of(db_session, person.id)["onboarding"]
    course = onboarding.track.courses[0]
    lesson = course.lessons[0]
    client.login(person.employee_no)
    assert client.get(f"/learn/{onboarding.id}").status_code == 200
    assert course.title in client.get(f"/learn/{onboarding.id}/courses/{course.id}").get_data(
        as_text=True)
    page = client.get(f"/learn/{onboarding.id}/lessons/{lesson.id}").get_data(as_text=True)
    assert "<h2>要点</h2>" in page and "检查清单" in page
    another_client.login(other.employee_no)
    assert another_client.get(f"/learn/{onboarding.id}").status_code == 403
    assert another_client.post(f"/learn/{onboarding.id}/lessons/{lesson.id}/read").status_code == 403


def test_trainers_see_tracks_with_figures(content, client, users):
    client.login(users["trainer"].employee_no)
    page = client.get("/tracks").get_data(as_text=True)
    assert "入职培训" in page and "晋升培训" in page


def test_demo_data_shows_each_track(tmp_path):
    """`trainer setup --demo`: a new hire sees onboarding, the agent back from a 45-day leave
    sees re-entry with exactly the revised lesson marked, a nomination produced promotion."""
    from trainer import create_app
    from trainer.core.db import db
    from trainer.learning.demo import REVISED_LESSON

    app = create_app({"INSTANCE_PATH": str(tmp_path),
                      "DATABASE_URL": f"sqlite:///{tmp_path}/demo.db", "SECRET_KEY": "k" * 32})
    result = app.test_cli_runner().invoke(args=["setup", "--demo"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        def enrolment(no, track):
            person = db.session.scalar(select(StaffMember).where(StaffMember.employee_no == no))
            return enrolments_of(db.session, person.id).get(track)
        assert enrolment("K0002", "onboarding").state == "assigned"
        assert enrolment("K0004", "promotion").target_position == "班组长"
        reentry = enrolment("K0003", "reentry")
        assert (reentry.away_until - reentry.away_from).days == 45
        marked = [s.lesson.path for c in services.progress(reentry).courses for s in c.lessons
                  if s.new_since_away]
        assert marked == [REVISED_LESSON]
        assert enrolment("K0001", "onboarding") is None  # existing staff: cleared at go-live
        db.session.remove()
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    client.post("/login", data={"employee_no": "K0003", "password": DEMO_PASSWORD,
                                "csrf_token": token})
    home = client.get("/my").get_data(as_text=True)
    assert "复岗培训" in home


def test_hr_changes_the_training_settings(content, client, users, db_session, today):
    from trainer.learning.services import lifecycle_settings

    client.login(users["hr"].employee_no)
    form = {"timezone": "Asia/Shanghai", "go_live_date": (today - timedelta(days=10)).isoformat(),
            "onboarding_due_days": "14", "reentry_min_leave_days": "20", "reentry_due_days": "5",
            "promotion_due_days": "45", "inservice_cycle_months": "12",
            "inservice_window_days": "30", "minutes_per_hour": "60",
            "hours_categories": "业务知识\n其他"}
    assert client.post("/settings", form).status_code == 302
    settings = lifecycle_settings()
    assert settings.onboarding_days == 14 and settings.go_live == today - timedelta(days=10)
    bad = client.post("/settings", dict(form, timezone="Mars/Olympus"))
    assert bad.status_code == 200 and lifecycle_settings().onboarding_days == 14
    changes = db_session.scalars(select(AuditEvent.action).where(
        AuditEvent.action == "setting.changed")).all()
    assert len(changes) >= 5
