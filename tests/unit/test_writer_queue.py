"""SQLite's writers queue on an flock (trainer.core.db.WriterQueue): a writer in another process
waits for the turn and gets it as soon as it is released; a thread never waits for itself."""
from __future__ import annotations

import multiprocessing
import os
import sys
import threading
import time

import pytest

from trainer.core.db import WriterQueue


def _hold(path: str, held: multiprocessing.Event, go: multiprocessing.Event) -> None:
    queue = WriterQueue(path, 5)
    queue.acquire(1)
    held.set()
    go.wait(10)
    queue.release(1)


def test_a_writer_of_another_process_waits_and_is_woken_at_once(tmp_path):
    path = str(tmp_path / "db-writers.lock")
    ctx = multiprocessing.get_context("fork")
    held, go = ctx.Event(), ctx.Event()
    other = ctx.Process(target=_hold, args=(path, held, go))
    other.start()
    try:
        assert held.wait(10)
        queue = WriterQueue(path, 5)
        got = threading.Event()
        waiter = threading.Thread(target=lambda: (queue.acquire(7), got.set()))
        waiter.start()
        assert not got.wait(0.3), "took the turn while another process held it"
        released = time.monotonic()
        go.set()
        assert got.wait(5)
        assert time.monotonic() - released < 0.2
        waiter.join()
        queue.release(7)
    finally:
        go.set()
        other.join(10)


def test_the_holding_thread_does_not_wait_for_itself(tmp_path):
    queue = WriterQueue(str(tmp_path / "db-writers.lock"), 5)
    queue.acquire(1)
    started = time.monotonic()
    queue.acquire(2)  # a second connection of the same thread
    assert time.monotonic() - started < 0.1
    queue.release(2)
    queue.release(1)
    queue.acquire(3)  # and the turn is free again afterwards
    queue.release(3)


def test_threads_of_one_process_take_turns(tmp_path):
    queue = WriterQueue(str(tmp_path / "db-writers.lock"), 5)
    inside, overlaps = [], []

    def writer(n: int) -> None:
        for _ in range(50):
            queue.acquire(n)
            inside.append(n)
            if len(inside) > 1:
                overlaps.append(tuple(inside))
            time.sleep(0.0005)
            inside.remove(n)
            queue.release(n)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert overlaps == []


def test_a_thread_stuck_behind_its_own_process_gives_up_after_the_timeout(tmp_path):
    queue = WriterQueue(str(tmp_path / "db-writers.lock"), 0.2)
    queue.acquire(1)
    done = threading.Event()
    started = time.monotonic()
    t = threading.Thread(target=lambda: (queue.acquire(2), done.set()))
    t.start()
    assert done.wait(5)
    assert 0.15 < time.monotonic() - started < 2
    queue.release(2)  # never held: nothing happens
    queue.release(1)
    t.join()


def _turn_is_free(path: str) -> bool:
    import fcntl
    import os

    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return True
    finally:
        os.close(fd)


def test_an_engines_write_transactions_hold_the_turn_until_they_end(tmp_path):
    """Through SQLAlchemy: taken at BEGIN IMMEDIATE, given back after COMMIT, after ROLLBACK,
    and when a connection is returned without either; reads never take it."""
    import pytest
    from sqlalchemy import create_engine, text
    from sqlalchemy.orm import Session

    from trainer.core.db import configure_engine, write_intent

    database = tmp_path / "queue.db"
    lock = f"{database}-writers.lock"
    engine = create_engine(f"sqlite:///{database}")
    configure_engine(engine, 5)
    with write_intent():
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE t (x INTEGER)"))
            assert not _turn_is_free(lock)
        assert _turn_is_free(lock)

        with pytest.raises(RuntimeError):
            with engine.begin() as conn:
                conn.execute(text("INSERT INTO t VALUES (1)"))
                assert not _turn_is_free(lock)
                raise RuntimeError("rolled back")
        assert _turn_is_free(lock)

        conn = engine.connect()
        conn.execute(text("INSERT INTO t VALUES (2)"))
        assert not _turn_is_free(lock)
        conn.close()  # returned to the pool without COMMIT: rolled back
        assert _turn_is_free(lock)

        with Session(engine) as session:
            session.execute(text("INSERT INTO t VALUES (3)"))
            assert not _turn_is_free(lock)
            session.commit()
            assert _turn_is_free(lock)

    with engine.connect() as conn:  # no write intent: a plain BEGIN, no turn taken
        assert conn.execute(text("SELECT count(*) FROM t")).scalar() == 1
        assert _turn_is_free(lock)
    engine.dispose()


def _in_a_thread(function):
    """Run `function` on a thread of its own (niceness is per thread on Linux) and return what it
    returned, or raise what it raised."""
    out: dict = {}

    def run():
        try:
            out["value"] = function()
        except BaseException as exc:  # pragma: no cover - reported below
            out["error"] = exc

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if "error" in out:
        raise out["error"]
    return out["value"]


def _niceness() -> int:
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


@pytest.mark.skipif(not sys.platform.startswith("linux") or os.geteuid() != 0,
                    reason="per-thread niceness, lowered again only with privileges")
def test_a_niced_writer_holds_the_turn_at_the_ceiling_and_returns_to_its_niceness(tmp_path):
    queue = WriterQueue(str(tmp_path / "db-writers.lock"), 5, holder_niceness=0)

    def niced_writer():
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)
        queue.acquire(1)
        holding = _niceness()
        queue.acquire(2)      # a second connection of the holder: no change
        queue.release(1)
        still = _niceness()
        queue.release(2)      # the turn ends here
        return holding, still, _niceness()

    assert _in_a_thread(niced_writer) == (0, 0, 10)

    def plain_writer():      # already at the ceiling: left alone
        queue.acquire(1)
        holding = _niceness()
        queue.release(1)
        return holding, _niceness()

    assert _in_a_thread(plain_writer) == (0, 0)


def test_without_permission_the_turn_is_held_at_the_process_niceness(tmp_path, monkeypatch):
    if not sys.platform.startswith("linux"):
        pytest.skip("per-thread niceness is Linux's")
    queue = WriterQueue(str(tmp_path / "db-writers.lock"), 5, holder_niceness=0)
    monkeypatch.setattr(os, "getpriority", lambda *_a: 10)
    refused = []

    def setpriority(*args):
        refused.append(args)
        raise PermissionError("not allowed")

    monkeypatch.setattr(os, "setpriority", setpriority)
    queue.acquire(1)
    queue.release(1)
    assert len(refused) == 1 and queue.holder_niceness is None
    queue.acquire(1)          # no second attempt
    queue.release(1)
    assert len(refused) == 1
    # …and the queue still serialises writers.
    queue.acquire(1)
    assert queue._owner == threading.get_ident()
    queue.release(1)
    assert queue._owner is None


def test_the_writer_niceness_setting(monkeypatch, tmp_path):
    from trainer.config import build_config

    monkeypatch.delenv("TRAINER_SQLITE_WRITER_NICENESS", raising=False)
    assert build_config(tmp_path)["SQLITE_WRITER_NICENESS"] == 0
    for value, expected in (("off", None), ("", None), (" 5 ", 5), ("-30", -20), ("40", 19)):
        monkeypatch.setenv("TRAINER_SQLITE_WRITER_NICENESS", value)
        assert build_config(tmp_path)["SQLITE_WRITER_NICENESS"] == expected
