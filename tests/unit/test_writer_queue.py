"""SQLite's writers queue on an flock (trainer.core.db.WriterQueue): a writer in another process
waits for the turn and gets it as soon as it is released; a thread never waits for itself."""
from __future__ import annotations

import multiprocessing
import threading
import time

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
