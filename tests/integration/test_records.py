"""The training record (培训档案) on both databases: a hand-built person with an enrolment, a
finished course quiz, a finished exam, a class attended, a certificate and a leave; the page,
who sees what of it, the PDF's text, the workbook read back, and the audit of each export."""
from __future__ import annotations

import io
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from tests.integration.quiz_fixtures import key_of, make_bank, make_quiz, wrong_of
from tests.integration.test_attendance import add_session, soon
from trainer.core.models import AuditEvent
from trainer.core.timeutil import utcnow
from trainer.learning.models import Course, Enrolment, Lesson, LessonRevision, Track

FORMULA_NOTE = '=HYPERLINK("http://example.invalid","点我")'


@pytest.fixture
def person_record(users, make_staff, db_session, today):
    from trainer.accounts import services as accounts
    from trainer.attendance import services as attendance
    from trainer.certificates import services as certificates
    from trainer.learning import services as learning
    from trainer.quizzes import services as quizzes

    now = utcnow()
    trainer = users["trainer"]
    person = make_staff("learner", employee_no="R0001", name="欧阳娜娜")
    accounts.record_staff_event(None, person, kind="leave_start",
                                occurred_on=today - timedelta(days=20), note=FORMULA_NOTE,
                                now=now, today=today)
    accounts.record_staff_event(None, person, kind="leave_return",
                                occurred_on=today - timedelta(days=10), now=now, today=today)
    bank = make_bank("档案题库")
    # A course with one lesson and a quiz, assigned to the person, read and passed.
    course_quiz = make_quiz(bank, None, count=2, title="接待礼仪测验", shuffle_questions=False)
    track = Track(key="onboarding", title="入职培训", position=0)
    db_session.add(track)
    db_session.flush()
    course = Course(track_id=track.id, key="c1", title="接待礼仪课程", quiz_id=course_quiz.id)
    db_session.add(course)
    db_session.flush()
    lesson = Lesson(course_id=course.id, path="onboarding/c1/l1.md", title="迎客用语")
    lesson.revisions.append(LessonRevision(number=1, content="# 迎客", content_hash="a",
                                           revised_at=now - timedelta(days=3)))
    db_session.add(lesson)
    enrolment = Enrolment(staff_id=person.id, track_id=track.id, reason="manual",
                          assigned_at=now - timedelta(days=2), due_on=today + timedelta(days=20))
    db_session.add(enrolment)
    db_session.flush()
    learning.ensure_course_requirements(course, now=now)
    learning.copy_requirements(enrolment, track)
    learning.mark_lesson_read(person, lesson, now=now)
    attempt = quizzes.start_attempt(person, course_quiz, now=now, enrolment_id=enrolment.id,
                                    authorised=True)
    for item in attempt.items:
        quizzes.save_answer(person, attempt.id, item.position, key_of(item), 0, now=now)
    quizzes.submit_attempt(person, attempt, now=now)
    # A later revision of the lesson: the record says which revision was read.
    lesson.revisions.append(LessonRevision(number=2, content="# 迎客（修订）", content_hash="b",
                                           revised_at=now))
    # An exam of the trainer's, outside any track: one answer wrong.
    exam = make_quiz(bank, trainer, count=2, title="服务规范月考", shuffle_questions=False)
    taken = quizzes.start_attempt(person, exam, now=now)
    quizzes.save_answer(person, taken.id, 0, wrong_of(taken.items[0]), 0, now=now)
    quizzes.save_answer(person, taken.id, 1, key_of(taken.items[1]), 0, now=now)
    quizzes.submit_attempt(person, taken, now=now)
    # A class the trainer taught, held two hours ago: present, closed, 50 minutes credited.
    cls = attendance.save_class(trainer, None, attendance.ClassFields(
        title="服务礼仪集中授课", hours_category="服务礼仪", place="三楼培训室"), now=now)
    session = add_session(cls, trainer, soon(-120), minutes=50)
    attendance.invite(trainer, cls, [person], now=now)
    attendance.mark_all_present(trainer, session, now=now)
    attendance.close_session(trainer, session, now=now)
    cls.issues_certificate = True
    certificate = certificates.issue_for_class(cls, person.id, now=now)
    db_session.commit()
    return {"person": person, "enrolment": enrolment, "course": course, "exam": exam,
            "taken": taken, "course_attempt": attempt, "cls": cls, "session": session,
            "certificate": certificate}


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_hr_reads_the_whole_record(client, users, person_record, db_session):
    person = person_record["person"]
    client.login(users["hr"].employee_no)
    response = client.get(f"/records/staff/{person.id}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    text = _text(html)
    for expected in ("欧阳娜娜", "R0001", "入职培训", "接待礼仪课程", "接待礼仪测验", "服务规范月考",
                     "服务礼仪集中授课", person_record["certificate"].serial, FORMULA_NOTE
                     .replace('"', "&#34;")):
        assert expected in html or expected in text, expected
    taken = person_record["taken"]
    db_session.refresh(taken)
    assert Decimal(0) < taken.percent < Decimal(100)
    # The exam's kept grade, the course quiz's full marks, the lesson's revision read.
    assert f"{taken.percent}%" in text and "100.00%" in text
    assert "第 1 版" in text or "revision 1" in text
    # The class: present, 50 minutes; the year's counted 学时 (classroom) and what is due.
    assert f'data-session="{person_record["session"].id}" data-status="present"' in html
    counted = re.search(r'data-counted="([\d.]+)"', html).group(1)
    assert Decimal(counted) == Decimal("0.5")   # 50 minutes: half a 学时 at 60 a 学时


def test_the_person_reads_their_own_and_no_one_elses(client, users, person_record):
    person = person_record["person"]
    client.login(person.employee_no)
    page = client.get("/records/me")
    assert page.status_code == 200 and "欧阳娜娜" in page.get_data(as_text=True)
    assert client.get(f"/records/staff/{person.id}").status_code == 403
    assert client.get(f"/records/staff/{users['learner2'].id}").status_code == 403
    assert client.get(f"/records/staff/{users['learner2'].id}.pdf").status_code == 403
    client.login(users["learner"].employee_no)
    assert "欧阳娜娜" not in client.get("/records/me").get_data(as_text=True)


def test_a_trainer_sees_only_their_classes_and_quizzes(client, users, make_staff,
                                                       person_record):
    person = person_record["person"]
    client.login(users["trainer"].employee_no)
    response = client.get(f"/records/staff/{person.id}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "服务礼仪集中授课" in html and "服务规范月考" in html
    # Not the working life (the leave's note), not the track, not the certificates.
    for hidden in ("HYPERLINK", "入职培训", "接待礼仪课程", person_record["certificate"].serial,
                   "data-events", "data-certificates", "data-hours"):
        assert hidden not in html, hidden
    # A trainer who neither taught nor examined them: as if there were no record.
    stranger = make_staff("trainer", employee_no="TR777")
    client.login(stranger.employee_no)
    assert client.get(f"/records/staff/{person.id}").status_code == 404
    assert client.get(f"/records/staff/{person.id}.xlsx").status_code == 404
    assert client.get("/records/staff/999999").status_code == 404


def test_the_pdf_holds_the_name_the_course_and_the_score(client, users, person_record,
                                                         db_session):
    from pypdf import PdfReader

    person = person_record["person"]
    client.login(users["hr"].employee_no)
    response = client.get(f"/records/staff/{person.id}.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages)
    text = re.sub(r"\s+", "", text)
    taken = db_session.get(type(person_record["taken"]), person_record["taken"].id)
    for expected in ("欧阳娜娜", "接待礼仪课程", "服务规范月考", f"{taken.percent}%", "100.00%",
                     person_record["certificate"].serial):
        assert expected in text, expected
    events = db_session.scalars(select(AuditEvent).where(
        AuditEvent.action == "record.exported")).all()
    assert [(e.actor_id, e.object_id, e.details) for e in events] == [
        (users["hr"].id, str(person.id), {"format": "pdf", "scope": "full"})]


def test_the_workbook_reads_back_as_the_page_says(client, users, person_record, db_session):
    from openpyxl import load_workbook

    from trainer.records import services

    person = person_record["person"]
    client.login(users["hr"].employee_no)
    response = client.get(f"/records/staff/{person.id}.xlsx")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.data))
    record = services.build_record(person, users["hr"], now=utcnow())
    sheets = {ws.title: [[c.value for c in row] for row in ws.iter_rows()] for ws in book}
    assert len(sheets) == 7
    summary, events, training, quizzes, classes, certificates, hours = book.worksheets
    assert summary["B1"].value == "欧阳娜娜" and summary["B2"].value == "R0001"
    # The year's figures, as the page computes them.
    year = record.this_year
    row = next(r for r in summary.iter_rows(values_only=True) if r[0] == year.year)
    assert Decimal(str(row[1])) == year.standing.counted == Decimal("0.5")
    assert Decimal(str(row[2])) == year.standing.minimum_to_date
    # The leave's note came back as text, not a formula.
    notes = [c for c in events["D"] if c.value == FORMULA_NOTE]
    assert len(notes) == 1 and notes[0].data_type == "s"
    # The course line and both quizzes' results.
    course_row = next(r for r in training.iter_rows(values_only=True) if r[7] == "接待礼仪课程")
    assert course_row[8] == 1 and course_row[9] == 1 and course_row[12] == 100
    taken = db_session.get(type(person_record["taken"]), person_record["taken"].id)
    exam_rows = [r for r in quizzes.iter_rows(values_only=True) if r[0] == "服务规范月考"]
    assert len(exam_rows) == 1
    assert Decimal(str(exam_rows[0][6])) == taken.percent and exam_rows[0][8] == "是"
    class_rows = [r for r in classes.iter_rows(values_only=True) if r[0] == "服务礼仪集中授课"]
    assert [r[4] for r in class_rows] == [50] and Decimal(str(class_rows[0][-1])) == \
        Decimal("0.5")
    assert any(r[2] == person_record["certificate"].serial
               for r in certificates.iter_rows(values_only=True))
    assert any(r[2] == "服务礼仪" and r[3] == 50 for r in hours.iter_rows(values_only=True))
    event = db_session.scalar(select(AuditEvent).where(AuditEvent.action == "record.exported"))
    assert event.details == {"format": "xlsx", "scope": "full"}


def test_a_trainers_workbook_holds_only_their_part(client, users, person_record):
    from openpyxl import load_workbook

    person = person_record["person"]
    client.login(users["trainer"].employee_no)
    response = client.get(f"/records/staff/{person.id}.xlsx")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.data))
    cells = {str(c.value) for ws in book for row in ws.iter_rows() for c in row if c.value}
    assert "服务礼仪集中授课" in cells and "服务规范月考" in cells
    assert FORMULA_NOTE not in cells and "接待礼仪课程" not in cells
    assert person_record["certificate"].serial not in cells


def test_the_staff_page_links_to_the_record(client, users, person_record):
    person = person_record["person"]
    client.login(users["hr"].employee_no)
    html = client.get(f"/staff/{person.id}").get_data(as_text=True)
    assert f"/records/staff/{person.id}" in html
    client.login(person.employee_no)
    assert 'href="/records/me"' in client.get("/my").get_data(as_text=True)


def test_the_record_costs_a_handful_of_statements_whatever_its_length(
        app, users, person_record, db_session):
    """Set-based: more attempts, lessons and certificates add no statements; each class adds
    attendance's grid (three or four)."""
    from sqlalchemy import event

    from trainer.core.db import db
    from trainer.quizzes import services as quizzes
    from trainer.records import services

    def count() -> int:
        statements = []
        listener = lambda *args: statements.append(args[2])  # noqa: E731
        engine = db_session.get_bind().engine
        event.listen(engine, "before_cursor_execute", listener)
        try:
            with app.test_request_context():
                db.session.expire_all()
                hr = db.session.get(type(users["hr"]), users["hr"].id)
                person = db.session.get(type(person_record["person"]),
                                        person_record["person"].id)
                services.build_record(person, hr, now=utcnow())
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        return len(statements)

    before = count()
    person = person_record["person"]
    for _ in range(3):
        again = quizzes.start_attempt(person, person_record["exam"], now=utcnow())
        quizzes.submit_attempt(person, again, now=utcnow())
    db_session.commit()
    assert count() == before
    assert before <= 45, before   # 43 here, loading the two people included


def test_hr_reads_every_quizs_results_and_changes_nothing(client, users, person_record,
                                                          db_session):
    """The trainer's exam: HR reaches its results from the record, reads the grades and an
    attempt's review, and may neither edit, assign nor override."""
    from trainer.quizzes.models import QuizAssignment, QuizOverride

    exam, taken, person = person_record["exam"], person_record["taken"], person_record["person"]
    client.login(users["hr"].employee_no)
    record = client.get(f"/records/staff/{person.id}").get_data(as_text=True)
    assert f'href="/quizzes/{exam.id}/attempts"' in record
    page = client.get(f"/quizzes/{exam.id}/attempts")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "欧阳娜娜" in html and f"/attempts/{taken.id}/review" in html
    for hidden in (f"/quizzes/{exam.id}/edit", f"/quizzes/{exam.id}/assign",
                   f"/quizzes/{exam.id}/overrides"):
        assert hidden not in html, hidden
    assert client.get(f"/attempts/{taken.id}/review").status_code == 200
    assert client.get(f"/quizzes/{exam.id}/edit").status_code == 403
    assert client.post(f"/quizzes/{exam.id}/assign", {"employee_nos": "L0001"}).status_code == 403
    assert client.post(f"/quizzes/{exam.id}/overrides", {
        "employee_no": "R0001", "extra_minutes": "10"}).status_code == 403
    assert db_session.scalar(select(QuizAssignment).where(
        QuizAssignment.quiz_id == exam.id)) is None
    assert db_session.scalar(select(QuizOverride).where(QuizOverride.quiz_id == exam.id)) is None
    # A learner still reads none of it; the trainer who owns it still manages it.
    client.login(person.employee_no)
    assert client.get(f"/quizzes/{exam.id}/attempts").status_code == 403
    assert f'href="/quizzes/{exam.id}/attempts"' not in client.get("/records/me").get_data(
        as_text=True)
    client.login(users["trainer"].employee_no)
    assert f"/quizzes/{exam.id}/edit" in client.get(f"/quizzes/{exam.id}/attempts").get_data(
        as_text=True)


def test_the_settings_say_which_hours_count(app, users, person_record, db_session, today):
    """Counted 学时: the sources and categories the settings count (classroom, every category,
    by default); the rest is shown beside."""
    from trainer.core.settings import forget_cached, set_setting
    from trainer.learning import services as learning
    from trainer.records import services

    person = person_record["person"]
    learning.credit_hours(person.id, "external", 1, on=today, category="其他", minutes=120,
                          now=utcnow(), title="外部培训")
    db_session.commit()

    def this_year():
        with app.test_request_context():
            forget_cached()
            hr = db_session.get(type(users["hr"]), users["hr"].id)
            year = services.build_record(person, hr, now=utcnow()).this_year
            return year.standing.counted, year.beside_hours

    assert this_year() == (Decimal("0.5"), Decimal("2"))
    with app.test_request_context():
        set_setting("hours_count_external", True, actor=None, now=utcnow())
        db_session.commit()
    assert this_year() == (Decimal("2.5"), Decimal("0"))
    with app.test_request_context():
        set_setting("hours_counted_categories", ["其他"], actor=None, now=utcnow())
        db_session.commit()
    assert this_year() == (Decimal("2"), Decimal("0.5"))


def test_the_pdf_lists_the_last_attempts_and_counts_the_lessons(client, users, person_record,
                                                                db_session):
    """What made a long record's PDF slow (18 pages, 2.5 s for 300 attempts and 12 tracks):
    a line per attempt and per lesson. The PDF lists each exam's last PDF_ATTEMPTS finished
    attempts and says how many came before; a course's lessons are counted, and only those not
    read in their current revision are named. The page still lists everything."""
    from pypdf import PdfReader

    from trainer.quizzes import services as quizzes
    from trainer.records.exports import PDF_ATTEMPTS

    person, exam = person_record["person"], person_record["exam"]
    for _ in range(PDF_ATTEMPTS + 3):
        again = quizzes.start_attempt(person, exam, now=utcnow())
        quizzes.submit_attempt(person, again, now=utcnow())
    db_session.commit()
    finished = PDF_ATTEMPTS + 4
    client.login(users["hr"].employee_no)
    response = client.get(f"/records/staff/{person.id}.pdf")
    text = re.sub(r"\s+", "", "".join(
        page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages))
    shown = re.findall(r"第(\d+)次（", text)
    assert shown == [str(n) for n in range(5, finished + 1)], shown
    assert f"更早的{finished - PDF_ATTEMPTS}次" in text
    # The one lesson was read in revision 1 and revised since: counted, and named.
    assert "已读1/1" in text and "迎客用语" in text and "已修订" in text
    page = _text(client.get(f"/records/staff/{person.id}").get_data(as_text=True))
    assert all(f"第 {n} 次（" in page for n in range(1, finished + 1))


def test_no_statement_of_a_record_reads_a_whole_big_table(app, users, person_record, db_session,
                                                          today):
    """Every statement a record sends finds its rows by an index on SQLite too: the course
    quizzes' attempts were read with a row-value IN over a list, which SQLite 3.40 answers by
    scanning the whole attempts table as soon as the list holds two (enrolment, quiz) pairs
    (bench/records_bench.py: 15 ms of a 95 ms page at 100,000 attempts)."""
    from sqlalchemy import event

    from trainer.core.db import db
    from trainer.learning import services as learning
    from trainer.records import services

    engine = db_session.get_bind().engine
    if engine.dialect.name != "sqlite":
        pytest.skip("EXPLAIN QUERY PLAN is SQLite's")
    # A second track with a course quiz: two (enrolment, quiz) pairs.
    now = utcnow()
    quiz = make_quiz(make_bank("复训题库"), None, count=1, title="复训测验")
    track = Track(key="inservice", title="在岗培训", position=1)
    db_session.add(track)
    db_session.flush()
    course = Course(track_id=track.id, key="c2", title="复训课程", quiz_id=quiz.id)
    db_session.add(course)
    db_session.flush()
    enrolment = Enrolment(staff_id=person_record["person"].id, track_id=track.id,
                          reason="manual", assigned_at=now - timedelta(days=1),
                          due_on=today + timedelta(days=20))
    db_session.add(enrolment)
    db_session.flush()
    learning.ensure_course_requirements(course, now=now)
    learning.copy_requirements(enrolment, track)
    db_session.commit()
    statements = []

    def listener(conn, cursor, statement, parameters, context, executemany):
        statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", listener)
    try:
        with app.test_request_context():
            hr = db.session.get(type(users["hr"]), users["hr"].id)
            person = db.session.get(type(person_record["person"]), person_record["person"].id)
            services.build_record(person, hr, now=utcnow())
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    big = ("attempts", "lesson_reads", "enrolments", "enrolment_requirements", "hours_entries",
           "attendance_marks", "certificates", "staff_events", "class_roster")
    connection = db_session.connection()
    scans = []
    for statement, parameters in statements:
        plan = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()
        scans += [(row[3], statement[:80]) for row in plan
                  if row[3].startswith("SCAN ") and row[3].split()[1] in big]
    assert statements and not scans, scans
