"""Demo training data: a go-live date (so existing staff are not overdue for onboarding), one
real later revision of a re-entry lesson made while 刘洋 (K0003) was on leave, and a last year's
in-service completion for 李娜 (K0001) so her refresher falls due within the window."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from trainer.accounts.models import StaffMember
from trainer.core.db import db
from trainer.core.settings import get_setting, set_setting
from trainer.core.timeutil import local_midnight_utc
from trainer.learning.content import content_hash
from trainer.learning.models import Enrolment, Lesson, LessonRevision, Track
from trainer.core.settings import centre_timezone
from trainer.learning.services import assign_all, today_local

REVISED_LESSON = "reentry/01-service-standards-review/03-complaint-handling-refresher.md"
REVISION_NOTE = "投诉答复时限调整"
REVISION_TEXT = """
## 本次修订（离岗期间的变化）

中心调整了投诉答复时限：坐席无法当场答复的问题，须在二十分钟内（原为三十分钟）提交值班负责人，
并在约定时间内回电客户说明进展；涉及赔付的投诉，当天下班前必须录入工单系统并标注“待赔付”。
复岗后请先到知识库查看新版《投诉处理细则》，有疑问找班组长确认。
"""


def prepare_demo_settings(*, now: datetime) -> None:
    """Before the demo staff exist: existing staff (hired before go-live) count as cleared."""
    if get_setting("go_live_date") is None:
        set_setting("go_live_date", today_local(now) - timedelta(days=60), actor=None, now=now)


def finish_demo_learning(*, now: datetime) -> None:
    """After the staff and the courses: the revision, last year's in-service, the yearly run."""
    _revise_during_leave(now=now)
    _last_years_inservice(now=now)
    assign_all(now=now)


def _revise_during_leave(*, now: datetime) -> None:
    lesson = db.session.scalar(select(Lesson).where(Lesson.path == REVISED_LESSON))
    person = db.session.scalar(select(StaffMember).where(StaffMember.employee_no == "K0003"))
    if lesson is None or person is None or len(lesson.revisions) > 1:
        return
    starts = [e.occurred_on for e in person.events if e.kind == "leave_start"]
    if not starts:
        return
    tz = centre_timezone()
    # The shipped text predates the leave; the centre revised the lesson while K0003 was away.
    lesson.revisions[0].revised_at = local_midnight_utc(starts[-1] - timedelta(days=30), tz)
    text = lesson.current.content.rstrip() + "\n" + REVISION_TEXT
    lesson.revisions.append(LessonRevision(
        number=2, content=text, content_hash=content_hash(text), source="web",
        note=REVISION_NOTE,
        revised_at=local_midnight_utc(starts[-1] + timedelta(days=20), tz) + timedelta(hours=3)))
    db.session.flush()


def _last_years_inservice(*, now: datetime) -> None:
    person = db.session.scalar(select(StaffMember).where(StaffMember.employee_no == "K0001"))
    track = db.session.scalar(select(Track).where(Track.key == "inservice"))
    if person is None or track is None or db.session.scalar(select(Enrolment).where(
            Enrolment.staff_id == person.id, Enrolment.track_id == track.id)) is not None:
        return
    done = now - timedelta(days=345)
    db.session.add(Enrolment(staff_id=person.id, track_id=track.id, reason="renewal",
                             assigned_at=done - timedelta(days=25),
                             due_on=(done + timedelta(days=5)).date(), state="completed",
                             completed_at=done))
    db.session.flush()


EXAM_TITLE = "月度业务考试"
EXAM_TEMPLATE = "月度业务考试（题目规则）"


def create_demo_exam_schedule(*, now: datetime) -> None:
    """The monthly business exam of the two customer-service departments: a schedule whose day
    fell two days ago (so this month's sittings exist, open for a week), run once: every active
    agent cleared for duty sits it,
    not 吴昊 (on leave), not the new hires (not yet cleared), not 钱程 (stood down). 李娜 (K0001)
    has passed it, 孙磊 (K0005) has failed it. Idempotent."""
    from decimal import Decimal

    from trainer.banks.models import QuestionBank
    from trainer.learning import schedules
    from trainer.quizzes import services as quizzes

    if db.session.scalar(select(schedules.ExamSchedule).where(
            schedules.ExamSchedule.title == EXAM_TITLE)) is not None:
        return
    bank = db.session.scalar(select(QuestionBank).where(QuestionBank.key == "business")) or \
        db.session.scalar(select(QuestionBank).where(QuestionBank.key == "centre"))
    admin = db.session.scalar(select(StaffMember).where(StaffMember.employee_no == "T0001"))
    if bank is None or admin is None:
        return
    template = quizzes.save_quiz(admin, None, quizzes.QuizSettings(
        title=EXAM_TEMPLATE, description="每月一次的业务知识考试：20 题，限时 20 分钟。",
        mode="exam", time_limit_s=20 * 60, pass_mark=Decimal(60), attempts_allowed=1),
        rule_specs=[quizzes.RuleSpec(bank.id, 20, Decimal(5))], now=now)
    from trainer.accounts.models import Department

    today = today_local(now)
    departments = list(db.session.scalars(select(Department.id).where(
        Department.name.in_(("客服一部", "客服二部")))))
    schedule = schedules.save_schedule(admin, None, schedules.ScheduleFields(
        title=EXAM_TITLE, quiz_id=template.id, day_of_month=max(1, today.day - 2),
        window_days=7, pass_mark=Decimal(60), follow_up="refresher",
        department_ids=departments), now=now)
    schedules.run(now=now, today=today)
    for number, right in (("K0001", 18), ("K0005", 9)):
        person = db.session.scalar(select(StaffMember).where(StaffMember.employee_no == number))
        sitting = db.session.scalar(select(schedules.ExamSitting).where(
            schedules.ExamSitting.schedule_id == schedule.id,
            schedules.ExamSitting.staff_id == person.id)) if person else None
        if sitting is None:
            continue
        quiz = db.session.get(quizzes.Quiz, sitting.quiz_id)
        started = now - timedelta(hours=3)
        attempt = quizzes.start_attempt(person, quiz, now=started)
        for item in attempt.items:
            choices = item.snapshot["choices"]
            good = [i for i, c in enumerate(choices) if Decimal(c["weight"]) > 0]
            bad = [i for i, c in enumerate(choices) if Decimal(c["weight"]) <= 0][:1]
            quizzes.save_answer(person, attempt.id, item.position,
                                good if item.position < right else bad, 0,
                                now=started + timedelta(seconds=30 * (item.position + 1)))
        quizzes.submit_attempt(person, attempt, now=started + timedelta(minutes=15))
    db.session.flush()
