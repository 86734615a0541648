"""One staff lookup (accounts.services.find_staff) behind every "employee numbers or a
department" form: learning's and quizzes' assign views, later rosters."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.integration.quiz_fixtures import make_bank, make_quiz
from trainer.accounts.services import find_staff, record_staff_event
from trainer.core.timeutil import utcnow
from trainer.learning.models import Enrolment, Track
from trainer.quizzes.models import QuizAssignment


@pytest.fixture
def quiz(users, db_session):
    made = make_quiz(make_bank(), users["trainer"], count=3, open_to_all=False, title="指派测验")
    db_session.commit()
    return made


@pytest.fixture
def track(db_session):
    made = Track(key="promotion", title="晋升培训", position=0)
    db_session.add(made)
    db_session.commit()
    return made


def assigned_to(db_session, quiz) -> set[int]:
    return set(db_session.scalars(select(QuizAssignment.staff_id).where(
        QuizAssignment.quiz_id == quiz.id)))


def enrolled(db_session) -> set[int]:
    return set(db_session.scalars(select(Enrolment.staff_id)))


def alerts(page: str, kind: str = "danger") -> str:
    """The text of the page's flashed messages of one kind."""
    return " ".join(re.findall(rf'<div class="alert alert-{kind}" role="alert">(.*?)</div>', page))


def flashed(client, response, kind: str = "danger") -> str:
    return alerts(client.get(response.headers["Location"]).get_data(as_text=True), kind)


# -- the views: numbers are read as sign-in reads them -----------------------------------------

def test_quiz_assign_reads_numbers_as_sign_in_does(client, users, quiz, db_session):
    """A number typed in lower case or full width names the person sign-in would find."""
    learner, other = users["learner"], users["learner2"]
    client.login(users["trainer"].employee_no)
    typed = f"{learner.employee_no.lower()}，{other.employee_no.translate(_FULL_WIDTH)}"
    response = client.post(f"/quizzes/{quiz.id}/assign", {"employee_nos": typed})
    assert response.status_code == 302
    assert assigned_to(db_session, quiz) == {learner.id, other.id}


def test_training_assign_reads_numbers_as_sign_in_does(client, users, track, db_session, today):
    learner = users["learner"]
    client.login(users["hr"].employee_no)
    response = client.post("/training/assign", {
        "track": "promotion", "employee_nos": f" {learner.employee_no.lower()} ",
        "due_on": (today + timedelta(days=20)).isoformat()})
    assert response.status_code == 302
    assert enrolled(db_session) == {learner.id}


_FULL_WIDTH = {c: c + 0xFEE0 for c in range(0x21, 0x7F)}


# -- the views: a name or number nobody has is said, and nothing changes -----------------------

def test_quiz_assign_names_an_unknown_department_and_assigns_nobody(client, users, quiz,
                                                                    db_session):
    client.login(users["trainer"].employee_no)
    response = client.post(f"/quizzes/{quiz.id}/assign", {"department": "不存在的部门"})
    assert "不存在的部门" in flashed(client, response)
    assert assigned_to(db_session, quiz) == set()


def test_training_assign_names_an_unknown_department_and_assigns_nobody(client, users, track,
                                                                        db_session, today):
    client.login(users["hr"].employee_no)
    response = client.post("/training/assign", {
        "track": "promotion", "department": "不存在的部门",
        "due_on": (today + timedelta(days=20)).isoformat()})
    assert "不存在的部门" in alerts(response.get_data(as_text=True))
    assert enrolled(db_session) == set()


def test_quiz_assign_with_an_unknown_number_assigns_nobody(client, users, quiz, db_session):
    client.login(users["trainer"].employee_no)
    response = client.post(f"/quizzes/{quiz.id}/assign", {
        "employee_nos": f"{users['learner'].employee_no} NOBODY9"})
    assert "NOBODY9" in flashed(client, response)
    assert assigned_to(db_session, quiz) == set()


def test_a_department_assigns_its_people_but_not_those_who_left(client, users, make_staff, quiz,
                                                                  db_session, today):
    stays = make_staff("learner", department="客服九部")
    gone = make_staff("learner", department="客服九部")
    record_staff_event(None, gone, kind="leaving", occurred_on=today, now=utcnow())
    make_staff("learner", department="客服八部")
    db_session.commit()
    client.login(users["trainer"].employee_no)
    response = client.post(f"/quizzes/{quiz.id}/assign", {"department": "客服九部"})
    assert response.status_code == 302
    assert assigned_to(db_session, quiz) == {stays.id}


# -- the service ---------------------------------------------------------------------------------

def test_find_staff_by_numbers_and_departments_together(users, make_staff, db_session):
    nine = [make_staff("learner", department="客服九部") for _ in range(2)]
    learner = users["learner"]
    found = find_staff(employee_nos=[learner.employee_no.lower(), " " + learner.employee_no,
                                     "NOBODY1", nine[0].employee_no],
                       department_names=["客服九部", "客服零部"])
    assert [p.employee_no for p in found.people] == sorted(
        [learner.employee_no, *(p.employee_no for p in nine)])  # each once, in number order
    assert found.unknown_numbers == ["NOBODY1"]
    assert found.unknown_departments == ["客服零部"]
    by_id = find_staff(department_ids=[nine[0].department_id])
    assert {p.id for p in by_id.people} == {p.id for p in nine}
    assert find_staff() == find_staff(employee_nos=["  "], department_names=[""]) == \
        type(found)([], [], [], [])


def test_find_staff_leaves_out_those_who_left_and_says_who(users, make_staff, db_session, today):
    stays = make_staff("learner", department="客服九部")
    gone = make_staff("learner", department="客服九部")
    record_staff_event(None, gone, kind="leaving", occurred_on=today, now=utcnow())
    found = find_staff(employee_nos=[gone.employee_no], department_names=["客服九部"])
    assert [p.id for p in found.people] == [stays.id]
    assert found.left_numbers == [gone.employee_no] and found.unknown_numbers == []
    everyone = find_staff(department_names=["客服九部"], include_left=True)
    assert {p.id for p in everyone.people} == {stays.id, gone.id}
    assert everyone.left_numbers == []


def test_find_staff_reads_a_deactivated_departments_name_unless_an_active_one_has_it(
        users, make_staff, db_session):
    from trainer.accounts.services import create_list_entry, set_list_entry_active

    old = make_staff("learner", department="客服九部")
    set_list_entry_active(users["hr"], old.department, False, now=utcnow())
    assert [p.id for p in find_staff(department_names=["客服九部"]).people] == [old.id]
    create_list_entry(None, type(old.department), name="客服九部", now=utcnow())
    assert find_staff(department_names=["客服九部"]).people == []


def test_find_staff_costs_the_same_statements_however_many_people(users, make_staff,
                                                                  db_session):
    """Set-based: the people in one SELECT (their roles in the relationship's one more), not a
    query per number."""
    from sqlalchemy import event

    numbers = [make_staff("learner").employee_no for _ in range(12)]
    engine = db_session.get_bind().engine

    def statements_for(wanted: list[str]) -> int:
        seen = []
        listener = lambda *_args: seen.append(1)  # noqa: E731
        db_session.expire_all()
        event.listen(engine, "before_cursor_execute", listener)
        try:
            found = find_staff(employee_nos=wanted)
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        assert len(found.people) == len(wanted)
        return len(seen)

    assert statements_for(numbers[:1]) == statements_for(numbers) <= 2
