"""The audit-log viewer (issue 17) on both databases: filtered by the person an event is about
(their staff record, their attempts and enrolments, or named in the details, alone or in a
list), by actor, action and period; paginated on the server; every action and detail in
Chinese; exported as XLSX and CSV (itself an event); and no survey answer in any event."""
from __future__ import annotations

import csv
import io
import json
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.integration import test_site_pages as site_checks
from tests.integration.quiz_fixtures import make_bank, make_quiz
from tests.integration.test_records_results import sit
from trainer.core.audit import record_event
from trainer.core.models import AuditEvent
from trainer.core.timeutil import utcnow


@pytest.fixture
def log(users, make_staff, db_session, today):
    from trainer.learning.models import Enrolment, Track

    now = utcnow()
    hr, trainer, admin = users["hr"], users["trainer"], users["admin"]
    p1 = make_staff("learner", employee_no="A001", name="甲一")
    p2 = make_staff("learner", employee_no="A002", name="=2+3")
    quiz = make_quiz(make_bank("日志题库"), trainer, count=1, title="日志测验")
    attempt = sit(db_session, quiz, p1, 1, "80", True, at=now - timedelta(minutes=5))
    track = Track(key="onboarding", title="入职培训", position=0)
    db_session.add(track)
    db_session.flush()
    enrolment = Enrolment(staff_id=p1.id, track_id=track.id, reason="manual", assigned_at=now,
                          due_on=today + timedelta(days=30))
    db_session.add(enrolment)
    db_session.flush()
    e = {
        "updated": record_event(hr.id, "staff.updated", "staff", p1.id, now=now, details={
            "name": ["甲一", "甲壹"], "roles": [["learner"], ["learner", "trainer"]]}),
        "cancelled": record_event(trainer.id, "class.cancelled", "class", 77, now=now,
                                  details={"staff": p1.id, "reason": "临时有事"}),
        "assigned": record_event(trainer.id, "quiz.assigned", "quiz", quiz.id, now=now,
                                 details={"staff": [p2.id, p1.id]}),
        "submitted": record_event(p1.id, "attempt.submitted", "attempt", attempt.id, now=now,
                                  details={"score": "80.00", "percent": "80.00", "passed": True,
                                           "submitted_at": now.isoformat()}),
        "reset": record_event(hr.id, "staff.password_reset", "staff", p2.id, now=now),
        "changed": record_event(p2.id, "staff.password_changed", "staff", p2.id, now=now),
        "waived": record_event(hr.id, "enrolment.waived", "enrolment", enrolment.id,
                               now=now - timedelta(days=30), details={"reason": "已在外部完成"}),
        "setting": record_event(admin.id, "setting.changed", "setting", "hours_annual_minimum",
                                now=now, details={"old": 48, "new": 40}),
        "other": record_event(trainer.id, "class.cancelled", "class", 78, now=now,
                              details={"staff": p2.id, "reason": "出差"}),
    }
    db_session.commit()
    created = db_session.scalar(select(AuditEvent).where(
        AuditEvent.action == "staff.created", AuditEvent.object_id == str(p1.id)))
    return {"p1": p1, "p2": p2, "events": e, "created": created, "quiz": quiz}


def shown(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'<tr data-event="(\d+)"', html)]


def ids(*events) -> set[int]:
    return {e.id for e in events}


def test_filter_by_the_person_an_event_is_about(client, users, log):
    e = log["events"]
    client.login(users["hr"].employee_no)
    html = client.get("/records/audit?person=A001").get_data(as_text=True)
    assert set(shown(html)) == ids(e["updated"], e["cancelled"], e["assigned"], e["submitted"],
                                   e["waived"], log["created"])
    html = client.get("/records/audit?person=a002").get_data(as_text=True)   # as sign-in reads it
    assert set(shown(html)) >= ids(e["assigned"], e["reset"], e["changed"], e["other"])
    assert e["cancelled"].id not in shown(html)


def test_filter_by_actor_action_and_period(client, users, log, today):
    e = log["events"]
    client.login(users["hr"].employee_no)
    html = client.get("/records/audit?actor=HR001").get_data(as_text=True)
    assert set(shown(html)) == ids(e["updated"], e["reset"], e["waived"])
    html = client.get("/records/audit?action=class.cancelled").get_data(as_text=True)
    assert set(shown(html)) == ids(e["cancelled"], e["other"])
    until = (today - timedelta(days=20)).isoformat()
    html = client.get(f"/records/audit?to={until}").get_data(as_text=True)
    assert shown(html) == [e["waived"].id]
    since = (today - timedelta(days=1)).isoformat()
    html = client.get(f"/records/audit?person=A001&actor=HR001&from={since}").get_data(
        as_text=True)
    assert shown(html) == [e["updated"].id]


def test_newest_first_a_page_at_a_time(client, users, log, db_session):
    now = utcnow()
    for n in range(60):
        record_event(None, "question.created", "question", n, now=now - timedelta(days=2,
                                                                                 minutes=n),
                     details={"bank": 1})
    db_session.commit()
    client.login(users["hr"].employee_no)
    first = client.get("/records/audit?action=question.created").get_data(as_text=True)
    second = client.get("/records/audit?action=question.created&page=2").get_data(as_text=True)
    assert len(shown(first)) == 50 and len(shown(second)) == 10
    assert 'data-pages="2"' in first and "60 条" in first
    events = db_session.scalars(select(AuditEvent).where(
        AuditEvent.action == "question.created").order_by(AuditEvent.at.desc())).all()
    assert shown(first) + shown(second) == [ev.id for ev in events]
    # A page past the end is empty, not an error; a page that is not a number is the first.
    assert shown(client.get("/records/audit?action=question.created&page=9").get_data(
        as_text=True)) == []
    assert shown(client.get("/records/audit?action=question.created&page=x").get_data(
        as_text=True)) == shown(first)


def test_actions_and_details_read_in_chinese(client, users, log):
    client.login(users["hr"].employee_no)
    html = client.get("/records/audit").get_data(as_text=True)
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
    for expected in ("修改员工信息", "甲一 → 甲壹", "学员 → 学员、培训师", "取消班级名额",
                     "甲一（A001）", "临时有事", "指派测验", "=2+3（A002）、甲一（A001）",
                     "提交作答", "修改前", "修改后"):
        assert expected in text, expected
    assert not site_checks.english_in(html, ()), site_checks.english_in(html, ())


@pytest.mark.parametrize("query, message", [
    ("person=NOPE", "NOPE"), ("actor=ZZ999", "ZZ999"), ("action=staff.exploded", "没有这种操作"),
    ("from=2026-13-01", "不是日期"), ("from=2026-05-02&to=2026-05-01", "开始晚于结束")])
def test_a_filter_that_makes_no_sense_says_why(client, users, log, db_session, query, message):
    client.login(users["hr"].employee_no)
    response = client.get(f"/records/audit?{query}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert message in html and "data-filter-errors" in html and not shown(html)
    assert client.get(f"/records/audit.csv?{query}").status_code == 302
    assert db_session.scalar(select(AuditEvent).where(
        AuditEvent.action == "audit.exported")) is None


def test_only_hr_and_administrators_read_it(client, users, log):
    for role, code in (("learner", 403), ("trainer", 403), ("hr", 200), ("admin", 200)):
        client.login(users[role].employee_no)
        for url in ("/records/audit", "/records/audit.xlsx", "/records/audit.csv"):
            assert client.get(url).status_code == code, (role, url)


def test_the_export_equals_the_page_and_is_itself_an_event(client, users, log, db_session):
    from openpyxl import load_workbook

    client.login(users["hr"].employee_no)
    html = client.get("/records/audit?person=A002").get_data(as_text=True)
    response = client.get("/records/audit.xlsx?person=A002")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).worksheets[0]
    header, *body = list(sheet.iter_rows())
    assert [c.value for c in header] == ["时间", "操作", "操作人", "工号", "对象", "详情"]
    page_actions = re.findall(r'<tr data-event="\d+" data-action="[^"]+">\s*<td[^>]*>[^<]*</td>'
                              r'\s*<td>([^<]+)</td>', html)
    assert [row[1].value for row in body] == page_actions and len(body) == len(shown(html))
    actor = next(row[2] for row in body if row[3].value == "A002")
    assert actor.value == "=2+3" and actor.data_type == "s"
    event = db_session.scalar(select(AuditEvent).where(AuditEvent.action == "audit.exported"))
    assert event.actor_id == users["hr"].id and event.details == {"format": "xlsx", "filter": {
        "person": log["p2"].id, "actor": None, "action": None, "from": None, "to": None}}
    csv_text = client.get("/records/audit.csv?person=A002").get_data(as_text=True)
    lines = list(csv.reader(io.StringIO(csv_text.lstrip("\ufeff"))))
    assert any(line[2] == "'=2+3" for line in lines[1:])
    # The first export is now in the log, about nobody: the person's list is unchanged.
    again = client.get("/records/audit?person=A002").get_data(as_text=True)
    assert shown(again) == shown(html)
    assert event.id in shown(client.get("/records/audit?action=audit.exported").get_data(
        as_text=True))


def test_no_survey_answer_reaches_the_audit_log(client, users, make_staff, db_session):
    """The survey (attendance) is the only place people answer in free text: its event says a
    class's survey was answered, by no one, with no details; no event holds the answer."""
    from tests.integration.test_attendance import add_session, soon
    from trainer.attendance import services as attendance

    trainer = users["trainer"]
    person = make_staff("learner", employee_no="S001", name="答卷人")
    cls = attendance.save_class(trainer, None, attendance.ClassFields(
        title="投诉处理集中授课", hours_category="服务礼仪"), now=utcnow())
    session = add_session(cls, trainer, soon(-120), minutes=50)
    attendance.invite(trainer, cls, [person], now=utcnow())
    attendance.mark_all_present(trainer, session, now=utcnow())
    attendance.close_session(trainer, session, now=utcnow())
    secret = "讲师语速太快ZXQ"
    attendance.answer_survey(person, cls, content=2, trainer=1, organisation=3, overall=2,
                             suggestions=secret, now=utcnow())
    db_session.commit()
    events = db_session.scalars(select(AuditEvent)).all()
    answered = [e for e in events if e.action == "survey.answered"]
    assert len(answered) == 1 and answered[0].actor_id is None and answered[0].details == {}
    for event in events:
        dumped = json.dumps(event.details, ensure_ascii=False)
        assert secret not in dumped and "suggestions" not in dumped, event.action
        assert not {"content", "trainer", "organisation", "overall"} & set(event.details), \
            event.action
    client.login(users["hr"].employee_no)
    html = client.get("/records/audit?person=S001").get_data(as_text=True)
    assert answered[0].id not in shown(html) and secret not in html
