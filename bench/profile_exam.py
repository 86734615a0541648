"""Where exam day's time goes, in one process (the app through Flask's test client, one thread),
on SQLite or PostgreSQL:

1. the server time of each request of a candidate's exam, averaged over --candidates people
   (the start minute of bench/exam_day.py is these requests for 1,000 people at once);
2. N autosaves against N GET /healthz, the queries one save runs, and a cProfile of the saves.

    .venv/bin/python bench/profile_exam.py [--database sqlite|postgresql] [-n 2000] [--top 40]
"""
from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import re
import sys
import tempfile
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("-n", type=int, default=2000)
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--sort", default="cumulative")
    parser.add_argument("--candidates", type=int, default=40)
    parser.add_argument("--journey-profile", metavar="SUBSTRING",
                        help="cProfile the journey's requests whose name contains this "
                             "(or one of these, separated by |)")
    parser.add_argument("--dump", metavar="FILE", help="write the journey's profile here")
    parser.add_argument("--clock", choices=["wall", "cpu"], default="wall",
                        help="time the journey's requests by the wall clock (the database's "
                             "work included) or by this process's CPU time")
    parser.add_argument("--journey-queries", metavar="SUBSTRING",
                        help="print the statements the last candidate's requests whose name "
                             "contains this sent")
    args = parser.parse_args()

    from flask_migrate import upgrade
    from sqlalchemy import event, select
    from sqlalchemy.engine import Engine

    from exam_day import EXAM_RULES, prepare_database
    from trainer import create_app
    from trainer.accounts.services import create_staff
    from trainer.banks.models import QuestionBank
    from trainer.banks.services import sync_banks
    from trainer.core.db import db, write_intent
    from trainer.core.timeutil import utcnow
    from trainer.quizzes.services import QuizSettings, RuleSpec, save_quiz

    workdir = Path(tempfile.mkdtemp(prefix="profile-autosave-"))
    url = prepare_database(args.database, workdir)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "profile-secret-key-0123456789abcdef",
                      "INSTANCE_PATH": str(workdir), "PRODUCTION": True,
                      "SESSION_COOKIE_SECURE": False, "REMEMBER_COOKIE_SECURE": False})
    with app.app_context():
        upgrade()
        with write_intent():
            now = utcnow()
            sync_banks(ROOT / "question_banks", now=now)
            for i in range(args.candidates + 1):
                create_staff(None, employee_no=f"P{i:04d}", name="测速",
                             hire_date=date(2024, 1, 1), now=now, password="profile-password-1")
            banks = {b.key: b.id for b in db.session.scalars(select(QuestionBank))}
            quiz = save_quiz(None, None, QuizSettings(title="测速", time_limit_s=3600,
                                                      open_to_all=True),
                             rule_specs=[RuleSpec(banks[k], n, Decimal(1))
                                         for k, n in EXAM_RULES], now=now)
            db.session.commit()
            quiz_id = quiz.id

    journey(app, quiz_id, args.candidates, args.database, args.journey_profile, args.top,
            args.sort, args.journey_queries, time.process_time if args.clock == "cpu"
            else time.perf_counter, args.dump)
    client = app.test_client()
    page = client.get("/login").text
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    assert client.post("/login", data={"employee_no": "P0000", "password": "profile-password-1",
                                       "csrf_token": csrf}).status_code == 302
    page = client.get(f"/quizzes/{quiz_id}").text
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    attempt = int(client.post(f"/quizzes/{quiz_id}/start", data={"csrf_token": csrf})
                  .headers["Location"].rsplit("/", 1)[1])
    page = client.get(f"/attempts/{attempt}").text
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    version = 0

    def save(i: int) -> None:
        nonlocal version
        r = client.post(f"/attempts/{attempt}/save", headers={"X-CSRFToken": csrf},
                        json={"position": 0, "selected": [i % 2], "version": version})
        assert r.status_code == 200, r.text
        version = r.json["version"]

    anonymous = app.test_client()
    for i in range(200):  # warm caches
        save(i)
        anonymous.get("/healthz")

    with app.app_context():
        statements: list[str] = []
        engine = db.engine

        def log(_conn, _cursor, statement, *_a):
            statements.append(statement.split("\n")[0][:150])

        event.listen(Engine, "before_cursor_execute", log)  # (the lean path has its own pool)
        save(1)
        event.remove(Engine, "before_cursor_execute", log)
    print(f"queries of one save ({len(statements)}):")
    for statement in statements:
        print("   ", statement)

    started = time.perf_counter()
    for _ in range(args.n):
        anonymous.get("/healthz")
    trivial = (time.perf_counter() - started) / args.n
    started = time.perf_counter()
    for i in range(args.n):
        save(i)
    per_save = (time.perf_counter() - started) / args.n
    print(f"\nGET /healthz {trivial * 1000:.3f} ms, autosave {per_save * 1000:.3f} ms per request "
          f"(ratio {trivial / per_save:.0%}) — test client, one thread, {args.database}\n")

    profile = cProfile.Profile()
    profile.enable()
    for i in range(args.n):
        save(i)
    profile.disable()
    out = io.StringIO()
    pstats.Stats(profile, stream=out).sort_stats(args.sort).print_stats(args.top)
    print(out.getvalue())


def journey(app, quiz_id: int, candidates: int, database: str, profiled: str | None = None,
            top: int = 40, sort: str = "cumulative", queried: str | None = None,
            clock=time.perf_counter, dump: str | None = None) -> None:
    """Each candidate's requests as bench/exam_day.py sends them, timed one by one; with
    `profiled`, a cProfile of the requests whose name contains it; with `queried`, the
    statements of the last candidate's requests whose name contains it."""
    from collections import defaultdict

    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    profile = cProfile.Profile()
    statements: dict[str, list[str]] = defaultdict(list)
    counting: list[str] = []

    def log(_conn, _cursor, statement, *_a):
        if counting:
            statements[counting[0]].append(" ".join(statement.split())[:160])

    event.listen(Engine, "before_cursor_execute", log)

    token = re.compile(r'name="csrf-token" content="([^"]+)"')
    spent: dict[str, float] = defaultdict(float)

    def timed(name, call):
        on = profiled is not None and any(part in name for part in profiled.split("|"))
        if queried is not None and queried in name and i == candidates:
            counting.append(name)
        if on:
            profile.enable()
        started = clock()
        response = call()
        spent[name] += clock() - started
        if on:
            profile.disable()
        counting.clear()
        return response

    for i in range(1, candidates + 1):
        client = app.test_client()
        login = timed("GET /quizzes/[id] (exam link, signed out)",
                      lambda: client.get(f"/quizzes/{quiz_id}")).headers["Location"]
        csrf = token.search(timed("GET /login", lambda: client.get(login)).text).group(1)
        landing = timed("POST /login (Argon2id verify included)", lambda: client.post(
            login, data={"employee_no": f"P{i:04d}", "password": "profile-password-1",
                         "csrf_token": csrf})).headers["Location"]
        csrf = token.search(timed("GET /quizzes/[id] (start page)",
                                  lambda: client.get(landing)).text).group(1)
        page_url = timed("POST /quizzes/[id]/start", lambda: client.post(
            f"/quizzes/{quiz_id}/start", data={"csrf_token": csrf})).headers["Location"]
        page = timed("GET /attempts/[id] (question page)", lambda: client.get(page_url)).text
        csrf = token.search(page).group(1)
        timed("GET /attempts/[id] (question page, reload)", lambda: client.get(page_url))
        attempt = page_url.rsplit("/", 1)[1]
        result = timed("POST /attempts/[id]/submit", lambda: client.post(
            f"/attempts/{attempt}/submit", data={"csrf_token": csrf})).headers["Location"]
        timed("GET /attempts/[id]/result", lambda: client.get(result))
    event.remove(Engine, "before_cursor_execute", log)
    what = "CPU time" if clock is time.process_time else "time"
    print(f"server {what} per request, {candidates} candidates, {database} (test client):")
    start_minute = 0.0
    for name, total in spent.items():
        per = total / candidates * 1000
        print(f"    {per:7.1f} ms  {name}")
        if "submit" not in name and "result" not in name and "reload" not in name:
            start_minute += per
    print(f"    {start_minute:7.1f} ms  a candidate's arrival (link, sign-in, start, page)\n")
    for name, sent in statements.items():
        print(f"{name}: {len(sent)} statements")
        for statement in sent:
            print("   ", statement)
    if profiled and dump:
        profile.dump_stats(dump)
    if profiled:
        out = io.StringIO()
        pstats.Stats(profile, stream=out).sort_stats(sort).print_stats(top)
        print(out.getvalue())


if __name__ == "__main__":
    main()
