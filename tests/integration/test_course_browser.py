"""A learner walks a whole track in Chromium: track → course → lessons → quiz → result → back →
the next step. A dead end anywhere (a link the learner may not open) fails the walk."""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.conftest import PASSWORD
from tests.integration.test_quiz_browser import browser, live  # noqa: F401 - fixtures
from trainer.core.db import db, write_intent
from trainer.core.timeutil import utcnow

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[2]
REFUSED = "您无权访问此页面"


@pytest.fixture
def reentry_for_web1(app, live):  # noqa: F811
    """The shipped content, and WEB1 (the live server's learner) assigned re-entry. The course
    quizzes' pass mark is 0, so the walk passes whatever it answers."""
    from trainer.accounts.models import StaffMember
    from trainer.assessments.content import sync_forms
    from trainer.banks.services import sync_banks
    from trainer.learning import services
    from trainer.learning.content import sync_courses
    from trainer.quizzes.models import Quiz

    base, _ids = live
    with app.app_context():
        with write_intent():
            sync_banks(ROOT / "question_banks", now=utcnow())
            sync_forms(ROOT / "assessment_forms", now=utcnow())
            sync_courses(ROOT / "courses", now=utcnow())
            track = services.track_by_key("reentry")
            for course in track.courses:
                if course.quiz_id is not None:
                    db.session.get(Quiz, course.quiz_id).pass_mark = 0
            learner = db.session.scalar(select(StaffMember).where(
                StaffMember.employee_no == "WEB1"))
            enrolment = services._create(learner, track, reason="manual",
                                         due_on=services.today_local(utcnow()) + timedelta(28),
                                         now=utcnow(), actor_id=None)
            courses = [c.title for c in track.courses]
            db.session.commit()
            ids = {"enrolment": enrolment.id, "courses": courses}
        db.session.remove()
    return base, ids


def _no_dead_end(page):
    assert REFUSED not in page.content(), page.url
    assert "/login" not in page.url, page.url


def test_a_learner_walks_a_track_from_lesson_to_quiz_to_the_next_course(
        reentry_for_web1, browser):  # noqa: F811
    base, ids = reentry_for_web1
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{base}/login")
    page.fill("#employee_no", "WEB1")
    page.fill("#password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{base}/my")
    page.click(f"a[href='/learn/{ids['enrolment']}']")            # the track
    _no_dead_end(page)
    first, second = ids["courses"][:2]
    page.click(f"text={first}")                                     # the first course
    _no_dead_end(page)
    page.click("ol.list-group a >> nth=0")                          # its first lesson
    while True:                                                     # read every lesson
        _no_dead_end(page)
        page.click("form[action$='/read'] button")
        page.wait_for_load_state()
        if "/lessons/" not in page.url:
            break
    _no_dead_end(page)
    assert page.locator("[data-course-quiz]").is_visible()
    page.click("[data-start]")                                      # the quiz
    page.wait_for_selector("#answers-form")
    for fieldset in page.locator("fieldset[data-position]").all():
        fieldset.locator("input[type=radio], input[type=checkbox]").first.check()
    page.click("button[value=submit]")
    page.wait_for_url("**/submit")
    page.click("form[action$='/submit'] button.btn-primary")
    page.wait_for_url("**/result")                                  # the result
    _no_dead_end(page)
    page.click("main a:text-is('返回')")                           # back
    page.wait_for_load_state()
    _no_dead_end(page)
    assert f"/learn/{ids['enrolment']}/courses/" in page.url
    assert "已完成" in page.content()
    page.goto(f"{base}/my")                                         # the next step
    page.click("[data-next-step]")
    page.wait_for_load_state()
    _no_dead_end(page)
    assert second in page.content()
    context.close()
