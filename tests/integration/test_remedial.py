"""Remedial training (待岗) end to end, on both databases: HR records a stand-down on the staff
page and the remedial track is assigned; the plan is written and acknowledged; counselling
notes are refused to a trainer and every read by HR is audited; the evaluation is refused until
its conditions hold, then writes the staff record; the evidence pack's text is read back."""
from __future__ import annotations

import io
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.integration.test_learning import _pass_course, content  # noqa: F401 - fixture
from trainer.accounts.models import Position, StaffEvent
from trainer.accounts.services import create_list_entry, record_staff_event
from trainer.core.errors import DomainError, Forbidden
from trainer.core.models import AuditEvent, TodoItem
from trainer.core.timeutil import utcnow
from trainer.learning import services as learning
from trainer.learning.models import Enrolment, Track
from trainer.remedial import services
from trainer.remedial.models import CounsellingTalk, RemedialEvaluation, RemedialPlan


def pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def remedial_of(db_session, person):
    """The person's latest remedial enrolment."""
    return db_session.scalar(select(Enrolment).join(Track).where(
        Enrolment.staff_id == person.id, Track.key == "remedial").order_by(Enrolment.id.desc())
        .limit(1))


@pytest.fixture
def cast(content, users, make_staff, db_session):
    assessor = make_staff("assessor", employee_no="AS100", name="考评员乙")
    agent = make_staff("learner", employee_no="K0100", name="坐席丙")
    return {**users, "assessor": assessor, "agent": agent}


def stand_down(db_session, person, today, days_ago, reason="performance"):
    record_staff_event(None, person, kind="stood_down", reason=reason, now=utcnow(),
                       occurred_on=today - timedelta(days=days_ago), today=today)
    db_session.commit()
    return remedial_of(db_session, person)


def test_hr_stands_an_agent_down_on_the_staff_page_and_remedial_is_assigned(
        client, cast, db_session, today):
    agent = cast["agent"]
    client.login("HR001")
    # no reason given: refused, nothing written
    page = client.post(f"/staff/{agent.id}/events", {"kind": "stood_down",
                                                     "occurred_on": today.isoformat()},
                       follow_redirects=True)
    assert "请说明待岗原因" in page.get_data(as_text=True)
    assert remedial_of(db_session, agent) is None
    page = client.post(f"/staff/{agent.id}/events", {
        "kind": "stood_down", "reason": "violation", "occurred_on": today.isoformat(),
        "note": "泄露客户信息"}, follow_redirects=True)
    text = page.get_data(as_text=True)
    enrolment = remedial_of(db_session, agent)
    assert enrolment is not None and enrolment.reason == "stood_down"
    assert enrolment.track.issues_certificate is False
    assert "待岗培训" in text and "严重违纪" in text
    assert learning.rules.add_months(today, 1) == enrolment.due_on
    # a second stand-down while one is in force is refused
    again = client.post(f"/staff/{agent.id}/events", {
        "kind": "stood_down", "reason": "performance", "occurred_on": today.isoformat()},
        follow_redirects=True)
    assert "已处于待岗" in again.get_data(as_text=True)
    assert db_session.scalar(select(func.count()).select_from(StaffEvent).where(
        StaffEvent.staff_id == agent.id, StaffEvent.kind == "stood_down")) == 1
    # the HR list shows the case with its half-period date
    listing = client.get("/remedial").get_data(as_text=True)
    assert "坐席丙" in listing and "未制定" in listing


def test_plan_talks_and_who_reads_the_notes(client, another_client, cast, db_session, today):
    agent, assessor, hr = cast["agent"], cast["assessor"], cast["hr"]
    enrolment = stand_down(db_session, agent, today, 3)
    # before HR names them, the assessor may not write the plan
    with pytest.raises(Forbidden):
        services.write_plan(assessor, enrolment, goals="x", schedule="", review_on=today,
                            today=today, now=utcnow())
    services.name_assessor(hr, enrolment, assessor, now=utcnow())
    db_session.commit()
    client.login("AS100")
    client.post(f"/remedial/{enrolment.id}/plan", {
        "goals": "服务用语规范率达到 95%", "schedule": "第一周：重学服务规范",
        "review_on": enrolment.due_on.isoformat()})
    plan = db_session.scalar(select(RemedialPlan))
    assert plan.goals.startswith("服务用语") and plan.acknowledged_at is None
    assert db_session.scalar(select(TodoItem).where(TodoItem.staff_id == agent.id,
                                                    TodoItem.kind == "remedial.plan"))
    client.post(f"/remedial/{enrolment.id}/talks", {
        "held_on": today.isoformat(), "counsellor": "", "notes": "家里有困难，情绪低落"})
    talk = db_session.scalar(select(CounsellingTalk))
    assert talk.counsellor == "考评员乙" and talk.written_by_id == assessor.id
    # the agent reads the case (not the notes) and acknowledges the plan
    another_client.login("K0100")
    page = another_client.get(f"/remedial/{enrolment.id}").get_data(as_text=True)
    assert "服务用语规范率" in page and "家里有困难" not in page and "查看记录" not in page
    assert another_client.post(f"/remedial/talks/{talk.id}/notes", {}).status_code == 403
    another_client.post(f"/remedial/plans/{plan.id}/acknowledge", {"comment": "会努力"})
    db_session.expire_all()
    assert plan.acknowledged_at is not None and plan.agent_comment == "会努力"
    # a trainer may see neither the case nor the notes
    trainer = cast["trainer"]
    with pytest.raises(Forbidden):
        services.read_talk_notes(trainer, talk, now=utcnow())
    another_client.raw.get("/logout")
    another_client.login("TR001")
    assert another_client.get(f"/remedial/{enrolment.id}").status_code == 403
    assert another_client.post(f"/remedial/talks/{talk.id}/notes", {}).status_code == 403
    assert another_client.get("/remedial").status_code == 403
    # HR reads them: shown, and the read is in the audit log (the notes are not)
    another_client.raw.get("/logout")
    another_client.login("HR001")
    shown = another_client.post(f"/remedial/talks/{talk.id}/notes", {}).get_data(as_text=True)
    assert "家里有困难" in shown
    reads = db_session.scalars(select(AuditEvent).where(
        AuditEvent.action == "remedial.talk_read")).all()
    assert [(r.actor_id, r.details["talk"]) for r in reads] == [(hr.id, talk.id)]
    assert not any("家里有困难" in str(e.details) for e in db_session.scalars(select(AuditEvent)))
    # a revision after the acknowledgement is a new version to acknowledge again
    services.write_plan(hr, enrolment, goals="服务用语规范率达到 98%", schedule="",
                        review_on=enrolment.due_on, today=today, now=utcnow())
    db_session.commit()
    assert [p.number for p in db_session.scalars(select(RemedialPlan))] == [1, 2]
    with pytest.raises(DomainError):
        services.acknowledge_plan(agent, plan, comment="", now=utcnow())


def _complete(client, db_session, enrolment):
    for course_progress in learning.progress(enrolment).courses:
        _pass_course(client, db_session, enrolment, course_progress)
        db_session.expire_all()


def test_the_evaluation_waits_for_its_conditions_then_writes_the_staff_record(
        client, cast, db_session, today):
    agent, hr = cast["agent"], cast["hr"]
    enrolment = stand_down(db_session, agent, today, 3)

    def evaluate(outcome, **kw):
        kw.setdefault("decided_on", today)
        return services.evaluate(hr, enrolment, outcome=outcome, notes="", today=today,
                                 now=utcnow(), **kw)

    with pytest.raises(DomainError, match="improvement plan first"):
        evaluate("extended", new_due_on=enrolment.due_on + timedelta(days=14))
    services.write_plan(hr, enrolment, goals="规范率 95%", schedule="",
                        review_on=enrolment.due_on, today=today, now=utcnow())
    with pytest.raises(DomainError, match="counselling talk"):
        evaluate("extended", new_due_on=enrolment.due_on + timedelta(days=14))
    services.record_talk(hr, enrolment, held_on=today, counsellor="", notes="", today=today,
                         now=utcnow())
    db_session.commit()
    with pytest.raises(DomainError, match="remedial training completed"):
        evaluate("reinstated")
    old_due = enrolment.due_on
    evaluate("extended", new_due_on=old_due + timedelta(days=14))
    db_session.commit()
    assert enrolment.due_on == old_due + timedelta(days=14)
    # the training done (courses read, quizzes and the 上岗测试 passed) but too early
    client.login("K0100")
    _complete(client, db_session, enrolment)
    enrolment = db_session.get(Enrolment, enrolment.id)
    assert enrolment.state == "completed"
    earliest = services.case(enrolment).earliest
    assert earliest == (today - timedelta(days=3)) + timedelta(
        days=-(-(old_due - (today - timedelta(days=3))).days // 2))
    with pytest.raises(DomainError, match="half the period"):
        evaluate("reinstated")
    assert earliest > today
    # a lower post: a position change and a reinstatement on the staff record
    lower = create_list_entry(None, Position, name="资料员", now=utcnow())
    db_session.commit()
    evaluation = evaluate("lower_post", position_id=lower.id)
    db_session.commit()
    db_session.expire_all()
    assert agent.position_id == lower.id and evaluation.reinstated_event_id is not None
    kinds = [e.kind for e in db_session.scalars(select(StaffEvent).where(
        StaffEvent.staff_id == agent.id).order_by(StaffEvent.id))]
    assert kinds[-2:] == ["position_change", "reinstated"]
    assert not learning.rules.stood_down(learning._facts(agent), today)
    with pytest.raises(DomainError, match="has ended"):
        evaluate("extended", new_due_on=today + timedelta(days=60))
    assert db_session.scalar(select(func.count()).select_from(RemedialEvaluation)) == 2


def test_reinstated_from_half_the_period_and_the_evidence_pack(client, another_client, cast,
                                                               db_session, today):
    agent, hr = cast["agent"], cast["hr"]
    enrolment = stand_down(db_session, agent, today, 40, reason="performance")
    services.write_plan(hr, enrolment, goals="投诉处理规范", schedule="两周听录音",
                        review_on=today, today=today, now=utcnow())
    services.record_talk(hr, enrolment, held_on=today - timedelta(days=30), counsellor="王主管",
                         notes="保密：家庭原因", today=today, now=utcnow())
    db_session.commit()
    plan = db_session.scalar(select(RemedialPlan))
    services.acknowledge_plan(agent, plan, comment="", now=utcnow())
    db_session.commit()
    client.login("K0100")
    _complete(client, db_session, enrolment)
    enrolment = db_session.get(Enrolment, enrolment.id)
    services.evaluate(hr, enrolment, outcome="reinstated", decided_on=today, notes="达标",
                      today=today, now=utcnow())
    db_session.commit()
    assert not learning.rules.stood_down(learning._facts(agent), today)
    # the evidence pack: HR only; the notes only when asked for, and then each read audited
    assert client.get(f"/records/remedial/{enrolment.id}/evidence.pdf").status_code == 403
    another_client.login("HR001")
    response = another_client.get(f"/records/remedial/{enrolment.id}/evidence.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = pdf_text(response.data)
    for expected in ("坐席丙", "投诉处理规范", "王主管", "上岗测试", "重新上岗", "达标",
                     "面谈记录属于保密内容"):
        assert expected in text, expected
    assert "家庭原因" not in text
    assert db_session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "remedial.talk_read")) == 0
    with_notes = pdf_text(another_client.get(
        f"/records/remedial/{enrolment.id}/evidence.pdf?notes=1").data)
    assert "家庭原因" in with_notes
    actions = db_session.scalars(select(AuditEvent.action).where(
        AuditEvent.action.in_(("remedial.talk_read", "records.evidence_exported")))).all()
    assert sorted(actions) == ["records.evidence_exported", "records.evidence_exported",
                               "remedial.talk_read"]


def test_six_months_in_a_row_are_flagged_and_a_quick_return_continues_the_episode(
        client, cast, db_session, today):
    agent = cast["agent"]
    record_staff_event(None, agent, kind="stood_down", reason="performance", now=utcnow(),
                       occurred_on=today - timedelta(days=200), today=today)
    record_staff_event(None, agent, kind="reinstated", now=utcnow(),
                       occurred_on=today - timedelta(days=100), today=today)
    db_session.commit()
    first = remedial_of(db_session, agent)
    assert (first.state, first.waived_reason) == ("waived", "reinstated")   # ended by the return
    enrolment = stand_down(db_session, agent, today, 80)   # 20 days after the return
    case = services.case(enrolment)
    assert enrolment.id != first.id and enrolment.state == "assigned"
    assert case.episode.started_on == today - timedelta(days=200)
    assert case.six_months(today)
    client.login("HR001")
    assert "data-six-months" in client.get("/remedial").get_data(as_text=True)
