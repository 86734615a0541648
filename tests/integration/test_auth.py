"""Login, logout, passwords, cookies, CSRF and the failed-login limits."""
from __future__ import annotations

import re

from trainer.accounts.models import StaffMember
from trainer.accounts.passwords import MEMORY_COST_KIB, PARALLELISM, TIME_COST

from tests.conftest import PASSWORD


def test_login_page_is_chinese_by_default(client):
    page = client.get("/login").get_data(as_text=True)
    assert "登录" in page
    assert 'lang="zh-CN"' in page


def test_each_role_lands_on_its_home(client, users):
    homes = {"learner": "/my", "trainer": "/banks/", "hr": "/staff", "admin": "/staff"}
    for role, home in homes.items():
        response = client.login(users[role].employee_no)
        assert response.status_code == 302
        assert response.headers["Location"].endswith(home), role
        assert client.get(home).status_code == 200
        client.post("/logout")


def test_wrong_password_is_refused_with_a_message(client, users):
    response = client.login(users["learner"].employee_no, "wrong-password")
    assert response.status_code == 401
    assert "工号或密码错误" in response.get_data(as_text=True)
    assert client.get("/me").status_code == 302  # still signed out


def test_unknown_employee_number_is_refused_the_same_way(client, users):
    response = client.login("NOBODY", "whatever-pass")
    assert response.status_code == 401
    assert "工号或密码错误" in response.get_data(as_text=True)


def test_logout_ends_the_session(client, users):
    client.login(users["learner"].employee_no)
    assert client.get("/me").status_code == 200
    assert client.post("/logout").status_code == 302
    response = client.get("/me")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_logout_needs_post_with_csrf(client, users):
    client.login(users["learner"].employee_no)
    assert client.get("/logout").status_code == 405
    assert client.post("/logout", csrf=False).status_code == 400
    assert client.get("/me").status_code == 200


def test_form_without_csrf_token_is_rejected(client, users):
    response = client.post("/login", {"employee_no": users["learner"].employee_no,
                                       "password": PASSWORD}, csrf=False)
    assert response.status_code == 400
    assert client.get("/me").status_code == 302


def test_session_cookie_flags(client, users):
    response = client.login(users["learner"].employee_no)
    cookie = [h for h in response.headers.getlist("Set-Cookie") if h.startswith("session=")][0]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # plain HTTP in tests


def test_session_cookie_is_secure_over_https(app, client, users):
    csrf = client.csrf()
    response = client.raw.post("/login", data={"employee_no": users["learner"].employee_no,
                                               "password": PASSWORD, "csrf_token": csrf},
                               base_url="https://localhost", headers={"Referer": "https://localhost/login"})
    cookies = response.headers.getlist("Set-Cookie")
    session_cookie = [h for h in cookies if h.startswith("session=")]
    assert session_cookie and "Secure" in session_cookie[0]


def test_remember_me_lasts_at_most_14_days(app, client, users):
    response = client.post("/login", {"employee_no": users["learner"].employee_no,
                                      "password": PASSWORD, "remember": "y"})
    remember = [h for h in response.headers.getlist("Set-Cookie")
                if h.startswith("remember_token=")][0]
    assert "HttpOnly" in remember
    assert app.config["REMEMBER_COOKIE_DURATION"].days <= 14
    max_age = re.search(r"Max-Age=(\d+)", remember)
    assert max_age is None or int(max_age.group(1)) <= 14 * 86400


def test_csrf_token_outlives_a_long_exam(app):
    assert app.config["WTF_CSRF_TIME_LIMIT"] is None or app.config["WTF_CSRF_TIME_LIMIT"] >= 4 * 3600


def test_passwords_are_argon2id_at_owasp_minimum_or_stronger(users):
    staff = users["learner"]
    assert staff.password_hash.startswith("$argon2id$")
    params = dict(p.split("=") for p in staff.password_hash.split("$")[3].split(","))
    assert int(params["m"]) >= 19 * 1024 and int(params["t"]) >= 2 and int(params["p"]) >= 1
    assert MEMORY_COST_KIB >= 19456 and TIME_COST >= 2 and PARALLELISM >= 1


def test_one_time_password_forces_a_change_first(client, users, db_session):
    hr, learner = users["hr"], users["learner"]
    client.login(hr.employee_no)
    page = client.post(f"/staff/{learner.id}/reset-password",
                       {"confirmed": "yes"}).get_data(as_text=True)
    otp = re.search(r'data-otp>(\w+)<', page).group(1)
    client.post("/logout")
    response = client.login(learner.employee_no, PASSWORD)
    assert response.status_code == 401  # old password no longer works
    response = client.login(learner.employee_no, otp)
    assert response.headers["Location"].endswith("/password")
    assert client.get("/me").headers["Location"].endswith("/password")
    bad = client.post("/password", {"current": otp, "new": learner.employee_no,
                                    "confirm": learner.employee_no})
    assert "工号" in bad.get_data(as_text=True)
    good = client.post("/password", {"current": otp, "new": "my-own-pass-9",
                                     "confirm": "my-own-pass-9"})
    assert good.status_code == 302
    assert client.get("/me").status_code == 200
    db_session.expire_all()
    assert db_session.get(StaffMember, learner.id).must_change_password is False


def test_password_change_signs_out_other_sessions(app, client, another_client, users):
    learner = users["learner"]
    client.login(learner.employee_no)
    another_client.login(learner.employee_no)
    response = client.post("/password", {"current": PASSWORD, "new": "brand-new-pass-1",
                                         "confirm": "brand-new-pass-1"})
    assert response.status_code == 302
    assert client.get("/me").status_code == 200
    assert another_client.get("/me").status_code == 302


def test_deactivated_account_cannot_sign_in(client, users):
    hr, learner = users["hr"], users["learner"]
    client.login(hr.employee_no)
    client.post(f"/staff/{learner.id}/active", {"enable": "0", "confirmed": "yes"})
    client.post("/logout")
    assert client.login(learner.employee_no).status_code == 401


def test_failed_logins_slow_down_the_account_from_this_address(client, users):
    learner = users["learner"]
    for _ in range(4):
        assert client.login(learner.employee_no, "wrong-password").status_code == 401
    fifth = client.login(learner.employee_no, "wrong-password")
    assert fifth.status_code == 429 and fifth.headers["Retry-After"] == "30"
    limited = client.login(learner.employee_no, PASSWORD)
    assert limited.status_code == 429
    assert "秒后再试" in limited.get_data(as_text=True)
    # Another account from the same address is not affected.
    assert client.login(users["learner2"].employee_no).status_code == 302


def test_many_correct_logins_from_one_address_are_never_refused(client, make_staff):
    people = [make_staff("learner") for _ in range(12)]
    for person in people:
        assert client.login(person.employee_no).status_code == 302
        client.post("/logout")


def test_language_switch_is_remembered(client, users, db_session):
    client.post("/language", {"locale": "en", "next": "/login"})
    assert "Sign in" in client.get("/login").get_data(as_text=True)
    client.login(users["learner"].employee_no)
    assert "我的培训" in client.get("/me").get_data(as_text=True)  # the person's own choice
    client.post("/language", {"locale": "en", "next": "/me"})
    assert "My training" in client.get("/me").get_data(as_text=True)
    client.post("/logout")
    client.login(users["learner"].employee_no)
    assert "My training" in client.get("/me").get_data(as_text=True)
    db_session.expire_all()
    assert db_session.get(StaffMember, users["learner"].id).locale == "en"


def test_each_role_sees_its_own_entries_in_the_navigation_bar(client, users):
    entries = {"/my", "/quizzes", "/mistakes", "/banks/", "/quizzes/manage", "/tracks", "/staff",
               "/training/assign", "/settings"}
    seen = {"learner": {"/my", "/quizzes", "/mistakes"},
            "trainer": {"/banks/", "/quizzes/manage", "/tracks"},
            "hr": {"/tracks", "/staff", "/training/assign", "/settings"}}
    for role, links in seen.items():
        client.login(users[role].employee_no)
        page = client.get("/me").get_data(as_text=True)
        bar = page[page.index('<ul class="navbar-nav'):page.index("</ul>")]
        shown = set(re.findall(r'class="nav-link[^"]*" href="([^"]+)"', bar))
        assert shown & entries == links, role
        client.post("/logout")
    # Signed out, the bar has no entries at all; the page links the stylesheets once each.
    page = client.get("/login").get_data(as_text=True)
    assert "nav-link" not in page
    assert page.count("bootstrap.min.css") == 1 and page.count("bootstrap.min.js") == 1
