"""The demo's remedial case (待岗): 钱程 (K0014), stood down twelve days ago for three months of
failed quality checks. 陈刚 (T0001, trainer and assessor) is named on the case and writes the
improvement plan, which she acknowledges with a comment; HR (王芳) has held the counselling
talk; she has read the first course's lessons; the overall evaluation is pending."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from trainer.accounts.models import StaffMember
from trainer.core.db import db
from trainer.core.settings import centre_timezone
from trainer.core.timeutil import local_date
from trainer.learning import services as learning
from trainer.learning.models import Enrolment, Track
from trainer.remedial import services

AGENT = "K0014"


def _person(number: str) -> StaffMember | None:
    return db.session.scalar(select(StaffMember).where(StaffMember.employee_no == number))


def create_demo_remedial(*, now: datetime) -> None:
    agent, assessor, hr = _person(AGENT), _person("T0001"), _person("H0001")
    if agent is None or assessor is None or hr is None:
        return
    enrolment = db.session.scalar(select(Enrolment).join(Track).where(
        Enrolment.staff_id == agent.id, Track.key == "remedial"))
    if enrolment is None or services.case(enrolment).plans:
        return   # no remedial track shipped, or already played (the demo is idempotent)
    tz = centre_timezone()
    down = services.case(enrolment).stood_down_on
    day = lambda n: datetime.combine(down + timedelta(days=n), datetime.min.time(),  # noqa: E731
                                     tzinfo=now.tzinfo) + timedelta(hours=2)
    services.name_assessor(hr, enrolment, assessor, now=day(0))
    services.write_plan(
        assessor, enrolment, now=day(1), today=local_date(day(1), tz),
        review_on=enrolment.due_on,
        goals="1. 模拟来电中身份核实一项拿满分，不漏问、不多问。\n"
              "2. 服务用语规范：全程不出现生硬、推诿的说法，结束语完整。\n"
              "3. 每周自查三通本人录音，对照质检评分表写出改进点。",
        schedule="第 1 周：学习“认识待岗培训”“服务基本功重建”，跟听班长通话两天。\n"
                 "第 2 周：学习“规范与自我改进”，仿真练习每天两通，陈刚点评。\n"
                 "第 3–4 周：录音自查，准备上岗测试；期满前完成综合评价。")
    plan = services.case(enrolment).plan
    services.acknowledge_plan(agent, plan, now=day(2),
                              comment="目标清楚。第二条我会注意，希望多安排几次仿真练习。")
    services.record_talk(hr, enrolment, held_on=down + timedelta(days=5), counsellor="王芳",
                         today=local_date(now, tz), now=day(5),
                         notes="谈到最近家里老人住院，晚上休息不好，上班容易急躁。已建议调整班次，"
                               "下周再聊一次。本人愿意配合改进计划。")
    courses = learning.progress(enrolment).courses
    for minute, state in enumerate(courses[0].lessons if courses else []):
        learning.mark_lesson_read(agent, state.lesson, now=day(3) + timedelta(minutes=minute))
    db.session.flush()
