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
import multiprocessing
import os
import platform
import random
import re
import resource
import secrets
import signal
import socket
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
BIN = Path(sys.executable).parent
RESULTS = ROOT / "bench" / "results"

PG_BASE = "postgresql://postgres@127.0.0.1:5432/test"
PG_SCHEMA = "bench_exam"   # a schema of its own: the test suite owns `public` of this database
REDIS_DB = 14              # flushed before each run; the tests use db 0
PORT = 8765

# Worker settings, the README's production commands': nginx in front of two pools of sync workers
# (deploy/nginx-site.conf). The exam pool serves /attempts/… (question pages, saves, submits),
# the front pool everything else, so that a sign-in rush (Argon2id, ~25 ms each) queues in the
# front pool and never in front of an answer. One pool of 8 (until 2026-11-23) left saves
# waiting behind sign-ins for a free worker: autosave p99 0.5–1.2 s during the start minute.
FRONT_WORKERS = 8
EXAM_WORKERS = 4
# The front pool runs at a lower CPU priority (nice 10): when the start minute asks for more CPU
# than the machine has, the sign-ins wait, not the answers. Without it (2026-11-23, a slow
# moment of this machine) the exam pool's queue grew as the front pool's did: question page p95
# 11.9 s, autosave p99 3.4 s on PostgreSQL.
FRONT_NICE = 10
THREADS = 1

SERVER_CORE, GENERATOR_CORE = "1", "0"
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


# -- the database ---------------------------------------------------------------------------------

def postgres_answers() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1):
            return True
    except OSError:
        return False


def prepare_database(kind: str, workdir: Path) -> str:
    if kind == "sqlite":
        return f"sqlite:///{workdir / 'trainer.db'}"
    import psycopg

    with psycopg.connect(PG_BASE, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {PG_SCHEMA} CASCADE")
        conn.execute(f"CREATE SCHEMA {PG_SCHEMA}")
    return f"{PG_BASE}?options=-csearch_path%3D{PG_SCHEMA}"


def _hash(password: str) -> str:
    from trainer.accounts.passwords import hash_password

    return hash_password(password)


def create_people_and_quizzes(url: str, secret: str, plans: list[dict], floor_people: list[dict],
                              s: dict) -> dict:
    """1,000 candidates with real Argon2id hashes at production parameters (hashed on both
    cores), the exam, and an untimed quiz for the floor's saves."""
    from sqlalchemy import select

    from trainer import create_app
    from trainer.accounts import services as accounts
    from trainer.banks.models import QuestionBank
    from trainer.core.db import db, write_intent
    from trainer.core.timeutil import utcnow
    from trainer.quizzes.services import QuizSettings, RuleSpec, save_quiz

    people = plans + floor_people
    started = time.perf_counter()
    with multiprocessing.Pool(os.cpu_count() or 2) as pool:
        hashes = dict(zip((p["password"] for p in people),
                          pool.map(_hash, [p["password"] for p in people], chunksize=16)))
    hashed = time.perf_counter()
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": secret,
                      "INSTANCE_PATH": str(Path(tempfile.mkdtemp(prefix="exam-app-")))})
    original = accounts.hash_password
    accounts.hash_password = hashes.__getitem__   # the hashes computed above, one per password
    try:
        with app.app_context(), write_intent():
            now = utcnow()
            for i, person in enumerate(people):
                accounts.create_staff(None, employee_no=person["employee_no"],
                                      name=f"考生{person['employee_no']}",
                                      department="客服一部" if i % 2 else "客服二部",
                                      hire_date=date(2024, 3, 1), roles=["learner"], now=now,
                                      password=person["password"])
                if i % 250 == 249:
                    db.session.commit()
            db.session.commit()
            banks = {b.key: b.id for b in db.session.scalars(select(QuestionBank))}
            exam = save_quiz(None, None, QuizSettings(
                title="考试日基准：服务规范综合考试", mode="exam",
                time_limit_s=s["time_limit_s"], attempts_allowed=1, open_to_all=True,
                description=f"{s['questions']} 道题，限时 {s['time_limit_s'] // 60} 分钟。"),
                rule_specs=[RuleSpec(banks[key], n, Decimal(1)) for key, n in EXAM_RULES],
                now=now)
            floor = save_quiz(None, None, QuizSettings(
                title="考试日基准：测速用（不限时）", mode="exam", open_to_all=True),
                rule_specs=[RuleSpec(banks["etiquette"], 5)], now=now)
            db.session.commit()
            ids = {"exam": exam.id, "floor": floor.id}
        with app.app_context():
            db.engine.dispose()
    finally:
        accounts.hash_password = original
    return {**ids, "hash_s": round(hashed - started, 1),
            "create_s": round(time.perf_counter() - hashed, 1)}


# -- the server -----------------------------------------------------------------------------------

def gunicorn_command(workers: int, threads: int, bind: str) -> list[str]:
    """The README's production command for one pool (gunicorn -w N [--threads N] wsgi:app)."""
    threading = ["--threads", str(threads)] if threads > 1 else []
    return [str(BIN / "gunicorn"), "-w", str(workers), *threading, "-b", bind, "wsgi:app"]


def render_nginx_site(front: str, exam: str, listen: str, static: Path = ROOT / "static") -> str:
    """deploy/nginx-site.conf with its placeholders filled, as the README tells production."""
    text = (ROOT / "deploy" / "nginx-site.conf").read_text()
    for key, value in {"@FRONT@": front, "@EXAM@": exam, "@LISTEN@": listen,
                       "@STATIC@": str(static)}.items():
        text = text.replace(key, value)
    left = re.findall(r"@[A-Z]+@", text)
    if left:
        raise RuntimeError(f"deploy/nginx-site.conf has placeholders the bench does not fill: {left}")
    return text


# Debian's nginx.conf, reduced to what the site needs, with every path inside the run's directory.
NGINX_MAIN = """worker_processes auto;
worker_rlimit_nofile 16384;
pid {run}/nginx.pid;
error_log {run}/nginx-error.log warn;
events {{ worker_connections 8192; }}
http {{
    include /etc/nginx/mime.types;
    sendfile on;
    access_log off;
    client_body_temp_path {run}/client_body;
    proxy_temp_path {run}/proxy;
    fastcgi_temp_path {run}/fastcgi;
    uwsgi_temp_path {run}/uwsgi;
    scgi_temp_path {run}/scgi;
    include {run}/site.conf;
}}
"""


class Stack:
    """nginx on 127.0.0.1:port and the two gunicorn pools behind it on Unix sockets, the README's
    production set-up; pinned (the floor) puts all of it on SERVER_CORE."""

    def __init__(self, front: int, exam: int, threads: int, port: int, env: dict,
                 workdir: Path, pinned: bool):
        self.front, self.exam, self.threads, self.port = front, exam, threads, port
        self.run = workdir / "stack"
        self.run.mkdir(exist_ok=True)
        # nginx's workers run as nobody: they need to reach the sockets.
        os.chmod(workdir, 0o711)
        os.chmod(self.run, 0o755)
        self.sockets = {"front": self.run / "front.sock", "exam": self.run / "exam.sock"}
        pin = ["taskset", "-c", SERVER_CORE] if pinned else []
        self.processes: list[subprocess.Popen] = []
        with open(workdir / "server.log", "a") as log:
            for pool, workers, nice in (("front", front, FRONT_NICE), ("exam", exam, 0)):
                self.sockets[pool].unlink(missing_ok=True)
                niced = ["nice", "-n", str(nice)] if nice else []
                self.processes.append(subprocess.Popen(
                    [*pin, *niced,
                     *gunicorn_command(workers, threads, f"unix:{self.sockets[pool]}")],
                    env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT))
            (self.run / "site.conf").write_text(render_nginx_site(
                f"unix:{self.sockets['front']}", f"unix:{self.sockets['exam']}",
                f"127.0.0.1:{port}"))
            (self.run / "nginx.conf").write_text(NGINX_MAIN.format(run=self.run))
            self.processes.append(subprocess.Popen(
                [*pin, "nginx", "-p", f"{self.run}/", "-c", str(self.run / "nginx.conf"),
                 "-g", "daemon off;"], stdout=log, stderr=subprocess.STDOUT))
        try:
            base = f"http://127.0.0.1:{port}"
            wait_for(f"{base}/healthz")
            wait_for(f"{base}/attempts/1/state", ok=(302, 401, 403, 404))   # the exam pool
            self.wait_until_idle()
        except Exception:
            self.stop()
            raise

    def wait_until_idle(self, seconds: float = 60) -> None:
        """Until every worker has booted (imported the app: ~1.3 s of CPU each) and the stack
        is idle, so that no measurement shares the CPU with a worker still starting."""
        deadline = time.time() + seconds
        while time.time() < deadline:
            before = process_tree_cpu(self.pids)
            time.sleep(1)
            if process_tree_cpu(self.pids) - before < 0.05:
                return
        raise RuntimeError("the server did not settle after starting")

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self.processes]

    def describe(self) -> str:
        def pool(workers: int, name: str) -> str:
            command = gunicorn_command(workers, self.threads, f"unix:{name}.sock")
            return " ".join([Path(command[0]).name, *command[1:]])

        return (f"nginx (deploy/nginx-site.conf): /attempts/… → `{pool(self.exam, 'exam')}`, "
                f"the rest → `nice -n {FRONT_NICE} {pool(self.front, 'front')}`")

    def stop(self) -> None:
        for process in reversed(self.processes):   # nginx first, then the pools
            process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


def wait_for(url: str, seconds: float = 30, ok: tuple[int, ...] = (200,)) -> None:
    import requests

    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            if requests.get(url, timeout=1, allow_redirects=False).status_code in ok:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer")


def _cpu_seconds(processes) -> float:
    import psutil

    total = 0.0
    for proc in processes:
        try:
            times = proc.cpu_times()
            total += times.user + times.system
        except psutil.Error:
            pass
    return total


def process_tree_cpu(pids: list[int]) -> float:
    """CPU seconds of these processes and all their children (the server: nginx and both pools)."""
    import psutil

    total = 0.0
    for pid in pids:
        try:
            root = psutil.Process(pid)
            total += _cpu_seconds([root, *root.children(recursive=True)])
        except psutil.Error:
            pass
    return total


def database_cpu() -> float:
    """CPU seconds of the PostgreSQL server's processes (0 for SQLite, which runs in the app)."""
    import psutil

    return _cpu_seconds(p for p in psutil.process_iter(["name"])
                        if (p.info["name"] or "").startswith("postgres"))


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


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


def run_exam(base: str, s: dict, plans: list[dict], quiz_id: int, grace_s: int, workdir: Path,
             server_pids: list[int]) -> dict:
    import psutil

    output = workdir / "locust-out.json"
    n = len(plans)
    t0 = time.time() + 12   # Locust's start-up and the spawning of every user come first
    config = {"scale": s["scale"], "candidates": plans, "quiz_id": quiz_id, "t0": t0,
              "questions": s["questions"], "grace_s": grace_s, "output": str(output),
              "max_requests": int(n * (s["questions"] + 12) * 1.5)}
    config_path = workdir / "locust-config.json"
    config_path.write_text(json.dumps(config))
    run_time = int(12 + s["login_window_s"] + s["time_limit_s"] + grace_s + 90)
    cmd = [str(BIN / "locust"), "-f",
           str(ROOT / "bench" / "exam_locustfile.py"), "--headless", "-u", str(n),
           "-r", str(max(1, n // 5)), "-t", f"{run_time}s", "--stop-timeout", "10",
           "--host", base, "--only-summary", "--loglevel", "WARNING"]
    env = {**os.environ, "EXAM_BENCH_CONFIG": str(config_path)}
    server_cpu_before = process_tree_cpu(server_pids)
    cpu_before = children_cpu()
    started = time.time()
    with open(workdir / "locust.log", "w") as log:
        proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
        samples, server_samples, db_samples = [], [], []
        ps = psutil.Process(proc.pid)
        last = (time.time(), 0.0, process_tree_cpu(server_pids), database_cpu())
        while proc.poll() is None:
            time.sleep(5)
            try:
                t = ps.cpu_times()
                now = (time.time(), t.user + t.system, process_tree_cpu(server_pids),
                       database_cpu())
            except psutil.Error:
                break
            span = now[0] - last[0]
            samples.append(round(100 * (now[1] - last[1]) / span, 1))
            server_samples.append(round(100 * (now[2] - last[2]) / span))
            db_samples.append(round(100 * (now[3] - last[3]) / span))
            last = now
    wall = time.time() - started
    generator_cpu = children_cpu() - cpu_before
    server_cpu = process_tree_cpu(server_pids) - server_cpu_before
    data = json.loads(output.read_text())
    data["generator"] = {"cpu_s": round(generator_cpu, 1), "wall_s": round(wall, 1),
                         "cpu_percent_mean": round(100 * generator_cpu / wall, 1),
                         "cpu_percent_peak_5s": max(samples or [0]),
                         "saturated": max(samples or [0]) >= 90,
                         "exit_code": proc.returncode}
    data["server_cpu_percent_mean"] = round(100 * server_cpu / wall, 1)
    data["server_cpu_percent_5s"] = server_samples
    data["database_cpu_percent_5s"] = db_samples
    data["t0"] = t0
    return data


def percentile(sorted_values: list[float], p: float) -> float:
    if not sorted_values:
        return 0.0
    k = max(0, min(len(sorted_values) - 1, int(round(p / 100 * len(sorted_values) + 0.5)) - 1))
    return sorted_values[k]


def endpoint_stats(requests: list, duration: float) -> dict:
    by_name = defaultdict(list)
    failures = defaultdict(int)
    for name, _start, ms, ok, _status in requests:
        by_name[name].append(ms)
        if not ok:
            failures[name] += 1
    stats = {}
    for name, values in sorted(by_name.items()):
        values.sort()
        stats[name] = {"count": len(values), "failures": failures[name],
                       "req_per_s": round(len(values) / duration, 1),
                       "p50_ms": round(percentile(values, 50), 1),
                       "p95_ms": round(percentile(values, 95), 1),
                       "p99_ms": round(percentile(values, 99), 1),
                       "max_ms": round(values[-1], 1)}
    return stats


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


# -- one run --------------------------------------------------------------------------------------

def run(kind: str, s: dict, pools: tuple[int, int], threads: int, port: int,
        floor_only: bool = False, floor: bool = True) -> dict:
    import redis

    workdir = Path(tempfile.mkdtemp(prefix=f"exam-day-{kind}-"))
    url = prepare_database(kind, workdir)
    secret = secrets.token_urlsafe(48)
    redis_url = f"redis://127.0.0.1:6379/{REDIS_DB}"
    env = {**os.environ, "TRAINER_DATABASE_URL": url, "TRAINER_SECRET_KEY": secret,
           "TRAINER_PRODUCTION": "1", "TRAINER_REDIS_URL": redis_url,
           # No TLS in front on 127.0.0.1: cookies cannot be Secure-only here (nginx adds TLS in
           # production). Everything else is the production configuration.
           "TRAINER_SECURE_COOKIES": "0", "TRAINER_TRUSTED_PROXIES": "1"}
    env.pop("TRAINER_QUIZ_GRACE_S", None)
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
        # The sweep (cron, every minute) finalises what nobody submitted, after deadline + grace.
        from sqlalchemy import create_engine, text

        from trainer.config import normalise_database_url

        from trainer.core.db import UTCDateTime

        engine = create_engine(normalise_database_url(url))
        with engine.connect() as conn:
            last = conn.execute(text("SELECT deadline_at FROM attempts WHERE quiz_id = :q "
                                     "ORDER BY deadline_at DESC LIMIT 1")
                                .columns(deadline_at=UTCDateTime()),
                                {"q": made["exam"]}).scalar()
        engine.dispose()
        if last is not None:
            wait = last.timestamp() + grace_s + 1 - time.time()
            if wait > 0:
                time.sleep(wait)
        sweep = subprocess.run([str(BIN / "trainer"), "quizzes", "sweep"], env=env, cwd=ROOT,
                               check=True, capture_output=True, text=True).stdout.strip()
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
        "machine": {"cores": os.cpu_count(), "platform": platform.platform(),
                    "python": platform.python_version(),
                    "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
                                        / 2 ** 30)},
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


def locust_version() -> str:
    try:
        from importlib.metadata import version

        return version("locust")
    except Exception:  # pragma: no cover
        return "?"


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
        scale = args.scale or s["scale"]
        s = {**shape(args.quick), "variant": "custom", "scale": scale,
             "candidates": args.candidates or s["candidates"],
             "time_limit_s": args.time_limit_s or s["time_limit_s"],
             "login_window_s": 60 * scale, "answer_gap_s": [5 * scale, 15 * scale],
             "last_minutes_window_s": 120 * scale}
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
