"""Numbers too large for the database answer 404 or 400, never 500 (security review, item 8):
ids in every route, page and filter numbers, and the autosave's position and version."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import text

from tests.integration.quiz_fixtures import start_as_learner

HUGE = (2**31, 2**63, 2**64, 10**30)


def _routes_with_ids(app):
    for rule in app.url_map.iter_rules():
        if "<int:" in rule.rule:
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                yield rule.rule, method


@pytest.mark.parametrize("role", ["admin", "learner"])
def test_huge_ids_in_any_route_are_not_found(app, client, users, role):
    client.login(users[role].employee_no)
    seen = 0
    for rule, method in _routes_with_ids(app):
        for number in HUGE:
            url = re.sub(r"<int:\w+>", str(number), rule).replace("<token>", "x")
            response = client.get(url) if method == "GET" else client.post(url, {})
            assert response.status_code in (404, 405), (method, url, response.status_code)
            seen += 1
    assert seen > 40


@pytest.mark.parametrize("url", ["/staff", "/banks/{bank}", "/attempts/{attempt}"])
def test_huge_page_and_filter_numbers_are_ignored(client, users, db_session, url):
    attempt = start_as_learner(client, users, db_session, "大数测验")
    bank_id = db_session.execute(text("SELECT id FROM question_banks LIMIT 1")).scalar()
    if url != "/attempts/{attempt}":
        client.post("/logout")
        client.login(users["admin"].employee_no)
    target = url.format(bank=bank_id, attempt=attempt)
    for number in HUGE:
        response = client.get(f"{target}?page={number}&category={number}&difficulty={number}")
        assert response.status_code == 200, (target, number)


def test_huge_autosave_numbers_are_bad_requests(client, users, db_session):
    attempt = start_as_learner(client, users, db_session, "大数保存")
    for field in ("position", "version"):
        for number in HUGE:
            payload = {"position": 0, "version": 0, "selected": [0], field: number}
            response = client.post_json(f"/attempts/{attempt}/save", payload)
            assert response.status_code == 400, (field, number, response.status_code)
    for number in HUGE:
        response = client.post_json(f"/attempts/{attempt}/lock", {"position": number})
        assert response.status_code in (400, 404), number
