"""The demo's classroom training, as `trainer setup --demo` makes it (a fresh SQLite database):
a held session with every status and a flag, an upcoming one a demo agent checks in to, a course
of onboarding that requires the class, 学时 on the agent's page, and an earlier class's survey
results."""
from __future__ import annotations

import re

from sqlalchemy import select

from trainer.accounts.demo import DEMO_PASSWORD
from trainer.accounts.models import StaffMember
from trainer.attendance import rules, services
from trainer.attendance.demo import EARLIER_CLASS, ETIQUETTE_CLASS
from trainer.attendance.models import TrainingClass
from trainer.core.db import db
from trainer.core.timeutil import utcnow


def sign_in(app, number):
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    assert client.post("/login", data={"employee_no": number, "password": DEMO_PASSWORD,
                                       "csrf_token": token}).status_code == 302
    return client, token


def test_the_held_session_shows_every_status_and_a_flag(demo):
    with demo.app_context():
        classes = db.session.scalars(select(TrainingClass).where(
            TrainingClass.title == ETIQUETTE_CLASS)).all()
        assert len(classes) == 1
        cls = classes[0]
        held, upcoming = services.live_sessions(cls)
        assert held.closed_at is not None and upcoming.starts_at > utcnow()
        names = {s.id: s.employee_no for s in db.session.scalars(select(StaffMember))}
        cells = {names[pid]: c for (sid, pid), c in services.grid(cls, now=utcnow()).items()
                 if sid == held.id}
        statuses = {number: cell.attendance.status for number, cell in cells.items()}
        # (郑丽, late, checked 何军 in from her phone too: both late, both flagged)
        assert statuses == {"K0002": rules.PRESENT, "K0008": rules.LATE, "K0009": rules.LEAVE,
                            "K0010": rules.ABSENT, "K0011": rules.LATE}
        assert "shared_device" in cells["K0011"].flags and "shared_device" in cells["K0008"].flags
        db.session.remove()


def test_a_new_hire_checks_in_to_the_upcoming_session_and_sees_their_hours(demo):
    client, _ = sign_in(demo, "K0002")
    page = client.get("/my").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    assert "data-hours" in page
    with demo.app_context():
        cls = db.session.scalar(select(TrainingClass).where(TrainingClass.title == ETIQUETTE_CLASS))
        upcoming = services.live_sessions(cls)[1]
        code = services.current_code(upcoming, utcnow())[0]
        db.session.remove()
    done = client.post("/checkin", data={"code": code, "csrf_token": token})
    assert done.status_code == 302 and "/checkin/done/" in done.headers["Location"]
    assert "已签到" in client.get(done.headers["Location"]).get_data(as_text=True)
    hours = re.search(r"data-hours.*?</table>", page, re.S).group(0)
    assert "服务礼仪" in hours and ">1.5<" in hours   # yesterday's 90 minutes


def test_the_onboarding_course_asks_new_hires_for_the_class(demo):
    client, _ = sign_in(demo, "K0008")
    page = client.get("/my").get_data(as_text=True)
    enrolment = re.search(r'href="/learn/(\d+)"', page).group(1)
    track = client.get(f"/learn/{enrolment}").get_data(as_text=True)
    course = re.search(rf'href="(/learn/{enrolment}/courses/\d+)"[^>]*>\s*<span>2\.', track)
    course_page = client.get(course.group(1)).get_data(as_text=True)
    assert 'data-requirement="class"' in course_page and "参加面授课" in course_page


def test_the_earlier_class_shows_its_survey_results_to_its_trainer(demo):
    client, _ = sign_in(demo, "T0001")
    with demo.app_context():
        cls = db.session.scalar(select(TrainingClass).where(TrainingClass.title == EARLIER_CLASS))
        class_id = cls.id
        db.session.remove()
    page = client.get(f"/training/classes/{class_id}").get_data(as_text=True)
    assert "data-survey-result" in page and "4.3 / 5" in page
    assert "多安排几个真实录音的案例" in page
    # Closed, it keeps its attendance record.
    assert "data-evidence" in page
    record = client.get(f"/training/classes/{class_id}/evidence.pdf")
    assert record.status_code == 200 and record.get_data().startswith(b"%PDF")
