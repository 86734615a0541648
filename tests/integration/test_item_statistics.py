"""Item analysis pages: a fixed-list exam sat by 32 people, read by its trainer and by HR,
refused to others; the XLSX equal to the page; the attempt each grading method keeps; the edit
link of a flagged question; one question across exams; a bounded number of statements."""
from __future__ import annotations

import base64
import io
import re
from decimal import Decimal

import pytest
from sqlalchemy import event, select

from tests.integration.quiz_fixtures import make_bank
from trainer.banks import services as banks
from trainer.banks.models import Question
from trainer.core.db import db
from trainer.core.timeutil import utcnow
from trainer.quizzes import services as quizzes
from trainer.quizzes import statistics as stats
from trainer.quizzes.models import Attempt

PEOPLE = 32
IDS = ["S-0", "S-1", "S-2", "S-3", "S-4"]


def right_answer(person: int, question: int) -> bool:
    """Person k of 32 (ability rises with k): S-0 everyone knows; S-1..S-3 those above a
    threshold; S-4 every other person, whatever their ability (a guess)."""
    if question == 0:
        return True
    if question == 4:
        return person % 2 == 0
    return person >= (8, 14, 20)[question - 1]


def lineages(bank) -> dict[str, int]:
    return {q.id_number: q.lineage_id for q in db.session.scalars(
        select(Question).where(Question.bank_id == bank.id, Question.is_current.is_(True)))}


def make_exam(bank, owner, *, title: str = "统计考试", grading: str = "highest",
              ids=IDS) -> quizzes.Quiz:
    by_id = lineages(bank)
    return quizzes.save_quiz(owner, None, quizzes.QuizSettings(
        title=title, mode="exam", time_limit_s=None, open_to_all=True, grading=grading,
        shuffle_questions=True, shuffle_choices=True),
        fixed=[(by_id[i], Decimal(1)) for i in ids], now=utcnow())


def sit(person, quiz, right) -> Attempt:
    """Start, answer (the key when `right(id_number)`, else the first wrong choice), submit."""
    attempt = quizzes.start_attempt(person, quiz, now=utcnow())
    for item in attempt.items:
        choices = item.snapshot["choices"]
        key = [i for i, c in enumerate(choices) if Decimal(c["weight"]) > 0]
        wrong = [i for i, c in enumerate(choices) if Decimal(c["weight"]) <= 0][:1]
        id_number = db.session.get(Question, item.question_id).id_number
        quizzes.save_answer(person, attempt.id, item.position,
                            key if right(id_number) else wrong, 0, now=utcnow())
    quizzes.submit_attempt(person, attempt, now=utcnow())
    return attempt


@pytest.fixture
def exam(users, make_staff, db_session):
    bank = make_bank()
    quiz = make_exam(bank, users["trainer"])
    for k in range(PEOPLE):
        person = make_staff("learner", employee_no=f"K{k:04d}")
        sit(person, quiz, lambda id_number, k=k: right_answer(k, IDS.index(id_number)))
    db_session.commit()
    return {"bank": bank, "quiz": quiz, "lineages": lineages(bank)}


def row_of(html: str, lineage: int) -> str:
    match = re.search(rf'<tr data-item="{lineage}".*?</tr>', html, re.S)
    assert match, lineage
    return match.group(0)


def attr(html: str, name: str) -> str:
    return re.search(rf'data-{name}="([^"]*)"', html).group(1)


def test_the_trainer_who_owns_the_exam_reads_its_item_analysis(client, users, exam):
    client.login(users["trainer"].employee_no)
    response = client.get(f"/quizzes/{exam['quiz'].id}/statistics")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "试题分析" in html
    assert attr(html, "attempts") == str(PEOPLE)
    ids = exam["lineages"]
    expected = {i: 100.0 * sum(right_answer(k, n) for k in range(PEOPLE)) / PEOPLE
                for n, i in enumerate(IDS)}
    for id_number, facility in expected.items():
        assert float(attr(row_of(html, ids[id_number]), "facility")) == round(facility, 1)
    # Everyone right on S-0: too easy, and no discrimination to speak of (not 0).
    easy = row_of(html, ids["S-0"])
    assert 'data-flag="too_easy"' in easy
    assert 'data-undefined="item_constant"' in easy
    # S-1..S-3 follow ability; S-4 is a guess: does not discriminate.
    for id_number in ("S-1", "S-2", "S-3"):
        assert float(attr(row_of(html, ids[id_number]), "discrimination")) > 30
        assert 'data-flag="weak_discrimination"' not in row_of(html, ids[id_number])
    assert re.search(r'data-flag="(weak|negative)_discrimination"', row_of(html, ids["S-4"]))
    # Nobody picked the last two wrong choices of any question.
    assert 'data-flag="rarely_picked"' in row_of(html, ids["S-2"])
    # A fixed list: the same questions in every attempt, so alpha and its SEM are given.
    assert attr(html, "alpha") != "—" and attr(html, "sem") != "—"
    # The trainer may edit the flagged question: one click to its bank's edit page.
    current = db.session.scalar(select(Question).where(Question.lineage_id == ids["S-0"],
                                                       Question.is_current.is_(True)))
    assert f'href="/banks/questions/{current.id}/edit" data-edit-question' in easy
    # Charts are images with no script inside.
    svgs = [base64.b64decode(uri).decode() for uri in
            re.findall(r'src="data:image/svg\+xml;base64,([^"]+)"', html)]
    assert len(svgs) == 2
    assert all("<svg" in svg and "<script" not in svg.lower() for svg in svgs)
    # The attempts page links here.
    attempts = client.get(f"/quizzes/{exam['quiz'].id}/attempts").get_data(as_text=True)
    assert f'/quizzes/{exam["quiz"].id}/statistics' in attempts


def test_the_page_agrees_with_the_pure_figures(client, users, exam):
    client.login(users["trainer"].employee_no)
    html = client.get(f"/quizzes/{exam['quiz'].id}/statistics").get_data(as_text=True)
    figures = quizzes.quiz_statistics(exam["quiz"]).figures
    for item in figures.items:
        row = row_of(html, item.lineage_id)
        assert f"data-n>{item.n}<" in row
        if item.discrimination is not None:
            assert attr(row, "discrimination") == f"{item.discrimination:.1f}"
    assert attr(html, "mean") == f"{figures.mean:.1f}"


def test_hr_reads_it_without_the_edit_link(client, users, exam):
    client.login(users["hr"].employee_no)
    response = client.get(f"/quizzes/{exam['quiz'].id}/statistics")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'data-flag="too_easy"' in html
    assert "data-edit-question" not in html


def test_refused_to_a_learner_and_to_another_trainer(client, users, make_staff, exam):
    client.login(users["learner"].employee_no)
    assert client.get(f"/quizzes/{exam['quiz'].id}/statistics").status_code == 403
    assert client.get(f"/quizzes/{exam['quiz'].id}/statistics.xlsx").status_code == 403
    other = make_staff("trainer", employee_no="TR777")
    client.login(other.employee_no)
    assert client.get(f"/quizzes/{exam['quiz'].id}/statistics").status_code == 403
    assert client.get(f"/quizzes/{exam['quiz'].id}/statistics.xlsx").status_code == 403


def test_the_xlsx_holds_the_pages_figures(client, users, exam):
    from openpyxl import load_workbook

    client.login(users["trainer"].employee_no)
    html = client.get(f"/quizzes/{exam['quiz'].id}/statistics").get_data(as_text=True)
    response = client.get(f"/quizzes/{exam['quiz'].id}/statistics.xlsx")
    assert response.status_code == 200
    assert response.mimetype.endswith("spreadsheetml.sheet")
    sheet = load_workbook(io.BytesIO(response.data)).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    header = rows[0]
    assert header[0] == "题号" and "区分度" in header
    items = [r for r in rows[1:] if r[2]]
    choices = [r for r in rows[1:] if r[3]]
    assert len(items) == len(IDS)
    assert len(choices) == sum(4 for _ in IDS)  # four choices each
    ids = exam["lineages"]
    for row in items:
        lineage = ids[row[1]]
        page = row_of(html, lineage)
        assert row[0] == int(attr(page, "number"))
        assert row[5] == PEOPLE
        assert row[6] == float(attr(page, "facility"))
        assert row[7] == float(attr(page, "sd"))
        shown = attr(page, "discrimination")
        assert (row[8] == float(shown)) if shown != "—" else isinstance(row[8], str)
        efficiency = attr(page, "efficiency")
        assert row[9] == (float(efficiency) if efficiency != "—" else None)
    easy = next(r for r in items if r[1] == "S-0")
    assert "太容易" in easy[13]
    # Each choice row: the page's percent overall, top and bottom.
    page_choices = re.findall(
        r'<tr data-choice="(\d+)" data-key="(\d)" data-all="([^"]*)" data-top="([^"]*)" '
        r'data-bottom="([^"]*)"', html)
    assert len(page_choices) == len(choices)
    file_choices = sorted((r[0], r[3][0], r[10], r[11], r[12]) for r in choices)
    numbers = [int(n) for n in re.findall(r'<tr data-item="\d+" data-number="(\d+)"', html)]
    from_page = sorted((numbers[i // 4], "ABCD"[int(c[0])], float(c[2]), float(c[3]),
                        float(c[4])) for i, c in enumerate(page_choices))
    assert file_choices == from_page


def test_the_kept_attempt_is_the_one_analysed(users, make_staff, db_session):
    """One person's first attempt is all right, the second all wrong: 'highest' analyses the
    first, 'last' the second; an attempt still in progress is not analysed."""
    bank = make_bank()
    results = {}
    for grading in ("highest", "last"):
        quiz = make_exam(bank, users["trainer"], title=f"保留{grading}", grading=grading)
        person = make_staff("learner")
        sit(person, quiz, lambda _id: True)
        sit(person, quiz, lambda _id: False)
        quizzes.start_attempt(person, quiz, now=utcnow())   # in progress: not counted
        other = make_staff("learner")
        sit(other, quiz, lambda id_number: id_number in ("S-0", "S-1"))
        db_session.commit()
        figures = quizzes.quiz_statistics(quiz).figures
        assert figures.n == 2 and len(figures.items) == len(IDS)
        results[grading] = figures
    highest, last = results["highest"], results["last"]
    # Person 1 at 100 % (highest) or 0 % (last); person 2 at 40 % either way.
    assert highest.mean == pytest.approx(70.0)
    assert last.mean == pytest.approx(20.0)
    assert sorted(i.facility for i in highest.items) == [0.5, 0.5, 0.5, 1.0, 1.0]
    assert sorted(i.facility for i in last.items) == [0.0, 0.0, 0.0, 0.5, 0.5]


def test_the_edit_link_makes_a_new_version_and_follows_it(client, users, exam, db_session):
    client.login(users["trainer"].employee_no)
    ids = exam["lineages"]
    html = client.get(f"/quizzes/{exam['quiz'].id}/statistics").get_data(as_text=True)
    link = re.search(r'href="(/banks/questions/(\d+)/edit)" data-edit-question',
                     row_of(html, ids["S-0"]))
    page = client.get(link.group(1))
    assert page.status_code == 200
    old = db_session.get(Question, int(link.group(2)))
    parsed = banks.to_parsed(old)
    parsed.stem = old.stem + "（修订）"
    new = banks.edit_question(users["trainer"], old, parsed, now=utcnow())
    db_session.commit()
    assert new.id != old.id and new.lineage_id == old.lineage_id
    html = client.get(f"/quizzes/{exam['quiz'].id}/statistics").get_data(as_text=True)
    assert f'href="/banks/questions/{new.id}/edit" data-edit-question' in row_of(html, ids["S-0"])
    # The analysis still reads what people were asked (the snapshot), not the new wording.
    assert "（修订）" not in row_of(html, ids["S-0"])


def test_one_question_across_exams(client, users, make_staff, exam, db_session):
    ids = exam["lineages"]
    second = make_exam(exam["bank"], users["trainer"], title="第二场考试", ids=["S-0", "S-5"])
    other_trainer = make_staff("trainer", employee_no="TR888")
    third = make_exam(exam["bank"], other_trainer, title="别人的考试", ids=["S-0", "S-6"])
    for quiz in (second, third):
        for k in range(3):
            sit(make_staff("learner"), quiz, lambda id_number, k=k: k > 0)
    db_session.commit()
    question = db_session.scalar(select(Question).where(Question.lineage_id == ids["S-0"],
                                                        Question.is_current.is_(True)))
    client.login(users["trainer"].employee_no)
    bank_page = client.get(f"/banks/questions/{question.id}").get_data(as_text=True)
    assert f'/quizzes/questions/{question.id}/statistics' in bank_page
    html = client.get(f"/quizzes/questions/{question.id}/statistics").get_data(as_text=True)
    shown = re.findall(r'<tr data-quiz="(\d+)"', html)
    assert shown == [str(exam["quiz"].id), str(second.id)]   # most answered first
    assert attr(html, "answers") == str(PEOPLE + 3)
    assert attr(html, "hidden") == "1"   # the other trainer's exam: counted, not shown
    assert float(attr(html, "facility")) == round(100 * (PEOPLE + 2) / (PEOPLE + 3), 1)
    # HR reads every exam's results.
    client.login(users["hr"].employee_no)
    html = client.get(f"/quizzes/questions/{question.id}/statistics").get_data(as_text=True)
    assert len(re.findall(r'<tr data-quiz="(\d+)"', html)) == 3
    assert "data-hidden" not in html
    client.login(users["learner"].employee_no)
    assert client.get(f"/quizzes/questions/{question.id}/statistics").status_code == 403


def test_a_practice_quiz_and_an_exam_nobody_sat(client, users, db_session):
    bank = make_bank()
    empty = make_exam(bank, users["trainer"], title="没人考")
    practice = quizzes.save_quiz(users["trainer"], None, quizzes.QuizSettings(
        title="练习", mode="practice", open_to_all=True),
        rule_specs=[quizzes.RuleSpec(bank.id, 3, Decimal(1))], now=utcnow())
    sit(users["learner"], practice, lambda _id: True)
    db_session.commit()
    client.login(users["trainer"].employee_no)
    html = client.get(f"/quizzes/{empty.id}/statistics").get_data(as_text=True)
    assert attr(html, "attempts") == "0" and 'data-no-alpha="no_attempts"' in html
    assert "data-export" not in html
    html = client.get(f"/quizzes/{practice.id}/statistics").get_data(as_text=True)
    assert "data-practice" in html and "data-items" not in html
    assert client.get(f"/quizzes/{practice.id}/statistics.xlsx").status_code == 200
    assert client.get("/quizzes/999999/statistics").status_code == 404
    assert client.get("/quizzes/questions/999999/statistics").status_code == 404


def test_statements_do_not_grow_with_attempts(users, make_staff, db_session):
    bank = make_bank()
    quiz = make_exam(bank, users["trainer"], title="语句数")

    def statements() -> int:
        db_session.expire_all()
        quiz_now = db_session.get(type(quiz), quiz.id)
        seen: list[str] = []
        engine = db_session.connection()   # the test's connection: every statement passes here

        def count(conn, cursor, statement, *args):
            seen.append(statement)
        event.listen(engine, "before_cursor_execute", count)
        try:
            quizzes.quiz_statistics(quiz_now)
        finally:
            event.remove(engine, "before_cursor_execute", count)
        return len(seen)

    for _ in range(2):
        sit(make_staff("learner"), quiz, lambda _id: True)
    db_session.commit()
    few = statements()
    for _ in range(10):
        sit(make_staff("learner"), quiz, lambda id_number: id_number < "S-3")
    db_session.commit()
    assert 4 <= few <= 6   # items, snapshots, maxima, current versions
    assert statements() == few
    assert quizzes.quiz_statistics(quiz).figures.n == 12


def test_the_question_page_of_a_question_never_asked(client, users, db_session):
    bank = make_bank()
    db_session.commit()
    question = db_session.scalar(select(Question).where(Question.bank_id == bank.id))
    client.login(users["trainer"].employee_no)
    response = client.get(f"/quizzes/questions/{question.id}/statistics")
    assert response.status_code == 200
    assert attr(response.get_data(as_text=True), "answers") == "0"


def test_min_attempts_is_designs_threshold():
    assert stats.MIN_ATTEMPTS == 30


def test_the_demo_exam_shows_its_designed_flags_with_hints(demo):
    """The statistics demo (60 simulated agents): a trainer opens the exam's item analysis and
    finds each designed fault flagged, with its hint."""
    from tests.integration.test_attendance_demo import sign_in
    from trainer.quizzes.demo_statistics import PLAN, demo_exam

    with demo.app_context():
        quiz = demo_exam()
        plans = {f.lineage_id: plan for f, plan in zip(quiz.fixed, PLAN)}
        quiz_id = quiz.id
        db.session.remove()
    client, _ = sign_in(demo, "T0001")
    html = client.get(f"/quizzes/{quiz_id}/statistics").get_data(as_text=True)
    assert attr(html, "attempts") == "60"
    assert attr(html, "alpha") != "—"   # a fixed list
    expected = {"easy": {"too_easy"}, "hard": {"too_hard"}}
    for lineage, plan in plans.items():
        row = row_of(html, lineage)
        codes = set(attr(row, "flags").split())
        assert codes <= {"too_easy", "too_hard", "negative_discrimination",
                         "weak_discrimination", "rarely_picked", "strong_pick"}
        if plan.kind in expected:
            assert expected[plan.kind] <= codes, (plan, codes)
        if plan.kind == "random":
            assert codes & {"weak_discrimination", "negative_discrimination"}, (plan, codes)
        if plan.kind == "ability":
            assert not codes & {"weak_discrimination", "negative_discrimination"}, (plan, codes)
        if plan.unpicked:
            assert "rarely_picked" in codes and plan.unpicked in row, plan
        if plan.tempting:
            assert "strong_pick" in codes and plan.tempting in row, plan
    assert "高分组（前 27%）选" in html and "修改这道题（另存为新版本）" in html
