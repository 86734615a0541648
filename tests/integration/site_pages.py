"""The whole site for the page-by-page checks: real objects behind every id a page takes, written
in Chinese as a centre's own content would be, and every GET page read from app.url_map with the
people who may open it. The browser checks (axe-core, the navigation bar), the link crawl and the
zh_CN check walk this one list, so a page added tomorrow is checked the day it is added."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from flask import Flask
from werkzeug.routing import Rule

from tests.conftest import PASSWORD
from tests.integration.quiz_fixtures import bank_text, make_quiz, wrong_of
from trainer.accounts import services as accounts
from trainer.banks import formats
from trainer.banks import services as banks
from trainer.core.db import db
from trainer.core.permissions import AUTHENTICATED, PUBLIC, ROLES, declared_access
from trainer.core.timeutil import local_date, utcnow, zone
from trainer.learning.models import Course, Enrolment, Lesson, LessonRevision, Track
from trainer.quizzes import services as quizzes

ANONYMOUS = "anonymous"
# One person per role; "everyone" holds every role (the longest navigation bar).
PEOPLE = {"learner": ("L0001", "李学员"), "learner2": ("L0002", "王学员"),
          "trainer": ("TR001", "陈培训"), "assessor": ("AS001", "刘考评"),
          "hr": ("HR001", "张人事"), "admin": ("AD001", "周管理"),
          "everyone": ("EV001", "全角色")}
# A device's own description of itself is data, not interface (shown in title attributes).
USER_AGENT = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
              "(KHTML, like Gecko) Chrome/126.0 Safari/537.36")
UPLOAD_NAME = "新题.gift"
LESSON_PATH = "onboarding/01-reception/01-greeting.md"  # a file's name, shown to trainers
LESSON = """# 接待客户

接待客户时做到“服务七声”，先问候，再倾听。

| 场合 | 用语 |
| --- | --- |
| 客户来时 | 您好 |
| 客户走时 | 请慢走 |

上岗前自查：

- [ ] 微笑问候客户
- [x] 复述客户的需求
"""
# Not pages: files, JSON and plain-text answers are fetched, not shown; a QR code's target only
# passes the scan on (to sign-in or the confirmation).
NOT_PAGES = {"static", "bootstrap.static", "attendance.kiosk_code", "attendance.scan",
             "attendance.sign_in_sheet", "attendance.sheet_template", "attendance.evidence",
             "certificates.download", "certificates.external_file", "certificates.export_zip",
             "certificates.seal_image", "records.mine_pdf", "records.mine_xlsx",
             "records.staff_pdf", "records.staff_xlsx", "records.dashboard_export",
             "records.people_export", "records.results_list_xlsx", "records.results_list_csv",
             "records.quiz_results_xlsx", "records.quiz_results_csv", "records.audit_xlsx",
             "records.audit_csv", "records.monthly_pdf", "records.monthly_xlsx",
             "quizzes.statistics_xlsx", "records.evidence_pack"}


@dataclass
class Site:
    people: dict[str, str]  # key in PEOPLE -> employee number
    staff_ids: dict[str, int]  # key in PEOPLE -> id
    ids: dict[str, object]  # URL variable -> value
    # Some pages need a particular object of a kind (the result of a finished attempt).
    ids_by_endpoint: dict[str, dict[str, object]] = field(default_factory=dict)
    content: tuple[str, ...] = ()  # data shown as it was entered: not interface text


@dataclass(frozen=True)
class Page:
    endpoint: str
    url: str
    visitors: tuple[str, ...]  # the roles (or ANONYMOUS) who may open it


def seed_site(secret_key: str) -> Site:
    """Everything the pages show, through the services where there is one. Flushes; the caller
    commits (or rolls back). The app's secret key signs the classroom screen's link."""
    now = utcnow()
    today = local_date(now, "Asia/Shanghai")
    staff = {}
    for key, (number, name) in PEOPLE.items():
        roles = ROLES if key == "everyone" else ("learner",) if key.startswith("learner") \
            else (key,)
        staff[key], _ = accounts.create_staff(
            None, employee_no=number, name=name, department="客服一部", position="坐席",
            hire_date=today - timedelta(days=400), roles=roles, now=now, password=PASSWORD)
    learner, other, trainer = staff["learner"], staff["learner2"], staff["trainer"]
    accounts.record_staff_event(None, other, kind="leave_start", occurred_on=today,
                                note="产假", now=now, today=today)
    accounts.start_login(other, remember=True, lifetime=timedelta(days=14), address="10.0.0.9",
                         user_agent=USER_AGENT, now=now)

    bank = banks.create_bank(None, name="服务规范题库", description="服务七声与投诉处理。", now=now)
    bank.shipped = True
    banks.create_questions(None, bank, formats.parse_gift(bank_text(4, 2, 2)).questions,
                           now=now, origin="shipped")
    question = banks.current_questions(bank)[0]
    edited = banks.to_parsed(question)
    edited.stem = "客户离开时，坐席应当说什么？"
    question = banks.edit_question(trainer, question, edited, now=now)
    staging = banks.stage_import(
        trainer, bank, "::新1::新题：客户来电时先说？{=您好 ~喂}\n\n::坏::没有答案的题\n".encode(),
        UPLOAD_NAME, "auto", now=now)

    exam = make_quiz(bank, trainer, count=3, time_limit_s=600, title="服务规范考试",
                     shuffle_questions=False, shuffle_choices=False)
    practice = make_quiz(bank, trainer, count=2, mode="practice", time_limit_s=None,
                         title="服务规范练习")
    finished = quizzes.start_attempt(learner, exam, now=now)
    quizzes.save_answer(learner, finished.id, 0, wrong_of(finished.items[0]), 0, now=now)
    quizzes.submit_attempt(learner, finished, now=now)
    in_progress = quizzes.start_attempt(learner, practice, now=now)

    track = Track(key="onboarding", title="入职培训", title_en="Onboarding",
                  description="新员工上岗前完成。", position=0)
    db.session.add(track)
    db.session.flush()
    course_quiz = make_quiz(bank, None, count=2, title="接待礼仪测验")
    course = Course(track_id=track.id, key="01-reception", title="接待礼仪", title_en="Reception",
                    description="迎客、倾听与送客。", quiz_id=course_quiz.id, position=0)
    db.session.add(course)
    db.session.flush()
    lesson = Lesson(course_id=course.id, path=LESSON_PATH,
                    title="接待客户", position=0)
    lesson.revisions.append(LessonRevision(number=1, content=LESSON, content_hash="site",
                                           revised_at=now))
    db.session.add(lesson)
    enrolment = Enrolment(staff_id=learner.id, track_id=track.id, reason="hire",
                          assigned_at=now, due_on=today + timedelta(days=20))
    db.session.add(enrolment)
    db.session.flush()
    # What the course asks, copied onto the enrolment as assigning does.
    from trainer.learning import services as learning

    learning.ensure_course_requirements(course, now=now)
    learning.copy_requirements(enrolment, track)
    cls, session, held, kiosk_token = _classroom(trainer, learner, other, course, now,
                                                 secret_key)
    certificate, external = _certificates(cls, learner, staff["hr"], now)
    from trainer.attendance import services as attendance

    feed_token = attendance.create_feed(learner, now=now)   # the learner's calendar feed
    form, assessment = _assessment(staff["trainer"], staff["assessor"], learner, today, now)
    case = _remedial_case(staff["hr"], staff["assessor"], learner, today, now)
    schedule = _exam_schedule(trainer, exam, today, now)
    departments = accounts.list_entries(accounts.Department)
    positions = accounts.list_entries(accounts.Position)
    return Site(
        people={key: person.employee_no for key, person in staff.items()},
        staff_ids={key: person.id for key, person in staff.items()},
        ids={"staff": other.id, "bank": bank.id, "question": question.id, "quiz": exam.id,
             "attempt": in_progress.id, "enrolment": enrolment.id, "course": course.id,
             "lesson": lesson.id, "token": staging.token, "class": cls.id,
             "session": session.id, "entry": departments[0].id,
             "certificate": certificate.id, "external": external.id, "code": certificate.code,
             "form": form.id, "assessment": assessment.id, "case": case.id,
             "schedule": schedule.id},
        ids_by_endpoint={"quizzes.result": {"attempt": finished.id},
                         "quizzes.review": {"attempt": finished.id},
                         "attendance.kiosk": {"token": kiosk_token},
                         "attendance.feed": {"token": feed_token},
                         # A sign-in sheet is imported for a session that has been held.
                         "attendance.sheet_import": {"session": held.id},
                         "/staff/positions/<int:entry_id>/edit": {"entry": positions[0].id}},
        content=(USER_AGENT, UPLOAD_NAME, LESSON_PATH))


def _classroom(trainer, learner, other, course, now, secret_key):
    """A class of the course, taught by the trainer, with the learner booked for a session
    later today, one held yesterday and one in two days, a leave asked and a kiosk link."""
    from itsdangerous import URLSafeTimedSerializer

    from trainer.attendance import services as attendance

    cls = attendance.save_class(trainer, None, attendance.ClassFields(
        title="服务礼仪集中授课", hours_category="服务礼仪", place="三楼培训室",
        course_id=course.id, capacity=20, signup_mode="open"), now=now)
    def fields(start):
        local = start.astimezone(zone("Asia/Shanghai"))
        end = local + timedelta(minutes=50)
        return attendance.SessionFields(
            day=local.date(), starts=local.time().replace(second=0, microsecond=0),
            ends=end.time().replace(second=0, microsecond=0), end_day=end.date())

    session = attendance.save_session(trainer, cls, None, fields(now + timedelta(minutes=5)),
                                      now=now)
    attendance.invite(trainer, cls, [learner, other], now=now)
    upcoming = attendance.save_session(trainer, cls, None, fields(now + timedelta(days=2)),
                                       now=now)
    attendance.request_leave(learner, upcoming, "家中有事", now=now)
    held = attendance.save_session(trainer, cls, None, fields(now - timedelta(days=1)), now=now)
    attendance.mark_all_present(trainer, held, now=now)
    attendance.close_session(trainer, held, now=now)
    token = URLSafeTimedSerializer(secret_key, salt="attendance-kiosk").dumps(
        session.id)
    return cls, session, held, token


def _exam_schedule(trainer, exam, today, now):
    """The monthly business exam, its day today: this month's sittings created (the learner
    and the other staff who are cleared and at work sit it)."""
    from decimal import Decimal

    from trainer.learning import schedules

    schedule = schedules.save_schedule(trainer, None, schedules.ScheduleFields(
        title="月度业务考试", quiz_id=exam.id, day_of_month=today.day, window_days=5,
        pass_mark=Decimal(60), follow_up="refresher"), now=now)
    schedules.run(now=now, today=today)
    return schedule


def _remedial_case(hr, assessor, learner, today, now):
    """The learner stood down a week ago (remedial training assigned), with an assessor named,
    a plan to acknowledge and a counselling talk: a case whose evaluation is pending."""
    from trainer.remedial import services as remedial

    db.session.add(Track(key="remedial", title="待岗培训", title_en="Remedial training",
                         position=4, issues_certificate=False))
    db.session.flush()
    accounts.record_staff_event(None, learner, kind="stood_down", reason="performance",
                                occurred_on=today - timedelta(days=7), note="连续三个月质检不达标",
                                now=now, today=today)
    case = db.session.scalar(db.select(Enrolment).join(Track).where(
        Enrolment.staff_id == learner.id, Track.key == "remedial"))
    remedial.name_assessor(hr, case, assessor, now=now)
    remedial.write_plan(assessor, case, goals="服务用语规范率达到 95%；身份核实不再漏项。",
                        schedule="第一周重学服务规范；第二周跟听；第三周仿真练习。",
                        review_on=case.due_on, today=today, now=now)
    remedial.record_talk(hr, case, held_on=today, counsellor="", notes="情绪稳定，愿意改进。",
                         today=today, now=now)
    return case


def _assessment(trainer, assessor, learner, today, now):
    """A 上岗测试 form with a critical item, and the learner's assessment on it (not yet
    acknowledged, so the page shows the acknowledgement form)."""
    from decimal import Decimal

    from trainer.assessments import services as assessments

    form = assessments.save_form(trainer, None, assessments.FormFields(
        title="上岗测试：接听一通模拟来电", description="考评员扮演客户来电。", purpose="duty",
        pass_percent=80, retake_wait_days=7, items=[
            assessments.ItemFields("使用标准开头语", Decimal(20), False, "开场"),
            assessments.ItemFields("按规定核实客户身份", Decimal(30), True, "核实"),
            assessments.ItemFields("准确解答并规范结束", Decimal(50), False, "处理")]), now=now)
    assessment = assessments.record_assessment(
        assessor, form, learner, assessed_on=today, today=today, now=now,
        awarded={str(i.id): p for i, p in zip(form.items, (Decimal(20), Decimal(30),
                                                             Decimal("42.5")))},
        context="模拟来电：查询话费", comments="语速可以再慢一些。")
    return form, assessment


def _certificates(cls, learner, hr, now):
    """The class's 结业证书 for the learner (one reissued, so its page says so) and an external
    certificate they handed in."""
    import io
    from decimal import Decimal

    from PIL import Image

    from trainer.certificates import services as certificates

    cls.issues_certificate = True
    certificate = certificates.issue_for_class(cls, learner.id, now=now)
    certificates.reissue(hr, certificate, note="姓名更正", now=now)
    scan = io.BytesIO()
    Image.new("RGB", (60, 40), "white").save(scan, format="PNG")
    external = certificates.add_external(
        learner, learner, data=scan.getvalue(), filename="证书.png", issuer="市职业技能鉴定中心",
        title="呼叫中心服务员（四级）", started_on=now.date() - timedelta(days=3),
        finished_on=now.date() - timedelta(days=2), hours=Decimal(16), category="岗位技能",
        now=now)
    return certificate, external


def visitors_of(app: Flask, rule: Rule) -> tuple[str, ...]:
    access = declared_access(app, rule.endpoint) or ()
    if PUBLIC in access:
        return (ANONYMOUS,)
    if AUTHENTICATED in access:
        # One person's own enrolment or attempt: only its owner opens it.
        if rule.arguments & {"enrolment_id", "attempt_id"}:
            return ("learner",)
        # A remedial case: its agent (the learner), the assessor named on it and HR.
        if "case_id" in rule.arguments:
            return ("learner", "assessor", "hr", "admin")
        # A class session: its roster (the learner), its trainers and HR; an assessor as such
        # has nothing to do with it.
        if "session_id" in rule.arguments:
            return tuple(role for role in ROLES if role != "assessor")
        return ROLES
    return tuple(role for role in ROLES if role in access)


def url_of(rule: Rule, site: Site) -> str:
    ids = {**site.ids, **site.ids_by_endpoint.get(rule.endpoint, {}),
           **site.ids_by_endpoint.get(rule.rule, {})}
    values = dict(rule.defaults or {})
    for argument in rule.arguments - set(values):
        name = argument.removesuffix("_id")
        assert name in ids, f"{rule.rule} takes <{argument}>: give the site one (seed_site)"
        values[argument] = ids[name]
    return rule.build(values)[1]


def site_pages(app: Flask, site: Site) -> list[Page]:
    """Every GET route, filled with the site's objects, with who may open it."""
    pages = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if "GET" not in (rule.methods or ()) or rule.endpoint in NOT_PAGES:
            continue
        pages.append(Page(rule.endpoint, url_of(rule, site), visitors_of(app, rule)))
    return pages
