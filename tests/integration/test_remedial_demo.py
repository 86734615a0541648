"""Issue 20's walk through the demo: HR finds the stood-down agent, her case (plan acknowledged,
a counselling talk, evaluation pending) and downloads the evidence pack; the agent sees her plan
but not the notes; the new hire is not cleared for duty until the 上岗测试 is passed; the
nominee's promotion ends in their post's 实习考评."""
from __future__ import annotations

import io
import re

import pypdf
from sqlalchemy import select

from tests.integration.test_attendance_demo import sign_in
from trainer.accounts.models import StaffMember
from trainer.core.db import db
from trainer.core.timeutil import utcnow


def test_hr_reads_the_stood_down_agents_case_and_downloads_the_evidence_pack(demo):
    client, _ = sign_in(demo, "H0001")
    listing = client.get("/remedial", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "钱程" in listing and "达不到岗位要求" in listing
    case_url = re.search(r'href="(/remedial/\d+)">钱程</a>', listing).group(1)
    page = client.get(case_url).get_data(as_text=True)
    assert "data-evaluation-pending" in page and "data-plan-acknowledged" in page
    assert "身份核实一项拿满分" in page and "王芳" in page
    assert "家里老人住院" not in page                      # notes only on request
    pdf = client.get(f"/records/remedial/{case_url.rsplit('/', 1)[1]}/evidence.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    text = "".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf.data)).pages)
    for expected in ("钱程", "K0014", "改进计划", "身份核实一项拿满分", "陈刚", "王芳",
                     "尚待综合评价", "待岗"):
        assert expected in text, expected
    assert "家里老人住院" not in text
    # the agent: her case and plan, no notes; her record of training says she is not cleared
    agent, _ = sign_in(demo, "K0014")
    own = agent.get(case_url, headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "身份核实一项拿满分" in own and "查看记录" not in own


def test_clearance_and_the_nominees_internship_in_the_demo(demo):
    from trainer.learning import rules
    from trainer.learning import services as learning
    from trainer.learning.settings import lifecycle_settings

    with demo.app_context():
        today = learning.today_local(utcnow())

        def cleared(number):
            person = db.session.scalar(select(StaffMember).where(
                StaffMember.employee_no == number))
            return rules.cleared_for_duty(learning._facts(person), lifecycle_settings(), today)

        assert cleared("K0012")                  # passed her 上岗测试
        assert not cleared("K0002")              # a new hire, not yet assessed
        assert not cleared("K0014")              # stood down
        nominee = db.session.scalar(select(StaffMember).where(StaffMember.employee_no == "K0004"))
        promotion = next(e for e in db.session.scalars(select(learning.Enrolment).where(
            learning.Enrolment.staff_id == nominee.id)) if e.track.key == "promotion")
        last = learning.progress(promotion).courses[-1]
        forms = [o.status.detail.form for o in last.others if o.kind == "assessment"]
        assert forms and forms[0].key == "internship-team-leader"
        db.session.remove()
