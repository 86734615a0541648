"""Migrations build the schema from empty, and the models have not drifted from them."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from tests.conftest import PG_URL, _postgres_answers, skip_or_fail
from trainer import create_app
from trainer.core.db import db


def _check(url: str, tmp_path) -> None:
    from flask_migrate import upgrade

    app = create_app({"INSTANCE_PATH": str(tmp_path), "DATABASE_URL": url,
                      "SECRET_KEY": "k" * 32})
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True,
                                                             "render_as_batch": True})
            diff = compare_metadata(context, db.metadata)
        assert diff == [], f"models and migrations differ: {diff}"
        db.engine.dispose()
    # `trainer db check` is what CI and people run; it must agree.
    result = app.test_cli_runner().invoke(args=["db", "check"])
    assert result.exit_code == 0, result.output


def test_upgrade_from_empty_on_sqlite(tmp_path):
    _check(f"sqlite:///{tmp_path}/m.db", tmp_path)


def test_upgrade_from_empty_on_postgresql(tmp_path):
    if not PG_URL or not _postgres_answers(PG_URL):
        skip_or_fail("no PostgreSQL for the migration test")
    url = PG_URL.replace("postgresql://", "postgresql+psycopg://", 1)
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP SCHEMA IF EXISTS migration_check CASCADE")
        conn.exec_driver_sql("CREATE SCHEMA migration_check")
    engine.dispose()
    sep = "&" if "?" in PG_URL else "?"
    try:
        _check(PG_URL + f"{sep}options=-csearch_path%3Dmigration_check", tmp_path)
    finally:
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.exec_driver_sql("DROP SCHEMA IF EXISTS migration_check CASCADE")
        engine.dispose()


def test_a_sqlite_table_rebuild_keeps_the_rows_that_point_at_it(tmp_path):
    """Batch mode rebuilds a SQLite table by copying it and dropping the old one. With foreign
    keys on, the drop deleted the old rows first and ON DELETE CASCADE took the rows pointing at
    them: upgrading past the employee-number key emptied everyone's roles and history."""
    from flask_migrate import upgrade
    from sqlalchemy import text

    url = f"sqlite:///{tmp_path}/old.db"
    app = create_app({"INSTANCE_PATH": str(tmp_path), "DATABASE_URL": url,
                      "SECRET_KEY": "k" * 32})
    with app.app_context():
        upgrade(revision="a36195a9ef4c")  # the last revision before staff_members is rebuilt
        with db.engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO staff_members (id, employee_no, name, department, position, "
                "locale, timezone, password_hash, must_change_password, login_enabled, status, "
                "created_at, updated_at) VALUES (1, 'K1', '旧同事', '', '', 'zh_CN', "
                "'Asia/Shanghai', 'x', false, true, 'active', CURRENT_TIMESTAMP, "
                "CURRENT_TIMESTAMP)"))
            conn.execute(text("INSERT INTO staff_roles (staff_id, role) VALUES (1, 'learner')"))
            conn.execute(text(
                "INSERT INTO staff_events (staff_id, kind, occurred_on, position, note, "
                "recorded_at) VALUES (1, 'hire', '2024-01-01', '', '', CURRENT_TIMESTAMP)"))
        upgrade(revision="d54002a6a087")
        with db.engine.connect() as conn:
            kept = [conn.execute(text(f"SELECT count(*) FROM {table}")).scalar()
                    for table in ("staff_members", "staff_roles", "staff_events")]
            # Foreign keys were switched off on the upgrade's own connection only.
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        db.engine.dispose()
    assert kept == [1, 1, 1]
