"""Every response the app serves carries the security headers (ASVS 14.4): one Content-Security-
Policy without inline script or style, nosniff, a same-origin referrer, HSTS in production, and
`Cache-Control: no-store` on everything but static files. The routes come from the app's URL
map, so a route added later is covered without editing this file."""
from __future__ import annotations

import functools
import re
from pathlib import Path

import pytest

from tests.conftest import make_app
from tests.integration.quiz_fixtures import start_as_learner

ROOT = Path(__file__).resolve().parents[2]
MISSING_ID = 987654321
# A real file for each static route (Flask's and Bootstrap-Flask's).
STATIC_FILES = {"static": "css/trainer.css", "bootstrap.static": "css/bootstrap.min.css"}
JSON_ROUTES = {"/attempts/<int:attempt_id>/save": {"position": 0, "selected": [0], "version": 0},
               "/attempts/<int:attempt_id>/lock": {"position": 0}}
# These end or change the visitor's session: requested last.
LAST = {"/language": 1, "/password": 2, "/logout": 3}
_ARGUMENT = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")


def csp_directives(response) -> dict[str, list[str]]:
    policies = response.headers.getlist("Content-Security-Policy")
    assert len(policies) == 1, policies
    directives = {}
    for part in policies[0].split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


def assert_secured(response, *, static: bool = False, production: bool = False) -> None:
    csp = csp_directives(response)
    assert csp["default-src"] == ["'self'"]
    assert csp["script-src"] == ["'self'"]   # no 'unsafe-inline', no other host
    assert csp["style-src"] == ["'self'"]
    assert csp["img-src"] == ["'self'", "data:"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["object-src"] == ["'none'"] and csp["base-uri"] == ["'none'"]
    assert csp["form-action"] == ["'self'"]
    assert response.headers.getlist("X-Content-Type-Options") == ["nosniff"]
    assert response.headers.getlist("Referrer-Policy") == ["same-origin"]
    hsts = response.headers.getlist("Strict-Transport-Security")
    if production:
        assert len(hsts) == 1 and int(re.search(r"max-age=(\d+)", hsts[0]).group(1)) >= 31536000
    else:
        assert hsts == []
    cache = response.headers.get("Cache-Control", "")
    if static:
        assert "no-store" not in cache
    else:
        assert cache == "no-store"


def _url(rule) -> str:
    def fill(match: re.Match) -> str:
        converter, _name = match.groups()
        if converter == "int":
            return str(MISSING_ID)
        if converter == "path":
            return STATIC_FILES[rule.endpoint]
        return "no-such-token"

    return _ARGUMENT.sub(fill, rule.rule)


def _request(client, rule, method: str, csrf: str):
    url = _url(rule)
    if method == "GET":
        return client.get(url)
    if rule.rule in JSON_ROUTES:
        return client.raw.post(url, json=JSON_ROUTES[rule.rule], headers={"X-CSRFToken": csrf})
    return client.raw.post(url, data={"csrf_token": csrf})


@pytest.mark.parametrize("visitor", ["anonymous", "learner", "admin"])
def test_every_route_and_method_answers_with_the_security_headers(app, client, users, visitor):
    """Anonymous visitors are mostly redirected to the sign-in page, a learner is refused staff
    pages (403), an administrator gets pages and, for ids that do not exist, 404s: the headers
    are on all of them."""
    if visitor != "anonymous":
        assert client.login(users[visitor].employee_no).status_code == 302
    csrf = client.csrf()
    routes = sorted(((rule, method) for rule in app.url_map.iter_rules()
                     for method in rule.methods - {"HEAD", "OPTIONS"}),
                    key=lambda pair: (LAST.get(pair[0].rule, 0), pair[0].rule, pair[1]))
    statuses = set()
    for rule, method in routes:
        response = _request(client, rule, method, csrf)
        statuses.add(response.status_code)
        try:
            assert_secured(response, static=rule.endpoint in STATIC_FILES)
        except AssertionError as exc:
            raise AssertionError(f"{method} {_url(rule)} ({response.status_code}): {exc}") from exc
    expected = {"anonymous": {200, 302}, "learner": {200, 403, 404}, "admin": {200, 302, 404}}
    assert expected[visitor] <= statuses, statuses


def test_unknown_pages_and_refused_methods_carry_the_headers(client):
    assert_secured(client.get("/no/such/page"))
    assert client.get("/no/such/page").status_code == 404
    response = client.raw.delete("/login")
    assert response.status_code == 405
    assert_secured(response)


def test_an_unexpected_error_page_carries_the_headers(app, client, monkeypatch):
    def broken():
        raise RuntimeError("a bug")

    broken._access = app.view_functions["core.healthz"]._access
    monkeypatch.setitem(app.view_functions, "core.healthz", broken)
    monkeypatch.setitem(app.config, "PROPAGATE_UNEXPECTED", False)
    response = client.get("/healthz")
    assert response.status_code == 500
    assert_secured(response)


def test_a_one_time_password_and_a_personal_record_are_never_stored(client, users, db_session):
    client.login(users["hr"].employee_no)
    response = client.post(f"/staff/{users['learner'].id}/reset-password",
                           {"confirmed": "yes"})
    assert response.status_code == 200 and "data-otp" in response.get_data(as_text=True)
    assert_secured(response)
    assert_secured(client.get(f"/staff/{users['learner'].id}"))
    assert_secured(client.get("/me"))


def test_the_autosaves_lean_path_answers_with_the_same_headers(app, client, users, db_session,
                                                                monkeypatch):
    from trainer.quizzes import services

    attempt_id = start_as_learner(client, users, db_session, "安全头测验")
    services.forget_choice_orders()  # (ids are reused after other tests' rollbacks)
    view = app.view_functions["quizzes.save"]
    calls = []

    @functools.wraps(view)  # (with its access rule)
    def counting(*args, **kwargs):
        calls.append(1)
        return view(*args, **kwargs)

    monkeypatch.setitem(app.view_functions, "quizzes.save", counting)
    response = client.post_json(f"/attempts/{attempt_id}/save",
                                {"position": 0, "selected": [0], "version": 0})
    assert response.status_code == 200 and calls == []   # answered without Flask's view
    assert_secured(response)


def test_production_adds_hsts_to_pages_and_static_files(tmp_path_factory):
    app = make_app(f"sqlite:///{tmp_path_factory.mktemp('db') / 'prod.db'}", tmp_path_factory,
                   PRODUCTION=True, PUBLIC_URL="https://training.example.cn",
                   SIGNING_PASSPHRASE="a-passphrase-for-the-signing-key")
    client = app.test_client()
    assert_secured(client.get("/healthz"), production=True)
    assert_secured(client.get("/static/css/trainer.css"), static=True, production=True)


def test_templates_have_no_inline_script_style_or_handler():
    """The policy allows no inline code: a template that adds some would break in the browser."""
    inline = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>|<style\b|\sstyle=|\son[a-z]+=", re.I)
    found = [f"{path.relative_to(ROOT)}: {match.group(0)}"
             for path in sorted((ROOT / "templates").rglob("*.html"))
             for match in inline.finditer(path.read_text(encoding="utf-8"))]
    assert not found, found
