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
