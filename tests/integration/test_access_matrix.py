"""Every registered route and method × every kind of visitor → the expected answer.

The table is written by hand. A route or method missing from it fails the test, so nothing new
slips through without someone deciding who may use it. POSTs carry valid CSRF tokens.

Codes: "ok" = allowed (any 2xx/3xx, or 400/422 for a deliberately empty form), "login" = sent
to the login page (GET) or 401 (POST), 403 = refused, 405 = method not allowed."""
from __future__ import annotations

import pytest
from sqlalchemy import select

ANON, LEARNER, TRAINER, HR, ADMIN = "anonymous", "learner", "trainer", "hr", "admin"
VISITORS = (ANON, LEARNER, TRAINER, HR, ADMIN)

OK, LOGIN = "ok", "login"
EVERYONE = {v: OK for v in VISITORS}
SIGNED_IN = {ANON: LOGIN, LEARNER: OK, TRAINER: OK, HR: OK, ADMIN: OK}
STAFF_ADMIN = {ANON: LOGIN, LEARNER: 403, TRAINER: 403, HR: OK, ADMIN: OK}
TRAINERS = {ANON: LOGIN, LEARNER: 403, TRAINER: OK, HR: 403, ADMIN: OK}
LEARNING_STAFF = {ANON: LOGIN, LEARNER: 403, TRAINER: OK, HR: OK, ADMIN: OK}
# Another learner's attempt: nobody but its owner (learner2, not a visitor here) may touch it.
OWNER_ONLY = {ANON: LOGIN, LEARNER: 403, TRAINER: 403, HR: 403, ADMIN: 403}
RUNNERS = {ANON: LOGIN, LEARNER: 403, TRAINER: OK, HR: OK, ADMIN: OK}
# A class another trainer teaches: HR and admins manage every class, a trainer only theirs.
OTHERS_CLASS = {ANON: LOGIN, LEARNER: 403, TRAINER: 403, HR: OK, ADMIN: OK}
# Public, but a made-up token or an old code: gone.
GONE = {v: 410 for v in VISITORS}
NOT_FOUND = {v: 404 for v in VISITORS}
# Another person's sign-in, through one's own devices page: as if it did not exist.
NOT_ONES_OWN = {ANON: LOGIN, LEARNER: 404, TRAINER: 404, HR: 404, ADMIN: 404}
# Another person's certificate or the file they handed in: theirs and HR's.
THEIRS_OR_HR = {ANON: LOGIN, LEARNER: 404, TRAINER: 404, HR: OK, ADMIN: OK}
ADMINS = {ANON: LOGIN, LEARNER: 403, TRAINER: 403, HR: 403, ADMIN: OK}
# Another learner's practical assessment: theirs, its assessor's and the readers' (trainers, HR);
# another learner gets "no such page". Acknowledging is the person's alone.
ASSESSMENT = {ANON: LOGIN, LEARNER: 404, TRAINER: OK, HR: OK, ADMIN: OK}
ACKNOWLEDGE = {ANON: LOGIN, LEARNER: 404, TRAINER: 403, HR: 403, ADMIN: 403}
# Another person's training record: HR's; a trainer's only when the person is in their classes
# or took their quizzes (not so here: as if there were no record).
RECORD = {ANON: LOGIN, LEARNER: 403, TRAINER: 404, HR: OK, ADMIN: OK}

# (rule, method) -> expected per visitor. {staff} = another learner; {event} = their hire event.
MATRIX: dict[tuple[str, str], dict[str, object]] = {
    ("/", "GET"): SIGNED_IN,
    ("/healthz", "GET"): EVERYONE,
    ("/favicon.ico", "GET"): EVERYONE,
    ("/login", "GET"): EVERYONE,
    ("/login", "POST"): EVERYONE,
    ("/logout", "POST"): SIGNED_IN,
    ("/language", "POST"): EVERYONE,
    ("/me", "GET"): SIGNED_IN,
    ("/me/logins", "GET"): SIGNED_IN,
    ("/me/logins/<int:login_id>/end", "POST"): NOT_ONES_OWN,
    ("/me/logins/end-others", "POST"): SIGNED_IN,
    ("/password", "GET"): SIGNED_IN,
    ("/password", "POST"): SIGNED_IN,
    ("/banks/", "GET"): TRAINERS,
    ("/banks/new", "GET"): TRAINERS,
    ("/banks/new", "POST"): TRAINERS,
    ("/banks/<int:bank_id>", "GET"): TRAINERS,
    ("/banks/<int:bank_id>/edit", "GET"): TRAINERS,
    ("/banks/<int:bank_id>/edit", "POST"): TRAINERS,
    ("/banks/<int:bank_id>/coverage", "GET"): TRAINERS,
    ("/banks/<int:bank_id>/move", "POST"): TRAINERS,
    ("/banks/<int:bank_id>/questions/new", "GET"): TRAINERS,
    ("/banks/<int:bank_id>/questions/new", "POST"): TRAINERS,
    ("/banks/questions/<int:question_id>", "GET"): TRAINERS,
    ("/banks/questions/<int:question_id>/edit", "GET"): TRAINERS,
    ("/banks/questions/<int:question_id>/edit", "POST"): TRAINERS,
    ("/banks/questions/<int:question_id>/duplicate", "POST"): TRAINERS,
    ("/banks/questions/<int:question_id>/retire", "POST"): TRAINERS,
    ("/banks/<int:bank_id>/import", "GET"): TRAINERS,
    ("/banks/<int:bank_id>/import", "POST"): TRAINERS,
    ("/banks/<int:bank_id>/import/<token>", "GET"): TRAINERS,
    ("/banks/<int:bank_id>/import/<token>", "POST"): TRAINERS,
    ("/banks/import/template.xlsx", "GET"): TRAINERS,
    ("/banks/<int:bank_id>/export", "GET"): TRAINERS,
    ("/my", "GET"): SIGNED_IN,
    ("/learn/<int:enrolment_id>", "GET"): OWNER_ONLY,
    ("/learn/<int:enrolment_id>/courses/<int:course_id>", "GET"): OWNER_ONLY,
    ("/learn/<int:enrolment_id>/lessons/<int:lesson_id>", "GET"): OWNER_ONLY,
    ("/learn/<int:enrolment_id>/lessons/<int:lesson_id>/read", "POST"): OWNER_ONLY,
    ("/learn/<int:enrolment_id>/courses/<int:course_id>/quiz", "POST"): OWNER_ONLY,
    ("/tracks", "GET"): LEARNING_STAFF,
    ("/tracks/courses/<int:course_id>", "GET"): LEARNING_STAFF,
    ("/tracks/courses/<int:course_id>/requirements", "POST"): LEARNING_STAFF,
    ("/tracks/courses/<int:course_id>/requirements/<int:requirement_id>/remove", "POST"):
        LEARNING_STAFF,
    ("/training/assign", "GET"): LEARNING_STAFF,
    ("/training/assign", "POST"): LEARNING_STAFF,
    ("/training/enrolments/<int:enrolment_id>/extend", "POST"): LEARNING_STAFF,
    ("/training/enrolments/<int:enrolment_id>/waive", "POST"): LEARNING_STAFF,
    ("/training/enrolments/<int:enrolment_id>/not-passed", "POST"): STAFF_ADMIN,
    ("/training/exams", "GET"): LEARNING_STAFF,
    ("/training/exams/new", "GET"): TRAINERS,
    ("/training/exams/new", "POST"): TRAINERS,
    ("/training/exams/<int:schedule_id>", "GET"): LEARNING_STAFF,
    ("/training/exams/<int:schedule_id>/edit", "GET"): TRAINERS,
    ("/training/exams/<int:schedule_id>/edit", "POST"): TRAINERS,
    ("/records/exams", "GET"): LEARNING_STAFF,
    ("/quizzes", "GET"): SIGNED_IN,
    ("/quizzes/<int:quiz_id>", "GET"): SIGNED_IN,
    ("/quizzes/<int:quiz_id>/start", "POST"): SIGNED_IN,
    ("/attempts/<int:attempt_id>", "GET"): OWNER_ONLY,
    ("/attempts/<int:attempt_id>/state", "GET"): OWNER_ONLY,
    ("/attempts/<int:attempt_id>/save", "POST"): OWNER_ONLY,
    ("/attempts/<int:attempt_id>/answers", "POST"): OWNER_ONLY,
    ("/attempts/<int:attempt_id>/lock", "POST"): OWNER_ONLY,
    ("/attempts/<int:attempt_id>/submit", "GET"): OWNER_ONLY,
    ("/attempts/<int:attempt_id>/submit", "POST"): OWNER_ONLY,
    ("/attempts/<int:attempt_id>/result", "GET"): OWNER_ONLY,
    ("/attempts/<int:attempt_id>/review", "GET"): LEARNING_STAFF,   # HR reads results
    ("/mistakes", "GET"): SIGNED_IN,
    ("/mistakes/practice", "POST"): SIGNED_IN,
    ("/quizzes/manage", "GET"): TRAINERS,
    ("/quizzes/new", "GET"): TRAINERS,
    ("/quizzes/new", "POST"): TRAINERS,
    ("/quizzes/<int:quiz_id>/edit", "GET"): TRAINERS,
    ("/quizzes/<int:quiz_id>/edit", "POST"): TRAINERS,
    ("/quizzes/<int:quiz_id>/attempts", "GET"): LEARNING_STAFF,
    # Item analysis: who reads the quiz's results (its managers, HR); a question's page shows
    # only the exams whose results the visitor may read.
    ("/quizzes/<int:quiz_id>/statistics", "GET"): LEARNING_STAFF,
    ("/quizzes/<int:quiz_id>/statistics.xlsx", "GET"): LEARNING_STAFF,
    ("/quizzes/questions/<int:question_id>/statistics", "GET"): LEARNING_STAFF,
    ("/quizzes/<int:quiz_id>/overrides", "POST"): TRAINERS,
    ("/quizzes/<int:quiz_id>/assign", "POST"): TRAINERS,
    ("/staff", "GET"): STAFF_ADMIN,
    ("/staff/new", "GET"): STAFF_ADMIN,
    ("/staff/new", "POST"): STAFF_ADMIN,
    ("/staff/<int:staff_id>", "GET"): STAFF_ADMIN,
    ("/staff/<int:staff_id>/edit", "GET"): STAFF_ADMIN,
    ("/staff/<int:staff_id>/edit", "POST"): STAFF_ADMIN,
    ("/staff/<int:staff_id>/reset-password", "GET"): STAFF_ADMIN,
    ("/staff/<int:staff_id>/reset-password", "POST"): STAFF_ADMIN,
    ("/staff/<int:staff_id>/active", "GET"): STAFF_ADMIN,
    ("/staff/<int:staff_id>/active", "POST"): STAFF_ADMIN,
    ("/staff/<int:staff_id>/events", "POST"): STAFF_ADMIN,
    ("/staff/<int:staff_id>/logins/end", "POST"): STAFF_ADMIN,
    ("/staff/<int:staff_id>/logins/<int:login_id>/end", "POST"): STAFF_ADMIN,
    ("/staff/<int:staff_id>/events/<int:event_id>/void", "POST"): STAFF_ADMIN,
    ("/staff/import", "GET"): STAFF_ADMIN,
    ("/staff/import", "POST"): STAFF_ADMIN,
    ("/staff/import/template.csv", "GET"): STAFF_ADMIN,
    ("/settings", "GET"): STAFF_ADMIN,
    ("/settings", "POST"): STAFF_ADMIN,
    ("/todos/<int:item_id>/dismiss", "POST"): NOT_ONES_OWN,
    ("/classes", "GET"): SIGNED_IN,
    ("/classes/<int:class_id>/signup", "POST"): SIGNED_IN,
    ("/classes/<int:class_id>/cancel", "POST"): SIGNED_IN,
    ("/sessions/<int:session_id>/leave", "POST"): SIGNED_IN,
    ("/checkin", "POST"): SIGNED_IN,
    ("/s/<int:session_id>/<int:step>/<code>", "GET"): GONE,
    ("/checkin/confirm", "GET"): SIGNED_IN,
    ("/checkin/confirm", "POST"): SIGNED_IN,
    ("/checkin/done/<int:session_id>", "GET"): SIGNED_IN,
    ("/surveys/<int:class_id>", "GET"): SIGNED_IN,
    ("/surveys/<int:class_id>", "POST"): SIGNED_IN,
    ("/training/classes", "GET"): RUNNERS,
    ("/training/classes/new", "GET"): RUNNERS,
    ("/training/classes/new", "POST"): RUNNERS,
    ("/training/classes/<int:class_id>", "GET"): OTHERS_CLASS,
    ("/training/classes/<int:class_id>/edit", "GET"): OTHERS_CLASS,
    ("/training/classes/<int:class_id>/edit", "POST"): OTHERS_CLASS,
    ("/training/classes/<int:class_id>/sessions", "POST"): OTHERS_CLASS,
    ("/training/classes/<int:class_id>/invite", "POST"): OTHERS_CLASS,
    ("/training/classes/<int:class_id>/roster/<int:staff_id>/remove", "POST"): OTHERS_CLASS,
    ("/training/classes/<int:class_id>/close", "POST"): OTHERS_CLASS,
    ("/training/classes/<int:class_id>/evidence.pdf", "GET"): OTHERS_CLASS,
    ("/training/sessions/<int:session_id>/sheet.pdf", "GET"): OTHERS_CLASS,
    ("/training/sessions/<int:session_id>/import", "GET"): OTHERS_CLASS,
    ("/training/sessions/<int:session_id>/import", "POST"): OTHERS_CLASS,
    ("/training/sessions/<int:session_id>/import/confirm", "POST"): OTHERS_CLASS,
    ("/training/sessions/<int:session_id>/import/template.xlsx", "GET"): OTHERS_CLASS,
    ("/training/sessions/<int:session_id>/cancel", "POST"): OTHERS_CLASS,
    ("/training/sessions/<int:session_id>/close", "POST"): OTHERS_CLASS,
    ("/training/sessions/<int:session_id>/all-present", "POST"): OTHERS_CLASS,
    ("/training/sessions/<int:session_id>/mark", "POST"): OTHERS_CLASS,
    ("/training/sessions/<int:session_id>/kiosk", "GET"): OTHERS_CLASS,
    ("/training/leave/<int:request_id>/decide", "POST"): OTHERS_CLASS,
    ("/sessions/<int:session_id>.ics", "GET"): OTHERS_CLASS,
    ("/calendar/<token>.ics", "GET"): NOT_FOUND,
    ("/classes/calendar", "POST"): SIGNED_IN,
    ("/kiosk/<token>", "GET"): NOT_FOUND,
    ("/kiosk/<token>/code", "GET"): NOT_FOUND,
    ("/staff/departments", "GET"): STAFF_ADMIN,
    ("/staff/departments", "POST"): STAFF_ADMIN,
    ("/staff/departments/<int:entry_id>/edit", "GET"): STAFF_ADMIN,
    ("/staff/departments/<int:entry_id>/edit", "POST"): STAFF_ADMIN,
    ("/staff/departments/<int:entry_id>/active", "POST"): STAFF_ADMIN,
    ("/staff/departments/<int:entry_id>/delete", "POST"): STAFF_ADMIN,
    ("/staff/positions", "GET"): STAFF_ADMIN,
    ("/staff/positions", "POST"): STAFF_ADMIN,
    ("/staff/positions/<int:entry_id>/edit", "GET"): STAFF_ADMIN,
    ("/staff/positions/<int:entry_id>/edit", "POST"): STAFF_ADMIN,
    ("/staff/positions/<int:entry_id>/active", "POST"): STAFF_ADMIN,
    ("/staff/positions/<int:entry_id>/delete", "POST"): STAFF_ADMIN,
    ("/verify", "GET"): EVERYONE,
    ("/verify/<code>", "GET"): NOT_FOUND,
    ("/certificates", "GET"): SIGNED_IN,
    ("/certificates/<int:certificate_id>.pdf", "GET"): THEIRS_OR_HR,
    ("/certificates/external", "POST"): SIGNED_IN,
    ("/certificates/external/<int:external_id>/file", "GET"): THEIRS_OR_HR,
    ("/training/certificates", "GET"): STAFF_ADMIN,
    ("/training/certificates/export.zip", "GET"): STAFF_ADMIN,
    ("/training/certificates/<int:certificate_id>/revoke", "POST"): STAFF_ADMIN,
    ("/training/certificates/<int:certificate_id>/reissue", "POST"): STAFF_ADMIN,
    ("/training/certificates/external", "GET"): STAFF_ADMIN,
    ("/training/certificates/external/<int:external_id>/decide", "POST"): STAFF_ADMIN,
    ("/staff/<int:staff_id>/external", "POST"): STAFF_ADMIN,
    ("/training/certificates/seal", "GET"): ADMINS,
    ("/training/certificates/seal", "POST"): ADMINS,
    # No seal uploaded here: the administrator finds none.
    ("/training/certificates/seal.png", "GET"): {**ADMINS, ADMIN: 404},
    ("/records/me", "GET"): SIGNED_IN,
    ("/records/me.pdf", "GET"): SIGNED_IN,
    ("/records/me.xlsx", "GET"): SIGNED_IN,
    ("/records/staff/<int:staff_id>", "GET"): RECORD,
    ("/records/staff/<int:staff_id>.pdf", "GET"): RECORD,
    ("/records/staff/<int:staff_id>.xlsx", "GET"): RECORD,
    # HR's compliance dashboard and the people behind its figures: HR's and administrators'.
    ("/records/dashboard", "GET"): STAFF_ADMIN,
    ("/records/dashboard.pdf", "GET"): STAFF_ADMIN,
    ("/records/dashboard.xlsx", "GET"): STAFF_ADMIN,
    ("/records/dashboard.csv", "GET"): STAFF_ADMIN,
    ("/records/people", "GET"): STAFF_ADMIN,
    ("/records/people.xlsx", "GET"): STAFF_ADMIN,
    ("/records/people.csv", "GET"): STAFF_ADMIN,
    # Quiz results: HR and administrators every quiz's, a trainer those they may manage (the
    # quiz here is the system's, so the trainer too).
    ("/records/results", "GET"): LEARNING_STAFF,
    ("/records/results.xlsx", "GET"): LEARNING_STAFF,
    ("/records/results.csv", "GET"): LEARNING_STAFF,
    ("/records/results/<int:quiz_id>", "GET"): LEARNING_STAFF,
    ("/records/results/<int:quiz_id>.xlsx", "GET"): LEARNING_STAFF,
    ("/records/results/<int:quiz_id>.csv", "GET"): LEARNING_STAFF,
    ("/records/audit", "GET"): STAFF_ADMIN,
    ("/records/audit.xlsx", "GET"): STAFF_ADMIN,
    ("/records/audit.csv", "GET"): STAFF_ADMIN,
    # The month-end report (the current month, live, when none is named): HR's and admins'.
    ("/records/monthly", "GET"): STAFF_ADMIN,
    ("/records/monthly/report", "GET"): STAFF_ADMIN,
    ("/records/monthly/report.pdf", "GET"): STAFF_ADMIN,
    ("/records/monthly/report.xlsx", "GET"): STAFF_ADMIN,
    ("/assessments", "GET"): LEARNING_STAFF,
    ("/assessments/mine", "GET"): SIGNED_IN,
    ("/assessments/forms/new", "GET"): TRAINERS,
    ("/assessments/forms/new", "POST"): TRAINERS,
    ("/assessments/forms/<int:form_id>", "GET"): SIGNED_IN,
    ("/assessments/forms/<int:form_id>/edit", "GET"): TRAINERS,
    ("/assessments/forms/<int:form_id>/edit", "POST"): TRAINERS,
    ("/assessments/forms/<int:form_id>/retire", "POST"): TRAINERS,
    ("/assessments/forms/<int:form_id>/record", "GET"): ADMINS,   # assessors (none visit here)
    ("/assessments/forms/<int:form_id>/record", "POST"): ADMINS,
    ("/assessments/<int:assessment_id>", "GET"): ASSESSMENT,
    ("/assessments/<int:assessment_id>/acknowledge", "POST"): ACKNOWLEDGE,
    ("/assessments/<int:assessment_id>/void", "POST"): ASSESSMENT,  # an empty reason: refused
    # Another learner's remedial case: HR's (no assessor is named on it); the plan's
    # acknowledgement is the person's alone; the evidence pack HR's.
    ("/remedial", "GET"): STAFF_ADMIN,
    ("/remedial/<int:case_id>", "GET"): STAFF_ADMIN,
    ("/remedial/<int:case_id>/assessor", "POST"): STAFF_ADMIN,
    ("/remedial/<int:case_id>/plan", "POST"): STAFF_ADMIN,
    ("/remedial/<int:case_id>/talks", "POST"): STAFF_ADMIN,
    ("/remedial/<int:case_id>/evaluation", "POST"): STAFF_ADMIN,
    ("/remedial/plans/<int:plan_id>/acknowledge", "POST"): OWNER_ONLY,
    ("/remedial/talks/<int:talk_id>/notes", "POST"): STAFF_ADMIN,
    ("/records/remedial/<int:case_id>/evidence.pdf", "GET"): STAFF_ADMIN,
}
# JSON endpoints get a well-formed body, so what answers is the access check, not the parser.
JSON_BODIES = {"/attempts/<int:attempt_id>/save": {"position": 0, "selected": [0], "version": 0},
               "/attempts/<int:attempt_id>/lock": {"position": 0}}
# Served by the framework and the Bootstrap package for everyone.
STATIC = {"/static/<path:filename>", "/bootstrap/static/<path:filename>"}


def registered_routes(app) -> set[tuple[str, str]]:
    found = set()
    for rule in app.url_map.iter_rules():
        if rule.rule in STATIC:
            continue
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            found.add((rule.rule, method))
    return found


def test_matrix_covers_every_route_and_method(app):
    routes = registered_routes(app)
    missing = routes - set(MATRIX)
    stale = set(MATRIX) - routes
    assert not missing, f"routes with no access decision: {sorted(missing)}"
    assert not stale, f"table rows for routes that no longer exist: {sorted(stale)}"


def test_every_view_declares_its_access(app):
    from trainer.core.permissions import declared_access

    for rule in app.url_map.iter_rules():
        assert declared_access(app, rule.endpoint) is not None, rule.endpoint


def _fill(rule: str, ids: dict[str, object]) -> str:
    # {entry}: the learners' department or position (in use, so a delete is refused).
    rule = rule.replace("<int:entry_id>", str(ids["position" if "/positions/" in rule
                                                   else "department"]))
    for name, value in ids.items():
        rule = rule.replace(f"<int:{name}_id>", str(value))
    return rule.replace("<token>", "no-such-token").replace("<code>", "000000").replace(
        "<int:step>", "1")


@pytest.fixture
def objects(users, make_staff, db_session):
    """One object of each kind for the routes that take an id."""
    from trainer.banks import services as banks
    from trainer.banks.formats import parse_gift
    from trainer.core.timeutil import utcnow

    bank = banks.create_bank(None, name="权限测试题库", now=utcnow())
    question = banks.create_question(None, bank, parse_gift("题干？{=对 ~错}").questions[0],
                                     now=utcnow())
    from decimal import Decimal

    from trainer.quizzes import services as quizzes

    quiz = quizzes.save_quiz(None, None, quizzes.QuizSettings(title="权限测验", open_to_all=True),
                             rule_specs=[quizzes.RuleSpec(bank.id, 1, Decimal(1))], now=utcnow())
    from datetime import timedelta

    from trainer.learning.models import Course, Enrolment, Lesson, LessonRevision, Track

    target = users["learner2"]
    attempt = quizzes.start_attempt(target, quiz, now=utcnow())
    track = Track(key="onboarding", title="入职培训", position=0)
    db_session.add(track)
    db_session.flush()
    course = Course(track_id=track.id, key="c1", title="课程", quiz_id=quiz.id)
    db_session.add(course)
    db_session.flush()
    lesson = Lesson(course_id=course.id, path="onboarding/c1/l1.md", title="第一课")
    lesson.revisions.append(LessonRevision(number=1, content="# 第一课", content_hash="x",
                                           revised_at=utcnow()))
    db_session.add(lesson)
    enrolment = Enrolment(staff_id=target.id, track_id=track.id, reason="manual",
                          assigned_at=utcnow(), due_on=(utcnow() + timedelta(days=9)).date())
    db_session.add(enrolment)
    from trainer.accounts.services import start_login

    start_login(target, remember=False, lifetime=timedelta(hours=1), address="10.0.0.9",
                user_agent="test", now=utcnow())
    from trainer.attendance import services as attendance
    from trainer.core.todos import add_todo

    other_trainer = make_staff("trainer", employee_no="TR900")
    cls = attendance.save_class(other_trainer, None, attendance.ClassFields(
        title="别人的班", hours_category="其他"), now=utcnow())
    start = utcnow() + timedelta(days=3)
    session = attendance.save_session(other_trainer, cls, None, attendance.SessionFields(
        day=start.date(), starts=start.time().replace(hour=1, minute=0, second=0,
                                                      microsecond=0),
        ends=start.time().replace(hour=2, minute=0, second=0, microsecond=0)), now=utcnow())
    attendance.invite(other_trainer, cls, [target], now=utcnow())
    leave = attendance.request_leave(target, session, "有事", now=utcnow())
    add_todo(target.id, "class.invited", cls.id, now=utcnow(), params={"title": "x"})
    from trainer.core.models import TodoItem

    item = db_session.scalar(select(TodoItem).where(TodoItem.staff_id == target.id))
    from trainer.learning.models import CourseRequirement

    requirement = CourseRequirement(course_id=course.id, kind="class", created_at=utcnow())
    db_session.add(requirement)
    db_session.flush()
    from trainer.certificates import services as certificates

    cls.issues_certificate = True
    certificate = certificates.issue_for_class(cls, target.id, now=utcnow())
    external = certificates.add_external(
        target, target, data=b"%PDF-1.4\ntrailer<<>>\n%%EOF\n", filename="scan.pdf",
        issuer="外部机构", title="沟通技巧", started_on=utcnow().date(),
        finished_on=utcnow().date(), hours=Decimal(2), category="其他", now=utcnow())
    from trainer.assessments import services as assessments

    form = assessments.save_form(None, None, assessments.FormFields(
        title="上岗测试", description="", purpose="duty", pass_percent=80, retake_wait_days=7,
        items=[assessments.ItemFields("核实身份", Decimal(10), True)]), now=utcnow())
    assessor = make_staff("assessor", employee_no="AS900")
    assessment = assessments.record_assessment(
        assessor, form, target, assessed_on=utcnow().date(), today=utcnow().date(),
        awarded={str(form.items[0].id): Decimal(10)}, now=utcnow())
    from trainer.accounts.services import record_staff_event
    from trainer.remedial import services as remedial

    db_session.add(Track(key="remedial", title="待岗培训", position=4, issues_certificate=False))
    db_session.flush()
    record_staff_event(None, target, kind="stood_down", reason="performance",
                       occurred_on=utcnow().date(), now=utcnow())
    case = db_session.scalar(select(Enrolment).join(Track).where(
        Enrolment.staff_id == target.id, Track.key == "remedial"))
    hr = users["hr"]
    plan = remedial.write_plan(hr, case, goals="目标", schedule="", review_on=case.due_on,
                               today=utcnow().date(), now=utcnow())
    talk = remedial.record_talk(hr, case, held_on=utcnow().date(), counsellor="", notes="记录",
                                today=utcnow().date(), now=utcnow())
    from trainer.learning import schedules

    schedule = schedules.save_schedule(users["admin"], None, schedules.ScheduleFields(
        title="月度业务考试", quiz_id=quiz.id, day_of_month=1, window_days=5,
        pass_mark=Decimal(60)), now=utcnow())
    db_session.commit()
    return {"form": form.id, "assessment": assessment.id, "case": case.id, "plan": plan.id,
            "schedule": schedule.id,
            "talk": talk.id,
            "department": target.department_id, "position": target.position_id,
            "login": target.login_id, "class": cls.id, "session": session.id,
            "request": leave.id, "item": item.id, "step": 1, "requirement": requirement.id,
            "staff": target.id, "event": target.events[0].id, "bank": bank.id,
            "question": question.id, "quiz": quiz.id, "attempt": attempt.id,
            "enrolment": enrolment.id, "course": course.id, "lesson": lesson.id,
            "certificate": certificate.id, "external": external.id}


@pytest.mark.parametrize("visitor", VISITORS)
def test_access(app, client, users, objects, visitor):
    ids = objects
    if visitor != ANON:
        assert client.login(users[visitor].employee_no).status_code == 302
    failures = []
    # Logging out and the password form would end or change this visitor's session: last.
    last = {"/language": 1, "/password": 2, "/logout": 3}
    order = sorted(MATRIX, key=lambda k: (last.get(k[0], 0), k))
    for (rule, method) in order:
        expected = MATRIX[(rule, method)][visitor]
        url = _fill(rule, ids)
        if method == "GET":
            response = client.get(url)
        elif rule in JSON_BODIES:
            response = client.post_json(url, JSON_BODIES[rule])
        else:
            response = client.post(url, {})
        status = response.status_code
        if expected == OK:
            good = status < 400 or status in (400, 422)
        elif expected == LOGIN:
            good = (status == 302 and "/login" in response.headers.get("Location", "")) \
                or status == 401
        else:
            good = status == expected
        if not good:
            failures.append(f"{method} {url}: expected {expected}, got {status}")
        assert status != 500
    assert not failures, "\n".join(failures)


def test_a_learner_cannot_see_or_change_another_persons_record(client, users, db_session):
    other = users["learner2"]
    client.login(users["learner"].employee_no)
    assert client.get(f"/staff/{other.id}").status_code == 403
    assert client.post(f"/staff/{other.id}/reset-password").status_code == 403
    assert client.post(f"/staff/{other.id}/events", {"kind": "leaving",
                                                     "occurred_on": "2026-01-01"}).status_code == 403
    db_session.expire_all()
    assert db_session.get(type(other), other.id).status == "active"
