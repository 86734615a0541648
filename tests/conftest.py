"""Test fixtures: the app on SQLite and (where a server answers) PostgreSQL, a transaction
rolled back per test, clients that carry CSRF tokens, and staff factories.

With CI=true a PostgreSQL pass that cannot run fails instead of skipping."""
from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from flask import has_app_context
from flask.globals import app_ctx
from sqlalchemy import create_engine, text
from sqlalchemy.orm import scoped_session, sessionmaker

from trainer import create_app
from trainer.core.db import db
from trainer.extensions import limiter

PG_URL = os.environ.get("TRAINER_TEST_DATABASE_URL", "")
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
PASSWORD = "correct-horse-7"
_CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


@pytest.fixture(autouse=True)
def _every_pdf_parses_as_weasyprint_would(monkeypatch):
    """core.pdf parses with lxml, not WeasyPrint's own HTML5 parser: every PDF the tests render
    (records, evidence packs, reports, certificates) is checked to give the tree WeasyPrint's
    parser gives (tests/unit/test_pdf_rendering.py says what counts as the same)."""
    from tests.unit.test_pdf_rendering import signature, weasyprints_own_tree
    from trainer.core import pdf

    real = pdf.parse

    def checked(html: str):
        root = real(html)
        assert signature(root) == signature(weasyprints_own_tree(html)), \
            "lxml and WeasyPrint's parser build different trees for this PDF's HTML"
        return root

    monkeypatch.setattr(pdf, "parse", checked)


def skip_or_fail(reason: str) -> None:
    """On CI a missing real component is a failure, never a silent skip."""
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: skipping is not allowed)")
    pytest.skip(reason)


def _postgres_answers(url: str) -> bool:
    try:
        engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return True
    except Exception:
        return False


def _reset_postgres(url: str) -> None:
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def database_url(backend: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    if not PG_URL:
        skip_or_fail("TRAINER_TEST_DATABASE_URL is not set")
    if not _postgres_answers(PG_URL):
        skip_or_fail(f"no PostgreSQL answers at {PG_URL}")
    _reset_postgres(PG_URL)
    return PG_URL


def make_app(url: str, tmp_path_factory: pytest.TempPathFactory, **overrides):
    config = {
        "TESTING": True,
        "DATABASE_URL": url,
        "SECRET_KEY": "test-secret-key-not-for-production",
        "INSTANCE_PATH": str(tmp_path_factory.mktemp("instance")),
        "RATELIMIT_STORAGE_URI": "memory://",
    }
    config.update(overrides)
    return create_app(config)


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def backend(request) -> str:
    return request.param


@pytest.fixture(scope="session")
def app(backend, tmp_path_factory):
    from flask_migrate import upgrade

    application = make_app(database_url(backend, tmp_path_factory), tmp_path_factory)
    with application.app_context():
        upgrade()
    yield application
    with application.app_context():
        db.engine.dispose()


@pytest.fixture
def db_session(app) -> Iterator[scoped_session]:
    """Every test runs inside one outer transaction that is rolled back at the end.

    Flask-SQLAlchemy's session ignores a bind given to it, so the extension's session is
    swapped for a plain scoped session on the test connection; each request's commit only
    releases a savepoint."""
    with app.app_context():
        connection = db.engine.connect()
    outer = connection.begin()
    # The test body and each request get their own session (as in production, one per app
    # context), so a request's teardown never detaches the objects the test holds.
    session = scoped_session(
        sessionmaker(bind=connection, join_transaction_mode="create_savepoint"),
        scopefunc=_session_scope)
    original = db.session
    db.session = session
    limiter.reset()
    app.extensions["trainer.login_throttle"].counters.reset()
    try:
        yield session
    finally:
        session.remove()
        db.session = original
        outer.rollback()
        connection.close()


def _session_scope() -> object:
    return id(app_ctx._get_current_object()) if has_app_context() else "test"


class Client:
    """A test client that reads the CSRF token from the page, as a browser would."""

    def __init__(self, flask_client):
        self.raw = flask_client

    def get(self, url, **kw):
        return self.raw.get(url, **kw)

    def csrf(self) -> str:
        page = self.raw.get("/login").get_data(as_text=True)
        match = _CSRF_META.search(page)
        if not match:  # signed-in users are redirected away from /login
            page = self.raw.get("/password").get_data(as_text=True)
            match = _CSRF_META.search(page)
        assert match, "no CSRF token found"
        return match.group(1)

    def post(self, url, data=None, csrf=True, **kw):
        data = dict(data or {})
        if csrf:
            data.setdefault("csrf_token", self.csrf())
        return self.raw.post(url, data=data, **kw)

    def post_json(self, url, payload, csrf=True, **kw):
        headers = kw.pop("headers", {})
        if csrf:
            headers["X-CSRFToken"] = self.csrf()
        return self.raw.post(url, json=payload, headers=headers, **kw)

    def login(self, employee_no: str, password: str = PASSWORD):
        return self.post("/login", {"employee_no": employee_no, "password": password})


@pytest.fixture
def client(app, db_session) -> Client:
    return Client(app.test_client())


@pytest.fixture
def another_client(app, db_session) -> Client:
    return Client(app.test_client())


@pytest.fixture
def today() -> date:
    from trainer.core.timeutil import local_date, utcnow

    return local_date(utcnow(), "Asia/Shanghai")


@pytest.fixture
def make_staff(db_session, today):
    """Create a committed-to-the-test staff member who has chosen their own password."""
    from trainer.accounts.services import create_staff
    from trainer.core.timeutil import utcnow

    counter = iter(range(1, 100000))

    def factory(*roles: str, employee_no: str | None = None, hired_days_ago: int = 400,
                department: str = "客服一部", position: str = "坐席", name: str | None = None,
                password: str = PASSWORD):
        # Department and position by name: created in HR's lists when missing (the system,
        # actor None, may; HR may not).
        number = next(counter)
        staff, _ = create_staff(
            None, employee_no=employee_no or f"T{number:05d}", name=name or f"测试{number}",
            department=department, position=position,
            hire_date=today - timedelta(days=hired_days_ago), roles=roles or ("learner",),
            now=utcnow(), password=password)
        db_session.commit()
        return staff

    return factory


@pytest.fixture
def users(make_staff):
    """One person per role, plus a second learner."""
    return {
        "learner": make_staff("learner", employee_no="L0001"),
        "learner2": make_staff("learner", employee_no="L0002"),
        "trainer": make_staff("trainer", employee_no="TR001"),
        "hr": make_staff("hr", employee_no="HR001"),
        "admin": make_staff("admin", employee_no="AD001"),
    }


@pytest.fixture(scope="session")
def demo(tmp_path_factory):
    """The demo site as `trainer setup --demo` makes it (a fresh SQLite database; run twice, as
    it is idempotent), shared by the demo checks of each area. Read it; change nothing another
    area's check reads."""
    path = tmp_path_factory.mktemp("demo")
    application = create_app({"INSTANCE_PATH": str(path),
                              "DATABASE_URL": f"sqlite:///{path}/demo.db",
                              "SECRET_KEY": "k" * 32, "TEMPLATE_CACHE_DIR": ""})
    result = application.test_cli_runner().invoke(args=["setup", "--demo"])
    assert result.exit_code == 0, result.output
    again = application.test_cli_runner().invoke(args=["setup", "--demo"])   # idempotent
    assert again.exit_code == 0, again.output
    yield application
    with application.app_context():
        db.engine.dispose()


def csrf_from(html: str) -> str:
    match = _CSRF_META.search(html)
    assert match
    return match.group(1)
