"""The app factory, configuration, assets, error pages and `trainer setup`."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select, text

from trainer import create_app
from trainer.accounts.demo import DEMO_PASSWORD
from trainer.accounts.models import StaffMember
from trainer.config import ConfigError, normalise_database_url
from trainer.core.db import db


def test_postgresql_urls_use_psycopg3():
    assert normalise_database_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_database_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_database_url("sqlite:///x.db") == "sqlite:///x.db"


def test_secret_key_is_generated_once_into_the_instance_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("TRAINER_SECRET_KEY", raising=False)
    first = create_app({"INSTANCE_PATH": str(tmp_path), "DATABASE_URL": "sqlite://"})
    second = create_app({"INSTANCE_PATH": str(tmp_path), "DATABASE_URL": "sqlite://"})
    assert first.config["SECRET_KEY"] == second.config["SECRET_KEY"]
    assert len(first.config["SECRET_KEY"]) >= 32
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_production_refuses_to_start_without_a_secret_key(tmp_path, monkeypatch):
    monkeypatch.delenv("TRAINER_SECRET_KEY", raising=False)
    monkeypatch.setenv("TRAINER_PRODUCTION", "1")
    with pytest.raises(ConfigError):
        create_app({"INSTANCE_PATH": str(tmp_path), "DATABASE_URL": "sqlite://"})


def test_environment_variables_configure_the_app(tmp_path, monkeypatch):
    monkeypatch.setenv("TRAINER_DATABASE_URL", f"sqlite:///{tmp_path}/env.db")
    monkeypatch.setenv("TRAINER_SECRET_KEY", "x" * 40)
    monkeypatch.setenv("TRAINER_REDIS_URL", "redis://127.0.0.1:6379/0")
    app = create_app({"INSTANCE_PATH": str(tmp_path)})
    assert app.config["SQLALCHEMY_DATABASE_URI"].endswith("env.db")
    assert app.config["SECRET_KEY"] == "x" * 40
    assert app.config["RATELIMIT_STORAGE_URI"] == "redis://127.0.0.1:6379/0"


def test_sqlite_pragmas_are_set(app, backend):
    if backend != "sqlite":
        pytest.skip("SQLite only")
    with app.app_context():
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000


def test_postgresql_uses_psycopg3_with_pre_ping(app, backend):
    if backend != "postgresql":
        pytest.skip("PostgreSQL only")
    with app.app_context():
        assert db.engine.dialect.driver == "psycopg"
        assert db.engine.pool._pre_ping


def test_trusted_proxy_setting_makes_the_client_address_right(tmp_path):
    app = create_app({"INSTANCE_PATH": str(tmp_path), "DATABASE_URL": "sqlite://",
                      "TRUSTED_PROXIES": 1, "SECRET_KEY": "k" * 32})

    @app.route("/_addr")
    def _addr():
        from flask import request
        return f"{request.remote_addr} {request.scheme}"
    _addr._access = ("public",)
    response = app.test_client().get("/_addr", headers={"X-Forwarded-For": "10.1.2.3",
                                                        "X-Forwarded-Proto": "https"})
    assert response.get_data(as_text=True) == "10.1.2.3 https"


ASSET = re.compile(r'(?:src|href)="([^"]+)"')


def test_every_page_uses_only_assets_served_by_the_site(client, users):
    pages = ["/login"]
    for role, urls in {"learner": ["/me", "/my", "/password", "/quizzes", "/mistakes"],
                       "trainer": ["/banks/", "/banks/new", "/quizzes/manage", "/quizzes/new",
                                   "/tracks"],
                       "hr": ["/staff", "/staff/new", "/staff/import", "/training/assign",
                              "/settings",
                              f"/staff/{users['learner'].id}",
                              f"/staff/{users['learner'].id}/edit"]}.items():
        client.login(users[role].employee_no)
        for url in urls:
            response = client.get(url)
            assert response.status_code == 200, url
            html = response.get_data(as_text=True)
            for ref in ASSET.findall(html):
                assert not re.match(r"^(https?:)?//", ref), f"{url} loads {ref} from elsewhere"
                if ref.startswith(("/static/", "/bootstrap/static/")):
                    assert client.get(ref).status_code == 200, ref
            pages.append(url)
        client.post("/logout")
    assert len(pages) > 5


def test_friendly_404_and_403_pages(client, users):
    response = client.get("/no-such-page")
    assert response.status_code == 404 and "<nav" in response.get_data(as_text=True)
    client.login(users["learner"].employee_no)
    response = client.get("/staff")
    assert response.status_code == 403 and "<nav" in response.get_data(as_text=True)


def test_500_page_hides_the_stack_trace(tmp_path):
    app = create_app({"INSTANCE_PATH": str(tmp_path), "DATABASE_URL": "sqlite://",
                      "SECRET_KEY": "k" * 32, "TESTING": True, "PROPAGATE_UNEXPECTED": False})

    @app.route("/_boom")
    def _boom():
        raise RuntimeError("secret internals")
    _boom._access = ("public",)
    response = app.test_client().get("/_boom")
    assert response.status_code == 500
    body = response.get_data(as_text=True)
    assert "secret internals" not in body and "Traceback" not in body


def test_a_view_without_an_access_rule_is_refused(tmp_path):
    app = create_app({"INSTANCE_PATH": str(tmp_path), "DATABASE_URL": "sqlite://",
                      "SECRET_KEY": "k" * 32})

    @app.route("/_undeclared")
    def _undeclared():
        return "should not be served"
    assert app.test_client().get("/_undeclared").status_code == 403


def test_setup_is_idempotent_and_creates_demo_accounts(tmp_path):
    app = create_app({"INSTANCE_PATH": str(tmp_path),
                      "DATABASE_URL": f"sqlite:///{tmp_path}/setup.db", "SECRET_KEY": "k" * 32})
    runner = app.test_cli_runner()
    first = runner.invoke(args=["setup", "--demo"])
    assert first.exit_code == 0, first.output
    assert "A0001" in first.output and DEMO_PASSWORD in first.output
    with app.app_context():
        count = db.session.scalar(select(func.count()).select_from(StaffMember))
        events = db.session.scalar(text("SELECT count(*) FROM staff_events"))
        db.session.remove()
    second = runner.invoke(args=["setup", "--demo"])
    assert second.exit_code == 0, second.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(StaffMember)) == count
        assert db.session.scalar(text("SELECT count(*) FROM staff_events")) == events
        roles = {r for s in db.session.scalars(select(StaffMember)) for r in s.role_names}
        assert roles == {"learner", "trainer", "assessor", "hr", "admin"}
        back = db.session.scalar(select(StaffMember).where(StaffMember.employee_no == "K0003"))
        assert [e.kind for e in back.events] == ["hire", "leave_start", "leave_return"]
        db.session.remove()
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    response = client.post("/login", data={"employee_no": "H0001", "password": DEMO_PASSWORD,
                                           "csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"].endswith("/staff")
