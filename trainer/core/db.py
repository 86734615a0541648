"""Database base class, column types and engine set-up for SQLite and PostgreSQL."""
from __future__ import annotations

import contextlib
import contextvars
import fcntl
import json
import os
import sys
import threading
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import JSON, DateTime, MetaData, event
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


def _set_niceness(thread: int, niceness: int) -> None:
    try:
        os.setpriority(os.PRIO_PROCESS, thread, niceness)
    except OSError:  # pragma: no cover - raising a niceness back is always allowed
        pass


class WriterQueue:
    """Writers of one SQLite database take turns on an flock of a file beside it.

    SQLite's own busy handler sleeps 1, 2, 5, 10 … ms when another process holds the write
    lock, so writers that collide wait far longer than the lock is held: the exam-day floor
    (bench/exam_day.py, four gunicorn workers on one core) served 456 saves/s, against 752 with
    a single worker. Queued on an flock, a waiting writer is woken by the kernel the moment the
    lock is released. Threads of one process queue on a lock first (one flock per process).

    Taken just before BEGIN IMMEDIATE and released after COMMIT or ROLLBACK. The kernel releases
    an flock when its process dies. A second connection of the thread that holds the turn does
    not wait for itself, and a thread waits at most the busy timeout for the others of its
    process: in either case SQLite's busy handler decides, as it would without the queue.

    With `holder_niceness` (Linux), a thread of a process running nicer than that runs at that
    niceness while it holds the turn (a priority ceiling). The front pool runs at nice 10 (README,
    Production); a front worker holding the one write lock shared the CPU with its seven busy
    siblings, so every save of the exam pool waited for it (bench/exam_day.py on SQLite: question
    page p95 417 ms, while its p50 was 24 ms). Lowering a niceness needs root, CAP_SYS_NICE or
    RLIMIT_NICE (systemd: LimitNICE=+0); without them the turn is held at the process's niceness.
    """

    def __init__(self, path: str, timeout_s: float, holder_niceness: int | None = None) -> None:
        self.path = path
        self.timeout_s = timeout_s
        self.holder_niceness = holder_niceness if sys.platform.startswith("linux") else None
        self._restore: tuple[int, int] | None = None  # (thread, niceness) to return to
        self._threads = threading.Lock()
        self._owner: int | None = None
        self._holders: set[int] = set()
        self._fd: int | None = None
        self._pid: int | None = None

    def _file(self) -> int:
        if self._fd is None or self._pid != os.getpid():  # (a forked worker opens its own)
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            self._pid = os.getpid()
        return self._fd

    def acquire(self, holder: int) -> None:
        me = threading.get_ident()
        if self._owner == me:
            self._holders.add(holder)
            return
        if not self._threads.acquire(timeout=self.timeout_s):
            return
        try:
            fcntl.flock(self._file(), fcntl.LOCK_EX)
        except OSError:
            self._threads.release()
            return
        self._owner = me
        self._holders = {holder}
        if self.holder_niceness is not None:
            self._raise_priority()

    def _raise_priority(self) -> None:
        thread = threading.get_native_id()
        try:
            niceness = os.getpriority(os.PRIO_PROCESS, thread)
            if niceness > self.holder_niceness:
                os.setpriority(os.PRIO_PROCESS, thread, self.holder_niceness)
                self._restore = (thread, niceness)
        except OSError:  # not allowed: hold the turn at this niceness, and stop trying
            self.holder_niceness = None

    def release(self, holder: int) -> None:
        if holder not in self._holders:
            return
        self._holders.discard(holder)
        if not self._holders:
            self._owner = None
            # Taken before the turn is handed on: the next holder may raise its own priority.
            restore, self._restore = self._restore, None
            try:
                fcntl.flock(self._file(), fcntl.LOCK_UN)
            finally:
                self._threads.release()
                if restore is not None:
                    _set_niceness(*restore)


def configure_engine(engine: Engine, busy_timeout_s: int,
                     writer_niceness: int | None = None) -> None:
    """Install SQLite's pragmas and the explicit-BEGIN recipe (SQLAlchemy docs, pysqlite), and
    queue the writers of a database file (WriterQueue)."""
    if engine.dialect.name != "sqlite":
        return
    database = engine.url.database
    queue = None
    if database and database != ":memory:" and not database.startswith("file:"):
        queue = WriterQueue(f"{database}-writers.lock", busy_timeout_s, writer_niceness)

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
        driver = conn.connection.driver_connection
        if not _write_intent.get():
            driver.execute("BEGIN")
            return
        if queue is not None:
            queue.acquire(id(driver))
        try:
            driver.execute("BEGIN IMMEDIATE")
        except BaseException:
            if queue is not None:
                queue.release(id(driver))
            raise

    if queue is None:
        return
    # The turn ends when the transaction does: after the driver's COMMIT or ROLLBACK (SQLAlchemy's
    # events come before them), or when the connection is closed or thrown away.
    dialect = engine.dialect
    commit, rollback = dialect.do_commit, dialect.do_rollback

    def _driver(connection: Any) -> Any:  # (the dialect is handed the pool's proxy)
        return getattr(connection, "driver_connection", connection)

    def do_commit(dbapi_connection: Any) -> None:
        try:
            commit(dbapi_connection)
        finally:
            queue.release(id(_driver(dbapi_connection)))

    def do_rollback(dbapi_connection: Any) -> None:
        try:
            rollback(dbapi_connection)
        finally:
            queue.release(id(_driver(dbapi_connection)))

    dialect.do_commit = do_commit  # type: ignore[method-assign]
    dialect.do_rollback = do_rollback  # type: ignore[method-assign]

    @event.listens_for(engine, "close")
    def _on_close(dbapi_connection: Any, _record: Any) -> None:
        queue.release(id(dbapi_connection))

    @event.listens_for(engine, "invalidate")
    def _on_invalidate(dbapi_connection: Any, _record: Any, _exc: Any) -> None:
        if dbapi_connection is not None:
            queue.release(id(dbapi_connection))


def _json_text(value: Any) -> Any:
    return None if value is None else json.dumps(value, ensure_ascii=False)


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
        # JSON columns are found once, from the table, not per value (a start's 30 items were
        # 360 type checks).
        as_json = [isinstance(table.c[c].type, JSON) for c in columns]
        cursor = connection.connection.driver_connection.cursor()
        with cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
            for row in rows:
                copy.write_row([_json_text(row[c]) if j else row[c]
                                for c, j in zip(columns, as_json)])
        return
    connection.execute(table.insert(), rows)
