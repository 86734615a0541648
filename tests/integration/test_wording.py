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
