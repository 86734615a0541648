"""Check-in in a real Chromium: the classroom screen shows the server's code and keeps showing it
after a refresh; a signed-out phone scans, takes a minute to sign in, and lands on 已签到."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.conftest import PASSWORD
from tests.integration.test_quiz_browser import browser, live  # noqa: F401 - fixtures
from trainer.core.db import db, write_intent
from trainer.core.timeutil import utcnow

pytestmark = pytest.mark.browser
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True,
         "user_agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile Safari"}


@pytest.fixture
def classroom(app, live):  # noqa: F811
    """A class with a session starting in five minutes, WEB1 (the live learner) booked, and
    the classroom screen's link (what the trainer opens on the classroom PC)."""
    from itsdangerous import URLSafeTimedSerializer

    from trainer.accounts.models import StaffMember
    from trainer.accounts.services import create_staff
    from trainer.attendance import services
    from trainer.core.settings import centre_timezone
    from trainer.core.timeutil import zone

    base, _ids = live
    with app.app_context():
        with write_intent():
            trainer, _ = create_staff(None, employee_no="TRW1", name="陈讲师", roles=["trainer"],
                                      hire_date=utcnow().date(), now=utcnow(), password=PASSWORD)
            learner = db.session.scalar(select(StaffMember).where(
                StaffMember.employee_no == "WEB1"))
            cls = services.save_class(trainer, None, services.ClassFields(
                title="服务礼仪面授", hours_category="服务礼仪", place="三楼培训室"), now=utcnow())
            start = (utcnow() + timedelta(minutes=5)).astimezone(zone(centre_timezone()))
            end = start + timedelta(minutes=50)
            session = services.save_session(trainer, cls, None, services.SessionFields(
                day=start.date(), starts=start.time().replace(second=0, microsecond=0),
                ends=end.time().replace(second=0, microsecond=0), end_day=end.date()),
                now=utcnow())
            services.invite(trainer, cls, [learner], now=utcnow())
            db.session.commit()
            token = URLSafeTimedSerializer(app.secret_key, salt="attendance-kiosk").dumps(
                session.id)
            ids = {"session": session.id, "learner": learner.id}
        db.session.remove()
    return base, f"{base}/kiosk/{token}", ids


def _marks(app, staff_id):
    from trainer.attendance.models import AttendanceMark

    with app.app_context():
        rows = db.session.scalars(select(AttendanceMark).where(
            AttendanceMark.staff_id == staff_id)).all()
        result = [(m.kind, m.via, m.at, m.recorded_at) for m in rows]
        db.session.remove()
    return result


def test_the_screen_keeps_its_code_through_a_refresh_and_a_phone_types_it(app, classroom,
                                                                        browser):  # noqa: F811
    base, kiosk_url, ids = classroom
    screen = browser.new_context().new_page()
    screen.goto(kiosk_url)
    code = screen.inner_text("#kiosk-code").strip()
    assert re.fullmatch(r"\d{6}", code)
    assert screen.locator("#kiosk-qr svg").count() == 1
    screen.reload()                           # the display PC refreshed: the server's code again
    shown, step = screen.inner_text("#kiosk-code").strip(), \
        int(screen.get_attribute("#kiosk-code", "data-step"))
    from trainer.attendance import rules
    from trainer.attendance.models import ClassSession

    with app.app_context():
        secret = db.session.get(ClassSession, ids["session"]).secret
        db.session.remove()
    assert shown == rules.code_for(secret, step)
    phone = browser.new_context(**PHONE).new_page()
    phone.goto(f"{base}/login")
    phone.fill("#employee_no", "WEB1")
    phone.fill("#password", PASSWORD)
    phone.click("main button[type=submit]")
    phone.goto(f"{base}/classes")
    phone.fill("#code", code)                 # the code read before the refresh
    phone.click("form[data-checkin-code] button")
    phone.wait_for_selector("[data-checked]")
    assert "已签到" in phone.inner_text("[data-checked]")
    assert [m[:2] for m in _marks(app, ids["learner"])] == [("check_in", "code")]


def test_a_signed_out_phone_scans_signs_in_a_minute_later_and_is_checked_in(
        app, classroom, browser, monkeypatch):  # noqa: F811
    base, kiosk_url, ids = classroom
    screen = browser.new_context().new_page()
    screen.goto(kiosk_url)
    qr_target = screen.evaluate(
        "() => fetch(document.getElementById('kiosk').dataset.codeUrl).then(r => r.json())"
    )["url"]
    assert f"/s/{ids['session']}/" in qr_target
    phone = browser.new_context(**PHONE).new_page()
    phone.goto(qr_target)                     # the camera opens the QR code's link
    assert "/login" in phone.url
    scanned_at = utcnow()
    # Signing in takes a minute: the code of the scan has long changed on the screen (every
    # 20 s); the scan, carried through sign-in, is recorded at the time it was made.
    import trainer.attendance.routes as attendance_routes

    monkeypatch.setattr(attendance_routes, "utcnow", lambda: utcnow() + timedelta(seconds=60))
    phone.fill("#employee_no", "WEB1")
    phone.fill("#password", PASSWORD)
    phone.click("main button[type=submit]")
    phone.wait_for_selector("[data-checked]")
    assert "已签到" in phone.inner_text("[data-checked]")
    [(kind, via, at, recorded_at)] = _marks(app, ids["learner"])
    assert (kind, via) == ("check_in", "qr")
    assert abs((at - scanned_at).total_seconds()) < 10
    assert (recorded_at - at).total_seconds() >= 50
