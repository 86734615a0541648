"""JSON requests (the autosave) are checked by trainer.core.csrf: the same rules as Flask-WTF's
form check, the token read from the header and its verified signature remembered. Each refusal
changes nothing."""
from __future__ import annotations

import time
from types import SimpleNamespace

import pytest
from itsdangerous import URLSafeTimedSerializer

from tests.integration.quiz_fixtures import first_item_selected, start_as_learner
from trainer.quizzes.models import Attempt


@pytest.fixture
def started(client, users, db_session):
    return start_as_learner(client, users, db_session, "令牌测验")


def _save(client, attempt_id, headers):
    return client.raw.post(f"/attempts/{attempt_id}/save", headers=headers,
                           json={"position": 0, "selected": [0], "version": 0})


def test_the_sessions_token_in_the_header_is_accepted_again_and_again(client, started,
                                                                      db_session):
    csrf = client.csrf()
    for version in range(3):
        response = client.raw.post(f"/attempts/{started}/save", headers={"X-CSRFToken": csrf},
                                   json={"position": 0, "selected": [version % 2],
                                         "version": version})
        assert response.status_code == 200, response.get_json()
    assert first_item_selected(db_session, started) != []


@pytest.mark.parametrize("header", [None, "", "not-a-token", "abc.def.ghi"])
def test_a_missing_or_forged_token_is_refused(client, started, db_session, header):
    headers = {} if header is None else {"X-CSRFToken": header}
    response = _save(client, started, headers)
    assert response.status_code == 400
    assert response.get_json()["error"] == 400 and response.get_json()["message"]
    assert first_item_selected(db_session, started) == []


def test_another_sessions_token_is_refused_even_once_remembered(client, another_client, users,
                                                                started, db_session):
    another_client.login(users["trainer"].employee_no)
    theirs = another_client.csrf()
    # Their token passes the check for them (and is now remembered): the save itself is
    # refused further on, as not theirs …
    response = another_client.raw.post(f"/attempts/{started}/save",
                                       headers={"X-CSRFToken": theirs},
                                       json={"position": 0, "selected": [0], "version": 0})
    assert response.status_code in (403, 404), response.get_json()
    # … but it is not this session's.
    assert _save(client, started, {"X-CSRFToken": theirs}).status_code == 400
    assert first_item_selected(db_session, started) == []


def test_a_token_signed_with_another_key_is_refused(app, client, started, db_session):
    client.csrf()
    with client.raw.session_transaction() as session:
        raw = session["csrf_token"]
    forged = URLSafeTimedSerializer("some-other-secret-key", salt="wtf-csrf-token").dumps(raw)
    assert _save(client, started, {"X-CSRFToken": forged}).status_code == 400
    assert first_item_selected(db_session, started) == []


def test_an_expired_token_is_refused_even_once_remembered(app, client, started, db_session,
                                                          monkeypatch):
    csrf = client.csrf()
    assert _save(client, started, {"X-CSRFToken": csrf}).status_code == 200
    limit = app.config["WTF_CSRF_TIME_LIMIT"]
    if not limit:
        pytest.skip("tokens never expire in this configuration")
    later = time.time() + limit + 60
    # Only the token is old (a page left open while other tabs kept the session alive): the
    # session still holds the login, so the page is told it expired (400), not signed out.
    monkeypatch.setattr("trainer.core.csrf.time", SimpleNamespace(time=lambda: later))
    response = client.raw.post(f"/attempts/{started}/save", headers={"X-CSRFToken": csrf},
                               json={"position": 0, "selected": [1], "version": 1})
    assert response.status_code == 400
    db_session.expire_all()
    item = db_session.get(Attempt, started).items[0]
    assert item.version == 1


def test_once_the_session_itself_has_expired_a_save_is_told_to_sign_in_again(
        app, client, started, db_session, monkeypatch):
    csrf = client.csrf()
    assert _save(client, started, {"X-CSRFToken": csrf}).status_code == 200
    later = time.time() + app.permanent_session_lifetime.total_seconds() + 60
    monkeypatch.setattr("time.time", lambda: later)
    response = client.raw.post(f"/attempts/{started}/save", headers={"X-CSRFToken": csrf},
                               json={"position": 0, "selected": [1], "version": 1})
    assert response.status_code == 401
    db_session.expire_all()
    assert db_session.get(Attempt, started).items[0].version == 1


def test_over_https_the_referrer_must_be_this_site(client, started, db_session):
    csrf = client.csrf()
    response = client.raw.post(f"/attempts/{started}/save", headers={"X-CSRFToken": csrf},
                               json={"position": 0, "selected": [0], "version": 0},
                               base_url="https://localhost",
                               environ_overrides={"HTTP_REFERER": "https://evil.example/"})
    assert response.status_code == 400
    assert first_item_selected(db_session, started) == []


def test_without_a_login_in_the_session_a_json_save_is_told_to_sign_in_again(
        app, client, started, db_session):
    """The session cookie is gone (expired, cleared): the CSRF check fails for want of the
    session's token, but what the page must hear is that the person is signed out (401: sign
    in again, answers kept), not a 400 that no reload can cure."""
    csrf = client.csrf()
    fresh = app.test_client()   # no cookie at all
    response = fresh.post(f"/attempts/{started}/save", headers={"X-CSRFToken": csrf},
                          json={"position": 0, "selected": [0], "version": 0})
    assert response.status_code == 401 and response.get_json()["error"] == 401
    response = fresh.post(f"/attempts/{started}/save",
                          json={"position": 0, "selected": [0], "version": 0})
    assert response.status_code == 401
    assert first_item_selected(db_session, started) == []
    # A JSON request to a public page is still held to its token.
    response = fresh.post("/login", json={"employee_no": "x"})
    assert response.status_code == 400, response.get_data(as_text=True)
