"""A real browser (Playwright driving Debian's Chromium, headless) takes a timed quiz against a
live server: answers autosave, survive a reload with the clock still running, queue while
offline and sync when back, and the page submits by itself when the time runs out."""
from __future__ import annotations

import re
import threading
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, update

from tests.conftest import PASSWORD, skip_or_fail
from tests.integration.quiz_fixtures import make_bank, make_quiz
from trainer.accounts.models import Login
from trainer.core.db import db, write_intent
from trainer.core.timeutil import utcnow
from trainer.quizzes.models import Attempt

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]

pytestmark = pytest.mark.browser


@pytest.fixture
def live(app):
    """The app served on a free port, with committed data (deleted afterwards)."""
    from werkzeug.serving import make_server

    from trainer.accounts.services import create_staff
    from trainer.core.security import DevRequestHandler

    with app.app_context():
        with write_intent():
            learner, _ = create_staff(None, employee_no="WEB1", name="浏览器学员",
                                      hire_date=date(2024, 1, 1), now=utcnow(),
                                      password=PASSWORD)
            bank = make_bank("浏览器题库")
            quiz = make_quiz(bank, None, count=4, time_limit_s=600, shuffle_questions=False,
                             title="浏览器测验")
            db.session.commit()
            ids = {"quiz": quiz.id, "learner": learner.id}
        db.session.remove()
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=DevRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", ids
    server.shutdown()
    with app.app_context():
        with write_intent():
            for table in reversed(db.metadata.sorted_tables):
                db.session.execute(delete(table))
            db.session.commit()
        db.session.remove()


@pytest.fixture
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        skip_or_fail("playwright is not installed")
    if not Path(CHROMIUM).exists():
        skip_or_fail(f"{CHROMIUM} is missing (apt-get install chromium)")
    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield instance
        instance.close()


def attempt_of(app, learner_id) -> Attempt:
    with app.app_context():
        attempt = db.session.query(Attempt).filter_by(staff_id=learner_id).one()
        db.session.expunge_all()
        db.session.remove()
    return attempt


def selected_in_db(app, attempt_id, position):
    with app.app_context():
        attempt = db.session.get(Attempt, attempt_id)
        value = attempt.items[position].selected
        db.session.remove()
    return value


def seconds(text: str) -> int:
    minutes, secs = text.split(":")
    return int(minutes) * 60 + int(secs)


def test_taking_a_timed_quiz_in_chromium(app, live, browser):
    base, ids = live
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{base}/login")
    page.fill("#employee_no", "WEB1")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.goto(f"{base}/quizzes/{ids['quiz']}")
    page.click("form[action$='/start'] button")
    page.wait_for_selector("#timer")
    attempt = attempt_of(app, ids["learner"])

    # Answer: saved at once, the indicator says so, the server has it.
    page.check("#q0c1")
    page.wait_for_selector("#save-status[data-state=saved]")
    # (Selectors and functions, not expression strings: the page's policy forbids eval.)
    page.wait_for_selector("fieldset[data-position='0'][data-version='1']")
    assert len(selected_in_db(app, attempt.id, 0)) == 1
    before = seconds(page.inner_text("#timer"))

    # Reload: the answer is kept and the clock is not reset.
    page.wait_for_timeout(1200)
    page.reload()
    page.wait_for_selector("#timer")
    assert page.is_checked("#q0c1")
    assert seconds(page.inner_text("#timer")) < before

    # Offline: the indicator says so and the answer waits on the device; back online it syncs.
    context.set_offline(True)
    page.evaluate("window.dispatchEvent(new Event('offline'))")
    page.check("#q1c1")
    page.wait_for_selector("#save-status[data-state=offline]", timeout=5000)
    assert selected_in_db(app, attempt.id, 1) == []
    context.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    page.wait_for_selector("#save-status[data-state=saved]", timeout=10000)
    assert len(selected_in_db(app, attempt.id, 1)) == 1

    # No key, weight or explanation anywhere in the page before the end.
    html = page.content()
    assert "解析" not in html and "weight" not in html

    # The time runs out: the page submits by itself and shows the result the policy allows.
    with app.app_context():
        with write_intent():
            db.session.get(Attempt, attempt.id).deadline_at = utcnow() + timedelta(seconds=4)
            db.session.commit()
        db.session.remove()
    page.reload()
    page.wait_for_url("**/result", timeout=15000)
    assert page.is_visible("[data-score]")
    assert "解析" in page.content()
    assert kept(page) == {}  # the answers kept in the browser go with the attempt
    with app.app_context():
        final = db.session.get(Attempt, attempt.id)
        assert final.state == "submitted" and final.score is not None
        db.session.remove()
    context.close()


def test_a_tick_made_before_the_script_ran_is_saved_not_undone(app, live, browser):
    """A quick hand (or a slow connection) ticks an answer before quiz.js has run: no change
    event reached the script, yet the answer is saved once it runs, not undone by the server's
    state."""
    base, ids = live
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{base}/login")
    page.fill("#employee_no", "WEB1")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.goto(f"{base}/quizzes/{ids['quiz']}")
    held = []
    page.route("**/static/js/quiz.js", lambda route: held.append(route))
    page.click("form[action$='/start'] button")
    page.wait_for_selector("#q0c1")
    page.wait_for_function("() => true")
    assert held, "quiz.js was not requested"
    page.check("#q0c1")                     # no script yet: only the browser knows
    held[0].continue_()
    page.wait_for_selector("fieldset[data-position='0'][data-version='1']")
    attempt = attempt_of(app, ids["learner"])
    assert len(selected_in_db(app, attempt.id, 0)) == 1
    assert page.is_checked("#q0c1")
    context.close()


# -- answers kept in the browser: keyed by person and attempt, cleared when no longer needed ----

KEPT = ("Object.fromEntries(Object.keys(localStorage).filter(k => k.startsWith('trainer'))"
        ".map(k => [k, JSON.parse(localStorage.getItem(k))]))")


def kept(page) -> dict:
    """Every entry the quiz pages keep in this browser's localStorage, old keys included."""
    return page.evaluate(KEPT)


def sign_in(page, base, employee_no, url=None):
    page.goto(url or f"{base}/login")
    page.fill("#employee_no", employee_no)
    page.fill("#password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_load_state()


def start_attempt(app, page, base, ids) -> Attempt:
    page.goto(f"{base}/quizzes/{ids['quiz']}")
    page.click("form[action$='/start'] button")
    page.wait_for_selector("#timer")
    return attempt_of(app, ids["learner"])


def version_is(page, position, version):
    page.wait_for_selector(f"fieldset[data-position='{position}'][data-version='{version}']")


def pending_in(page, key, position):
    page.wait_for_function(
        f"() => (JSON.parse(localStorage.getItem('{key}')) || {{answers: {{}}}})"
        f".answers['{position}']?.pending === true")


def add_learner(app, employee_no) -> int:
    from trainer.accounts.services import create_staff

    with app.app_context():
        with write_intent():
            person, _ = create_staff(None, employee_no=employee_no, name="另一位学员",
                                     hire_date=date(2024, 1, 1), now=utcnow(),
                                     password=PASSWORD)
            db.session.commit()
            person_id = person.id
        db.session.remove()
    return person_id


SIGN_OUT = "form[action$='/logout'] button"


def test_answers_kept_are_keyed_by_person_and_attempt_and_gone_after_submit(app, live, browser):
    base, ids = live
    context = browser.new_context()
    page = context.new_page()
    sign_in(page, base, "WEB1")
    attempt = start_attempt(app, page, base, ids)
    page.check("#q0c1")
    version_is(page, 0, 1)
    key = f"trainer.answers.{ids['learner']}.{attempt.id}"
    entries = kept(page)
    assert list(entries) == [key]
    assert entries[key]["answers"]["0"] == {"selected": [1], "version": 1, "pending": False}

    page.click("button[name=go][value=submit]")
    page.click("main form[action$='/submit'] button")
    page.wait_for_url("**/result")
    assert kept(page) == {}
    with app.app_context():
        assert db.session.get(Attempt, attempt.id).state == "submitted"
        db.session.remove()
    # An entry left over (say the attempt was finalised while nobody was there) goes as soon as
    # the quiz's page lists the attempt as over.
    page.evaluate("([k, v]) => localStorage.setItem(k, JSON.stringify(v))", [key, entries[key]])
    assert key in kept(page)
    page.goto(f"{base}/quizzes/{ids['quiz']}")
    assert kept(page) == {}
    context.close()


def test_sign_out_offline_warns_keeps_the_answers_and_sends_them_at_the_next_sign_in(
        app, live, browser):
    base, ids = live
    context = browser.new_context()
    page = context.new_page()
    sign_in(page, base, "WEB1")
    attempt = start_attempt(app, page, base, ids)
    key = f"trainer.answers.{ids['learner']}.{attempt.id}"
    page.check("#q0c1")
    version_is(page, 0, 1)

    # Offline: the answer waits on the device; signing out warns instead, and staying stays.
    context.set_offline(True)
    page.evaluate("window.dispatchEvent(new Event('offline'))")
    page.check("#q1c1")
    pending_in(page, key, 1)
    page.click(SIGN_OUT)
    page.wait_for_selector("#signout-warning", state="visible")
    assert page.inner_text("[data-signout-message]") == \
        page.get_attribute("#signout-warning", "data-msg-offline")
    page.click("[data-signout-stay]")
    page.wait_for_selector("#signout-warning", state="hidden")
    assert f"/attempts/{attempt.id}" in page.url

    # Back online, but the save fails: warned again; signing out anyway keeps the answer.
    page.route("**/attempts/*/save", lambda route: route.abort())
    context.set_offline(False)
    page.click(SIGN_OUT)
    page.wait_for_selector("#signout-warning", state="visible")
    assert page.inner_text("[data-signout-message]") == \
        page.get_attribute("#signout-warning", "data-msg-failed")
    page.click("[data-signout-anyway]")
    page.wait_for_url("**/login")
    assert kept(page)[key]["answers"]["1"]["pending"] is True
    assert selected_in_db(app, attempt.id, 1) == []

    # The same person signs in again and opens the attempt: the answer reaches the server.
    page.unroute("**/attempts/*/save")
    sign_in(page, base, "WEB1")
    assert key in kept(page)
    page.goto(f"{base}/attempts/{attempt.id}")
    version_is(page, 1, 1)
    assert len(selected_in_db(app, attempt.id, 1)) == 1
    assert kept(page)[key]["answers"]["1"]["pending"] is False
    context.close()


def test_another_person_signing_in_clears_the_first_persons_answers(app, live, browser):
    base, ids = live
    add_learner(app, "WEB2")
    context = browser.new_context()
    page = context.new_page()
    sign_in(page, base, "WEB1")
    attempt = start_attempt(app, page, base, ids)
    page.check("#q0c1")
    version_is(page, 0, 1)
    page.evaluate("localStorage.setItem('trainer-attempt-999999', '{}')")  # an old unkeyed one

    # The session ends without a sign-out (cookies gone): the answers stay on the device...
    context.clear_cookies()
    page.goto(f"{base}/login")
    assert f"trainer.answers.{ids['learner']}.{attempt.id}" in kept(page)
    # ...until someone else signs in here.
    sign_in(page, base, "WEB2")
    assert "/login" not in page.url
    assert kept(page) == {}
    context.close()


def test_sign_out_online_sends_the_pending_answers_first(app, live, browser):
    base, ids = live
    context = browser.new_context()
    page = context.new_page()
    sign_in(page, base, "WEB1")
    attempt = start_attempt(app, page, base, ids)
    key = f"trainer.answers.{ids['learner']}.{attempt.id}"
    page.route("**/attempts/*/save", lambda route: route.abort())
    page.check("#q0c1")
    pending_in(page, key, 0)
    # On a page without the quiz's script, so only the sign-out can send the answer.
    page.goto(f"{base}/quizzes")
    page.unroute("**/attempts/*/save")
    assert selected_in_db(app, attempt.id, 0) == []
    page.click(SIGN_OUT)
    page.wait_for_url("**/login")
    assert len(selected_in_db(app, attempt.id, 0)) == 1
    assert kept(page) == {}
    context.close()


def test_a_401_keeps_the_answers_and_the_same_person_signing_in_again_sends_them(
        app, live, browser):
    base, ids = live
    context = browser.new_context()
    page = context.new_page()
    sign_in(page, base, "WEB1")
    attempt = start_attempt(app, page, base, ids)
    key = f"trainer.answers.{ids['learner']}.{attempt.id}"
    page.check("#q0c1")
    version_is(page, 0, 1)
    with app.app_context():  # the login is ended elsewhere (e.g. a password reset)
        with write_intent():
            db.session.execute(update(Login).where(Login.staff_id == ids["learner"])
                               .values(ended_at=utcnow(), end_reason="password_reset"))
            db.session.commit()
        db.session.remove()

    page.check("#q1c1")
    page.wait_for_selector("#signed-out", state="visible")
    assert page.get_attribute("#save-status", "data-state") == "signed-out"
    assert kept(page)[key]["answers"]["1"]["pending"] is True
    assert selected_in_db(app, attempt.id, 1) == []

    page.click("#signed-out a")
    page.wait_for_url(re.compile(r"/login\?next="))
    sign_in(page, base, "WEB1", url=page.url)
    page.wait_for_url(f"**/attempts/{attempt.id}")
    version_is(page, 1, 1)
    assert len(selected_in_db(app, attempt.id, 1)) == 1
    context.close()


def test_an_old_unkeyed_entry_moves_to_its_attempt_and_is_dropped_elsewhere(app, live, browser):
    base, ids = live
    context = browser.new_context()
    page = context.new_page()
    sign_in(page, base, "WEB1")
    attempt = start_attempt(app, page, base, ids)
    old = '{"2": {"selected": [1], "version": 0, "pending": true}}'
    page.evaluate(f"localStorage.setItem('trainer-attempt-{attempt.id}', '{old}');"
                  "localStorage.setItem('trainer-attempt-999999', '{}')")
    page.reload()
    version_is(page, 2, 1)
    assert len(selected_in_db(app, attempt.id, 2)) == 1
    assert list(kept(page)) == [f"trainer.answers.{ids['learner']}.{attempt.id}"]
def test_pages_keep_to_the_content_security_policy(app, live, browser):
    """Every page a learner and an administrator reach by following links (Bootstrap's assets,
    quiz.js, the forms, the progress bars) works under the policy: it is sent, and Chromium
    reports no violation of it."""
    from trainer.learning.models import Course, Enrolment, Lesson, LessonRevision, Track

    base, ids = live
    with app.app_context():
        with write_intent():
            from trainer.accounts.services import create_staff

            create_staff(None, employee_no="WEBADM", name="浏览器管理员", hire_date=date(2024, 1, 1),
                         roles=("trainer", "hr", "admin"), now=utcnow(), password=PASSWORD)
            track = Track(key="onboarding", title="入职培训", position=0)
            db.session.add(track)
            db.session.flush()
            course = Course(track_id=track.id, key="c1", title="服务规范", quiz_id=ids["quiz"])
            db.session.add(course)
            db.session.flush()
            lesson = Lesson(course_id=course.id, path="onboarding/c1/l1.md", title="第一课")
            lesson.revisions.append(LessonRevision(number=1, content="# 第一课\n\n**要点**",
                                                   content_hash="x", revised_at=utcnow()))
            db.session.add_all([lesson, Enrolment(
                staff_id=ids["learner"], track_id=track.id, reason="manual",
                assigned_at=utcnow(), due_on=(utcnow() + timedelta(days=9)).date())])
            db.session.commit()
        db.session.remove()
    context = browser.new_context()
    page = context.new_page()
    violations: list[str] = []
    page.on("console", lambda message: violations.append(message.text)
            if "Content Security Policy" in message.text else None)
    page.on("pageerror", lambda error: violations.append(str(error)))

    def visit(url: str) -> None:
        response = page.goto(url)
        assert response is not None and "script-src 'self'" in (
            response.headers.get("content-security-policy") or ""), url

    def crawl(start: str) -> set[str]:
        """Same-site links, breadth first, one page per route (/banks/questions/7 stands for
        every question); downloads (exports, templates) are left alone."""
        seen, queue, routes = set(), [start], set()
        while queue:
            url = queue.pop(0)
            route = re.sub(r"\d+", "#", url)
            if route in routes:
                continue
            routes.add(route)
            seen.add(url)
            try:
                visit(url)
            except Exception as exc:  # noqa: BLE001 - a file download is not a page
                if "Download is starting" in str(exc):
                    continue
                raise
            for href in page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)"):
                href = href.split("#")[0]
                if href.startswith(base) and href not in seen:
                    queue.append(href)
        return seen

    def sign_in(employee_no: str) -> None:
        visit(f"{base}/login")
        page.fill("#employee_no", employee_no)
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_load_state()

    sign_in("WEB1")
    learner_pages = crawl(f"{base}/my")
    page.goto(f"{base}/quizzes/{ids['quiz']}")
    page.click("form[action$='/start'] button")
    page.wait_for_selector("#timer")
    page.check("#q0c1")
    page.wait_for_selector("#save-status[data-state=saved]")
    page.click("form[action$='/logout'] button")
    sign_in("WEBADM")
    admin_pages = crawl(f"{base}/")
    assert any("/learn/" in url for url in learner_pages), learner_pages
    assert any("/questions/" in url for url in admin_pages), admin_pages
    assert not violations, violations
    # The listener does hear a violation: an inline style is refused and reported.
    page.evaluate("document.body.insertAdjacentHTML('beforeend', '<p style=\"color: red\">x</p>')")
    page.wait_for_timeout(200)
    assert any("inline style" in text for text in violations), violations
    context.close()


# -- saves that no retry can cure, the last change at time-up, the practice lock -----------------

def save_requests(page) -> list:
    """The autosave requests the page sends from now on."""
    sent: list = []
    page.on("request", lambda request: sent.append(request.url)
            if request.url.endswith("/save") else None)
    return sent


def test_a_400_stops_the_retries_says_the_page_expired_and_a_reload_sends_the_answers(
        app, live, browser):
    base, ids = live
    context = browser.new_context()
    page = context.new_page()
    sign_in(page, base, "WEB1")
    attempt = start_attempt(app, page, base, ids)
    key = f"trainer.answers.{ids['learner']}.{attempt.id}"
    sent = save_requests(page)
    # What the CSRF check answers once the page's token is no longer this session's.
    page.route("**/attempts/*/save", lambda route: route.fulfill(
        status=400, content_type="application/json",
        body='{"error": 400, "message": "expired"}'))
    page.check("#q0c1")
    page.wait_for_selector("#page-expired", state="visible")
    assert page.get_attribute("#save-status", "data-state") == "expired"
    page.check("#q1c1")   # later changes are kept too, and not sent
    pending_in(page, key, 1)
    page.wait_for_timeout(6000)   # longer than the retry delay
    assert len(sent) == 1, sent
    assert kept(page)[key]["answers"]["0"]["pending"] is True
    page.unroute("**/attempts/*/save")
    page.click("#page-expired a")
    version_is(page, 0, 1)
    version_is(page, 1, 1)
    assert len(selected_in_db(app, attempt.id, 0)) == 1
    assert len(selected_in_db(app, attempt.id, 1)) == 1
    context.close()


def test_a_redirect_stops_the_retries_and_says_the_account_needs_attention(app, live, browser):
    from trainer.accounts.models import StaffMember

    base, ids = live
    context = browser.new_context()
    page = context.new_page()
    sign_in(page, base, "WEB1")
    attempt = start_attempt(app, page, base, ids)
    key = f"trainer.answers.{ids['learner']}.{attempt.id}"
    with app.app_context():  # HR gave a one-time password meanwhile: saves are redirected
        with write_intent():
            db.session.execute(update(StaffMember).where(StaffMember.id == ids["learner"])
                               .values(must_change_password=True))
            db.session.commit()
        db.session.remove()
    sent = save_requests(page)
    page.check("#q0c1")
    page.wait_for_selector("#needs-attention", state="visible")
    assert page.get_attribute("#save-status", "data-state") == "attention"
    page.wait_for_timeout(6000)
    assert len(sent) == 1, sent
    assert kept(page)[key]["answers"]["0"]["pending"] is True
    assert selected_in_db(app, attempt.id, 0) == []
    page.click("#needs-attention a")
    page.wait_for_url("**/password")
    context.close()


def test_a_change_in_the_last_moments_is_sent_before_the_time_up_submit(app, live, browser):
    """The countdown reaches zero while a change still waits for its debounce (400 ms): it is
    sent first, then the attempt is submitted. (The page's clock is Playwright's: paused, then
    run to 200 ms before zero.)"""
    base, ids = live
    context = browser.new_context()
    page = context.new_page()
    sign_in(page, base, "WEB1")
    attempt = start_attempt(app, page, base, ids)
    with app.app_context():
        with write_intent():
            db.session.get(Attempt, attempt.id).deadline_at = utcnow() + timedelta(seconds=20)
            db.session.commit()
        db.session.remove()
    page.clock.install()
    page.clock.pause_at(page.evaluate("() => Date.now()") + 1000)
    with page.expect_response("**/state") as state:
        page.reload()
    left = state.value.json()["seconds_left"]
    assert 10 < left <= 20
    page.wait_for_selector("#save-status[data-state=saved]")
    page.clock.run_for(left * 1000 - 200)
    assert page.inner_text("#timer") == "0:01"
    page.check("#q2c1")
    page.clock.run_for(1000)   # zero: time is up, the debounce not run yet
    page.clock.resume()
    page.wait_for_url("**/result", timeout=15000)
    assert len(selected_in_db(app, attempt.id, 2)) == 1
    with app.app_context():
        assert db.session.get(Attempt, attempt.id).state == "submitted"
        db.session.remove()
    context.close()


def test_the_practice_lock_says_when_its_save_fails_and_locks_once_it_can(app, live, browser):
    base, ids = live
    with app.app_context():
        with write_intent():
            from trainer.quizzes.models import Quiz

            bank_id = db.session.get(Quiz, ids["quiz"]).rules[0].bank_id
            from trainer.banks.models import QuestionBank

            practice = make_quiz(db.session.get(QuestionBank, bank_id), None, count=2,
                                 time_limit_s=None, mode="practice", title="浏览器练习")
            db.session.commit()
            practice_id = practice.id
        db.session.remove()
    context = browser.new_context()
    page = context.new_page()
    sign_in(page, base, "WEB1")
    page.goto(f"{base}/quizzes/{practice_id}")
    page.click("form[action$='/start'] button")
    page.wait_for_selector("[data-lock]")
    page.route("**/attempts/*/save", lambda route: route.abort())
    page.check("#q0c0")
    page.click("#q0 [data-lock]")
    page.wait_for_selector("#q0 [data-lock-problem]", state="visible")
    assert page.is_enabled("#q0 [data-lock]")
    assert page.get_attribute("#q0", "data-locked") is None
    page.unroute("**/attempts/*/save")
    page.click("#q0 [data-lock]")
    page.wait_for_selector("#q0[data-locked='1']")
    assert page.query_selector("#q0 [data-lock-problem]") is None
    assert "解析" in page.inner_text("#q0")
    context.close()
