"""Words that say the right thing where one English word has two meanings, or one page serves
two people."""
from __future__ import annotations

import re

BADGE = re.compile(r'<span class="badge text-bg-secondary me-1">([^<]+)</span>')


def test_the_trainer_role_is_not_named_after_the_product(client, users):
    """In Chinese the product is 培训考试系统 and the role 培训师: one msgid served both."""
    client.login(users["admin"].employee_no)
    trainer = users["trainer"]

    page = client.get(f"/staff/{trainer.id}").get_data(as_text=True)
    assert BADGE.findall(page) == ["培训师"]
    assert "<title>" in page and "培训考试系统</title>" in page  # the product keeps its name

    listing = client.get("/staff", query_string={"q": trainer.employee_no}).get_data(as_text=True)
    assert BADGE.findall(listing) == ["培训师"]

    form = client.get(f"/staff/{trainer.id}/edit").get_data(as_text=True)
    label = re.search(r'<label class="form-check-label" for="roles-1">([^<]+)</label>', form)
    assert label and label.group(1) == "培训师"
    assert "培训考试系统</label>" not in form


def headings(page: str) -> list[str]:
    return [re.sub(r"<[^>]+>", "", h).strip()
            for h in re.findall(r"<h[1-6][^>]*>(.*?)</h[1-6]>", page, re.S)]


def test_someone_elses_staff_page_is_not_headed_my_record(client, users):
    learner = users["learner"]
    client.login(users["hr"].employee_no)
    page = client.get(f"/staff/{learner.id}").get_data(as_text=True)
    assert not [h for h in headings(page) if "我的" in h], headings(page)
    assert "基本信息" in headings(page)

    client.post("/logout")
    client.login(learner.employee_no)
    own = headings(client.get("/me").get_data(as_text=True))
    assert own[0] == "我的档案" and "基本信息" in own


def test_one_point_is_one_point_in_english(client, users, db_session):
    """A question worth 1 point says so ("1 point", not "1 points"); Chinese has one form."""
    from trainer.banks import formats
    from trainer.banks import services as banks
    from trainer.core.timeutil import utcnow

    bank = banks.create_bank(None, name="分值题库", now=utcnow())
    one, two = (banks.create_question(None, bank, formats.parse_gift(text).questions[0],
                                      now=utcnow())
                for text in ("::一分::题干甲？{=对 ~错}", "::两分::题干乙？{=对 ~错}"))
    two.default_points = 2
    db_session.commit()
    client.login(users["trainer"].employee_no)
    client.post("/language", {"locale": "en"})
    assert "1 point ·" in client.get(f"/banks/questions/{one.id}").get_data(as_text=True)
    assert "2 points ·" in client.get(f"/banks/questions/{two.id}").get_data(as_text=True)
    client.post("/language", {"locale": "zh_CN"})
    assert "1 分 ·" in client.get(f"/banks/questions/{one.id}").get_data(as_text=True)
