"""Demo classroom training: the new hires' etiquette class of two sessions — one held yesterday
(present, late, on leave, absent, one check-in flagged: one phone for two people), one starting a
few minutes after setup that a demo agent can check in to — which the onboarding course
服务规范与礼仪 requires; and an in-service class held three weeks ago whose survey has closed
with results, closed with its attendance record (PDF). Idempotent: nothing is made twice."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from trainer.accounts.models import StaffMember
from trainer.attendance import paper, services
from trainer.attendance.models import TrainingClass
from trainer.core.db import db
from trainer.core.settings import centre_timezone
from trainer.core.timeutil import zone
from trainer.learning import services as learning
from trainer.learning.models import Course

ETIQUETTE_CLASS = "新员工服务礼仪面授"
EARLIER_CLASS = "投诉处理情景演练"
ETIQUETTE_COURSE = "02-service-etiquette"
NEW_HIRES = ("K0002", "K0008", "K0009", "K0010", "K0011")
EARLIER_ATTENDEES = ("K0001", "K0005", "K0006")


def require_the_class(*, now: datetime) -> None:
    """Before the demo staff exist (so their onboarding asks for it): the etiquette course of
    onboarding requires a class."""
    course = _etiquette_course()
    if course is not None:
        learning.add_course_requirement(None, course, "class", now=now)


def _etiquette_course() -> Course | None:
    return next((c for c in learning.track_by_key("onboarding").courses
                 if c.key == ETIQUETTE_COURSE), None)


def _people(numbers: tuple[str, ...]) -> list[StaffMember]:
    return list(db.session.scalars(select(StaffMember).where(
        StaffMember.employee_no.in_(numbers)).order_by(StaffMember.employee_no)))


def _fields(start: datetime, minutes: int) -> services.SessionFields:
    local = start.astimezone(zone(centre_timezone()))
    end = local + timedelta(minutes=minutes)
    return services.SessionFields(day=local.date(),
                                  starts=local.time().replace(second=0, microsecond=0),
                                  ends=end.time().replace(second=0, microsecond=0),
                                  end_day=end.date())


def create_demo_classes(*, now: datetime) -> None:
    existing = set(db.session.scalars(select(TrainingClass.title)))
    trainer = db.session.scalars(select(StaffMember).where(StaffMember.employee_no == "T0001")).first()
    if trainer is None:
        return
    if ETIQUETTE_CLASS not in existing:
        _etiquette_class(trainer, now=now)
    if EARLIER_CLASS not in existing:
        _earlier_class(trainer, now=now)


def _etiquette_class(trainer: StaffMember, *, now: datetime) -> None:
    course = _etiquette_course()
    cls = services.save_class(trainer, None, services.ClassFields(
        title=ETIQUETTE_CLASS, hours_category="服务礼仪", place="三楼培训室",
        description="服务七声、电话礼仪与柜台接待的集中授课和操作演练。",
        course_id=course.id if course else None, capacity=20, issues_certificate=True),
        now=now)
    minute = now.replace(second=0, microsecond=0)
    held = services.save_session(trainer, cls, None, _fields(minute - timedelta(days=1), 90),
                                 now=now)
    upcoming = services.save_session(trainer, cls, None,
                                     _fields(minute + timedelta(minutes=10), 60), now=now)
    people = {p.employee_no: p for p in _people(NEW_HIRES)}
    services.invite(trainer, cls, list(people.values()), now=now, reason="新员工入职培训")
    start, end = held.starts_at, held.ends_at
    phone = services.Scan("10.8.1.23", "Mozilla/5.0 (iPhone) Safari", "demo-phone-1")
    # 张伟 on time; 郑丽 twelve minutes late, and her phone checked in 何军 too (both flagged);
    # 黄磊 asked for leave the day before; 林芳 never came (absent when the session closed).
    for number, at, scan in (
            ("K0002", start - timedelta(minutes=4),
             services.Scan("10.8.1.40", "Mozilla/5.0 (Android) Chrome", "demo-phone-2")),
            ("K0008", start + timedelta(minutes=12), phone),
            ("K0011", start + timedelta(minutes=12, seconds=30), phone),
            ("K0002", end + timedelta(minutes=1), phone),
            ("K0008", end + timedelta(minutes=2), phone),
            ("K0011", end + timedelta(minutes=2), phone)):
        services.record_scan(held, people[number], at=at, now=now - timedelta(days=1),
                             via="qr", scan=scan)
    services.record_leave(trainer, held, people["K0009"], "前一天已请事假（病假条已交）", now=now)
    services.close_session(trainer, held, now=now)
    # (and asks for today's too: the request waits for the trainer's decision)
    services.request_leave(people["K0009"], upcoming, "家中有事", now=now)


def _earlier_class(trainer: StaffMember, *, now: datetime) -> None:
    cls = services.save_class(trainer, None, services.ClassFields(
        title=EARLIER_CLASS, hours_category="岗位技能", place="二楼演练室",
        description="在岗坐席的投诉处理情景演练与复盘。", issues_certificate=True),
        now=now - timedelta(days=30))
    start = now.replace(second=0, microsecond=0) - timedelta(days=21)
    session = services.save_session(trainer, cls, None, _fields(start, 120), now=now)
    people = _people(EARLIER_ATTENDEES)
    services.invite(trainer, cls, people, now=now)
    services.mark_all_present(trainer, session, now=now)
    services.close_session(trainer, session, now=now)
    answers = ((5, 5, 4, 5, "多安排几个真实录音的案例"), (4, 5, 4, 4, ""),
               (4, 4, 3, 4, "演练时间可以再长一些"))
    for person, (content, teacher, organisation, overall, note) in zip(people, answers):
        services.answer_survey(person, cls, content=content, trainer=teacher,
                               organisation=organisation, overall=overall, suggestions=note,
                               now=start + timedelta(days=1))
    # Closed, with the attendance record (PDF) a closed class keeps.
    paper.close_with_evidence(trainer, cls, paper.prepare_evidence(trainer, cls, now=now),
                              now=now)

