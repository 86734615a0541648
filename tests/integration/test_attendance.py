"""Classroom training on both databases: rosters and the wait-list, conflicts, leave, check-in
and check-out, closing, corrections, 学时, completion of a course's classroom requirement, and
the survey."""
from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from sqlalchemy import func, select

from tests.conftest import PASSWORD
from tests.integration.test_learning import content  # noqa: F401 - fixture
from trainer.attendance import rules, services
from trainer.attendance.models import (
    AttendanceMark,
    ClassCompletion,
    SignupChange,
    SurveyAnswer,
    SurveyReceipt,
)
from trainer.core.errors import DomainError
from trainer.core.models import AuditEvent, TodoItem
from trainer.core.settings import centre_timezone, set_setting
from trainer.core.timeutil import utcnow
from trainer.learning import services as learning
from trainer.learning.models import CourseRequirement, HoursEntry


@pytest.fixture
def run(users):
    """A class taught by the trainer, with helpers to add sessions relative to now."""
    def make(capacity=None, mode="invitation", course_id=None, place="三楼培训室"):
        return services.save_class(users["trainer"], None, services.ClassFields(
            title="服务礼仪集中授课", hours_category="服务礼仪", capacity=capacity,
            signup_mode=mode, course_id=course_id, place=place), now=utcnow())
    return make


def add_session(cls, trainer, start: datetime, minutes=50, override=""):
    """A session from `start` (aware UTC) for `minutes`, given as the centre's local times."""
    from trainer.core.timeutil import zone

    local = start.astimezone(zone(centre_timezone()))
    end = local + timedelta(minutes=minutes)
    return services.save_session(trainer, cls, None, services.SessionFields(
        day=local.date(), starts=local.time().replace(second=0, microsecond=0),
        ends=end.time().replace(second=0, microsecond=0), end_day=end.date()), now=utcnow(),
        override=override)


def soon(minutes=0):
    now = utcnow().replace(second=0, microsecond=0)
    return now + timedelta(minutes=minutes)


def test_capacity_fills_then_the_wait_list_moves_up_in_order(run, users, make_staff,
                                                             db_session):
    trainer = users["trainer"]
    cls = run(capacity=2)
    add_session(cls, trainer, soon(3 * 24 * 60))
    people = [make_staff("learner") for _ in range(4)]
    outcome = services.invite(trainer, cls, people, now=utcnow())
    assert outcome.booked == [people[0].id, people[1].id]
    assert outcome.waitlisted == [people[2].id, people[3].id]
    services.cancel_booking(people[0], cls, people[0], now=utcnow())
    roster = services._roster(cls.id)
    assert roster[people[2].id].state == "booked" and roster[people[3].id].state == "waitlisted"
    actions = db_session.scalars(select(SignupChange.action).where(
        SignupChange.staff_id == people[2].id).order_by(SignupChange.id)).all()
    assert actions == ["invited", "waitlisted", "promoted"]
    assert db_session.scalar(select(TodoItem).where(
        TodoItem.staff_id == people[2].id, TodoItem.kind == "class.promoted")) is not None


def test_the_wait_list_stops_moving_at_the_cut_off(run, users, make_staff, db_session):
    trainer = users["trainer"]
    cls = run(capacity=1)
    add_session(cls, trainer, soon(6 * 60))   # in six hours: inside the 24-hour cut-off
    first, second = make_staff("learner"), make_staff("learner")
    services.invite(trainer, cls, [first, second], now=utcnow())
    services.cancel_booking(trainer, cls, first, now=utcnow(), reason="调班")
    assert services._roster(cls.id)[second.id].state == "waitlisted"


def test_a_person_booked_twice_at_once_needs_a_reason(run, users, make_staff, db_session):
    trainer = users["trainer"]
    first, second = run(place="A"), run(place="B")
    start = soon(2 * 24 * 60)
    add_session(first, trainer, start)
    add_session(second, trainer, start + timedelta(minutes=10), override="两个教室不同")
    person = make_staff("learner")
    services.invite(trainer, first, [person], now=utcnow())
    with pytest.raises(DomainError):
        services.invite(trainer, second, [person], now=utcnow())
    services.invite(trainer, second, [person], now=utcnow(), override="只上后半节")
    change = db_session.scalar(select(SignupChange).where(
        SignupChange.class_id == second.id, SignupChange.staff_id == person.id))
    assert change.override == "只上后半节"


def test_a_trainer_or_a_room_booked_twice_needs_a_reason(run, users, db_session):
    trainer = users["trainer"]
    first, second = run(place="三楼培训室"), run(place="三楼培训室")
    start = soon(2 * 24 * 60)
    add_session(first, trainer, start)
    with pytest.raises(services.ConflictsFound) as refused:
        add_session(second, trainer, start + timedelta(minutes=20))
    assert {c.what for c in refused.value.conflicts} == {"trainer", "place"}
    add_session(second, trainer, start + timedelta(minutes=20), override="合班上课")


def test_leave_before_the_start_then_only_the_trainer_records_it(run, users, db_session):
    trainer, person = users["trainer"], users["learner"]
    cls = run()
    session = add_session(cls, trainer, soon(60))
    services.invite(trainer, cls, [person], now=utcnow())
    request = services.request_leave(person, session, "家中有事", now=utcnow())
    with pytest.raises(DomainError):
        services.request_leave(person, session, "再请一次", now=utcnow())
    services.decide_leave(trainer, request, True, now=utcnow())
    assert db_session.scalar(select(TodoItem).where(
        TodoItem.staff_id == person.id, TodoItem.kind == "leave.decided")).params["state"] \
        == "approved"
    later = add_session(cls, trainer, soon(-30), minutes=20, override="补课")
    with pytest.raises(DomainError):
        services.request_leave(person, later, "迟到了", now=utcnow())
    services.record_leave(trainer, later, person, "临时病假", now=utcnow())
    cells = services.grid(cls, now=utcnow())
    assert cells[(session.id, person.id)].attendance.status == rules.LEAVE
    assert cells[(later.id, person.id)].attendance.status == rules.LEAVE


def test_check_in_by_code_only_in_the_window_and_only_on_the_roster(run, users, make_staff,
                                                                   db_session):
    trainer, person, stranger = users["trainer"], users["learner"], users["learner2"]
    cls = run()
    session = add_session(cls, trainer, soon(5))
    services.invite(trainer, cls, [person], now=utcnow())
    now = utcnow()
    code, _step, _left = services.current_code(session, now)
    with pytest.raises(DomainError):
        services.check_in_with_code(stranger, code, now=now, scan=services.Scan())
    with pytest.raises(DomainError):
        services.check_in_with_code(person, "000000" if code != "000000" else "111111", now=now,
                                    scan=services.Scan())
    found, kind = services.check_in_with_code(person, f" {code[:3]} {code[3:]} ", now=now,
                                              scan=services.Scan("10.0.0.5", "phone", "dev-1"))
    assert found.id == session.id and kind == "check_in"
    assert services.check_in_with_code(person, code, now=now, scan=services.Scan())[1] == \
        "already"
    later = add_session(cls, trainer, soon(3 * 60), override="下午场")
    with pytest.raises(DomainError):
        services.check_in_with_scan(person, later, step=rules.step_of(now, 20),
                                    code=services.current_code(later, now)[0], scanned_at=now,
                                    now=now, scan=services.Scan())


def test_one_device_for_two_people_and_an_address_outside_the_centre_are_flagged(
        run, users, db_session):
    trainer, first, second = users["trainer"], users["learner"], users["learner2"]
    set_setting("centre_addresses", ["10.0.0.0/8"], actor=None, now=utcnow())
    cls = run()
    session = add_session(cls, trainer, soon(5))
    services.invite(trainer, cls, [first, second], now=utcnow())
    now = utcnow()
    code = services.current_code(session, now)[0]
    services.check_in_with_code(first, code, now=now, scan=services.Scan("10.2.3.4", "a", "d1"))
    services.check_in_with_code(second, code, now=now,
                                scan=services.Scan("203.0.113.9", "b", "d1"))
    cells = services.grid(cls, now=now)
    assert "shared_device" in cells[(session.id, first.id)].flags
    assert {"shared_device", "outside_address"} <= cells[(session.id, second.id)].flags
    assert "outside_address" not in cells[(session.id, first.id)].flags
    # Flagged, not refused: both are checked in.
    assert cells[(session.id, second.id)].attendance.check_in_at is not None
    # One person's page (我的课程, 已签到) derives that person's cells only, and still sees the
    # device the other checked in with.
    mine = services.grid(cls, now=now, staff_ids=[second.id])
    assert set(mine) == {(session.id, second.id)}
    assert mine[(session.id, second.id)].flags == cells[(session.id, second.id)].flags


def test_closing_marks_absence_credits_hours_and_twice_changes_nothing(run, users, make_staff,
                                                                       db_session):
    trainer = users["trainer"]
    here, away = make_staff("learner"), make_staff("learner")
    cls = run()
    session = add_session(cls, trainer, soon(-120), minutes=50)
    services.invite(trainer, cls, [here, away], now=utcnow())
    services.correct(trainer, session, here, kind="correction", now=utcnow(), reason="纸质签到",
                     check_in_at=session.starts_at, check_out_at=session.ends_at)
    assert services.close_session(trainer, session, now=utcnow()) is True
    assert services.close_session(trainer, session, now=utcnow()) is False
    cells = services.grid(cls, now=utcnow())
    assert cells[(session.id, away.id)].attendance.status == rules.ABSENT
    entries = {e.staff_id: e for e in db_session.scalars(select(HoursEntry))}
    assert entries[here.id].minutes == 50 and entries[here.id].category == "服务礼仪"
    assert away.id not in entries
    assert db_session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "session.closed")) == 1


def test_a_correction_keeps_the_history_and_credits_again(run, users, db_session):
    trainer, person = users["trainer"], users["learner"]
    cls = run()
    session = add_session(cls, trainer, soon(-120), minutes=50)
    services.invite(trainer, cls, [person], now=utcnow())
    services.mark_all_present(trainer, session, now=utcnow())
    services.close_session(trainer, session, now=utcnow())
    assert db_session.scalar(select(HoursEntry.minutes)) == 50
    services.correct(trainer, session, person, kind="correction", now=utcnow(),
                     reason="中途离开", check_in_at=session.starts_at,
                     check_out_at=session.starts_at + timedelta(minutes=20))
    assert db_session.scalar(select(HoursEntry.minutes)) == 20
    kinds = db_session.scalars(select(AttendanceMark.kind).where(
        AttendanceMark.staff_id == person.id).order_by(AttendanceMark.id)).all()
    assert kinds == ["present", "correction"]
    assert services.grid(cls, now=utcnow())[(session.id, person.id)].attendance.status == \
        rules.EARLY
    with pytest.raises(DomainError):
        services.correct(trainer, session, person, kind="absent", now=utcnow(), reason=" ")


def test_a_course_completes_only_with_enough_minutes_of_its_class(run, content, users,
                                                                  make_staff, db_session):
    trainer, hr = users["trainer"], users["hr"]
    course = learning.track_by_key("reentry").courses[0]
    db_session.add(CourseRequirement(course_id=course.id, kind="class", position=80,
                                     created_at=utcnow()))
    db_session.flush()
    keen, brief = make_staff("learner"), make_staff("learner")
    enrolments = {}
    for person in (keen, brief):
        learning.assign_manual(hr, [person], learning.track_by_key("reentry"),
                               due_on=learning.today_local(utcnow()) + timedelta(days=28),
                               now=utcnow())
        enrolment = db_session.scalar(select(learning.Enrolment).where(
            learning.Enrolment.staff_id == person.id,
            learning.Enrolment.track_id == course.track_id))
        enrolments[person.id] = enrolment
        for status in learning.progress(enrolment).courses[0].lessons:
            learning.mark_lesson_read(person, status.lesson, now=utcnow())
    cls = run(course_id=course.id)
    first = add_session(cls, trainer, soon(-300), minutes=50)
    second = add_session(cls, trainer, soon(-200), minutes=50, override="同一班")
    services.invite(trainer, cls, [keen, brief], now=utcnow())
    for session in (first, second):
        services.correct(trainer, session, keen, kind="correction", now=utcnow(), reason="签到表",
                         check_in_at=session.starts_at, check_out_at=session.ends_at)
    services.correct(trainer, first, brief, kind="correction", now=utcnow(), reason="签到表",
                     check_in_at=first.starts_at, check_out_at=first.ends_at)
    for session in (first, second):
        services.close_session(trainer, session, now=utcnow())
    completed = set(db_session.scalars(select(ClassCompletion.staff_id)))
    assert completed == {keen.id}   # 100 of 100 minutes, against 50 of 100 (under 80 %)
    states = {pid: [o for o in learning.progress(e).courses[0].others]
              for pid, e in enrolments.items()}
    assert states[keen.id][0].status.done and not states[brief.id][0].status.done


def test_the_survey_keeps_no_name_refuses_doubles_and_shows_only_from_three(run, users,
                                                                             make_staff,
                                                                             db_session):
    trainer = users["trainer"]
    people = [make_staff("learner") for _ in range(3)]
    cls = run()
    session = add_session(cls, trainer, soon(-120), minutes=50)
    services.invite(trainer, cls, people, now=utcnow())
    services.mark_all_present(trainer, session, now=utcnow())
    services.close_session(trainer, session, now=utcnow())
    assert db_session.scalar(select(func.count()).select_from(TodoItem).where(
        TodoItem.kind == "survey.open")) == 3
    for n, person in enumerate(people[:2]):
        services.answer_survey(person, cls, content=5, trainer=4, organisation=4 - n,
                               overall=5, suggestions="多一些案例", now=utcnow())
    with pytest.raises(DomainError):
        services.answer_survey(people[0], cls, content=1, trainer=1, organisation=1, overall=1,
                               suggestions="", now=utcnow())
    outsider = users["learner2"]
    with pytest.raises(DomainError):
        services.answer_survey(outsider, cls, content=1, trainer=1, organisation=1, overall=1,
                               suggestions="", now=utcnow())
    columns = {c.name for c in SurveyAnswer.__table__.columns}
    assert not columns & {"staff_id", "created_at", "answered_at", "at"}
    event = db_session.scalar(select(AuditEvent).where(AuditEvent.action == "survey.answered"))
    assert event.actor_id is None and event.details == {}
    after = utcnow() + timedelta(days=8)
    assert services.survey_result([cls.id], now=utcnow()) is None         # still open
    assert services.survey_result([cls.id], now=after) is None            # two answers
    services.answer_survey(people[2], cls, content=3, trainer=3, organisation=3, overall=3,
                           suggestions="", now=utcnow())
    result = services.survey_result([cls.id], now=after)
    assert result.answers == 3 and str(result.means["content"]) == "4.3"
    assert db_session.scalar(select(func.count()).select_from(SurveyReceipt)) == 3


def test_kiosk_shows_the_servers_code_and_a_refresh_shows_the_same(client, run, users,
                                                                   db_session):
    trainer = users["trainer"]
    cls = run()
    session = add_session(cls, trainer, soon(5))
    db_session.commit()
    client.login(trainer.employee_no)
    link = client.get(f"/training/sessions/{session.id}/kiosk")
    assert link.status_code == 302
    kiosk_url = link.headers["Location"]
    client.post("/logout")
    import re

    for _ in range(2):   # (a refresh asks again: the same answer, from the server's clock)
        shown = client.get(kiosk_url + "/code").get_json()
        now_step = rules.step_of(utcnow(), 20)
        assert shown["step"] in (now_step, now_step - 1)
        assert shown["code"] == rules.code_for(session.secret, shown["step"])
        assert shown["url"].endswith(f"/s/{session.id}/{shown['step']}/{shown['code']}")
        assert "<svg" in shown["svg"] and "<script" not in shown["svg"]
    page = client.get(kiosk_url).get_data(as_text=True)
    step = int(re.search(r'data-step="(\d+)"', page).group(1))
    assert f">{rules.code_for(session.secret, step)}<" in page


def test_a_signed_out_scan_travels_through_sign_in_and_checks_in_at_the_scan_time(
        client, run, users, db_session):
    trainer, person = users["trainer"], users["learner"]
    cls = run()
    session = add_session(cls, trainer, soon(5))
    services.invite(trainer, cls, [person], now=utcnow())
    db_session.commit()
    code, step, _ = services.current_code(session, utcnow())
    scanned = client.get(f"/s/{session.id}/{step}/{code}")
    assert scanned.status_code == 302 and "/login?next=" in scanned.headers["Location"]
    assert "trainer_device=" in scanned.headers.get("Set-Cookie", "")   # before the check-in
    from urllib.parse import parse_qs, urlsplit

    target = parse_qs(urlsplit(scanned.headers["Location"]).query)["next"][0]
    assert target.startswith("/checkin/confirm?t=")
    signed_in = client.post("/login", {"employee_no": person.employee_no,
                                       "password": PASSWORD}, query_string={"next": target})
    assert signed_in.headers["Location"].endswith(target)
    token = target.split("t=", 1)[1]
    done = client.post("/checkin/confirm", {"t": token})
    assert done.status_code == 302 and "/checkin/done/" in done.headers["Location"]
    page = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "已签到" in page
    mark = db_session.scalar(select(AttendanceMark).where(AttendanceMark.staff_id == person.id))
    assert mark.via == "qr" and mark.device_hash is not None and mark.at <= mark.recorded_at


def test_an_expired_scan_is_refused_clearly(client, run, users, db_session):
    trainer = users["trainer"]
    cls = run()
    session = add_session(cls, trainer, soon(5))
    db_session.commit()
    old_step = rules.step_of(utcnow(), 20) - 5
    response = client.get(f"/s/{session.id}/{old_step}/{rules.code_for(session.secret, old_step)}")
    assert response.status_code == 410 and "已过期" in response.get_data(as_text=True)


def test_time_of_a_session_is_local_to_the_centre(run, users):
    cls = run()
    session = services.save_session(users["trainer"], cls, None, services.SessionFields(
        day=datetime(2027, 1, 5).date(), starts=time(9, 0), ends=time(9, 50)), now=utcnow())
    assert session.starts_at.isoformat() == "2027-01-05T01:00:00+00:00"   # Asia/Shanghai
