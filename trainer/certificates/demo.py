"""Demo certificates, made the way a centre's would be: 许晴 (K0012), hired six weeks ago,
attended the first etiquette class, read every lesson and passed every quiz of onboarding, then
sat the 上岗测试 with 陈刚 (T0001, trainer and assessor): she missed its critical identity check
the first time, passed after the week's wait and acknowledged both —
through the areas' own services, at the times she did — so completing the track issued her
入职培训合格证 (and the class her 结业证书); 李娜's (K0001) in-service certificate from last year
expires within 60 days; one 结业证书 of the complaint-handling class was issued in error and is
revoked. Idempotent: nothing is made twice."""
from __future__ import annotations

from datetime import datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import select

from trainer.accounts.models import StaffMember
from trainer.attendance import services as attendance
from trainer.attendance.demo import EARLIER_CLASS, ETIQUETTE_COURSE
from trainer.attendance.models import TrainingClass
from trainer.certificates import services
from trainer.certificates.models import Certificate
from trainer.core.db import db
from trainer.core.settings import centre_timezone
from trainer.core.timeutil import zone
from trainer.learning import services as learning
from trainer.learning.models import Enrolment
from trainer.quizzes import services as quizzes

ONBOARDED = "K0012"
FIRST_ETIQUETTE_CLASS = "新员工服务礼仪面授（第一期）"
REVOKED = ("K0006", "复核点名记录：本人当天未参加演练，点名时误记为出勤，证书误发。")


def create_demo_certificates(*, now: datetime) -> None:
    person = _person(ONBOARDED)
    trainer = _person("T0001")
    hr = _person("H0001")
    if person is None or trainer is None or hr is None:
        return
    if db.session.scalar(select(Certificate.id).where(Certificate.staff_id == person.id)) is None:
        _onboarding_done(person, trainer, now=now)
    # Certificates of what was completed before (last year's in-service): issued as of then.
    services.issue_missing(now=now)
    _revoke_one(hr, now=now)


def _person(number: str) -> StaffMember | None:
    return db.session.scalar(select(StaffMember).where(StaffMember.employee_no == number))


def _at(day_offset: int, hour: int, minute: int, *, now: datetime) -> datetime:
    """A local time `day_offset` days from today, in UTC."""
    tz = zone(centre_timezone())
    day = now.astimezone(tz).date() + timedelta(days=day_offset)
    return datetime.combine(day, time(hour, minute), tzinfo=tz).astimezone(now.tzinfo)


def _onboarding_done(person: StaffMember, trainer: StaffMember, *, now: datetime) -> None:
    enrolment = db.session.scalar(select(Enrolment).join(Enrolment.track).where(
        Enrolment.staff_id == person.id, Enrolment.state.in_(learning.OPEN_STATES)))
    if enrolment is None or enrolment.track.key != "onboarding":
        return
    hired = person.hire_date
    days_ago = (now.astimezone(zone(centre_timezone())).date() - hired).days
    # Assigned on her first morning (the demo creates her today, as if the site had been live).
    enrolment.assigned_at = _at(-days_ago, 9, 0, now=now)
    db.session.flush()
    _first_etiquette_class(person, trainer, days_ago, now=now)
    for index, course_progress in enumerate(learning.progress(enrolment).courses):
        day = -days_ago + 3 + 2 * index
        for minute, state in enumerate(course_progress.lessons):
            learning.mark_lesson_read(person, state.lesson, now=_at(day, 10, minute, now=now))
        for other in course_progress.others:
            if other.kind == "assessment" and other.status.detail.form is not None:
                _duty_test(person, trainer, other.status.detail.form, day, now=now)
        if course_progress.course.quiz_id is None:
            continue
        started = _at(day, 15, 0, now=now)
        attempt = learning.start_course_quiz(person, enrolment, course_progress.course,
                                             now=started, grace_s=30)
        for item in attempt.items:
            correct = [i for i, c in enumerate(item.snapshot["choices"])
                       if Decimal(c["weight"]) > 0]
            quizzes.save_answer(person, attempt.id, item.position, correct, 0,
                                now=started + timedelta(seconds=20 * (item.position + 1)))
        quizzes.submit_attempt(person, attempt, now=started + timedelta(minutes=8))
    db.session.flush()


def _duty_test(person: StaffMember, assessor: StaffMember, form, day: int, *,
               now: datetime) -> None:
    """A first try that misses a critical item, then a pass once the form's wait is over; she
    acknowledges both, commenting on the first."""
    from trainer.assessments import services as assessments
    from trainer.core.timeutil import local_date

    tz = centre_timezone()
    first = _at(day, 16, 0, now=now)
    full = {str(item.id): Decimal(item.points) for item in form.items}
    critical = next((item for item in form.items if item.critical), form.items[0])
    missed = {**full, str(critical.id): Decimal(0)}
    tries = [(first, missed, "模拟来电：查询宽带账单", "核实身份时漏问了机主姓名，这一项是关键项，"
              "本次不合格。其余环节流畅，一周后再考。"),
             (first + timedelta(days=max(form.retake_wait_days, 1)), full,
              "模拟来电：办理套餐变更", "按流程完成核实和办理，结束语规范。通过。")]
    for at, points, context, comments in tries:
        if at > now:
            at = now - timedelta(hours=1)
        done = assessments.record_assessment(
            assessor, form, person, assessed_on=local_date(at, tz), today=local_date(at, tz),
            awarded=points, context=context, comments=comments, now=at)
        assessments.acknowledge_assessment(
            person, done, now=at + timedelta(hours=2),
            comment="" if done.passed else "明白了，核实身份我会按步骤一项项问。")


def _first_etiquette_class(person: StaffMember, trainer: StaffMember, days_ago: int, *,
                           now: datetime) -> None:
    if db.session.scalar(select(TrainingClass.id).where(
            TrainingClass.title == FIRST_ETIQUETTE_CLASS)) is not None:
        return
    course = next((c for c in learning.track_by_key("onboarding").courses
                   if c.key == ETIQUETTE_COURSE), None)
    planned = _at(-days_ago - 7, 10, 0, now=now)
    cls = attendance.save_class(trainer, None, attendance.ClassFields(
        title=FIRST_ETIQUETTE_CLASS, hours_category="服务礼仪", place="三楼培训室",
        description="服务七声、电话礼仪与柜台接待的集中授课和操作演练。",
        course_id=course.id if course else None, capacity=20, issues_certificate=True),
        now=planned)
    start = _at(-days_ago + 1, 9, 30, now=now)
    local = start.astimezone(zone(centre_timezone()))
    session = attendance.save_session(trainer, cls, None, attendance.SessionFields(
        day=local.date(), starts=local.time(), ends=time(11, 0), end_day=local.date()),
        now=planned)
    attendance.invite(trainer, cls, [person], now=_at(-days_ago, 9, 30, now=now),
                      reason="新员工入职培训")
    over = _at(-days_ago + 1, 11, 10, now=now)
    attendance.mark_all_present(trainer, session, now=over)
    attendance.close_session(trainer, session, now=over)


def _revoke_one(hr: StaffMember, *, now: datetime) -> None:
    number, note = REVOKED
    person = _person(number)
    if person is None:
        return
    certificate = db.session.scalar(select(Certificate).join(
        TrainingClass, TrainingClass.id == Certificate.class_id).where(
        TrainingClass.title == EARLIER_CLASS, Certificate.staff_id == person.id))
    if certificate is not None and certificate.revoked_at is None:
        services.revoke(hr, certificate, reason="issued_in_error", note=note, now=now)
