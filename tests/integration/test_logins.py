"""Each sign-in is a login record on the server: signing out, ending a device, changing or
resetting a password revoke it wherever its cookies went (security review, items 1 and 2)."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from tests.conftest import PASSWORD, Client
from trainer.accounts.models import Login
from trainer.core.timeutil import utcnow


def _remembered_login(client, person) -> None:
    response = client.post("/login", {"employee_no": person.employee_no, "password": PASSWORD,
                                      "remember": "y"})
    assert response.status_code == 302


def _cookie(client, name):
    return client.raw.get_cookie(name)


def _copy_cookies(source: Client, target: Client, *names: str) -> None:
    for name in names:
        cookie = source.raw.get_cookie(name)
        assert cookie is not None, name
        target.raw.set_cookie(name, cookie.value)


def test_sign_out_deletes_the_remember_cookie_and_stays_signed_out(client, users):
    _remembered_login(client, users["learner"])
    assert _cookie(client, "remember_token") is not None
    response = client.post("/logout")
    assert response.status_code == 302
    deleted = [h for h in response.headers.getlist("Set-Cookie")
               if h.startswith("remember_token=")]
    assert deleted and ("Max-Age=0" in deleted[0] or "1970" in deleted[0])
    assert _cookie(client, "remember_token") is None
    page = client.get("/me")
    assert page.status_code == 302 and "/login" in page.headers["Location"]


def test_a_session_cookie_copied_before_sign_out_is_refused_after_it(client, another_client,
                                                                      users):
    client.login(users["learner"].employee_no)
    _copy_cookies(client, another_client, "session")
    assert another_client.get("/me").status_code == 200
    client.post("/logout")
    response = another_client.get("/me")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_remember_cookie_copied_before_sign_out_is_refused_after_it(client, another_client,
                                                                       users):
    _remembered_login(client, users["learner"])
    _copy_cookies(client, another_client, "remember_token")
    assert another_client.get("/me").status_code == 200  # the cookie alone signs in
    client.post("/logout")
    fresh = Client(another_client.raw.application.test_client())
    fresh.raw.set_cookie("remember_token", _remember_value(another_client))
    assert fresh.get("/me").status_code == 302


def _remember_value(client) -> str:
    return client.raw.get_cookie("remember_token").value


def test_a_remember_token_expires(app, client, another_client, users, db_session):
    _remembered_login(client, users["learner"])
    login = db_session.scalar(select(Login).where(Login.staff_id == users["learner"].id))
    assert login.remember and login.expires_at - login.created_at == \
        app.config["REMEMBER_COOKIE_DURATION"]
    login.expires_at = utcnow() - timedelta(seconds=1)
    db_session.commit()
    another_client.raw.set_cookie("remember_token", _remember_value(client))
    assert another_client.get("/me").status_code == 302
    assert client.get("/me").status_code == 302  # the session of that login too


def test_each_sign_in_is_a_login_record(client, users, db_session):
    learner = users["learner"]
    client.raw.get("/login", headers={"User-Agent": "Mozilla/5.0 (Windows NT 10.0) Chrome/120.0"})
    client.post("/login", {"employee_no": learner.employee_no, "password": PASSWORD},
                headers={"User-Agent": "Mozilla/5.0 (Windows NT 10.0) Chrome/120.0"},
                environ_base={"REMOTE_ADDR": "10.1.2.3"})
    login = db_session.scalar(select(Login).where(Login.staff_id == learner.id))
    assert login.address == "10.1.2.3"
    assert "Chrome/120" in login.user_agent
    assert login.ended_at is None and login.last_seen_at == login.created_at
    assert not login.remember
    client.post("/logout")
    db_session.expire_all()
    assert db_session.get(Login, login.id).ended_at is not None
    assert db_session.get(Login, login.id).end_reason == "signed_out"


def test_a_person_sees_their_devices_and_ends_one(client, another_client, users, db_session):
    learner = users["learner"]
    client.login(learner.employee_no)
    another_client.login(learner.employee_no)
    page = client.get("/me/logins").get_data(as_text=True)
    assert "已登录的设备" in page and "当前设备" in page
    logins = db_session.scalars(select(Login).where(Login.staff_id == learner.id)
                                .order_by(Login.id)).all()
    assert len(logins) == 2
    other = logins[1]
    assert client.post(f"/me/logins/{other.id}/end").status_code == 302
    assert another_client.get("/me").status_code == 302
    assert client.get("/me").status_code == 200


def test_a_person_cannot_end_someone_elses_login(client, another_client, users, db_session):
    another_client.login(users["learner2"].employee_no)
    theirs = db_session.scalar(select(Login).where(Login.staff_id == users["learner2"].id))
    client.login(users["learner"].employee_no)
    assert client.post(f"/me/logins/{theirs.id}/end").status_code == 404
    assert another_client.get("/me").status_code == 200


def test_sign_out_everywhere_else_keeps_this_device(client, another_client, users):
    learner = users["learner"]
    client.login(learner.employee_no)
    another_client.login(learner.employee_no)
    assert client.post("/me/logins/end-others").status_code == 302
    assert another_client.get("/me").status_code == 302
    assert client.get("/me").status_code == 200


def test_hr_ends_a_learners_logins_but_not_an_admins(client, another_client, users,
                                                       db_session):
    another_client.login(users["learner"].employee_no)
    client.login(users["hr"].employee_no)
    page = client.get(f"/staff/{users['learner'].id}").get_data(as_text=True)
    assert "已登录的设备" in page
    assert client.post(f"/staff/{users['learner'].id}/logins/end").status_code == 302
    assert another_client.get("/me").status_code == 302

    admin_client = Client(another_client.raw.application.test_client())
    admin_client.login(users["admin"].employee_no)
    assert client.post(f"/staff/{users['admin'].id}/logins/end").status_code == 403
    assert admin_client.get("/staff").status_code == 200


def test_password_change_and_reset_end_every_login(client, another_client, users, db_session):
    learner = users["learner"]
    another_client.login(learner.employee_no)
    client.login(learner.employee_no)
    client.post("/password", {"current": PASSWORD, "new": "brand new pass phrase",
                              "confirm": "brand new pass phrase"})
    assert another_client.get("/me").status_code == 302
    assert client.get("/me").status_code == 200  # this browser signed in again
    open_logins = db_session.scalar(select(func.count()).select_from(Login).where(
        Login.staff_id == learner.id, Login.ended_at.is_(None)))
    assert open_logins == 1

    hr_client = Client(another_client.raw.application.test_client())
    hr_client.login(users["hr"].employee_no)
    hr_client.post(f"/staff/{learner.id}/reset-password", {"confirmed": "yes"})
    assert client.get("/me").status_code == 302
    db_session.expire_all()
    assert db_session.scalar(select(func.count()).select_from(Login).where(
        Login.staff_id == learner.id, Login.ended_at.is_(None))) == 0


def test_last_seen_moves_at_most_every_ten_minutes(client, users, db_session):
    client.login(users["learner"].employee_no)
    login = db_session.scalar(select(Login).where(Login.staff_id == users["learner"].id))
    first_seen = login.last_seen_at
    client.get("/me")
    db_session.expire_all()
    assert db_session.get(Login, login.id).last_seen_at == first_seen  # within ten minutes
    stale = utcnow() - timedelta(minutes=11)
    db_session.get(Login, login.id).last_seen_at = stale
    db_session.commit()
    client.get("/me")
    db_session.expire_all()
    assert db_session.get(Login, login.id).last_seen_at > stale + timedelta(minutes=10)


def test_prune_deletes_login_records_older_than_180_days(app, db_session, users):
    from trainer.accounts.services import prune_logins

    now = utcnow()
    old = Login.new(users["learner"].id, now=now - timedelta(days=181), remember=False,
                    lifetime=timedelta(hours=12), address="10.0.0.1", user_agent="old")[0]
    recent = Login.new(users["learner"].id, now=now - timedelta(days=179), remember=False,
                       lifetime=timedelta(hours=12), address="10.0.0.2", user_agent="recent")[0]
    db_session.add_all([old, recent])
    db_session.commit()
    old_id, recent_id = old.id, recent.id
    result = app.test_cli_runner().invoke(args=["accounts", "prune"])
    assert result.exit_code == 0, result.output
    assert "1" in result.output
    assert prune_logins(now=now) == 0  # idempotent
    db_session.expire_all()
    assert db_session.get(Login, old_id) is None
    assert db_session.get(Login, recent_id) is not None
