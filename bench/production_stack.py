"""The production stack the benchmarks run against, and what they share: a fresh database (a
SQLite file, or a schema of its own in a PostgreSQL database), staff with real Argon2id hashes,
the README's Production set-up (nginx with deploy/nginx-site.conf in front of two gunicorn pools
on Unix sockets, TRAINER_PRODUCTION=1, the Redis limiter), Locust run headless in its own process
with its CPU and the server's sampled every 5 s, and the per-endpoint statistics.

Used by bench/exam_day.py (`make bench-exam`) and bench/checkin_day.py (`make bench-checkin`).
"""
from __future__ import annotations

import json
import multiprocessing
import os
import platform
import re
import secrets
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
RESULTS = ROOT / "bench" / "results"

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


# -- the database ---------------------------------------------------------------------------------

def postgres_answers() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1):
            return True
    except OSError:
        return False


def prepare_database(kind: str, workdir: Path, pg_base: str, pg_schema: str) -> str:
    """A fresh database: a SQLite file in workdir, or, on PostgreSQL, the schema `pg_schema`
    (dropped and made again) in the database `pg_base` names, which is created when missing."""
    if kind == "sqlite":
        return f"sqlite:///{workdir / 'trainer.db'}"
    import psycopg
    from psycopg import sql

    server, _, name = pg_base.rpartition("/")
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() \
                is None:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    with psycopg.connect(pg_base, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(
            sql.Identifier(pg_schema)))
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(pg_schema)))
    return f"{pg_base}?options=-csearch_path%3D{pg_schema}"


def production_env(url: str, secret: str, redis_url: str) -> dict[str, str]:
    """The environment of the README's production commands for this database."""
    env = {**os.environ, "TRAINER_DATABASE_URL": url, "TRAINER_SECRET_KEY": secret,
           "TRAINER_PRODUCTION": "1", "TRAINER_REDIS_URL": redis_url,
           # No TLS in front on 127.0.0.1: cookies cannot be Secure-only here (nginx adds TLS in
           # production). Everything else is the production configuration.
           "TRAINER_SECURE_COOKIES": "0", "TRAINER_TRUSTED_PROXIES": "1",
           # Production requires both (certificates' QR codes and signing key): a key of the
           # run's own, made by `trainer setup`.
           "TRAINER_PUBLIC_URL": "https://training.example.cn",
           "TRAINER_SIGNING_KEY": str(Path(tempfile.mkdtemp(prefix="bench-key-")) / "signing.p12"),
           "TRAINER_SIGNING_PASSPHRASE": secrets.token_urlsafe(24)}
    env.pop("TRAINER_QUIZ_GRACE_S", None)
    return env


def _hash(password: str) -> str:
    from trainer.accounts.passwords import hash_password

    return hash_password(password)


def hash_passwords(passwords: list[str]) -> dict[str, str]:
    """Real Argon2id hashes at the production parameters, computed on every core."""
    with multiprocessing.Pool(os.cpu_count() or 2) as pool:
        return dict(zip(passwords, pool.map(_hash, passwords, chunksize=16)))


@contextmanager
def precomputed_hashes(hashes: dict[str, str]) -> Iterator[None]:
    """accounts.services stores the hashes computed above (one per password) instead of hashing
    each person's password again, one at a time."""
    from trainer.accounts import services as accounts

    original = accounts.hash_password
    accounts.hash_password = hashes.__getitem__
    try:
        yield
    finally:
        accounts.hash_password = original


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
            # Twelve workers import the app (~1.3 s of CPU each), the front pool's at nice 10,
            # on a machine that may be busy with other work: give them two minutes.
            wait_for(f"{base}/healthz", seconds=120)
            wait_for(f"{base}/attempts/1/state", seconds=120,
                     ok=(302, 401, 403, 404))   # the exam pool
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

        return (f"nginx (deploy/nginx-site.conf): /attempts/…, /s/…, /checkin… → `{pool(self.exam, 'exam')}`, "
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


def machine_cpu() -> float:
    """CPU seconds the whole machine has spent busy (every process, every core)."""
    import psutil

    times = psutil.cpu_times()
    return times.user + times.nice + times.system + times.irq + times.softirq + \
        getattr(times, "steal", 0.0)


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


# -- the load generator ---------------------------------------------------------------------------

def run_locust(locustfile: Path, host: str, users: int, run_time_s: int, config: dict,
               workdir: Path, server_pids: list[int]) -> dict:
    """Locust, headless in its own process, every user spawned in about 5 s; `config` reaches
    the locustfile as the JSON file EXAM_BENCH_CONFIG names. Returns the generator's CPU (every
    5 s and in all), the server's and the database's, sampled alongside."""
    import psutil

    config_path = workdir / "locust-config.json"
    config_path.write_text(json.dumps(config))
    cmd = [str(BIN / "locust"), "-f", str(locustfile), "--headless", "-u", str(users),
           "-r", str(max(1, users // 5)), "-t", f"{run_time_s}s", "--stop-timeout", "10",
           "--host", host, "--only-summary", "--loglevel", "WARNING"]
    env = {**os.environ, "EXAM_BENCH_CONFIG": str(config_path)}
    server_cpu_before = process_tree_cpu(server_pids)
    cpu_before = children_cpu()
    started = time.time()
    with open(workdir / "locust.log", "w") as log:
        proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
        samples, server_samples, db_samples, machine_samples = [], [], [], []
        ps = psutil.Process(proc.pid)
        last = (time.time(), 0.0, process_tree_cpu(server_pids), database_cpu(),
                machine_cpu())
        while proc.poll() is None:
            time.sleep(5)
            try:
                t = ps.cpu_times()
                now = (time.time(), t.user + t.system, process_tree_cpu(server_pids),
                       database_cpu(), machine_cpu())
            except psutil.Error:
                break
            span = now[0] - last[0]
            samples.append(round(100 * (now[1] - last[1]) / span, 1))
            server_samples.append(round(100 * (now[2] - last[2]) / span))
            db_samples.append(round(100 * (now[3] - last[3]) / span))
            machine_samples.append(round(100 * (now[4] - last[4]) / span))
            last = now
    wall = time.time() - started
    generator_cpu = children_cpu() - cpu_before
    server_cpu = process_tree_cpu(server_pids) - server_cpu_before
    return {"generator": {"cpu_s": round(generator_cpu, 1), "wall_s": round(wall, 1),
                          "cpu_percent_mean": round(100 * generator_cpu / wall, 1),
                          "cpu_percent_peak_5s": max(samples or [0]),
                          "saturated": max(samples or [0]) >= 90,
                          "exit_code": proc.returncode},
            "server_cpu_percent_mean": round(100 * server_cpu / wall, 1),
            "server_cpu_percent_5s": server_samples,
            "database_cpu_percent_5s": db_samples,
            # Every process of the machine (of 100 % per core): what else ran beside the
            # benchmark shows as this minus the server, the generator and the database.
            "machine_cpu_percent_5s": machine_samples,
            "started": started}


def locust_version() -> str:
    try:
        from importlib.metadata import version

        return version("locust")
    except Exception:  # pragma: no cover
        return "?"


def machine() -> dict:
    return {"cores": os.cpu_count(), "platform": platform.platform(),
            "python": platform.python_version(),
            "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
                                / 2 ** 30)}


# -- statistics -----------------------------------------------------------------------------------

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
