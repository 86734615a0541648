"""Exam-day benchmark: 1,000 candidates sit one timed 30-question exam against the app served
exactly as the README's Production section runs it (nginx with deploy/nginx-site.conf in front of
two gunicorn pools), measured against the machine's own floor, and the database is checked
afterwards.

    make bench-exam                          # SQLite, then PostgreSQL when 127.0.0.1:5432 answers
    make bench-exam BENCH_ARGS=--quick       # 200 candidates, 3-minute limit
    python bench/exam_day.py [--quick] [--database sqlite|postgresql|all]
                             [--front-workers N --exam-workers N --threads N]

The shape is fixed (issue 6) and echoed in the result: all candidates log in and start within
60 s; each answers its 30 questions one by one, 5–15 s apart, each answer an autosave; 20 % change
one earlier answer; 10 % reload the question page once; 80 % submit in the last 2 minutes, 15 %
earlier, 5 % never (half of those come back after deadline + grace and must be refused; the
sweep finalises the rest). --quick: 200 candidates, 3 minutes, every wait scaled by 0.3.

The floor: the server (nginx and both pools) pinned to core 1 (`taskset -c 1`), wrk pinned to
core 0, against GET /healthz and against the autosave endpoint (every request a real accepted
save), same connections, same run. The exam: the same server started again unpinned, with
Locust (headless, its own process) beside it on the same two cores, as the machine would run
exam day. Results: bench/results/exam_day-<db>-<full|quick>.json and a Markdown table; exits 1
when a target is missed.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import re
import secrets
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import production_stack  # noqa: E402  (bench/, beside this file)
from production_stack import (  # noqa: E402,F401  (the names tests and bench/profile_exam.py use)
    BIN,
    EXAM_WORKERS,
    FRONT_NICE,
    FRONT_WORKERS,
    GENERATOR_CORE,
    NGINX_MAIN,
    RESULTS,
    SERVER_CORE,
    THREADS,
    Stack,
    children_cpu,
    endpoint_stats,
    gunicorn_command,
    hash_passwords,
    locust_version,
    percentile,
    postgres_answers,
    precomputed_hashes,
    process_tree_cpu,
    production_env,
    render_nginx_site,
    run_locust,
    wait_for,
)

PG_BASE = "postgresql://postgres@127.0.0.1:5432/test"
PG_SCHEMA = "bench_exam"   # a schema of its own: the test suite owns `public` of this database
REDIS_DB = 14              # flushed before each run; the tests use db 0
PORT = 8765

FLOOR_CONNECTIONS = 16
FLOOR_SECONDS = 15
FLOOR_ROUNDS = 3
# wrk sends the floor's saves with the User-Agent the sessions logged in with, as a browser
# does (Flask-Login's session protection would otherwise re-sign the cookie on every request).
FLOOR_USER_AGENT = "exam-day-floor"

TARGETS = {"autosave_p95_ms": 150, "autosave_p99_ms": 300, "question_page_p95_ms": 250,
           "submit_p99_ms": 500, "floor_ratio": 0.5}

SAVE = "POST /attempts/[id]/save"
PAGE = "GET /attempts/[id] (question page)"
SUBMIT = "POST /attempts/[id]/submit"
LOGIN = "POST /login"

# 30 questions from six shipped banks.
EXAM_RULES = [("etiquette", 6), ("complaints", 6), ("ethics", 5), ("followup", 5),
              ("satisfaction", 4), ("stress", 4)]


def shape(quick: bool) -> dict:
    scale = 0.3 if quick else 1.0
    return {
        "variant": "quick" if quick else "full",
        "arrival": "each candidate opens the exam's link, signs in (redirected back to the "
                   "exam), starts, loads the question page",
        "candidates": 200 if quick else 1000,
        "questions": 30,
        "time_limit_s": 180 if quick else 600,
        "login_window_s": 60 * scale,
        "answer_gap_s": [5 * scale, 15 * scale],
        "change_one_earlier_answer": 0.20,
        "reload_page_once": 0.10,
        "submit_last_2_minutes": 0.80, "last_minutes_window_s": 120 * scale,
        "submit_earlier": 0.15,
        "never_submit": 0.05,
        "never_submit_late_probe": "half of those who never submit try one save after "
                                   "deadline + grace (must be refused)",
        "scale": scale,
    }


def custom_shape(s: dict, candidates: int | None, time_limit_s: int | None,
                 scale: float | None) -> dict:
    """The shape with other numbers: every wait scaled by `scale`."""
    scale = scale or s["scale"]
    return {**s, "scale": scale, "candidates": candidates or s["candidates"],
            "time_limit_s": time_limit_s or s["time_limit_s"],
            "login_window_s": 60 * scale, "answer_gap_s": [5 * scale, 15 * scale],
            "last_minutes_window_s": 120 * scale}


# -- the database ---------------------------------------------------------------------------------

def prepare_database(kind: str, workdir: Path) -> str:
    return production_stack.prepare_database(kind, workdir, PG_BASE, PG_SCHEMA)


def create_candidates(people: list[dict], *, now, roles: tuple[str, ...] = ("learner",),
                      name: str = "考生") -> None:
    """Staff members for these people (employee_no, password), in two departments; inside an
    app context with write intent, the hashes precomputed (production_stack.precomputed_hashes).
    Commits every 250."""
    from trainer.accounts import services as accounts
    from trainer.core.db import db

    for i, person in enumerate(people):
        accounts.create_staff(None, employee_no=person["employee_no"],
                              name=f"{name}{person['employee_no']}",
                              department="客服一部" if i % 2 else "客服二部",
                              hire_date=date(2024, 3, 1), roles=list(roles), now=now,
                              password=person["password"])
        if i % 250 == 249:
            db.session.commit()
    db.session.commit()


def create_exam(s: dict, *, now) -> int:
    """The timed exam of the shape: 30 questions from six shipped banks."""
    from sqlalchemy import select

    from trainer.banks.models import QuestionBank
    from trainer.core.db import db
    from trainer.quizzes.services import QuizSettings, RuleSpec, save_quiz

    banks = {b.key: b.id for b in db.session.scalars(select(QuestionBank))}
    exam = save_quiz(None, None, QuizSettings(
        title="考试日基准：服务规范综合考试", mode="exam",
        time_limit_s=s["time_limit_s"], attempts_allowed=1, open_to_all=True,
        description=f"{s['questions']} 道题，限时 {s['time_limit_s'] // 60} 分钟。"),
        rule_specs=[RuleSpec(banks[key], n, Decimal(1)) for key, n in EXAM_RULES],
        now=now)
    db.session.commit()
    return exam.id


def bench_app(url: str, secret: str):
    from trainer import create_app

    return create_app({"DATABASE_URL": url, "SECRET_KEY": secret,
                       "INSTANCE_PATH": str(Path(tempfile.mkdtemp(prefix="bench-app-")))})


def create_people_and_quizzes(url: str, secret: str, plans: list[dict], floor_people: list[dict],
                              s: dict) -> dict:
    """1,000 candidates with real Argon2id hashes at production parameters (hashed on both
    cores), the exam, and an untimed quiz for the floor's saves."""
    from sqlalchemy import select

    from trainer.banks.models import QuestionBank
    from trainer.core.db import db, write_intent
    from trainer.core.timeutil import utcnow
    from trainer.quizzes.services import QuizSettings, RuleSpec, save_quiz

    people = plans + floor_people
    started = time.perf_counter()
    hashes = hash_passwords([p["password"] for p in people])
    hashed = time.perf_counter()
    app = bench_app(url, secret)
    with precomputed_hashes(hashes):
        with app.app_context(), write_intent():
            now = utcnow()
            create_candidates(people, now=now)
            exam_id = create_exam(s, now=now)
            banks = {b.key: b.id for b in db.session.scalars(select(QuestionBank))}
            floor = save_quiz(None, None, QuizSettings(
                title="考试日基准：测速用（不限时）", mode="exam", open_to_all=True),
                rule_specs=[RuleSpec(banks["etiquette"], 5)], now=now)
            db.session.commit()
            ids = {"exam": exam_id, "floor": floor.id}
        with app.app_context():
            db.engine.dispose()
    return {**ids, "hash_s": round(hashed - started, 1),
            "create_s": round(time.perf_counter() - hashed, 1)}


# -- the floor ------------------------------------------------------------------------------------

def log_in(base: str, employee_no: str, password: str):
    import requests

    session = requests.Session()
    session.headers["User-Agent"] = FLOOR_USER_AGENT
    page = session.get(f"{base}/login").text
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    r = session.post(f"{base}/login", data={"employee_no": employee_no, "password": password,
                                            "csrf_token": csrf}, allow_redirects=False)
    if r.status_code != 302:
        raise RuntimeError(f"floor login failed: {r.status_code}")
    return session


def floor_sessions(base: str, people: list[dict], quiz_id: int, path: Path) -> None:
    lines = []
    for person in people:
        session = log_in(base, person["employee_no"], person["password"])
        page = session.get(f"{base}/quizzes/{quiz_id}").text
        csrf = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
        r = session.post(f"{base}/quizzes/{quiz_id}/start", data={"csrf_token": csrf},
                         allow_redirects=False)
        attempt = int(r.headers["Location"].rsplit("/", 1)[1])
        page = session.get(f"{base}/attempts/{attempt}").text
        csrf = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
        cookie = "; ".join(f"{c.name}={c.value}" for c in session.cookies)
        lines.append(f"{attempt}\t0\t{cookie}\t{csrf}")
    path.write_text("\n".join(lines) + "\n")


def run_wrk(args: list[str], seconds: int) -> tuple[dict, float]:
    before = children_cpu()
    out = subprocess.run(["taskset", "-c", GENERATOR_CORE, "wrk", "--latency", "-d",
                          f"{seconds}s", *args], capture_output=True, text=True, check=True).stdout
    cpu = children_cpu() - before
    parsed = {"requests_per_s": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
              "requests": int(re.search(r"(\d+) requests in", out).group(1))}
    for pct in ("50", "99"):
        m = re.search(rf"\s{pct}(?:\.000)?%\s+([\d.]+)(us|ms|s)", out)
        if m:
            value = float(m.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[m.group(2)]
            parsed[f"p{pct}_ms"] = round(value, 2)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    parsed["non_2xx"] = int(errors.group(1)) if errors else 0
    status = re.search(r"AUTOSAVE_STATUS (\{.*\})", out)
    if status:
        parsed["autosave_status"] = json.loads(status.group(1))
    parsed["generator_cpu_percent"] = round(100 * cpu / seconds, 1)
    return parsed, cpu


def measure_floor(base: str, sessions: Path, server_pids: list[int]) -> dict:
    """wrk at saturation against the trivial endpoint and the autosave, in alternating rounds
    (the machine's speed drifts by tens of percent over a minute here; alternating keeps the
    ratio honest), each endpoint FLOOR_SECONDS in all."""
    c = FLOOR_CONNECTIONS
    conn = ["-t", str(c), "-c", str(c)]
    save_args = [*conn, "-s", str(ROOT / "bench" / "autosave.lua"), base, "--", str(sessions)]
    trivial_args = [*conn, f"{base}/healthz"]
    seconds = FLOOR_SECONDS // FLOOR_ROUNDS
    run_wrk(trivial_args, 3)   # warm-up
    run_wrk(save_args, 3)
    rounds: dict[str, list[dict]] = {"trivial": [], "autosave": []}
    for _ in range(FLOOR_ROUNDS):
        for name, args in (("trivial", trivial_args), ("autosave", save_args)):
            before = process_tree_cpu(server_pids)
            result, _ = run_wrk(args, seconds)
            result["server_cpu_percent"] = round(
                100 * (process_tree_cpu(server_pids) - before) / seconds, 1)
            rounds[name].append(result)

    def combined(results: list[dict]) -> dict:
        total = sum(r["requests"] for r in results)
        out = {"requests": total, "requests_per_s": round(total / (seconds * len(results)), 1),
               "rounds_requests_per_s": [r["requests_per_s"] for r in results],
               "p50_ms_rounds": [r.get("p50_ms") for r in results],
               "p99_ms_rounds": [r.get("p99_ms") for r in results],
               "non_2xx": sum(r["non_2xx"] for r in results),
               "server_cpu_percent": round(sum(r["server_cpu_percent"] for r in results)
                                           / len(results), 1),
               "generator_cpu_percent": max(r["generator_cpu_percent"] for r in results)}
        statuses = [r["autosave_status"] for r in results if "autosave_status" in r]
        if statuses:
            out["autosave_status"] = {k: sum(st[k] for st in statuses) for k in statuses[0]}
        return out

    trivial, autosave = combined(rounds["trivial"]), combined(rounds["autosave"])
    accepted_per_s = autosave.get("autosave_status", {}).get("ok", 0) / (seconds * FLOOR_ROUNDS)
    return {"tool": f"wrk -t {c} -c {c}, {FLOOR_ROUNDS} alternating rounds of {seconds} s per "
                    f"endpoint, pinned to core {GENERATOR_CORE}",
            "trivial_endpoint": "GET /healthz", "trivial": trivial,
            "autosave": autosave, "autosave_accepted_per_s": round(accepted_per_s, 1),
            "ratio": round(accepted_per_s / trivial["requests_per_s"], 3)}


# -- the exam -------------------------------------------------------------------------------------

def make_plans(s: dict, seed: int = 2026) -> list[dict]:
    rng = random.Random(seed)
    n = s["candidates"]
    roles = (["last2"] * round(n * s["submit_last_2_minutes"]) +
             ["early"] * round(n * s["submit_earlier"]))
    roles += ["never"] * (n - len(roles))
    rng.shuffle(roles)
    changers = set(rng.sample(range(n), round(n * s["change_one_earlier_answer"])))
    reloaders = set(rng.sample(range(n), round(n * s["reload_page_once"])))
    plans, never_seen = [], 0
    for i in range(n):
        plan = {"employee_no": f"E{i + 1:05d}", "password": f"exam-{secrets.token_urlsafe(9)}",
                "seed": rng.randrange(2 ** 32), "submit": roles[i],
                "arrive_s": round(rng.uniform(0, 0.9 * s["login_window_s"]), 3),
                "change_at": rng.randint(1, s["questions"] - 1) if i in changers else None,
                "reload_at": rng.randint(5, s["questions"] - 5) if i in reloaders else None}
        if roles[i] == "never":
            plan["late_probe"] = never_seen % 2 == 0
            never_seen += 1
        plans.append(plan)
    return plans


def exam_config(s: dict, plans: list[dict], quiz_id: int, grace_s: int, t0: float,
                output: Path) -> dict:
    """What bench/exam_locustfile.py reads (EXAM_BENCH_CONFIG)."""
    return {"scale": s["scale"], "candidates": plans, "quiz_id": quiz_id, "t0": t0,
            "questions": s["questions"], "grace_s": grace_s, "output": str(output),
            "max_requests": int(len(plans) * (s["questions"] + 12) * 1.5)}


def run_exam(base: str, s: dict, plans: list[dict], quiz_id: int, grace_s: int, workdir: Path,
             server_pids: list[int]) -> dict:
    output = workdir / "locust-out.json"
    t0 = time.time() + 12   # Locust's start-up and the spawning of every user come first
    config = exam_config(s, plans, quiz_id, grace_s, t0, output)
    run_time = int(12 + s["login_window_s"] + s["time_limit_s"] + grace_s + 90)
    measured = run_locust(ROOT / "bench" / "exam_locustfile.py", base, len(plans), run_time,
                          config, workdir, server_pids)
    data = json.loads(output.read_text())
    data.update({key: measured[key] for key in ("generator", "server_cpu_percent_mean",
                                                "server_cpu_percent_5s",
                                                "database_cpu_percent_5s")})
    data["t0"] = t0
    return data


# -- after the run: the database ------------------------------------------------------------------

def check_database(url: str, quiz_id: int, acks: list[dict], grace_s: int) -> dict:
    from sqlalchemy import JSON, create_engine, text

    from trainer.config import normalise_database_url
    from trainer.core.db import UTCDateTime

    engine = create_engine(normalise_database_url(url))
    with engine.connect() as conn:
        items = conn.execute(text(
            "SELECT i.attempt_id, i.position, i.selected, i.version, i.choice_order, i.saved_at, "
            "a.deadline_at FROM attempt_items i JOIN attempts a ON a.id = i.attempt_id "
            "WHERE a.quiz_id = :q").columns(selected=JSON(), choice_order=JSON(),
                                             saved_at=UTCDateTime(), deadline_at=UTCDateTime()),
            {"q": quiz_id}).all()
        attempts = conn.execute(text(
            "SELECT id, staff_id, state, submitted_at, deadline_at FROM attempts "
            "WHERE quiz_id = :q"), {"q": quiz_id}).all()
        events = conn.execute(text(
            "SELECT object_id, action FROM audit_events WHERE object_type = 'attempt' "
            "AND action IN ('attempt.submitted', 'attempt.expired')")).all()
    engine.dispose()

    stored = {(a, p): (sel, v, order, saved, deadline)
              for a, p, sel, v, order, saved, deadline in items}
    latest: dict = {}
    for ack in acks:
        key = (ack["attempt"], ack["position"])
        if key not in latest or ack["version"] > latest[key]["version"]:
            latest[key] = ack
    lost = []
    for key, ack in latest.items():
        row = stored.get(key)
        if row is None:
            lost.append({"attempt": key[0], "position": key[1], "why": "no such item"})
            continue
        selected, version, order, _saved, _deadline = row
        expected = sorted(order[i] for i in ack["selected"])
        if version < ack["version"] or (version == ack["version"] and
                                        sorted(selected) != expected):
            lost.append({"attempt": key[0], "position": key[1], "acked": ack["version"],
                         "stored": version})
    grace = timedelta(seconds=grace_s)
    late = [{"attempt": a, "position": p} for (a, p), (_s, _v, _o, saved, deadline)
            in stored.items() if saved and deadline and saved > deadline + grace]
    finals = defaultdict(list)
    for object_id, action in events:
        finals[int(object_id)].append(action)
    states = defaultdict(int)
    not_once = []
    for attempt_id, _staff, state, _submitted, _deadline in attempts:
        states[state] += 1
        expected_action = {"submitted": "attempt.submitted", "expired": "attempt.expired"}
        if state not in expected_action or finals.get(attempt_id) != [expected_action[state]]:
            not_once.append({"attempt": attempt_id, "state": state,
                             "events": finals.get(attempt_id, [])})
    per_person = defaultdict(int)
    for _id, staff, *_rest in attempts:
        per_person[staff] += 1
    return {"acknowledged_saves": len(acks), "answers_checked": len(latest),
            "lost_answers": len(lost), "lost_examples": lost[:10],
            "late_answers_accepted": len(late), "late_examples": late[:10],
            "attempts": len(attempts), "attempt_states": dict(states),
            "not_submitted_exactly_once": len(not_once), "not_once_examples": not_once[:10],
            "people_with_several_attempts": sum(1 for c in per_person.values() if c > 1)}


def sweep_after_deadline(url: str, env: dict, quiz_id: int, grace_s: int) -> str:
    """The sweep (cron, every minute) finalises what nobody submitted, after deadline + grace:
    run once the last attempt's deadline + grace has passed."""
    from sqlalchemy import create_engine, text

    from trainer.config import normalise_database_url
    from trainer.core.db import UTCDateTime

    engine = create_engine(normalise_database_url(url))
    with engine.connect() as conn:
        last = conn.execute(text("SELECT deadline_at FROM attempts WHERE quiz_id = :q "
                                 "ORDER BY deadline_at DESC LIMIT 1")
                            .columns(deadline_at=UTCDateTime()), {"q": quiz_id}).scalar()
    engine.dispose()
    if last is not None:
        wait = last.timestamp() + grace_s + 1 - time.time()
        if wait > 0:
            time.sleep(wait)
    return subprocess.run([str(BIN / "trainer"), "quizzes", "sweep"], env=env, cwd=ROOT,
                          check=True, capture_output=True, text=True).stdout.strip()


# -- one run --------------------------------------------------------------------------------------

def run(kind: str, s: dict, pools: tuple[int, int], threads: int, port: int,
        floor_only: bool = False, floor: bool = True) -> dict:
    import redis

    workdir = Path(tempfile.mkdtemp(prefix=f"exam-day-{kind}-"))
    url = prepare_database(kind, workdir)
    secret = secrets.token_urlsafe(48)
    redis_url = f"redis://127.0.0.1:6379/{REDIS_DB}"
    env = production_env(url, secret, redis_url)
    grace_s = 30
    print(f"[{kind}] setting up the database ({workdir})", flush=True)
    t = time.perf_counter()
    subprocess.run([str(BIN / "trainer"), "setup"], env=env, cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL)
    setup_s = time.perf_counter() - t
    plans = make_plans(s)
    floor_people = [{"employee_no": f"F{i + 1:04d}", "password": f"floor-{secrets.token_urlsafe(9)}"}
                    for i in range(FLOOR_CONNECTIONS)]
    print(f"[{kind}] creating {len(plans)} candidates (Argon2id, production parameters) "
          "and the exam", flush=True)
    made = create_people_and_quizzes(url, secret, plans, floor_people, s)
    redis.Redis.from_url(redis_url).flushdb()

    base = f"http://127.0.0.1:{port}"
    server = Stack(*pools, threads, port, env, workdir, pinned=True)
    try:
        print(f"[{kind}] floor: wrk against /healthz and the autosave endpoint", flush=True)
        sessions = workdir / "floor-sessions.tsv"
        if floor:
            floor_sessions(base, floor_people, made["floor"], sessions)
            floor = measure_floor(base, sessions, server.pids)
            print(f"[{kind}] floor: {floor['trivial']['requests_per_s']:.0f} req/s trivial, "
                  f"{floor['autosave_accepted_per_s']:.0f} saves/s ({floor['ratio']:.0%}); "
                  f"server CPU {floor['trivial']['server_cpu_percent']:.0f} % / "
                  f"{floor['autosave']['server_cpu_percent']:.0f} %", flush=True)
        else:
            floor = {"ratio": 0, "trivial": {"requests_per_s": 0}, "autosave": {},
                     "autosave_accepted_per_s": 0, "tool": "skipped"}
    finally:
        server.stop()
    if floor_only:
        return {"floor": floor, "workdir": str(workdir)}
    # Exam day itself: the same stack, on both cores.
    server = Stack(*pools, threads, port, env, workdir, pinned=False)
    try:
        print(f"[{kind}] exam: {len(plans)} candidates, {s['time_limit_s'] // 60} minutes",
              flush=True)
        exam = run_exam(base, s, plans, made["exam"], grace_s, workdir, server.pids)
        sweep = sweep_after_deadline(url, env, made["exam"], grace_s)
    finally:
        server.stop()
    checks = check_database(url, made["exam"], exam["acks"], grace_s)
    duration = max((start + ms / 1000 for _n, start, ms, _ok, _st in exam["requests"]),
                   default=exam["t0"]) - exam["t0"]
    endpoints = endpoint_stats(exam["requests"], duration)
    events = exam["events"]
    logins = [e["logged_in"] - exam["t0"] for e in events if "logged_in" in e]
    starts = [e["started"] - exam["t0"] for e in events if "started" in e]
    refused_logins = sum(1 for e in exam["errors"] if e.get("what") == "login refused")
    late_probes = [e.get("late_probe") for e in events if e.get("late_probe") not in (None, True)]
    result = {
        "benchmark": "exam_day", "database": kind, "shape": s,
        "machine": production_stack.machine(),
        "server": {"command": server.describe(),
                   "floor_pinned_to_core": SERVER_CORE, "exam_cores": "both (unpinned)",
                   "workers": {"front": pools[0], "exam": pools[1]}, "threads": threads,
                   "worker_class": "gthread" if threads > 1 else "sync",
                   "production": True, "redis_limiter": redis_url, "grace_s": grace_s,
                   "cpu_percent_mean_during_exam": exam["server_cpu_percent_mean"],
                   "cpu_percent_every_5s": exam["server_cpu_percent_5s"],
                   "database_cpu_percent_every_5s": exam["database_cpu_percent_5s"]},
        "generator": {"tool": f"locust {locust_version()} headless (FastHttpUser), "
                              "unpinned beside the server", **exam["generator"]},
        "preparation": {"setup_s": round(setup_s, 1), **made},
        "endpoints": endpoints,
        "logins": {"logged_in": len(logins), "started": len(starts), "refused": refused_logins,
                   "last_login_s": round(max(logins, default=0), 1),
                   "last_start_s": round(max(starts, default=0), 1)},
        "late_probes": {"sent": len(late_probes),
                        "refused": sum(1 for p in late_probes if p == "refused")},
        "submits": {"submitted_by_candidates": sum(1 for e in events if "submitted" in e),
                    "in_last_window": sum(1 for e in events if "submitted" in e and
                                          e["seconds_before_deadline"] <=
                                          s["last_minutes_window_s"]),
                    "sweep": sweep},
        "errors": len(exam["errors"]), "error_examples": exam["errors"][:20],
        "floor": floor,
        "database_checks": checks,
        "lost_answers": checks["lost_answers"],
        "late_answers_accepted": checks["late_answers_accepted"],
    }
    result["targets"] = evaluate(result, s)
    result["workdir"] = str(workdir)
    return result


def evaluate(r: dict, s: dict) -> dict:
    ep = r["endpoints"]

    def get(name, key):
        return ep.get(name, {}).get(key, float("inf"))

    n = s["candidates"]
    checks = r["database_checks"]
    t = {
        "no errors": r["errors"] == 0 and sum(e["failures"] for e in ep.values()) == 0,
        "no lost answers": r["lost_answers"] == 0,
        "no late answers accepted": r["late_answers_accepted"] == 0 and
        r["late_probes"]["refused"] == r["late_probes"]["sent"],
        "every attempt submitted exactly once": checks["attempts"] == n and
        checks["not_submitted_exactly_once"] == 0 and checks["people_with_several_attempts"] == 0,
        f"all {n} log in within {s['login_window_s']:g} s, none refused":
            r["logins"]["logged_in"] == n and r["logins"]["started"] == n and
            r["logins"]["refused"] == 0 and r["logins"]["last_login_s"] <= s["login_window_s"],
        f"autosave p95 ≤ {TARGETS['autosave_p95_ms']} ms":
            get(SAVE, "p95_ms") <= TARGETS["autosave_p95_ms"],
        f"autosave p99 ≤ {TARGETS['autosave_p99_ms']} ms":
            get(SAVE, "p99_ms") <= TARGETS["autosave_p99_ms"],
        f"question page p95 ≤ {TARGETS['question_page_p95_ms']} ms":
            get(PAGE, "p95_ms") <= TARGETS["question_page_p95_ms"],
        f"submit p99 ≤ {TARGETS['submit_p99_ms']} ms":
            get(SUBMIT, "p99_ms") <= TARGETS["submit_p99_ms"],
        "autosave throughput ≥ 50 % of the trivial endpoint's":
            r["floor"]["ratio"] >= TARGETS["floor_ratio"],
    }
    return {name: bool(ok) for name, ok in t.items()}


# -- output ---------------------------------------------------------------------------------------

def table(r: dict) -> str:
    s = r["shape"]
    lines = [f"### {r['database']} — {s['variant']}: {s['candidates']} candidates, "
             f"{s['questions']} questions, {s['time_limit_s'] // 60}-minute limit",
             "",
             f"server: {r['server']['command']} on both cores (the floor: pinned to core "
             f"{r['server']['floor_pinned_to_core']}); "
             f"generator: {r['generator']['tool']}, CPU {r['generator']['cpu_percent_mean']} % "
             f"mean, {r['generator']['cpu_percent_peak_5s']} % peak",
             "",
             "| endpoint | count | failures | req/s | p50 ms | p95 ms | p99 ms | max ms |",
             "|---|---|---|---|---|---|---|---|"]
    for name, e in r["endpoints"].items():
        lines.append(f"| {name} | {e['count']:,} | {e['failures']} | {e['req_per_s']} | "
                     f"{e['p50_ms']:g} | {e['p95_ms']:g} | {e['p99_ms']:g} | {e['max_ms']:g} |")
    f = r["floor"]
    lines += ["",
              f"floor ({f['tool']}): GET /healthz {f['trivial']['requests_per_s']:,.0f} req/s; "
              f"autosave {f['autosave_accepted_per_s']:,.0f} accepted saves/s "
              f"(status {f['autosave'].get('autosave_status')}) → **{f['ratio']:.0%}** of the "
              f"trivial endpoint",
              "",
              f"logins: {r['logins']['logged_in']} logged in, {r['logins']['started']} started, "
              f"last start at {r['logins']['last_start_s']} s, {r['logins']['refused']} refused; "
              f"errors {r['errors']}; lost answers {r['lost_answers']} of "
              f"{r['database_checks']['answers_checked']:,} checked; late answers accepted "
              f"{r['late_answers_accepted']} (late probes refused {r['late_probes']['refused']}"
              f"/{r['late_probes']['sent']}); attempts {r['database_checks']['attempt_states']}, "
              f"not submitted exactly once: {r['database_checks']['not_submitted_exactly_once']}",
              "",
              "| target | met |", "|---|---|"]
    for name, ok in r["targets"].items():
        lines.append(f"| {name} | {'yes' if ok else '**NO**'} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="200 candidates, 3-minute limit")
    parser.add_argument("--database", choices=["sqlite", "postgresql", "all"], default="all")
    parser.add_argument("--front-workers", type=int, default=FRONT_WORKERS)
    parser.add_argument("--exam-workers", type=int, default=EXAM_WORKERS)
    parser.add_argument("--threads", type=int, default=THREADS)
    parser.add_argument("--port", type=int, default=PORT)
    # For trying the benchmark itself out; such a run is labelled "custom", not full or quick.
    parser.add_argument("--candidates", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--time-limit-s", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--scale", type=float, help=argparse.SUPPRESS)
    parser.add_argument("--floor-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--no-floor", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if (os.cpu_count() or 1) < 2:
        print("needs 2 cores (server on one, load generator on the other)", file=sys.stderr)
        return 2
    kinds = ["sqlite", "postgresql"] if args.database == "all" else [args.database]
    if "postgresql" in kinds and not postgres_answers():
        print("PostgreSQL does not answer at 127.0.0.1:5432: skipped", flush=True)
        kinds.remove("postgresql")
        if not kinds:
            return 1
    s = shape(args.quick)
    if args.candidates or args.time_limit_s or args.scale:
        s = {**custom_shape(s, args.candidates, args.time_limit_s, args.scale),
             "variant": "custom"}
    missed = False
    RESULTS.mkdir(parents=True, exist_ok=True)
    for kind in kinds:
        result = run(kind, s, (args.front_workers, args.exam_workers), args.threads, args.port,
                     args.floor_only,
                     not args.no_floor)
        if args.floor_only:
            print(json.dumps(result["floor"], indent=1))
            continue
        path = RESULTS / f"exam_day-{kind}-{s['variant']}.json"
        path.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
        print()
        print(table(result))
        print(f"\n(written to {path.relative_to(ROOT)})\n", flush=True)
        missed |= not all(result["targets"].values())
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
