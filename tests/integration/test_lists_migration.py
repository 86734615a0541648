"""The migration to HR's lists of departments and positions: a database holding the old free-text
columns is upgraded on SQLite and PostgreSQL, every distinct name becomes one entry, every row
points at its entry, and nothing else is lost on the way (SQLite rebuilds the tables)."""
from __future__ import annotations

import pytest
from sqlalchemy import create_engine, inspect, text

from tests.conftest import PG_URL, _postgres_answers, skip_or_fail
from trainer import create_app
from trainer.core.db import db

BEFORE = "d54002a6a087"  # the revision before the lists

# (id, employee number, department, position) as HR typed them over the years.
OLD_STAFF = [(1, "K1", "客服一部", "坐席"),
             (2, "K2", "客服一部 ", "坐席"),        # the same department, a stray space
             (3, "K3", "ＱＡ组", "质检员"),          # full width: the QA group
             (4, "K4", "", ""),                     # none given
             (5, "K5", "客服  二部", "班组长")]       # two spaces inside
# (id, staff, kind, position text)
OLD_EVENTS = [(1, 1, "hire", ""), (2, 2, "hire", ""), (3, 3, "hire", ""), (4, 4, "hire", ""),
              (5, 5, "hire", ""), (6, 1, "nomination", "班组长"),
              (7, 2, "position_change", "质检员 "), (8, 4, "nomination", "培训师")]


def _driver_url(url: str) -> str:
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


def _insert_old_rows(url: str) -> None:
    engine = create_engine(_driver_url(url))
    with engine.begin() as conn:
        for staff_id, number, department, position in OLD_STAFF:
            conn.execute(text(
                "INSERT INTO staff_members (id, employee_no, employee_no_key, name, department, "
                "position, locale, timezone, password_hash, must_change_password, login_enabled, "
                "status, created_at, updated_at) VALUES (:id, :no, :key, '旧同事', :d, :p, "
                "'zh_CN', 'Asia/Shanghai', 'x', false, true, 'active', CURRENT_TIMESTAMP, "
                "CURRENT_TIMESTAMP)"),
                {"id": staff_id, "no": number, "key": number.lower(), "d": department,
                 "p": position})
            conn.execute(text("INSERT INTO staff_roles (staff_id, role) VALUES (:id, 'learner')"),
                         {"id": staff_id})
        for event_id, staff_id, kind, position in OLD_EVENTS:
            conn.execute(text(
                "INSERT INTO staff_events (id, staff_id, kind, occurred_on, position, note, "
                "recorded_at) VALUES (:id, :staff, :kind, '2024-01-01', :p, '', "
                "CURRENT_TIMESTAMP)"), {"id": event_id, "staff": staff_id, "kind": kind,
                                        "p": position})
        conn.execute(text(
            "INSERT INTO logins (staff_id, key_hash, remember, created_at, expires_at, "
            "last_seen_at, address, user_agent) VALUES (1, 'h', false, CURRENT_TIMESTAMP, "
            "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, '', '')"))
    engine.dispose()


def _upgrade_old_database(url: str, tmp_path) -> None:
    from flask_migrate import upgrade

    app = create_app({"INSTANCE_PATH": str(tmp_path), "DATABASE_URL": url,
                      "SECRET_KEY": "k" * 32})
    with app.app_context():
        upgrade(revision=BEFORE)
        db.engine.dispose()
    _insert_old_rows(url)
    with app.app_context():
        upgrade()
        if db.engine.dialect.name == "sqlite":
            # The upgrade switched foreign keys off on its own connection only.
            with db.engine.connect() as conn:
                assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        from trainer.accounts.services import get_staff_by_employee_no

        person = get_staff_by_employee_no("k5")
        assert (person.department_name, person.position_name) == ("客服 二部", "班组长")
        db.session.remove()
        db.engine.dispose()
    _check_mapping(url)


def _check_mapping(url: str) -> None:
    engine = create_engine(_driver_url(url))
    with engine.connect() as conn:
        departments = dict(conn.execute(text("SELECT name, id FROM departments")).all())
        positions = dict(conn.execute(text("SELECT name, id FROM positions")).all())
        staff = {row[0]: row[1:] for row in conn.execute(text(
            "SELECT employee_no, department_id, position_id FROM staff_members"))}
        events = {row[0]: row[1:] for row in conn.execute(text(
            "SELECT id, position_id, position FROM staff_events"))}
        counts = [conn.execute(text(f"SELECT count(*) FROM {table}")).scalar()
                  for table in ("staff_roles", "staff_events", "logins")]
        active = set(conn.execute(text("SELECT DISTINCT active FROM departments")).scalars())
        columns = {c["name"] for c in inspect(conn).get_columns("staff_members")}
    engine.dispose()
    assert set(departments) == {"客服一部", "QA组", "客服 二部"}
    assert set(positions) == {"坐席", "质检员", "班组长", "培训师"}
    assert active == {True}
    assert staff == {"K1": (departments["客服一部"], positions["坐席"]),
                     "K2": (departments["客服一部"], positions["坐席"]),
                     "K3": (departments["QA组"], positions["质检员"]),
                     "K4": (None, None),
                     "K5": (departments["客服 二部"], positions["班组长"])}
    # Events point at the entry and keep the text they were recorded with.
    assert events[6] == (positions["班组长"], "班组长")
    assert events[7] == (positions["质检员"], "质检员 ")
    assert events[8] == (positions["培训师"], "培训师")
    assert all(events[i] == (None, "") for i in range(1, 6))
    # Rebuilding staff_members on SQLite must not take the rows that point at it with it.
    assert counts == [len(OLD_STAFF), len(OLD_EVENTS), 1]
    assert not {"department", "position"} & columns


def test_the_upgrade_maps_old_names_on_sqlite(tmp_path):
    _upgrade_old_database(f"sqlite:///{tmp_path}/old.db", tmp_path)


def test_the_upgrade_maps_old_names_on_postgresql(tmp_path):
    if not PG_URL or not _postgres_answers(PG_URL):
        skip_or_fail("no PostgreSQL for the migration test")
    schema = "lists_migration"
    admin = create_engine(_driver_url(PG_URL))
    with admin.begin() as conn:
        conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    sep = "&" if "?" in PG_URL else "?"
    try:
        _upgrade_old_database(PG_URL + f"{sep}options=-csearch_path%3D{schema}", tmp_path)
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        admin.dispose()


@pytest.mark.parametrize("raw, name", [(" 客服一部 ", "客服一部"), ("客服\u3000一部", "客服 一部"),
                                       ("ＡＢＣ", "ABC"), ("   ", "")])
def test_names_are_read_as_the_lists_read_them(raw, name):
    """The migration keeps its own copy of the rule (a migration must not change with the
    code); both must agree."""
    import importlib.util
    from pathlib import Path

    from trainer.accounts.rules import list_entry_name

    path = next((Path(__file__).parents[2] / "migrations" / "versions").glob(
        "*_departments_and_positions_managed_lists.py"))
    spec = importlib.util.spec_from_file_location("lists_migration", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module._name(raw) == list_entry_name(raw) == name
