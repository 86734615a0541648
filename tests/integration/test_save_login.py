"""The autosave proves the login inside its own statement (exam-day hot path). It must refuse
exactly what every other view refuses: a deactivated account, a rotated session (password
changed or reset elsewhere), a one-time password not yet replaced."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.integration.quiz_fixtures import first_item_selected, start_as_learner
from trainer.accounts import services as accounts
from trainer.core.timeutil import utcnow
from trainer.quizzes.models import Attempt


@pytest.fixture
def started(client, users, db_session):
    return start_as_learner(client, users, db_session, "保存测验")


def save(client, attempt_id, version=0):
    return client.post_json(f"/attempts/{attempt_id}/save",
                            {"position": 0, "selected": [0], "version": version})


def test_a_normal_save_is_accepted(client, started, db_session):
    assert save(client, started).status_code == 200
    assert first_item_selected(db_session, started) != []


def test_a_deactivated_account_cannot_save(client, users, started, db_session):
    csrf = client.csrf()
    accounts.set_login_enabled(users["admin"], users["learner"], False, now=utcnow())
    db_session.commit()
    response = client.raw.post(f"/attempts/{started}/save", headers={"X-CSRFToken": csrf},
                               json={"position": 0, "selected": [0], "version": 0})
    assert response.status_code in (401, 403)
    assert first_item_selected(db_session, started) == []


def test_a_rotated_session_cannot_save(client, users, started, db_session):
    csrf = client.csrf()
    accounts.reset_password(users["hr"], users["learner"], now=utcnow())
    db_session.commit()
    response = client.raw.post(f"/attempts/{started}/save", headers={"X-CSRFToken": csrf},
                               json={"position": 0, "selected": [0], "version": 0})
    assert response.status_code in (302, 401, 403)
    assert first_item_selected(db_session, started) == []


def test_a_one_time_password_must_be_replaced_before_saving(client, users, started,
                                                             db_session):
    from trainer.accounts.models import StaffMember

    person = db_session.scalar(select(StaffMember).where(StaffMember.id == users["learner"].id))
    person.must_change_password = True
    db_session.commit()
    response = save(client, started)
    assert response.status_code in (302, 401, 403)
    assert first_item_selected(db_session, started) == []


def test_a_wrongly_remembered_choice_order_is_never_stored(client, started, db_session):
    """Each worker remembers attempts' choice orders; the UPDATE checks the remembered order
    against the row, so a wrong memory (an id reused after a rollback) falls back to the
    full path and the answer is stored as the candidate picked it."""
    from trainer.quizzes import services

    attempt = db_session.get(Attempt, started)
    item = attempt.items[0]
    true_order = list(item.choice_order)
    wrong = list(reversed(true_order))
    assert wrong != true_order
    services.forget_choice_orders()
    services._REMEMBERED_ORDERS[started] = {0: (wrong, "[" + ", ".join(map(str, wrong)) + "]")}
    response = client.post_json(f"/attempts/{started}/save",
                                {"position": 0, "selected": [0], "version": 0})
    assert response.status_code == 200, response.get_json()
    assert first_item_selected(db_session, started) == [true_order[0]]
    # The wrong memory is gone (dropped, or replaced by the item's own order).
    assert services._REMEMBERED_ORDERS.get(started, {}).get(0, (true_order,))[0] == true_order
    # The next save remembers the right order and takes the fast path.
    response = client.post_json(f"/attempts/{started}/save",
                                {"position": 0, "selected": [1], "version": 1})
    assert response.status_code == 200
    assert first_item_selected(db_session, started) == [true_order[1]]
    assert services._REMEMBERED_ORDERS[started][0][0] == true_order


def test_a_plain_save_is_answered_by_the_lean_path_and_a_refusal_by_the_view(
        app, client, users, started, db_session, monkeypatch):
    """trainer.quizzes.fastsave answers the common case itself; whatever it refuses reaches the
    view unchanged (body included) and is explained there."""
    import functools

    from trainer.quizzes import services

    services.forget_choice_orders()  # (ids are reused after other tests' rollbacks)
    calls = []
    view = app.view_functions["quizzes.save"]

    @functools.wraps(view)  # (with its access rule)
    def counting(*args, **kwargs):
        from flask import request

        calls.append(request.get_json(silent=True))
        return view(*args, **kwargs)

    monkeypatch.setitem(app.view_functions, "quizzes.save", counting)
    response = save(client, started)
    assert response.status_code == 200 and response.get_json()["version"] == 1
    assert calls == []
    # A stale version: refused by the lean path's UPDATE, explained by the view (409).
    response = save(client, started, version=0)
    assert response.status_code in (200, 409)  # a retry of the same answer is accepted
    assert calls == [{"position": 0, "selected": [0], "version": 0}]
    accounts.set_login_enabled(users["admin"], users["learner"], False, now=utcnow())
    db_session.commit()
    response = save(client, started, version=1)
    assert response.status_code in (401, 403)
    # A login that no longer holds is refused by the checks every view gets, before the view.
    assert len(calls) == 1


def test_an_accepted_save_is_one_statement_and_never_moves_last_seen(app, client, users,
                                                                     started, db_session):
    """Exam day's autosave checks the login row inside its UPDATE and writes only the answer."""
    from datetime import timedelta

    from sqlalchemy import event

    from trainer.accounts.models import Login
    from trainer.core.db import db

    assert save(client, started).status_code == 200      # (remembers the choice orders)
    csrf = client.csrf()
    login = db_session.scalar(select(Login).where(Login.staff_id == users["learner"].id))
    stale = utcnow() - timedelta(minutes=30)
    login.last_seen_at = stale
    db_session.commit()
    with app.app_context():
        engine = db.engine
    statements = []

    def log(_conn, _cursor, statement, *_args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", log)
    try:
        response = client.raw.post(f"/attempts/{started}/save", headers={"X-CSRFToken": csrf},
                                   json={"position": 0, "selected": [1], "version": 1})
        assert response.status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", log)
    sql = [s for s in statements if not s.startswith(("SAVEPOINT", "RELEASE", "ROLLBACK TO"))]
    assert len(sql) == 1 and sql[0].startswith("UPDATE attempt_items"), sql
    assert "logins" in sql[0]
    db_session.expire_all()
    assert db_session.get(Login, login.id).last_seen_at == stale


def test_an_ended_login_cannot_save(client, users, started, db_session):
    csrf = client.csrf()
    from trainer.accounts.models import Login

    login = db_session.scalar(select(Login).where(Login.staff_id == users["learner"].id))
    accounts.end_login(users["learner"], login, now=utcnow())
    db_session.commit()
    response = client.raw.post(f"/attempts/{started}/save", headers={"X-CSRFToken": csrf},
                               json={"position": 0, "selected": [0], "version": 0})
    assert response.status_code == 401
    assert first_item_selected(db_session, started) == []


@pytest.mark.parametrize("payload", [
    {"position": 0, "selected": [0], "version": 0},
    {"position": 99, "selected": [0], "version": 0},
    {"position": 0, "selected": [9], "version": 0},
    {"position": "0", "selected": [0], "version": 0},
    {"selected": "x"},
    [1, 2],
])
def test_someone_elses_attempt_is_refused_the_same_way_whatever_the_payload(
        client, another_client, users, started, db_session, payload):
    """The answer does not depend on the body, so it tells nothing of the attempt's shape."""
    another_client.login(users["learner2"].employee_no)
    response = another_client.post_json(f"/attempts/{started}/save", payload)
    assert response.status_code == 403
    assert first_item_selected(db_session, started) == []
