"""The password rule where people meet it: choosing a password, one-time passwords, old ones."""
from __future__ import annotations

import re

from trainer.accounts.models import Department, StaffMember
from trainer.accounts.rules import password_problems
from trainer.accounts.services import create_list_entry
from trainer.core.timeutil import utcnow

from tests.conftest import PASSWORD


def _alert(page: str) -> str:
    match = re.search(r'<div class="alert alert-danger" role="alert">(.*?)</div>', page, re.S)
    assert match, "no error shown"
    return match.group(1)


def _details(staff: StaffMember) -> dict[str, str]:
    return {"name": staff.name, "employee_no": staff.employee_no, "department": staff.department_name}


def test_a_weak_new_password_is_refused_saying_why_and_what_would_do(client, make_staff,
                                                                      db_session):
    person = make_staff("learner", employee_no="K10001", name="张伟", department="客服一部")
    before = person.password_hash
    client.login(person.employee_no)
    for weak, why in [("woaini1314", "至少需要 12 个字符"),
                      ("woaini1314520", "常见密码"),
                      ("weizhang88888", "您的姓名"),
                      ("K10001K10001ab", "您的工号")]:
        response = client.post("/password", {"current": PASSWORD, "new": weak, "confirm": weak})
        assert response.status_code == 200, weak
        message = _alert(response.get_data(as_text=True))
        assert why in message and "三四个互不相关的词" in message, weak
        assert "。 " not in message  # Chinese sentences follow each other without a space
    db_session.expire_all()
    assert db_session.get(StaffMember, person.id).password_hash == before
    good = client.post("/password", {"current": PASSWORD, "new": "窗外 下雨 小猫 在沙发上睡觉",
                                     "confirm": "窗外 下雨 小猫 在沙发上睡觉"})
    assert good.status_code == 302


def test_the_refusal_reads_as_english_in_english(client, make_staff):
    person = make_staff("learner")
    client.login(person.employee_no)
    client.post("/language", {"locale": "en"})
    message = _alert(client.post("/password", {"current": PASSWORD, "new": "12345678",
                                               "confirm": "12345678"}).get_data(as_text=True))
    assert "at least 12 characters. It is on the list of common passwords" in message
    assert "three or four unrelated words" in message


def test_one_time_passwords_the_site_generates_meet_the_rule(client, users, db_session, today):
    client.login(users["hr"].employee_no)
    learner = users["learner"]
    for _ in range(5):
        page = client.post(f"/staff/{learner.id}/reset-password",
                           {"confirmed": "yes"}).get_data(as_text=True)
        otp = re.search(r"data-otp>(\w+)<", page).group(1)
        assert password_problems(otp, **_details(learner)) == []
    second = create_list_entry(None, Department, name="客服二部", now=utcnow())
    db_session.commit()
    response = client.post("/staff/new", {
        "employee_no": "K9002", "name": "王小明", "department": second.id, "position": 0,
        "hire_date": today.isoformat(), "roles": ["learner"], "locale": "zh_CN",
        "timezone": "Asia/Shanghai"})
    otp = re.search(r"data-otp>(\w+)<", response.get_data(as_text=True)).group(1)
    assert password_problems(otp, name="王小明", employee_no="K9002", department="客服二部") == []


def test_existing_passwords_are_not_forced_to_change(client, make_staff):
    old = make_staff("learner", password="12345678")  # chosen before the rule existed
    response = client.login(old.employee_no, "12345678")
    assert response.status_code == 302
    assert not response.headers["Location"].endswith("/password")
    assert client.get("/me").status_code == 200
