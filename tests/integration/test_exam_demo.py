"""Issue 21's walk through the demo: this month's business exam is assigned to every active
agent cleared for duty of the two customer-service departments and not to those on leave that
day; an agent's record shows their monthly scores, HR sees the trend by department; the agent
back from 130 days of leave has the extended business course in her re-entry."""
from __future__ import annotations

from sqlalchemy import select

from tests.integration.test_attendance_demo import sign_in
from trainer.accounts.models import StaffMember
from trainer.core.db import db
from trainer.learning.models import Enrolment, ExamSitting, Track


def test_the_months_exam_its_results_and_the_long_leave_in_the_demo(demo):
    with demo.app_context():
        sitters = {p.employee_no: s for s, p in db.session.execute(
            select(ExamSitting, StaffMember).join(StaffMember,
                                                  StaffMember.id == ExamSitting.staff_id))}
        assert {"K0001", "K0005", "K0006", "K0012"} <= set(sitters)
        # on leave (吴昊) or still away on the day (冯雪), new hires, the stood-down agent,
        # another department: no sitting
        assert not {"K0007", "K0015", "K0002", "K0014", "H0001", "K3001"} & set(sitters)
        assert (sitters["K0001"].state, sitters["K0005"].state) == ("passed", "failed")
        assert sitters["K0005"].follow_up_enrolment_id is not None       # 业务复训
        back = db.session.scalar(select(StaffMember).where(StaffMember.employee_no == "K0015"))
        reentry = db.session.scalar(select(Enrolment).join(Track).where(
            Enrolment.staff_id == back.id, Track.key == "reentry"))
        from trainer.learning.services import progress

        keys = [c.course.key for c in progress(reentry).courses]
        assert "04-business-refresher" in keys
        other = db.session.scalar(select(StaffMember).where(StaffMember.employee_no == "K0003"))
        short = db.session.scalar(select(Enrolment).join(Track).where(
            Enrolment.staff_id == other.id, Track.key == "reentry"))
        assert "04-business-refresher" not in [c.course.key for c in progress(short).courses]
        db.session.remove()
    client, _ = sign_in(demo, "H0001")
    people = client.get("/staff?q=K0001", headers={"Accept-Language": "zh-CN"})
    assert people.status_code == 200
    with demo.app_context():
        agent_id = db.session.scalar(select(StaffMember.id).where(
            StaffMember.employee_no == "K0001"))
        db.session.remove()
    record = client.get(f"/records/staff/{agent_id}").get_data(as_text=True)
    assert "data-monthly-exams" in record and "月度业务考试" in record
    trend = client.get("/records/exams").get_data(as_text=True)
    assert "客服一部" in trend and "data-average" in trend
    own, _ = sign_in(demo, "K0005")
    assert "月度业务考试" in own.get("/records/me").get_data(as_text=True)
