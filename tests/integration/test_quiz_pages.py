"""Taking quizzes through HTTP: plain forms without JavaScript, the JSON autosave, what the
pages reveal and to whom."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest

from tests.integration.quiz_fixtures import key_of, make_bank, make_quiz, wrong_of
from trainer.core.timeutil import utcnow
from trainer.quizzes.models import Attempt


@pytest.fixture
def bank(db_session):
    bank = make_bank()
    db_session.commit()
    return bank


@pytest.fixture
def quiz(bank, users, db_session):
    quiz = make_quiz(bank, users["trainer"], count=5, title="页面测验")
    db_session.commit()
    return quiz


def start(client, quiz) -> int:
    response = client.post(f"/quizzes/{quiz.id}/start")
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return int(re.search(r"/attempts/(\d+)", response.headers["Location"]).group(1))


def leak_markers(db_session, attempt_id) -> list[str]:
    attempt = db_session.get(Attempt, attempt_id)
    markers = []
    for item in attempt.items:
        markers.append(item.snapshot["explanation"])
        markers += [c["feedback"] for c in item.snapshot["choices"] if c["feedback"]]
    return markers


def test_no_answer_leaks_before_submission(client, users, quiz, db_session):
    client.login(users["learner"].employee_no)
    attempt_id = start(client, quiz)
    bodies = [client.get(f"/attempts/{attempt_id}").get_data(as_text=True),
              client.get(f"/attempts/{attempt_id}/state").get_data(as_text=True),
              client.get(f"/attempts/{attempt_id}/submit").get_data(as_text=True),
              client.get(f"/attempts/{attempt_id}/result", follow_redirects=True)
              .get_data(as_text=True)]
    save = client.post_json(f"/attempts/{attempt_id}/save",
                            {"position": 0, "selected": [0], "version": 0})
    bodies.append(save.get_data(as_text=True))
    markers = leak_markers(db_session, attempt_id)
    for body in bodies:
        for marker in markers:
            assert marker not in body
        assert "weight" not in body and "correct" not in body.lower().replace("incorrect", "")
        assert "text-success" not in body


def test_a_whole_attempt_with_plain_forms(client, users, quiz, db_session):
    client.login(users["learner"].employee_no)
    attempt_id = start(client, quiz)
    attempt = db_session.get(Attempt, attempt_id)
    form = {}
    for item in attempt.items:
        shown = [item.choice_order.index(k) for k in key_of(item)]
        form[f"q{item.position}"] = [str(s) for s in shown]
        form[f"v{item.position}"] = str(item.version)
    form["go"] = "submit"
    response = client.post(f"/attempts/{attempt_id}/answers", form)
    assert response.headers["Location"].endswith(f"/attempts/{attempt_id}/submit")
    page = client.get(f"/attempts/{attempt_id}/submit").get_data(as_text=True)
    assert "未作答" not in page and "unanswered" not in page
    response = client.post(f"/attempts/{attempt_id}/submit", {})
    assert response.headers["Location"].endswith(f"/attempts/{attempt_id}/result")
    result = client.get(f"/attempts/{attempt_id}/result").get_data(as_text=True)
    assert "data-score>10 / 10" in result
    for marker in leak_markers(db_session, attempt_id):
        assert marker in result  # the policy shows answers and explanations once submitted


def test_unanswered_questions_are_listed_before_submitting(client, users, quiz):
    client.login(users["learner"].employee_no)
    attempt_id = start(client, quiz)
    page = client.get(f"/attempts/{attempt_id}/submit").get_data(as_text=True)
    assert re.search(r"5 (道题|questions)", page)


def test_json_autosave_versions_and_stale(client, users, quiz):
    client.login(users["learner"].employee_no)
    attempt_id = start(client, quiz)
    url = f"/attempts/{attempt_id}/save"
    first = client.post_json(url, {"position": 1, "selected": [1], "version": 0})
    assert first.status_code == 200 and first.json["version"] == 1
    stale = client.post_json(url, {"position": 1, "selected": [0], "version": 0})
    assert stale.status_code == 409 and stale.json["selected"] == [1]
    state = client.get(f"/attempts/{attempt_id}/state").json
    assert state["items"][1] == {"position": 1, "version": 1, "selected": [1], "locked": False}
    assert client.post_json(url, {"position": 1, "selected": "x", "version": 1}).status_code == 400
    assert client.post_json(url, {"position": 1, "selected": [9], "version": 1}).status_code == 400
    assert client.post_json(url, {"position": 1, "selected": [0], "version": 1},
                            csrf=False).status_code == 400


def test_late_save_is_refused_and_the_attempt_finalised(client, users, bank, db_session):
    quiz = make_quiz(bank, users["trainer"], count=2, time_limit_s=60, title="很短")
    db_session.commit()
    client.login(users["learner"].employee_no)
    attempt_id = start(client, quiz)
    attempt = db_session.get(Attempt, attempt_id)
    attempt.deadline_at = utcnow() - timedelta(seconds=31)
    db_session.commit()
    response = client.post_json(f"/attempts/{attempt_id}/save",
                                {"position": 0, "selected": [0], "version": 0})
    assert response.status_code == 409 and response.json["error"] == "TimeUp"
    db_session.expire_all()
    assert db_session.get(Attempt, attempt_id).state == "expired"
    assert client.get(f"/attempts/{attempt_id}").headers["Location"].endswith("/result")


def test_starting_again_after_an_unswept_deadline_finalises_the_old_attempt_first(
        client, users, bank, db_session):
    """The start's overdue path: the attempt in progress ran out (deadline + grace) before the
    sweep came; starting again expires it and opens a new one, in the route's write transaction."""
    quiz = make_quiz(bank, users["trainer"], count=2, time_limit_s=60, title="重来")
    db_session.commit()
    client.login(users["learner"].employee_no)
    first = start(client, quiz)
    db_session.get(Attempt, first).deadline_at = utcnow() - timedelta(seconds=31)
    db_session.commit()
    second = start(client, quiz)
    assert second != first
    db_session.expire_all()
    assert db_session.get(Attempt, first).state == "expired"
    assert db_session.get(Attempt, second).state == "in_progress"
    assert len(db_session.get(Attempt, second).items) == 2


def test_another_learners_attempt_is_refused_everywhere(client, another_client, users, quiz):
    client.login(users["learner"].employee_no)
    attempt_id = start(client, quiz)
    another_client.login(users["learner2"].employee_no)
    for url in (f"/attempts/{attempt_id}", f"/attempts/{attempt_id}/state",
                f"/attempts/{attempt_id}/submit", f"/attempts/{attempt_id}/result"):
        assert another_client.get(url).status_code == 403, url
    assert another_client.post_json(f"/attempts/{attempt_id}/save", {
        "position": 0, "selected": [0], "version": 0}).status_code == 403
    assert another_client.post(f"/attempts/{attempt_id}/submit", {}).status_code == 403
    assert another_client.post(f"/attempts/{attempt_id}/answers", {"go": "save"}).status_code == 403
    assert another_client.get(f"/attempts/{attempt_id}/review").status_code == 403


def test_practice_reveals_an_answer_only_once_locked(client, users, bank, db_session):
    quiz = make_quiz(bank, users["trainer"], count=3, mode="practice", time_limit_s=None,
                     title="练习")
    db_session.commit()
    client.login(users["learner"].employee_no)
    attempt_id = start(client, quiz)
    attempt = db_session.get(Attempt, attempt_id)
    item = attempt.items[0]
    page = client.get(f"/attempts/{attempt_id}").get_data(as_text=True)
    assert item.snapshot["explanation"] not in page
    client.post_json(f"/attempts/{attempt_id}/save", {
        "position": 0, "selected": [item.choice_order.index(wrong_of(item)[0])], "version": 0})
    locked = client.post_json(f"/attempts/{attempt_id}/lock", {"position": 0})
    assert locked.status_code == 200 and item.snapshot["explanation"] in locked.json["html"]
    page = client.get(f"/attempts/{attempt_id}").get_data(as_text=True)
    assert item.snapshot["explanation"] in page
    other = attempt.items[1].snapshot["explanation"]
    assert other not in page
    again = client.post_json(f"/attempts/{attempt_id}/save", {
        "position": 0, "selected": [0], "version": 1})
    assert again.status_code == 409
    notebook = client.get("/mistakes").get_data(as_text=True)
    assert item.snapshot["stem"][:10] in notebook


def test_review_policy_score_only(client, users, bank, db_session):
    quiz = make_quiz(bank, users["trainer"], count=2, review_what="score", title="只看分数")
    db_session.commit()
    client.login(users["learner"].employee_no)
    attempt_id = start(client, quiz)
    client.post(f"/attempts/{attempt_id}/submit", {})
    result = client.get(f"/attempts/{attempt_id}/result").get_data(as_text=True)
    assert "data-score" in result
    for marker in leak_markers(db_session, attempt_id):
        assert marker not in result
    attempt = db_session.get(Attempt, attempt_id)
    assert attempt.items[0].snapshot["stem"] not in result


def test_trainer_builds_a_quiz_and_sees_attempts(client, users, bank, quiz, db_session,
                                                 another_client):
    another_client.login(users["learner"].employee_no)
    attempt_id = start(another_client, quiz)
    client.login(users["trainer"].employee_no)
    response = client.post("/quizzes/new", {
        "title": "新测验", "mode": "exam", "time_limit_min": "15", "pass_mark": "60",
        "grading": "highest", "layout": "paged", "navigation": "free",
        "review_what": "full", "review_when": "immediately", "delay_min": "0",
        "rules-0-bank_id": str(bank.id), "rules-0-category": "服务规范", "rules-0-count": "4",
        "rules-0-points": "2", "rules-0-difficulty": "", "rules-0-qtype": "",
        "rules-1-bank_id": "0"})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    too_many = client.post("/quizzes/new", {
        "title": "太多", "mode": "exam", "pass_mark": "60", "grading": "highest",
        "layout": "all", "navigation": "free", "review_what": "full",
        "review_when": "immediately", "rules-0-bank_id": str(bank.id), "rules-0-count": "50",
        "rules-0-points": "1"})
    assert too_many.status_code == 200 and "50" in too_many.get_data(as_text=True)
    page = client.get(f"/quizzes/{quiz.id}/attempts").get_data(as_text=True)
    assert users["learner"].name in page
    assert client.get(f"/attempts/{attempt_id}/review").status_code == 200


def test_a_trainer_only_sees_quizzes_they_manage(client, users, bank, make_staff, db_session):
    other_trainer = make_staff("trainer")
    quiz = make_quiz(bank, other_trainer, count=2, title="别人的测验")
    db_session.commit()
    client.login(users["trainer"].employee_no)
    assert client.get(f"/quizzes/{quiz.id}/attempts").status_code == 403
    assert client.get(f"/quizzes/{quiz.id}/edit").status_code == 403


def _finish(client, quiz, db_session, percent) -> int:
    """An attempt through the pages, its grade then set to `percent`."""
    from decimal import Decimal

    attempt_id = start(client, quiz)
    client.post(f"/attempts/{attempt_id}/submit", {})
    attempt = db_session.get(Attempt, attempt_id)
    attempt.percent, attempt.passed = Decimal(percent), Decimal(percent) >= quiz.pass_mark
    db_session.commit()
    return attempt_id


def kept_grade_shown(html: str) -> str:
    match = re.search(r"data-kept-grade>(.*?)</(dd|p)>", html, re.S)
    assert match, "no kept grade shown"
    return re.sub(r"<[^>]+>|\s+", " ", match.group(1)).strip()


def test_with_grading_last_a_later_failed_attempt_is_the_grade_shown(
        client, another_client, users, bank, db_session):
    quiz = make_quiz(bank, users["trainer"], count=2, grading="last", attempts_allowed=None,
                     title="以最后一次为准")
    db_session.commit()
    client.login(users["learner"].employee_no)
    first = _finish(client, quiz, db_session, 90)
    assert "data-kept-grade" not in client.get(f"/attempts/{first}/result").get_data(
        as_text=True)   # one attempt: its own score is the grade
    second = _finish(client, quiz, db_session, 30)
    shown = kept_grade_shown(client.get(f"/quizzes/{quiz.id}").get_data(as_text=True))
    assert shown.startswith("30 %") and ("不及格" in shown or "Not passed" in shown), shown
    shown = kept_grade_shown(client.get(f"/attempts/{first}/result").get_data(as_text=True))
    assert shown.endswith(")") and "30 %" in shown, shown

    another_client.login(users["trainer"].employee_no)
    page = another_client.get(f"/quizzes/{quiz.id}/attempts").get_data(as_text=True)
    table = page[page.index("data-kept-grades"):]
    table = table[:table.index("</table>")]
    assert users["learner"].name in table and "30 %" in table and "90 %" not in table
    # The attempt that counts is marked in the list of attempts.
    counted = re.findall(r'data-kept>[^<]*</span></td>\s*<td><a href="/attempts/(\d+)/review"',
                         page)
    assert counted == [str(second)]


@pytest.fixture
def sequential(bank, users, db_session):
    quiz = make_quiz(bank, users["trainer"], count=3, layout="paged", navigation="sequential",
                     title="只能向前")
    db_session.commit()
    return quiz


def _next_from(client, attempt_id, page, answers=None):
    form = {"go": "next", "page": str(page), **(answers or {})}
    return client.post(f"/attempts/{attempt_id}/answers", form)


def test_sequential_navigation_refuses_a_json_save_to_a_page_left_behind(
        client, users, sequential, db_session):
    client.login(users["learner"].employee_no)
    attempt_id = start(client, sequential)
    url = f"/attempts/{attempt_id}/save"
    assert client.post_json(url, {"position": 0, "selected": [0], "version": 0}).status_code == 200
    # A GET of another page moves nothing: page 1 is not open yet, page 0 still is.
    page = client.get(f"/attempts/{attempt_id}?page=1").get_data(as_text=True)
    assert 'id="q0"' in page and 'id="q1"' not in page
    assert client.post_json(url, {"position": 0, "selected": [1], "version": 1}).status_code == 200
    assert _next_from(client, attempt_id, 0).status_code == 302
    refused = client.post_json(url, {"position": 0, "selected": [0], "version": 2})
    assert refused.status_code == 409 and refused.json["error"] == "QuestionClosed", refused.json
    assert refused.json["page_url"].endswith(f"/attempts/{attempt_id}")
    db_session.expire_all()
    assert db_session.get(Attempt, attempt_id).items[0].version == 2
    # Asking for the page left behind shows the page open now.
    page = client.get(f"/attempts/{attempt_id}?page=0").get_data(as_text=True)
    assert 'id="q1"' in page and 'id="q0"' not in page
    assert client.post_json(url, {"position": 1, "selected": [0], "version": 0}).status_code == 200
    assert db_session.get(Attempt, attempt_id).open_from == 1


def test_sequential_navigation_refuses_a_plain_form_save_to_a_page_left_behind(
        client, users, sequential, db_session):
    client.login(users["learner"].employee_no)
    attempt_id = start(client, sequential)
    assert _next_from(client, attempt_id, 0, {"q0": "0", "v0": "0"}).status_code == 302
    db_session.expire_all()
    before = list(db_session.get(Attempt, attempt_id).items[0].selected)
    # The back button's copy of page 0, sent again with another answer and "next".
    response = _next_from(client, attempt_id, 0, {"q0": "1", "v0": "1"})
    assert response.status_code == 302
    db_session.expire_all()
    attempt = db_session.get(Attempt, attempt_id)
    assert attempt.items[0].selected == before and attempt.items[0].version == 1
    assert attempt.open_from == 1   # a refused save moves nothing on
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "向前" in page or "forward only" in page
    assert 'id="q1"' in page


def test_free_navigation_goes_back_and_forth(client, users, bank, db_session):
    quiz = make_quiz(bank, users["trainer"], count=3, layout="paged", navigation="free",
                     title="自由翻页")
    db_session.commit()
    client.login(users["learner"].employee_no)
    attempt_id = start(client, quiz)
    assert _next_from(client, attempt_id, 0, {"q0": "0", "v0": "0"}).status_code == 302
    assert 'id="q0"' in client.get(f"/attempts/{attempt_id}?page=0").get_data(as_text=True)
    assert client.post_json(f"/attempts/{attempt_id}/save",
                            {"position": 0, "selected": [1], "version": 1}).status_code == 200
    db_session.expire_all()
    assert db_session.get(Attempt, attempt_id).open_from == 0


@pytest.mark.parametrize("by_page", [False, True])
def test_a_time_up_result_says_so_and_when_in_the_persons_zone(
        client, users, bank, db_session, by_page):
    """Finalised by the server after the grace (expired), or submitted by the page's own timer
    at zero: the result says 时间到，已自动交卷 and the time, in the person's time zone."""
    from zoneinfo import ZoneInfo

    from babel.dates import format_datetime

    quiz = make_quiz(bank, users["trainer"], count=2, time_limit_s=60, title="限时")
    learner = users["learner"]
    learner.timezone = "America/New_York"
    db_session.commit()
    client.login(learner.employee_no)
    attempt_id = start(client, quiz)
    attempt = db_session.get(Attempt, attempt_id)
    attempt.deadline_at = utcnow() - timedelta(seconds=5 if by_page else 31)
    db_session.commit()
    if by_page:   # the page's timer reached zero; its submit lands within the grace
        client.post(f"/attempts/{attempt_id}/submit", {})
    page = client.get(f"/attempts/{attempt_id}/result").get_data(as_text=True)
    db_session.expire_all()
    attempt = db_session.get(Attempt, attempt_id)
    assert attempt.state == ("submitted" if by_page else "expired")
    when = format_datetime(attempt.submitted_at, "medium",
                           tzinfo=ZoneInfo("America/New_York"), locale="zh_CN")
    notice = re.search(r"data-time-up>([^<]*)<", page).group(1)
    assert "时间到，已自动交卷" in notice and when in notice, notice


def test_a_quiz_with_many_attempts_is_read_a_page_at_a_time(
        client, users, bank, make_staff, db_session):
    """The attempts page reads 50 finished attempts and 50 people a page (it loaded every
    attempt of the quiz); the attempt that counts is marked whichever page it is on, and the
    people in progress show their answered items."""
    from decimal import Decimal

    quiz = make_quiz(bank, users["trainer"], count=3, grading="highest",
                     attempts_allowed=None, title="很多人考过")
    people = [make_staff("learner", employee_no=f"P{i:03d}") for i in range(60)]
    now = utcnow()
    best = {}
    for i, person in enumerate(people):
        for number, percent in ((1, 40 + i % 50), (2, 30 + i % 40)):
            at = now - timedelta(days=2, minutes=10 * i + number)
            attempt = Attempt(quiz_id=quiz.id, staff_id=person.id, number=number,
                              state="submitted", started_at=at, deadline_at=None,
                              submitted_at=at + timedelta(minutes=5), score=Decimal(percent),
                              max_score=Decimal(100), percent=Decimal(percent),
                              passed=percent >= 60)
            db_session.add(attempt)
            db_session.flush()
            if number == 1:
                best[person.employee_no] = attempt.id   # the first is always the higher one
    db_session.commit()
    client.login(users["learner"].employee_no)
    live_id = start(client, quiz)
    client.post_json(f"/attempts/{live_id}/save", {"position": 0, "selected": [0], "version": 0})

    client.login(users["trainer"].employee_no)
    first = client.get(f"/quizzes/{quiz.id}/attempts").get_data(as_text=True)
    live = first[first.index("data-live"):]
    live = live[:live.index("</table>")]
    assert users["learner"].name in live and "1 / 3" in live
    finished = first[first.index("data-finished"):]
    finished = finished[:finished.index("</table>")]
    assert finished.count("/review") == 50
    assert "P000" in finished and "P059" not in finished      # the latest started first
    kept = first[first.index("data-kept-grades"):]
    kept = kept[:kept.index("</table>")]
    assert kept.count("<tr>") == 51 and "P049" in kept and "P050" not in kept

    last = client.get(f"/quizzes/{quiz.id}/attempts?page=3&people=2").get_data(as_text=True)
    finished = last[last.index("data-finished"):]
    finished = finished[:finished.index("</table>")]
    assert finished.count("/review") == 20 and "P059" in finished
    # Each person's counted attempt is marked, and only that one.
    counted = set(re.findall(r'data-kept>[^<]*</span></td>\s*<td><a href="/attempts/(\d+)/review"',
                             finished))
    shown = set(re.findall(r'/attempts/(\d+)/review', finished))
    assert counted == {str(best[p]) for p in best} & shown and counted
    kept = last[last.index("data-kept-grades"):]
    kept = kept[:kept.index("</table>")]
    assert "P050" in kept and "P059" in kept and "P049" not in kept
    # Both lists keep the other's page in their links.
    assert f"/quizzes/{quiz.id}/attempts?page=2&amp;people=2" in last or \
        f"/quizzes/{quiz.id}/attempts?people=2&amp;page=2" in last
    assert client.get(f"/quizzes/{quiz.id}/attempts?page=x&people=-4").status_code == 200
