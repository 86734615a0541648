"""Database base class, column types and engine set-up for SQLite and PostgreSQL."""
from __future__ import annotations

import contextlib
import json
import contextvars
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import DateTime, MetaData, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, registry
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """An aware datetime stored as UTC; naive values are refused so local times never slip in.

    SQLite keeps no zone and returns naive values, so results are re-tagged as UTC.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r} given to a UTC column")
        value = value.astimezone(timezone.utc)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


class Base(DeclarativeBase):
    # One registry carries both, so Flask-SQLAlchemy's subclass of this base inherits them.
    registry = registry(
        metadata=MetaData(naming_convention=NAMING_CONVENTION),
        type_annotation_map={datetime: UTCDateTime()},
    )


db = SQLAlchemy(model_class=Base, engine_options={}, session_options={})

# Whether the next SQLite transaction on this thread/greenlet should take the write lock at BEGIN.
# A transaction that reads and then writes under a deferred BEGIN fails with "database is locked"
# when another writer got in between, whatever the busy timeout; taking the lock up front makes it
# wait its turn instead. Reads stay deferred so they never queue behind writers (WAL).
_write_intent: contextvars.ContextVar[bool] = contextvars.ContextVar("write_intent", default=False)


def set_write_intent(value: bool) -> contextvars.Token[bool]:
    return _write_intent.set(value)


def reset_write_intent(token: contextvars.Token[bool]) -> None:
    _write_intent.reset(token)


@contextlib.contextmanager
def write_intent() -> Iterator[None]:
    """Make transactions begun inside this block take SQLite's write lock at BEGIN."""
    token = _write_intent.set(True)
    try:
        yield
    finally:
        _write_intent.reset(token)


def without_write_lock(view: Any) -> Any:
    """Mark a POST view that mostly reads (login: a slow password check, rarely a write), so it
    does not hold SQLite's write lock while it works."""
    view._write_lock = False
    return view


def engine_options(url: str, busy_timeout_s: int) -> dict[str, Any]:
    if url.startswith("sqlite"):
        return {"connect_args": {"timeout": busy_timeout_s, "check_same_thread": False}}
    return {"pool_pre_ping": True, "pool_size": 10, "max_overflow": 20}


def configure_engine(engine: Engine, busy_timeout_s: int) -> None:
    """Install SQLite's pragmas and the explicit-BEGIN recipe (SQLAlchemy docs, pysqlite)."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not pysqlite, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={busy_timeout_s * 1000}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Straight to the driver: through SQLAlchemy's execution machinery this one statement
        # cost as much as a small query, on every request (bench/profile_exam.py).
        conn.connection.driver_connection.execute(
            "BEGIN IMMEDIATE" if _write_intent.get() else "BEGIN")


def _copy_value(value: Any) -> Any:
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return value


def reserve_ids(table: Any, count: int) -> list[int] | None:
    """On PostgreSQL, take `count` ids from the table's sequence (so rows can be written with
    COPY and still be referred to); elsewhere None: let the INSERT assign them."""
    connection = db.session.connection()
    if connection.dialect.name != "postgresql" or count == 0:
        return None
    sequence = connection.exec_driver_sql(
        f"SELECT pg_get_serial_sequence('{table.name}', 'id')").scalar()
    return list(connection.exec_driver_sql(
        f"SELECT nextval('{sequence}') FROM generate_series(1, {int(count)})").scalars())


def bulk_insert(table: Any, rows: list[dict[str, Any]]) -> None:
    """Insert many rows in one go: COPY on PostgreSQL (psycopg), executemany elsewhere.
    Imports of thousands of questions spend their time here."""
    if not rows:
        return
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        columns = list(rows[0])
        names = ", ".join(f'"{c}"' for c in columns)
        cursor = connection.connection.driver_connection.cursor()
        with cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
            for row in rows:
                copy.write_row([_copy_value(row[c]) for c in columns])
        return
    connection.execute(table.insert(), rows)
