"""Quiz results (issue 17) on both databases, against a hand-built centre: two departments;
people who passed, failed, never sat, or only have an attempt under way; one quiz graded by the
highest attempt and one by the last; every figure asserted exactly, the set-based kept grade
held equal to quizzes' `kept_grade_among`, the exports read back and audited, access, bad input
and the Chinese pages."""
from __future__ import annotations

import csv
import io
import random
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from tests.integration import test_site_pages as site_checks
from tests.integration.quiz_fixtures import make_bank, make_quiz
from trainer.core.models import AuditEvent
from trainer.core.timeutil import utcnow
from trainer.quizzes.models import Attempt

D = Decimal


def sit(db_session, quiz, person, number, percent, passed, *, at, state="submitted"):
    """An attempt as quizzes leaves it once finished (records only reads these rows)."""
    attempt = Attempt(quiz_id=quiz.id, staff_id=person.id, number=number, state=state,
                      started_at=at - timedelta(minutes=20),
                      submitted_at=at if state in ("submitted", "expired") else None,
                      score=None if percent is None else D(percent), max_score=D(100),
                      percent=None if percent is None else D(percent), passed=passed)
    db_session.add(attempt)
    db_session.flush()
    return attempt


@pytest.fixture
def centre(users, make_staff, db_session):
    from trainer.learning.models import Course, Track

    now = utcnow().replace(microsecond=0)
    recent, old = now - timedelta(hours=2), now - timedelta(days=40)
    bank = make_bank("成绩题库")
    trainer, other = users["trainer"], make_staff("trainer", employee_no="TR002")
    highest = make_quiz(bank, trainer, count=2, title="服务规范月考[上/下]?", grading="highest")
    last = make_quiz(bank, other, count=2, title="投诉处理考核", grading="last")
    practice = make_quiz(bank, trainer, count=2, title="服务规范练习", mode="practice")
    track = Track(key="inservice", title="在岗培训", position=1)
    db_session.add(track)
    db_session.flush()
    db_session.add(Course(track_id=track.id, key="complaints", title="投诉处理课程",
                          quiz_id=last.id))
    p = {key: make_staff("learner", employee_no=number, name=name, department=dept)
         for key, number, name, dept in (
             ("a1", "A001", "甲一", "客服一部"), ("a2", "A002", "甲二", "客服一部"),
             ("a3", "A003", "甲三", "客服一部"), ("b1", "B001", "=1+2", "客服二部"),
             ("b2", "B002", "乙二", "客服二部"), ("b3", "B003", "乙三", "客服二部"))}

    def t(minutes):
        return recent + timedelta(minutes=minutes)

    # Highest: a1 passed long ago then failed lately; a2 failed; b1 60 failed then 60 passed
    # (the pass mark moved: the passed one is kept); b3 passed; b2 abandoned; a3 never sat.
    sit(db_session, highest, p["a1"], 1, "80", True, at=old)
    sit(db_session, highest, p["a1"], 2, "50", False, at=t(1))
    sit(db_session, highest, p["a2"], 1, "30", False, at=t(2))
    sit(db_session, highest, p["b1"], 1, "60", False, at=t(3))
    sit(db_session, highest, p["b1"], 2, "60", True, at=t(4))
    sit(db_session, highest, p["b3"], 1, "65", True, at=t(5))
    sit(db_session, highest, p["b2"], 1, None, None, at=t(6), state="abandoned")
    # Last: a1 passed then failed (the failure is kept); a2 passed; b3 failed long ago then
    # passed (one expired by time); b2 has one under way; b1 never sat it.
    sit(db_session, last, p["a1"], 1, "90", True, at=t(7))
    sit(db_session, last, p["a1"], 2, "40", False, at=t(8))
    sit(db_session, last, p["a2"], 1, "70", True, at=t(9))
    sit(db_session, last, p["b3"], 1, "55", False, at=old)
    sit(db_session, last, p["b3"], 2, "85", True, at=t(10), state="expired")
    sit(db_session, last, p["b2"], 1, None, None, at=t(11), state="in_progress")
    # Practice has no results.
    sit(db_session, practice, p["a1"], 1, "100", True, at=t(12))
    db_session.commit()
    return {"highest": highest, "last": last, "practice": practice, "people": p,
            "a": p["a1"].department_id, "b": p["b1"].department_id, "trainer": trainer,
            "other": other}


def rows(html: str, marker: str) -> list[dict[str, str]]:
    """The data-* attributes of each <tr> carrying `marker`."""
    found = []
    for tag in re.findall(r"<tr\b[^>]*\b" + marker + r"\b[^>]*>", html):
        found.append(dict(re.findall(r'data-([\w-]+)="([^"]*)"', tag)))
    return found


def figures(row: dict[str, str]) -> tuple:
    return (int(row["people"]), int(row["attempts"]), int(row["passed"]),
            D(row["mean"]) if row["mean"] not in ("", "None") else None,
            D(row["median"]) if row.get("median") not in (None, "", "None") else None)


# -- the figures ---------------------------------------------------------------------------------

def test_one_quiz_by_department_highest_attempt(client, users, centre):
    client.login(users["hr"].employee_no)
    html = client.get(f"/records/results/{centre['highest'].id}").get_data(as_text=True)
    departments = {r["department"]: figures(r) for r in rows(html, "data-department")}
    assert departments == {
        str(centre["a"]): (2, 3, 1, D("55.00"), D("55.00")),    # a1 80 kept, a2 30
        str(centre["b"]): (2, 3, 2, D("62.50"), D("62.50")),    # b1 60 (passed), b3 65
    }
    total = rows(html, "data-total")[0]
    assert figures(total) == (4, 6, 3, D("58.75"), D("62.50"))
    assert "75.0%" in html and "50.0%" in html and "100.0%" in html
    bands = {int(r["band"]): int(r["count"]) for r in rows(html, "data-band")}
    assert bands == {0: 0, 1: 0, 2: 0, 3: 1, 4: 0, 5: 0, 6: 2, 7: 0, 8: 1, 9: 0}
    people = {r["person"]: (D(r["kept"]), r["passed"], int(r["attempts"]))
              for r in rows(html, "data-person")}
    p = centre["people"]
    assert people == {str(p["a1"].id): (D("80.00"), "1", 2), str(p["a2"].id): (D("30.00"), "0", 1),
                      str(p["b1"].id): (D("60.00"), "1", 2), str(p["b3"].id): (D("65.00"), "1", 1)}
    # The chart is an image with nothing in it that runs; its figures are in the table.
    assert 'src="data:image/svg+xml;base64,' in html and "<script" not in html.split(
        "data-distribution")[1].split("</section>")[0]


def test_one_quiz_by_department_last_attempt(client, users, centre):
    client.login(users["hr"].employee_no)
    html = client.get(f"/records/results/{centre['last'].id}").get_data(as_text=True)
    departments = {r["department"]: figures(r) for r in rows(html, "data-department")}
    assert departments == {
        str(centre["a"]): (2, 3, 1, D("55.00"), D("55.00")),    # a1 40 (last), a2 70
        str(centre["b"]): (1, 2, 1, D("85.00"), D("85.00")),    # b3 85 (last, by time)
    }
    assert figures(rows(html, "data-total")[0]) == (3, 5, 2, D("65.00"), D("70.00"))
    assert "66.7%" in html
    p = centre["people"]
    kept = {r["person"]: D(r["kept"]) for r in rows(html, "data-person")}
    assert kept == {str(p["a1"].id): D("40.00"), str(p["a2"].id): D("70.00"),
                    str(p["b3"].id): D("85.00")}
    # Neither the one under way (b2) nor someone who never sat it (b1, a3) counts.
    for absent in ("乙二", "甲三", "=1+2"):
        assert absent not in html


def test_a_period_keeps_the_attempts_finished_in_it(client, users, centre, today):
    client.login(users["hr"].employee_no)
    since = (today - timedelta(days=10)).isoformat()
    html = client.get(f"/records/results/{centre['highest'].id}?from={since}").get_data(
        as_text=True)
    # a1's 80 was long ago: within the period a1 keeps 50, from one attempt.
    departments = {r["department"]: figures(r) for r in rows(html, "data-department")}
    assert departments[str(centre["a"])] == (2, 2, 0, D("40.00"), D("40.00"))
    assert figures(rows(html, "data-total")[0]) == (4, 5, 2, D("51.25"), D("55.00"))
    until = (today - timedelta(days=20)).isoformat()
    html = client.get(f"/records/results/{centre['highest'].id}?to={until}").get_data(
        as_text=True)
    assert figures(rows(html, "data-total")[0]) == (1, 1, 1, D("80.00"), D("80.00"))


def test_a_department_keeps_its_people(client, users, centre):
    client.login(users["hr"].employee_no)
    html = client.get(f"/records/results/{centre['highest'].id}?department={centre['b']}"
                      ).get_data(as_text=True)
    assert [r["department"] for r in rows(html, "data-department")] == [str(centre["b"])]
    assert figures(rows(html, "data-total")[0]) == (2, 3, 2, D("62.50"), D("62.50"))
    assert "甲一" not in html


def test_every_quiz_with_its_figures(client, users, centre):
    client.login(users["hr"].employee_no)
    html = client.get("/records/results").get_data(as_text=True)
    listed = {r["quiz"]: (int(r["people"]), int(r["attempts"]), int(r["passed"]), D(r["mean"]))
              for r in rows(html, "data-quiz")}
    assert listed == {str(centre["highest"].id): (4, 6, 3, D("58.75")),
                      str(centre["last"].id): (3, 5, 2, D("65.00"))}
    assert "服务规范练习" not in html                       # practice has no results
    assert "投诉处理课程" in html and "在岗培训" in html      # the course and track of a quiz
    html = client.get(f"/records/results?department={centre['a']}").get_data(as_text=True)
    listed = {r["quiz"]: (int(r["people"]), int(r["attempts"]), int(r["passed"]))
              for r in rows(html, "data-quiz")}
    assert listed == {str(centre["highest"].id): (2, 3, 1), str(centre["last"].id): (2, 3, 1)}


def test_the_people_link_to_their_records_and_attempts_to_their_reviews(client, users, centre,
                                                                        db_session):
    client.login(users["hr"].employee_no)
    quiz = centre["highest"]
    html = client.get(f"/records/results/{quiz.id}").get_data(as_text=True)
    a1 = centre["people"]["a1"]
    assert f'href="/records/staff/{a1.id}"' in html
    for attempt in db_session.scalars(select(Attempt).where(Attempt.quiz_id == quiz.id,
                                                            Attempt.staff_id == a1.id)):
        assert f'href="/attempts/{attempt.id}/review"' in html


# -- the set-based kept grade against quizzes' own ---------------------------------------------

@pytest.mark.parametrize("method", ["highest", "last"])
def test_the_set_based_kept_grade_agrees_with_quizzes(app, users, make_staff, db_session,
                                                      method):
    """Random attempts with many ties (equal percents, passed and failed alike), in random
    states: for every person, the SQL ranking keeps the attempt `kept_grade_among` keeps."""
    from trainer.core.db import db
    from trainer.quizzes import services as quizzes
    from trainer.records import results

    rng = random.Random(f"kept-{method}")
    bank = make_bank("随机题库")
    people = [make_staff("learner") for _ in range(6)]
    now = utcnow()
    quizzes_made = []
    for q in range(3):
        quiz = make_quiz(bank, None, count=1, title=f"随机{q}", grading=method)
        quizzes_made.append(quiz)
        for person in people:
            for number in range(1, rng.randint(1, 5) + 1):
                state = rng.choice(("submitted", "submitted", "expired", "abandoned"))
                percent = rng.choice(("40", "60", "60", "75", "100"))
                sit(db_session, quiz, person, number, percent, rng.random() < 0.5,
                    at=now - timedelta(minutes=100 - number), state=state)
    db_session.commit()
    compared = 0
    with app.test_request_context():
        for quiz in quizzes_made:
            k = results.kept(results.ResultsFilter(), "Asia/Shanghai", quiz_id=quiz.id)
            sql = {row.staff_id: (row.attempt_id, D(str(row.percent)).quantize(D("0.01")),
                                  bool(row.passed), row.attempts)
                   for row in db.session.execute(select(k))}
            expected = {}
            for person in people:
                attempts = list(db.session.scalars(select(Attempt).where(
                    Attempt.quiz_id == quiz.id, Attempt.staff_id == person.id)))
                grade = quizzes.kept_grade_among(attempts, quiz.grading)
                if grade is not None:
                    expected[person.id] = (grade.attempt_id, grade.percent, grade.passed,
                                           sum(a.finished for a in attempts))
            assert sql == expected
            compared += len(expected)
    assert compared >= 10


# -- exports -------------------------------------------------------------------------------------

def test_the_workbook_reads_back_as_the_page_says_and_is_audited(client, users, centre,
                                                                  db_session):
    from openpyxl import load_workbook

    client.login(users["hr"].employee_no)
    quiz = centre["highest"]
    html = client.get(f"/records/results/{quiz.id}?department={centre['b']}").get_data(
        as_text=True)
    response = client.get(f"/records/results/{quiz.id}.xlsx?department={centre['b']}")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).worksheets[0]
    header, *body = [[c for c in row] for row in sheet.iter_rows()]
    assert [c.value for c in header][:4] == ["工号", "姓名", "部门", "保留成绩（%）"]
    page = [(r["person"], D(r["kept"]), r["passed"] == "1", int(r["attempts"]))
            for r in rows(html, "data-person")]
    p = centre["people"]
    ids = {person.employee_no: person.id for person in p.values()}
    book = [(str(ids[row[0].value]), D(str(row[3].value)).quantize(D("0.01")),
             row[4].value == "是", int(row[5].value)) for row in body]
    assert book == page and len(book) == 2
    # The name typed as a formula stays text.
    formula = next(row[1] for row in body if row[0].value == "B001")
    assert formula.value == "=1+2" and formula.data_type == "s"
    event = db_session.scalar(select(AuditEvent).where(AuditEvent.action == "results.exported"))
    assert (event.actor_id, event.object_type, event.object_id) == (
        users["hr"].id, "quiz", str(quiz.id))
    assert event.details == {"format": "xlsx", "filter": {
        "from": None, "to": None, "department": centre["b"]}}


def test_the_csv_neutralises_a_formula_and_the_list_exports(client, users, centre, db_session):
    client.login(users["hr"].employee_no)
    response = client.get(f"/records/results/{centre['highest'].id}.csv")
    assert response.status_code == 200
    text = response.get_data(as_text=True).lstrip("\ufeff")
    lines = list(csv.reader(io.StringIO(text)))
    assert lines[0][:2] == ["工号", "姓名"]
    assert ["B001", "'=1+2"] == lines[[r[0] for r in lines].index("B001")][:2]
    assert len(lines) == 1 + 4
    listed = client.get("/records/results.xlsx")
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(listed.data)).worksheets[0]
    values = {row[0]: row[3:8] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert values["服务规范月考[上/下]?"] == (4, 6, 3, 75, 58.75)
    assert values["投诉处理考核"] == (3, 5, 2, 66.7, 65)
    events = db_session.scalars(select(AuditEvent).where(
        AuditEvent.action == "results.exported").order_by(AuditEvent.id)).all()
    assert [(e.object_id, e.details["format"]) for e in events] == [
        (str(centre["highest"].id), "csv"), (None, "xlsx")]


# -- access and bad input ------------------------------------------------------------------------

def test_who_reads_which_results(client, users, centre, db_session):
    from trainer.quizzes import services as quizzes
    from trainer.quizzes.models import Quiz

    highest, last = centre["highest"], centre["last"]
    # A course quiz of the system's: every trainer manages it, so reads its results.
    system = make_quiz(make_bank("系统题库"), None, count=1, title="系统测验")
    sit(db_session, system, centre["people"]["a2"], 1, "90", True, at=utcnow())
    db_session.commit()
    trainer = users["trainer"]
    client.login(trainer.employee_no)      # owns `highest`, not `last`
    html = client.get("/records/results").get_data(as_text=True)
    listed = {int(r["quiz"]) for r in rows(html, "data-quiz")}
    assert listed == {highest.id, system.id}
    # The list's SQL says what quizzes' own permission function says, quiz by quiz.
    assert listed == {q.id for q in db_session.scalars(select(Quiz).where(
        Quiz.mode == "exam")) if quizzes.may_read_results(trainer, q) and q.id in
        (highest.id, last.id, system.id)}
    assert client.get(f"/records/results/{highest.id}").status_code == 200
    assert client.get(f"/records/results/{last.id}").status_code == 403
    assert client.get(f"/records/results/{last.id}.xlsx").status_code == 403
    client.login(users["admin"].employee_no)
    assert client.get(f"/records/results/{last.id}").status_code == 200
    client.login(centre["people"]["a1"].employee_no)
    for url in ("/records/results", f"/records/results/{highest.id}",
                f"/records/results/{highest.id}.csv", "/records/results.xlsx"):
        assert client.get(url).status_code == 403, url
    client.login(users["hr"].employee_no)
    assert client.get("/records/results/999999").status_code == 404


@pytest.mark.parametrize("query, message", [
    ("from=2026-02-30", "不是日期"), ("to=yesterday", "不是日期"),
    ("from=2026-05-01&to=2026-04-01", "开始晚于结束"), ("department=999999", "没有这个部门"),
    ("department=abc", "没有这个部门")])
def test_a_filter_that_makes_no_sense_says_why_and_exports_nothing(client, users, centre,
                                                                  db_session, query, message):
    client.login(users["hr"].employee_no)
    quiz = centre["highest"]
    for url in (f"/records/results?{query}", f"/records/results/{quiz.id}?{query}"):
        response = client.get(url)
        assert response.status_code == 200
        html = response.get_data(as_text=True)
        assert message in html and "data-filter-errors" in html
        assert not rows(html, "data-quiz") and not rows(html, "data-person")
    response = client.get(f"/records/results/{quiz.id}.xlsx?{query}")
    assert response.status_code == 302
    assert db_session.scalar(select(AuditEvent).where(
        AuditEvent.action == "results.exported")) is None


def test_the_pages_speak_chinese(client, users, centre):
    client.login(users["hr"].employee_no)
    for url in ("/records/results", f"/records/results/{centre['highest'].id}",
                f"/records/results/{centre['last'].id}?department={centre['a']}",
                "/records/results?from=nonsense"):
        html = client.get(url, headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
        assert not site_checks.english_in(html, ()), (url, site_checks.english_in(html, ()))


def test_the_stored_list_is_the_live_list_cut_per_reader_until_it_is_old(
        app, client, users, centre, db_session):
    """`trainer records refresh` stores every quiz's figures over all time; the list without a
    filter shows them (as of when), cut to what the reader may read; a filter, or figures more
    than five minutes old, are computed live."""
    from sqlalchemy import update

    from trainer.records.models import FigureSet

    client.login(users["hr"].employee_no)
    live = client.get("/records/results").get_data(as_text=True)
    assert "data-stored" not in live
    result = app.test_cli_runner().invoke(args=["records", "refresh"])
    assert result.exit_code == 0, result.output
    stored = client.get("/records/results").get_data(as_text=True)
    assert "data-stored" in stored
    assert rows(stored, "data-quiz") == rows(live, "data-quiz") and rows(live, "data-quiz")
    # A new result after the refresh: the stored list does not have it yet; a filtered list,
    # computed when asked, has it.
    sit(db_session, centre["highest"], centre["people"]["b1"], 9, "100", True, at=utcnow())
    db_session.commit()
    listed = {r["quiz"]: r["attempts"] for r in rows(
        client.get("/records/results").get_data(as_text=True), "data-quiz")}
    assert listed[str(centre["highest"].id)] == "6"
    filtered = client.get(f"/records/results?department={centre['b']}").get_data(as_text=True)
    assert "data-stored" not in filtered
    # A trainer reads only their own quizzes' line of the stored list.
    client.login(users["trainer"].employee_no)
    html = client.get("/records/results").get_data(as_text=True)
    assert "data-stored" in html
    assert {int(r["quiz"]) for r in rows(html, "data-quiz")} == {centre["highest"].id}
    # Six minutes old: live again, with the new result.
    db_session.execute(update(FigureSet).values(computed_at=utcnow() - timedelta(minutes=6)))
    db_session.commit()
    client.login(users["hr"].employee_no)
    html = client.get("/records/results").get_data(as_text=True)
    assert "data-stored" not in html
    listed = {r["quiz"]: r["attempts"] for r in rows(html, "data-quiz")}
    assert listed[str(centre["highest"].id)] == "7"
