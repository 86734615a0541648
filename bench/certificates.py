"""Certificates benchmark (issue 16): issuing 1,000 certificates against WeasyPrint alone, the
public verification page under wrk, and the ZIP of all of them.

    make bench-certificates                         # SQLite, then PostgreSQL when 5432 answers
    python bench/certificates.py [--count N] [--database sqlite|postgresql|all]

1. Issuing: N certificates (rows with their snapshots, as the subscribers leave them) are
   rendered, signed (pyHanko, the centre's key) and stored by `document.render_and_keep`, one
   process per core. In the same run the same processes render the same documents bare — the
   HTML handed to WeasyPrint, nothing else (no QR code, no signature, no database). Each process
   renders one document before the clock starts (fonts loaded once per process, as a worker
   does). Targets: issuing reaches ≥ 40 % of the bare throughput and ≥ 10 certificates/s.
2. Verification: the README's production stack (nginx, both gunicorn pools, the Redis limiter)
   serves GET /verify/<code> for random valid codes to wrk (4 connections, 2 threads, 20 s);
   a Lua script reports the 95th percentile. Target: p95 ≤ 50 ms.
3. The ZIP: HR downloads all N PDFs in one ZIP through the same stack; the time to the last
   byte, and the resident memory of the worker that streamed it, sampled every 50 ms (flat: it
   grows by far less than the ZIP's size). Target: ≤ 10 s.

Results: bench/results/certificates-<db>.json and a Markdown table; exits 1 when a target is
missed.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import re
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import exam_day  # noqa: E402  (the production stack, wait_for, the PostgreSQL probe)

BIN = Path(sys.executable).parent
RESULTS = ROOT / "bench" / "results"
PG_SCHEMA = "bench_certificates"
REDIS_DB = 13
PORT = 8766
HR_NUMBER, HR_PASSWORD = "H9001", "bench-hr-" + secrets.token_urlsafe(9)
TARGETS = {"issue_vs_bare": 0.40, "issue_per_s": 10.0, "verify_p95_ms": 50.0, "zip_s": 10.0}

VERIFY_LUA = r"""
local codes = {}
for line in io.lines(os.getenv("CODES_FILE")) do codes[#codes + 1] = line end
math.randomseed(os.time())
request = function()
  return wrk.format("GET", "/verify/" .. codes[math.random(#codes)])
end
done = function(summary, latency, requests)
  io.write(string.format("P95_US %d\n", latency:percentile(95)))
  io.write(string.format("P50_US %d\n", latency:percentile(50)))
  io.write(string.format("P99_US %d\n", latency:percentile(99)))
end
"""


def prepare_database(kind: str, workdir: Path) -> str:
    if kind == "sqlite":
        return f"sqlite:///{workdir / 'trainer.db'}"
    import psycopg

    with psycopg.connect(exam_day.PG_BASE, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {PG_SCHEMA} CASCADE")
        conn.execute(f"CREATE SCHEMA {PG_SCHEMA}")
    return f"{exam_day.PG_BASE}?options=-csearch_path%3D{PG_SCHEMA}"


def environment(url: str, workdir: Path) -> dict:
    return {**os.environ, "TRAINER_DATABASE_URL": url,
            "TRAINER_SECRET_KEY": secrets.token_urlsafe(48),
            "TRAINER_PRODUCTION": "1",
            "TRAINER_REDIS_URL": f"redis://127.0.0.1:6379/{REDIS_DB}",
            "TRAINER_PUBLIC_URL": "https://training.example.cn",
            "TRAINER_SIGNING_KEY": str(workdir / "signing.p12"),
            "TRAINER_SIGNING_PASSPHRASE": secrets.token_urlsafe(24),
            # No TLS in front on 127.0.0.1 (nginx adds it in production).
            "TRAINER_SECURE_COOKIES": "0", "TRAINER_TRUSTED_PROXIES": "1"}


def _app():
    from trainer import create_app

    return create_app({"INSTANCE_PATH": tempfile.mkdtemp(prefix="bench-certs-app-")})


def create_certificates(count: int) -> list[int]:
    """`count` agents and HR, one shared password hash for the agents; a 结业证书 row for each
    agent, as issue_for_class leaves it (the snapshot; no PDF yet)."""
    from trainer.accounts import services as accounts
    from trainer.accounts.passwords import hash_password
    from trainer.certificates import services
    from trainer.certificates.services import TITLES
    from trainer.core.db import db, write_intent
    from trainer.core.settings import centre_timezone
    from trainer.core.timeutil import local_date, utcnow

    app = _app()
    shared, hr_hash = hash_password("bench-agent-password"), hash_password(HR_PASSWORD)
    original = accounts.hash_password
    accounts.hash_password = lambda p: hr_hash if p == HR_PASSWORD else shared
    ids = []
    try:
        with app.app_context(), write_intent():
            now = utcnow()
            accounts.create_staff(None, employee_no=HR_NUMBER, name="基准人事", department="人力资源部",
                                  hire_date=date(2020, 1, 6), roles=["hr"], now=now,
                                  password=HR_PASSWORD)
            zh, en = TITLES["class"]
            for i in range(count):
                person, _ = accounts.create_staff(
                    None, employee_no=f"B{i + 1:05d}", name=f"欧阳{'一二三四五六七八九十'[i % 10]}{i}",
                    department=("客服一部", "客服二部", "投诉处理组")[i % 3],
                    hire_date=date(2024, 3, 1), roles=["learner"], now=now,
                    password="bench-agent-password")
                snapshot = {**services._person_snapshot(person), **services._centre(),
                            "title": zh, "title_en": en, "track": "服务规范与礼仪集中培训班",
                            "courses": [], "hours": "12.5", "target_position": "",
                            "completed_on": local_date(now, centre_timezone()).isoformat()}
                ids.append(services._issue(person, "class", "class", snapshot, issued_at=now,
                                           expires_at=None, now=now).id)
                if i % 250 == 249:
                    db.session.commit()
            db.session.commit()
        with app.app_context():
            db.engine.dispose()
    finally:
        accounts.hash_password = original
    return ids


# -- the two rendering runs, one process per core ------------------------------------------------

_worker: dict = {}


def _start_worker() -> None:
    app = _app()
    _worker["app"] = app


def _bare_html(ids: list[int]) -> list[str]:
    """The documents' HTML, made before the bare run's clock starts."""
    from trainer.certificates.document import html_of
    from trainer.certificates.models import Certificate
    from trainer.core.db import db

    with _worker["app"].app_context():
        html = [html_of(db.session.get(Certificate, i)) for i in ids]
        db.session.rollback()
    return html


def _bare(html: list[str]) -> tuple[int, float]:
    """WeasyPrint alone: HTML in, PDF bytes out, this process's font configuration."""
    from trainer.core import pdf

    with _worker["app"].app_context():
        pdf.render(html[0], stylesheets=("css/certificate.css",))   # warm: fonts, stylesheets
        started = time.perf_counter()
        size = sum(len(pdf.render(h, stylesheets=("css/certificate.css",))) for h in html)
    return size, time.perf_counter() - started


def _warm_issue(certificate_id: int) -> None:
    from trainer.certificates.document import signed_pdf
    from trainer.certificates.models import Certificate
    from trainer.core.db import db

    with _worker["app"].app_context():
        signed_pdf(db.session.get(Certificate, certificate_id))   # fonts, the key, not stored
        db.session.rollback()


def _issue(ids: list[int]) -> int:
    from trainer.certificates.document import render_and_keep

    with _worker["app"].app_context():
        return sum(1 for i in ids if render_and_keep(i))


def rendering(ids: list[int], processes: int) -> dict:
    chunks = [ids[k::processes] for k in range(processes)]
    with multiprocessing.get_context("fork").Pool(processes, initializer=_start_worker) as pool:
        htmls = pool.map(_bare_html, chunks)
        # The bare run: the wall time of all processes rendering their share at once.
        started = time.perf_counter()
        bare = pool.map(_bare, htmls)
        bare_s = time.perf_counter() - started
        pool.map(_warm_issue, [chunk[0] for chunk in chunks])
        started = time.perf_counter()
        kept = sum(pool.map(_issue, chunks))
        issue_s = time.perf_counter() - started
    n = len(ids)
    return {"processes": processes, "certificates": n, "kept": kept,
            "bare_s": round(bare_s, 2), "bare_per_s": round(n / bare_s, 1),
            "bare_mean_pdf_kb": round(sum(size for size, _ in bare) / n / 1024, 1),
            "issue_s": round(issue_s, 2), "issue_per_s": round(n / issue_s, 1),
            "issue_vs_bare": round((n / issue_s) / (n / bare_s), 3)}


# -- the server ------------------------------------------------------------------------------------

def codes_of(ids: list[int]) -> list[str]:
    from sqlalchemy import select

    from trainer.certificates.models import Certificate
    from trainer.core.db import db

    app = _app()
    with app.app_context():
        codes = [c for c in db.session.scalars(select(Certificate.code).where(
            Certificate.id.in_(ids), Certificate.pdf_file_id.is_not(None)))]
        db.engine.dispose()
    return codes


def measure_verify(base: str, codes_file: Path, workdir: Path) -> dict:
    import requests

    script = workdir / "verify.lua"
    script.write_text(VERIFY_LUA)
    sample = codes_file.read_text().split()[0]
    page = requests.get(f"{base}/verify/{sample}", timeout=10)
    if page.status_code != 200 or "有效" not in page.text:
        raise RuntimeError(f"verification page of a valid code: {page.status_code}")
    env = {**os.environ, "CODES_FILE": str(codes_file)}
    subprocess.run(["wrk", "-t", "2", "-c", "4", "-d", "3s", "-s", str(script), base],
                   env=env, capture_output=True, check=True)   # warm-up
    out = subprocess.run(["wrk", "-t", "2", "-c", "4", "-d", "20s", "--latency", "-s",
                          str(script), base], env=env, capture_output=True, text=True,
                         check=True).stdout
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: (.*)", out)
    return {"tool": "wrk -t 2 -c 4 -d 20s, a random valid code per request",
            "requests": int(re.search(r"(\d+) requests in", out).group(1)),
            "requests_per_s": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
            "p50_ms": int(re.search(r"P50_US (\d+)", out).group(1)) / 1000,
            "p95_ms": int(re.search(r"P95_US (\d+)", out).group(1)) / 1000,
            "p99_ms": int(re.search(r"P99_US (\d+)", out).group(1)) / 1000,
            "non_2xx": int(errors.group(1)) if errors else 0,
            "socket_errors": socket_errors.group(1) if socket_errors else ""}


def measure_zip(base: str, front_pids: list[int], expected: int) -> dict:
    import io
    import zipfile

    import psutil
    import requests

    session = requests.Session()
    page = session.get(f"{base}/login").text
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    r = session.post(f"{base}/login", data={"employee_no": HR_NUMBER, "password": HR_PASSWORD,
                                            "csrf_token": csrf}, allow_redirects=False)
    if r.status_code != 302:
        raise RuntimeError(f"HR's sign-in failed: {r.status_code}")
    workers = []
    for pid in front_pids:
        try:
            workers += psutil.Process(pid).children(recursive=True)
        except psutil.Error:
            pass
    baseline = {w.pid: w.memory_info().rss for w in workers}
    peak = dict(baseline)
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            for w in workers:
                try:
                    peak[w.pid] = max(peak[w.pid], w.memory_info().rss)
                except psutil.Error:
                    pass
            time.sleep(0.05)

    sampler = threading.Thread(target=sample)
    sampler.start()
    started = time.perf_counter()
    body = io.BytesIO()
    with session.get(f"{base}/training/certificates/export.zip", stream=True,
                     timeout=120) as response:
        response.raise_for_status()
        for chunk in response.iter_content(1 << 16):
            body.write(chunk)
    elapsed = time.perf_counter() - started
    stop.set()
    sampler.join()
    names = zipfile.ZipFile(body).namelist()
    growth = max(peak[pid] - baseline[pid] for pid in baseline)
    return {"seconds": round(elapsed, 2), "files": len(names), "expected": expected,
            "zip_mb": round(body.tell() / 2**20, 1),
            "worker_rss_growth_mb": round(growth / 2**20, 1),
            "worker_rss_mb": round(max(peak.values()) / 2**20, 1)}


def run(kind: str, count: int) -> dict:
    import redis

    workdir = Path(tempfile.mkdtemp(prefix=f"bench-certs-{kind}-"))
    url = prepare_database(kind, workdir)
    env = environment(url, workdir)
    os.environ.update({k: v for k, v in env.items() if k.startswith("TRAINER_")})
    print(f"[{kind}] setting up the database and the signing key ({workdir})", flush=True)
    subprocess.run([str(BIN / "trainer"), "setup"], env=env, cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL)
    t = time.perf_counter()
    ids = create_certificates(count)
    print(f"[{kind}] {len(ids)} certificates issued as rows in {time.perf_counter() - t:.1f} s; "
          "rendering", flush=True)
    result = {"database": kind, "count": count,
              "rendering": rendering(ids, os.cpu_count() or 2)}
    print(f"[{kind}] {result['rendering']}", flush=True)
    codes = codes_of(ids)
    codes_file = workdir / "codes.txt"
    codes_file.write_text("\n".join(codes) + "\n")
    redis.Redis.from_url(env["TRAINER_REDIS_URL"]).flushdb()
    base = f"http://127.0.0.1:{PORT}"
    stack = exam_day.Stack(exam_day.FRONT_WORKERS, exam_day.EXAM_WORKERS, 1, PORT, env, workdir,
                           pinned=False)
    try:
        result["server"] = stack.describe()
        print(f"[{kind}] verification page under wrk", flush=True)
        result["verify"] = measure_verify(base, codes_file, workdir)
        print(f"[{kind}] {result['verify']}", flush=True)
        print(f"[{kind}] the ZIP of {len(codes)}", flush=True)
        result["zip"] = measure_zip(base, [stack.processes[0].pid], len(codes))
        print(f"[{kind}] {result['zip']}", flush=True)
    finally:
        stack.stop()
    return result


def evaluate(r: dict) -> dict:
    rendering, verify, zipped = r["rendering"], r["verify"], r["zip"]
    return {
        "issue_vs_bare": rendering["issue_vs_bare"] >= TARGETS["issue_vs_bare"],
        "issue_per_s": rendering["issue_per_s"] >= TARGETS["issue_per_s"],
        "all_kept": rendering["kept"] == r["count"],
        "verify_p95_ms": verify["p95_ms"] <= TARGETS["verify_p95_ms"]
        and verify["non_2xx"] == 0 and not verify["socket_errors"],
        "zip_s": zipped["seconds"] <= TARGETS["zip_s"] and zipped["files"] == zipped["expected"],
        "zip_flat": zipped["worker_rss_growth_mb"] < zipped["zip_mb"] / 4,
    }


def table(r: dict) -> str:
    g, v, z = r["rendering"], r["verify"], r["zip"]
    return "\n".join([
        f"| {r['database']} | issue {g['issue_per_s']}/s vs bare {g['bare_per_s']}/s "
        f"({g['issue_vs_bare']:.0%}), {g['processes']} processes | verify p95 {v['p95_ms']} ms "
        f"({v['requests_per_s']:.0f} req/s) | ZIP of {z['files']} ({z['zip_mb']} MB) in "
        f"{z['seconds']} s, worker RSS +{z['worker_rss_growth_mb']} MB |"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--database", choices=("sqlite", "postgresql", "all"), default="all")
    args = parser.parse_args()
    kinds = ["sqlite", "postgresql"] if args.database == "all" else [args.database]
    if "postgresql" in kinds and not exam_day.postgres_answers():
        print("No PostgreSQL at 127.0.0.1:5432: SQLite only.")
        kinds.remove("postgresql")
    RESULTS.mkdir(exist_ok=True)
    failed = False
    rows = []
    for kind in kinds:
        r = run(kind, args.count)
        r["machine"] = f"{platform.machine()}, {os.cpu_count()} cores, {platform.python_version()}"
        r["met"] = evaluate(r)
        r["targets"] = TARGETS
        (RESULTS / f"certificates-{kind}.json").write_text(json.dumps(r, indent=2,
                                                                       ensure_ascii=False))
        rows.append(table(r))
        failed |= not all(r["met"].values())
        print(json.dumps(r["met"]), flush=True)
    print("\n".join(rows))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
