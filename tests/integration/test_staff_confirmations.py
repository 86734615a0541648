"""Resetting a password and deactivating an account cannot be taken back by the person they
happen to (signed out everywhere, an old password gone): HR confirms on a page that says what
will happen, and only that page's form acts."""
from __future__ import annotations

import re

from sqlalchemy import func, select

from trainer.accounts.models import Login, StaffMember


def open_logins(db_session, staff_id: int) -> int:
    return db_session.scalar(select(func.count()).select_from(Login).where(
        Login.staff_id == staff_id, Login.ended_at.is_(None)))


def form_of(page: str, action: str) -> str:
    """The <form> posting to `action` in the page."""
    match = re.search(r'<form[^>]*action="%s"[^>]*>.*?</form>' % re.escape(action), page, re.S)
    assert match, f"no form posts to {action}"
    return match.group(0)


def test_the_staff_page_asks_before_resetting_a_password(client, another_client, users,
                                                         db_session):
    learner = users["learner"]
    another_client.login(learner.employee_no)
    client.login(users["hr"].employee_no)
    url = f"/staff/{learner.id}/reset-password"
    hash_before = learner.password_hash
    staff_page = client.get(f"/staff/{learner.id}").get_data(as_text=True)
    assert f'href="{url}"' in staff_page  # a link to the question, not a button that acts
    assert f'action="{url}"' not in staff_page

    question = client.get(url)
    assert question.status_code == 200
    page = question.get_data(as_text=True)
    assert learner.name in page and "一次性密码" in page and "所有设备" in page
    assert f'href="/staff/{learner.id}"' in page  # a way back that changes nothing

    # A POST that did not come through the question (an old one-click button) changes nothing.
    skipped = client.post(url)
    assert "data-otp" not in skipped.get_data(as_text=True)
    assert another_client.get("/me").status_code == 200
    db_session.expire_all()
    assert db_session.get(StaffMember, learner.id).password_hash == hash_before

    confirmed = client.post(url, {"confirmed": "yes"})
    assert confirmed.status_code == 200 and "data-otp" in confirmed.get_data(as_text=True)
    assert another_client.get("/me").status_code == 302
    assert 'name="confirmed"' in form_of(page, url)


def test_the_staff_page_asks_before_deactivating_an_account(client, another_client, users,
                                                            db_session):
    learner = users["learner"]
    another_client.login(learner.employee_no)
    client.login(users["hr"].employee_no)
    url = f"/staff/{learner.id}/active"
    staff_page = client.get(f"/staff/{learner.id}").get_data(as_text=True)
    assert f'href="{url}"' in staff_page and f'action="{url}"' not in staff_page

    page = client.get(url).get_data(as_text=True)
    assert learner.name in page and "所有设备" in page and "重新启用" in page
    assert 'name="confirmed"' in form_of(page, url)

    client.post(url, {"enable": "0"})  # straight from an old button: nothing happens
    db_session.expire_all()
    assert db_session.get(StaffMember, learner.id).login_enabled
    assert open_logins(db_session, learner.id) == 1

    response = client.post(url, {"enable": "0", "confirmed": "yes"})
    assert response.status_code == 302
    db_session.expire_all()
    assert not db_session.get(StaffMember, learner.id).login_enabled
    assert open_logins(db_session, learner.id) == 0

    # Reactivating takes nothing from anyone: one click, from the staff page.
    staff_page = client.get(f"/staff/{learner.id}").get_data(as_text=True)
    assert 'name="enable" value="1"' in form_of(staff_page, url)
    client.post(url, {"enable": "1"})
    db_session.expire_all()
    assert db_session.get(StaffMember, learner.id).login_enabled


def test_hr_is_not_asked_to_confirm_what_it_may_not_do(client, users):
    """Only an administrator changes an administrator's account: HR reads the page, with
    nothing on it to press, and the questions are refused."""
    client.login(users["hr"].employee_no)
    admin = users["admin"]
    assert client.get(f"/staff/{admin.id}/reset-password").status_code == 403
    assert client.get(f"/staff/{admin.id}/active").status_code == 403
    assert client.get(f"/staff/{admin.id}/edit").status_code == 403
    page = client.get(f"/staff/{admin.id}").get_data(as_text=True)
    assert admin.name in page
    assert f"/staff/{admin.id}/" not in page  # no link or form acting on the account
