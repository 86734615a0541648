"""Check-in benchmark: 300 agents check in to one classroom session within 30 s of its code
appearing on the classroom screen, while 200 candidates sit an exam on the same server, against
the app served as the README's Production section runs it (nginx with deploy/nginx-site.conf in
front of two gunicorn pools, TRAINER_PRODUCTION=1, the Redis limiter); the database is checked
afterwards.

    make bench-checkin                          # SQLite, then PostgreSQL when 127.0.0.1:5432 answers
    make bench-checkin BENCH_ARGS=--quick       # 60 agents, 40 candidates, a 3-minute exam
    python bench/checkin_day.py [--quick] [--database sqlite|postgresql|all] [--pg-url URL]
                                [--agents N --candidates N]

The shape (issue 15), echoed in the result:
- the session's class has the agents on its roster; the trainer opens the session's kiosk link
  (signed in, then the link needs none) and the classroom PC shows the code when the class
  begins, then asks /kiosk/<token>/code for each next one, as kiosk.js does;
- a third of the agents are signed out on their phones: they scan in the first 12 s, the scan's
  token travels through sign-in (5–10 s of typing), then the confirmation; the others were
  signed in before the class (3 in 4 scan in the first 25 s; 1 in 4 open 我的课程 in the first
  20 s and type the 6 digits, 3–6 s of typing), so that every check-in can land within 30 s;
- meanwhile the candidates sit their exam, as bench/exam_day.py's candidates do (the same
  Locust users): all sign in and start in the exam's first half minute, answer with an autosave
  each, 2.5–7.5 s apart (the exam-day shape with its waits halved, a 5-minute limit); the code
  appears 30 s after the last candidate is due, so the check-ins meet the exam's autosaves;
- afterwards: every check-in acknowledged is in the database, once, with its scan's moment
  (a signed-out scan's moment, not its sign-in's), its way in and a device of its own; no mark
  without an acknowledgement; every acknowledged autosave kept, every attempt finalised once.

Everything comes from 127.0.0.1, as a call centre's phones and PCs come from behind one NAT
address: nothing in the production limits counts an address alone (accounts/throttle.py slows
failed sign-ins per address *and* account), so nothing is exempted or forged here.

Results: bench/results/checkin_day-<db>-<full|quick|custom>.json and a Markdown table; exits 1
when a target is missed.
"""
from __future__ import annotations

import argparse
import json
import random
import re
import secrets
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import exam_day  # noqa: E402  (bench/, beside this file)
import production_stack as stack  # noqa: E402
from production_stack import BIN, RESULTS, endpoint_stats, percentile  # noqa: E402

# A database of its own (created when missing), never the test suite's.
PG_URL = "postgresql://postgres@127.0.0.1:5432/bench_checkin"
PG_SCHEMA = "bench_checkin"
REDIS_DB = 13             # flushed before each run; the tests use db 0, bench-exam db 14
PORT = 8766

AGENT_USER_AGENT = ("Mozilla/5.0 (Linux; Android 14; bench agent) AppleWebKit/537.36 "
                    "(KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36")
TRAINER_NO = "T9001"

TARGETS = {"checkin_p95_ms": 150, "autosave_p95_ms": 150, "window_s": 30}
CHECKIN = ("POST /checkin/confirm (check-in)", "POST /checkin (typed code)")


def shape(quick: bool) -> dict:
    exam = exam_day.custom_shape(exam_day.shape(quick), 40 if quick else 200,
                                 180 if quick else 300, 0.3 if quick else 0.5)
    return {
        "variant": "quick" if quick else "full",
        "agents": 60 if quick else 300,
        "signed_out_share": 1 / 3,
        "typed_share_of_signed_in": 0.25,
        "window_s": TARGETS["window_s"],
        "signed_out_scan_s": [0, 12], "sign_in_typing_s": [5, 10],
        "signed_in_scan_s": [0, 25],
        "typed_open_s": [0, 20], "code_typing_s": [3, 6],
        "code_after_exam_arrivals_s": 30 * exam["scale"] / 0.5,
        "exam": {**exam, "variant": "beside the check-ins"},
    }


def make_agents(s: dict, seed: int = 2015) -> list[dict]:
    rng = random.Random(seed)
    n = s["agents"]
    signed_out = round(n * s["signed_out_share"])
    typed = round((n - signed_out) * s["typed_share_of_signed_in"])
    paths = ["signin"] * signed_out + ["code"] * typed + ["scan"] * (n - signed_out - typed)
    rng.shuffle(paths)
    agents = []
    for i, path in enumerate(paths):
        at_range, think_range = {"signin": (s["signed_out_scan_s"], s["sign_in_typing_s"]),
                                 "scan": (s["signed_in_scan_s"], [0, 0]),
                                 "code": (s["typed_open_s"], s["code_typing_s"])}[path]
        agents.append({"employee_no": f"A{i + 1:04d}",
                       "password": f"agent-{secrets.token_urlsafe(9)}",
                       "seed": rng.randrange(2 ** 32), "path": path,
                       "at": round(rng.uniform(*at_range), 3),
                       "think_s": round(rng.uniform(*think_range), 3)})
    return agents


# -- the database ---------------------------------------------------------------------------------

def create_everything(url: str, secret: str, plans: list[dict], agents: list[dict],
                      trainer: dict, s: dict) -> dict:
    """The candidates, the agents and a trainer (real Argon2id hashes), the exam, and the class:
    one session starting ten minutes from now (its check-in window is open from now on: it
    opens 15 minutes before the start) with every agent on its roster."""
    from trainer.accounts.models import StaffMember
    from trainer.attendance import services as attendance
    from trainer.core.db import db, write_intent
    from trainer.core.settings import centre_timezone
    from trainer.core.timeutil import utcnow, zone

    started = time.perf_counter()
    hashes = stack.hash_passwords([p["password"] for p in plans + agents + [trainer]])
    hashed = time.perf_counter()
    app = exam_day.bench_app(url, secret)
    with stack.precomputed_hashes(hashes):
        with app.app_context(), write_intent():
            now = utcnow()
            exam_day.create_candidates(plans, now=now)
            exam_day.create_candidates(agents, now=now, name="坐席")
            exam_day.create_candidates([trainer], now=now, roles=("trainer",), name="培训师")
            exam_id = exam_day.create_exam(s["exam"], now=now)
            people = {p.employee_no: p for p in db.session.query(StaffMember)}
            teacher = people[trainer["employee_no"]]
            cls = attendance.save_class(teacher, None, attendance.ClassFields(
                title="签到基准：来电高峰应对班前会", hours_category="服务礼仪",
                place="五楼大培训室", description="三百名坐席同时签到。"), now=now)
            local = (now + timedelta(minutes=10)).astimezone(zone(centre_timezone()))
            end = local + timedelta(minutes=60)
            session = attendance.save_session(teacher, cls, None, attendance.SessionFields(
                day=local.date(), starts=local.time().replace(second=0, microsecond=0),
                ends=end.time().replace(second=0, microsecond=0), end_day=end.date()), now=now)
            outcome = attendance.invite(teacher, cls, [people[a["employee_no"]] for a in agents],
                                        now=now, reason="班前会全员参加")
            db.session.commit()
            if len(outcome.booked) != len(agents):
                raise RuntimeError(f"only {len(outcome.booked)} of {len(agents)} booked")
            made = {"exam": exam_id, "class": cls.id, "session": session.id,
                    "session_starts_at": session.starts_at.isoformat()}
        with app.app_context():
            db.engine.dispose()
    return {**made, "hash_s": round(hashed - started, 1),
            "create_s": round(time.perf_counter() - hashed, 1)}


# -- before the class -----------------------------------------------------------------------------

def sign_in(base: str, person: dict, user_agent: str):
    import requests

    browser = requests.Session()
    browser.headers["User-Agent"] = user_agent
    page = browser.get(f"{base}/login").text
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    r = browser.post(f"{base}/login", data={"employee_no": person["employee_no"],
                                            "password": person["password"],
                                            "csrf_token": csrf}, allow_redirects=False)
    if r.status_code != 302:
        raise RuntimeError(f"{person['employee_no']} could not sign in: {r.status_code}")
    return browser


def open_kiosk(base: str, trainer: dict, session_id: int) -> str:
    """The trainer signs in and opens the session's classroom-screen link (which needs no
    sign-in): the path the classroom PC opens."""
    browser = sign_in(base, trainer, "Mozilla/5.0 (Windows NT 10.0; Win64; x64) trainer")
    r = browser.get(f"{base}/training/sessions/{session_id}/kiosk", allow_redirects=False)
    location = r.headers.get("Location", "")
    if r.status_code != 302 or "/kiosk/" not in location:
        raise RuntimeError(f"no kiosk link: {r.status_code} {location}")
    return re.sub(r"^https?://[^/]+", "", location)


def sign_in_phones(base: str, agents: list[dict]) -> float:
    """The agents signed in on their phones before the class: their cookies, for Locust."""
    started = time.perf_counter()

    def one(agent: dict) -> None:
        browser = sign_in(base, agent, AGENT_USER_AGENT)
        agent["cookies"] = [{"name": c.name, "value": c.value, "domain": c.domain,
                             "path": c.path} for c in browser.cookies]

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(one, [a for a in agents if a["path"] != "signin"]))
    return round(time.perf_counter() - started, 1)


# -- after the run: the database ------------------------------------------------------------------

def check_checkins(url: str, session_id: int, agents: list[dict], checkins: list[dict]) -> dict:
    """Every acknowledged check-in is in the database once, at its scan's moment, by its way
    in, with a device of its own; and nothing is there that was not acknowledged."""
    from sqlalchemy import create_engine, text

    from trainer.config import normalise_database_url
    from trainer.core.db import UTCDateTime

    engine = create_engine(normalise_database_url(url))
    with engine.connect() as conn:
        marks = conn.execute(text(
            "SELECT s.employee_no, m.kind, m.via, m.at, m.recorded_at, m.device_hash, m.address "
            "FROM attendance_marks m JOIN staff_members s ON s.id = m.staff_id "
            "WHERE m.session_id = :s").columns(at=UTCDateTime(), recorded_at=UTCDateTime()),
            {"s": session_id}).all()
    engine.dispose()
    by_person: dict[str, list] = {}
    for mark in marks:
        by_person.setdefault(mark.employee_no, []).append(mark)
    acked = {c["employee_no"]: c for c in checkins}
    plans = {a["employee_no"]: a for a in agents}
    lost, doubled, unacknowledged, wrong = [], [], [], []
    for employee_no, ack in acked.items():
        own = [m for m in by_person.get(employee_no, []) if m.kind == "check_in"]
        if not own:
            lost.append(employee_no)
            continue
        if len(own) > 1:
            doubled.append(employee_no)
        mark = own[0]
        at, recorded = mark.at.timestamp(), mark.recorded_at.timestamp()
        problems = []
        if mark.via != ack["via"]:
            problems.append(f"via {mark.via}, not {ack['via']}")
        if ack["via"] == "qr":
            # The scan's moment (within its request), even when the sign-in came between.
            if not ack["scan_started"] - 1 <= at <= ack["scan_ended"] + 1:
                problems.append("not recorded at the scan's moment")
            if ack["path"] == "signin" and recorded - at < plans[employee_no]["think_s"] - 1:
                problems.append("recorded at the scan, but not after the sign-in")
        elif abs(recorded - at) > 1:
            problems.append("a typed code recorded at another moment")
        if not mark.device_hash:
            problems.append("no device cookie")
        if problems:
            wrong.append({"agent": employee_no, "problems": problems})
    for employee_no, own in by_person.items():
        if employee_no not in acked:
            unacknowledged.append({"agent": employee_no, "kinds": [m.kind for m in own]})
    devices = [m.device_hash for m in marks if m.device_hash]
    return {"marks": len(marks), "acknowledged": len(acked), "agents": len(agents),
            "lost_checkins": len(lost), "lost_examples": lost[:10],
            "doubled": len(doubled), "doubled_examples": doubled[:10],
            "unacknowledged_marks": len(unacknowledged),
            "unacknowledged_examples": unacknowledged[:10],
            "wrong_marks": len(wrong), "wrong_examples": wrong[:10],
            "devices": len(set(devices)), "shared_devices": len(devices) - len(set(devices)),
            "addresses": sorted({m.address for m in marks if m.address})}


# -- one run --------------------------------------------------------------------------------------

def latency(values: list[float]) -> dict:
    values = sorted(values)
    return {"count": len(values), "p50_ms": round(percentile(values, 50), 1),
            "p95_ms": round(percentile(values, 95), 1),
            "p99_ms": round(percentile(values, 99), 1),
            "max_ms": round(values[-1], 1) if values else 0}


def run(kind: str, s: dict, pools: tuple[int, int], threads: int, port: int,
        pg_url: str) -> dict:
    import redis

    exam_s = s["exam"]
    workdir = Path(tempfile.mkdtemp(prefix=f"checkin-day-{kind}-"))
    url = stack.prepare_database(kind, workdir, pg_url, PG_SCHEMA)
    secret = secrets.token_urlsafe(48)
    redis_url = f"redis://127.0.0.1:6379/{REDIS_DB}"
    env = stack.production_env(url, secret, redis_url)
    grace_s = 30
    print(f"[{kind}] setting up the database ({workdir})", flush=True)
    t = time.perf_counter()
    subprocess.run([str(BIN / "trainer"), "setup"], env=env, cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    setup_s = time.perf_counter() - t
    plans = exam_day.make_plans(exam_s)
    agents = make_agents(s)
    trainer = {"employee_no": TRAINER_NO, "password": f"trainer-{secrets.token_urlsafe(9)}"}
    print(f"[{kind}] creating {len(plans)} candidates, {len(agents)} agents (Argon2id, "
          "production parameters), the exam and the class", flush=True)
    made = create_everything(url, secret, plans, agents, trainer, s)
    redis.Redis.from_url(redis_url).flushdb()

    base = f"http://127.0.0.1:{port}"
    output, checkin_output = workdir / "locust-out.json", workdir / "checkin-out.json"
    server = stack.Stack(*pools, threads, port, env, workdir, pinned=False)
    try:
        kiosk_path = open_kiosk(base, trainer, made["session"])
        signed_in_s = sign_in_phones(base, agents)
        print(f"[{kind}] {sum(1 for a in agents if a['path'] != 'signin')} agents signed in on "
              f"their phones before the class ({signed_in_s} s); the exam: {len(plans)} "
              f"candidates, {exam_s['time_limit_s'] // 60} minutes; the code appears "
              f"{exam_s['login_window_s'] + s['code_after_exam_arrivals_s']:g} s in",
              flush=True)
        t0 = time.time() + 12   # Locust's start-up and the spawning of every user come first
        code_at = t0 + exam_s["login_window_s"] + s["code_after_exam_arrivals_s"]
        config = {**exam_day.exam_config(exam_s, plans, made["exam"], grace_s, t0, output),
                  "agents": agents, "session_id": made["session"], "kiosk_path": kiosk_path,
                  "code_at": code_at, "checkin_output": str(checkin_output),
                  "agent_user_agent": AGENT_USER_AGENT}
        config["max_requests"] += len(agents) * 10 + 200
        run_time = int(12 + exam_s["login_window_s"] + exam_s["time_limit_s"] + grace_s + 90)
        measured = stack.run_locust(ROOT / "bench" / "checkin_locustfile.py", base,
                                    len(plans) + len(agents) + 1, run_time, config, workdir,
                                    server.pids)
        sweep = exam_day.sweep_after_deadline(url, env, made["exam"], grace_s)
    finally:
        server.stop()
    exam = json.loads(output.read_text())
    day = json.loads(checkin_output.read_text())
    checkins = check_checkins(url, made["session"], agents, day["checkins"])
    exam_checks = exam_day.check_database(url, made["exam"], exam["acks"], grace_s)
    requests = exam["requests"]
    duration = max((start + ms / 1000 for _n, start, ms, _ok, _st in requests), default=t0) - t0
    shown = day["shown_at"] or code_at
    done = [a["checked_in"] - shown for a in day["agents"] if "checked_in" in a]
    burst_end = shown + max(done, default=s["window_s"])
    saves = [(start, ms) for name, start, ms, _ok, _st in requests if name == exam_day.SAVE]
    waited = [a["waited_ms"] for a in day["agents"] if "checked_in" in a]
    started = measured["started"]

    def during(samples: list) -> list:
        """The 5-second samples that overlap the check-ins."""
        return [v for i, v in enumerate(samples)
                if started + 5 * (i + 1) >= shown and started + 5 * i <= burst_end]

    burst_cpu = during(measured["server_cpu_percent_5s"])
    result = {
        "benchmark": "checkin_day", "database": kind, "shape": s,
        "machine": stack.machine(),
        "server": {"command": server.describe(), "cores": "both (unpinned)",
                   "workers": {"front": pools[0], "exam": pools[1]}, "threads": threads,
                   "production": True, "redis_limiter": redis_url, "grace_s": grace_s,
                   "cpu_percent_mean": measured["server_cpu_percent_mean"],
                   "cpu_percent_every_5s": measured["server_cpu_percent_5s"],
                   "cpu_percent_during_checkins": burst_cpu,
                   "database_cpu_percent_every_5s": measured["database_cpu_percent_5s"],
                   "machine_cpu_percent_every_5s": measured["machine_cpu_percent_5s"],
                   "machine_cpu_percent_during_checkins": during(
                       measured["machine_cpu_percent_5s"]),
                   "database_cpu_percent_during_checkins": during(
                       measured["database_cpu_percent_5s"])},
        "generator": {"tool": f"locust {stack.locust_version()} headless (FastHttpUser), "
                              "unpinned beside the server", **measured["generator"]},
        "preparation": {"setup_s": round(setup_s, 1), "phones_signed_in_s": signed_in_s,
                        **made},
        "endpoints": endpoint_stats(requests, duration),
        "checkin": {
            "request": latency([ms for name, _s, ms, _ok, _st in requests if name in CHECKIN]),
            "agent_waited": latency(waited),
            "acknowledged": len(day["checkins"]),
            "by_path": {path: sum(1 for c in day["checkins"] if c["path"] == path)
                        for path in ("signin", "scan", "code")},
            "last_checked_in_s": round(max(done, default=float("inf")), 1),
            "codes_shown": len(day["kiosk"]),
        },
        "autosave": {"whole_run": latency([ms for _s, ms in saves]),
                     "during_checkins": latency([ms for start, ms in saves
                                                 if shown <= start <= burst_end])},
        "errors": len(exam["errors"]), "error_examples": exam["errors"][:20],
        "database_checks": {"checkins": checkins, "exam": exam_checks, "sweep": sweep},
        "lost_checkins": checkins["lost_checkins"],
        "lost_answers": exam_checks["lost_answers"],
    }
    result["targets"] = evaluate(result, s)
    result["workdir"] = str(workdir)
    return result


def evaluate(r: dict, s: dict) -> dict:
    c, ex = r["database_checks"]["checkins"], r["database_checks"]["exam"]
    n, candidates = s["agents"], s["exam"]["candidates"]
    autosave = r["autosave"]
    t = {
        "no errors": r["errors"] == 0 and
        sum(e["failures"] for e in r["endpoints"].values()) == 0,
        f"all {n} checked in, no check-in lost, doubled or unacknowledged":
            c["acknowledged"] == n and c["lost_checkins"] == 0 and c["doubled"] == 0 and
            c["unacknowledged_marks"] == 0,
        "each at its scan's moment, by its way in, with a device of its own":
            c["wrong_marks"] == 0 and c["shared_devices"] == 0,
        f"all checked in within {s['window_s']} s of the code appearing":
            r["checkin"]["last_checked_in_s"] <= s["window_s"],
        f"check-in p95 ≤ {TARGETS['checkin_p95_ms']} ms":
            r["checkin"]["request"]["count"] > 0 and
            r["checkin"]["request"]["p95_ms"] <= TARGETS["checkin_p95_ms"],
        f"autosave p95 ≤ {TARGETS['autosave_p95_ms']} ms during the check-ins":
            autosave["during_checkins"]["count"] > 0 and
            autosave["during_checkins"]["p95_ms"] <= TARGETS["autosave_p95_ms"],
        f"autosave p95 ≤ {TARGETS['autosave_p95_ms']} ms over the exam":
            autosave["whole_run"]["p95_ms"] <= TARGETS["autosave_p95_ms"],
        "exam: no lost answers, every attempt finalised once":
            ex["lost_answers"] == 0 and ex["late_answers_accepted"] == 0 and
            ex["attempts"] == candidates and ex["not_submitted_exactly_once"] == 0,
    }
    return {name: bool(ok) for name, ok in t.items()}


# -- output ---------------------------------------------------------------------------------------

def table(r: dict) -> str:
    s, c = r["shape"], r["checkin"]
    checks = r["database_checks"]["checkins"]
    lines = [f"### {r['database']} — {s['variant']}: {s['agents']} agents check in "
             f"({c['by_path']['signin']} through sign-in, {c['by_path']['scan']} scanning "
             f"signed in, {c['by_path']['code']} typing the code) beside "
             f"{s['exam']['candidates']} candidates' exam",
             "",
             f"server: {r['server']['command']}; generator: {r['generator']['tool']}, CPU "
             f"{r['generator']['cpu_percent_mean']} % mean, "
             f"{r['generator']['cpu_percent_peak_5s']} % peak; server CPU during the check-ins "
             f"(every 5 s, of 200 %): {r['server']['cpu_percent_during_checkins']}, the "
             f"whole machine's (everything else on it too): "
             f"{r['server']['machine_cpu_percent_during_checkins']}",
             "",
             "| request | count | failures | p50 ms | p95 ms | p99 ms | max ms |",
             "|---|---|---|---|---|---|---|"]
    for name, e in r["endpoints"].items():
        lines.append(f"| {name} | {e['count']:,} | {e['failures']} | {e['p50_ms']:g} | "
                     f"{e['p95_ms']:g} | {e['p99_ms']:g} | {e['max_ms']:g} |")
    a = r["autosave"]

    def row(label: str, x: dict) -> str:
        return (f"| {label} | {x['count']:,} | {x['p50_ms']:g} | {x['p95_ms']:g} | "
                f"{x['p99_ms']:g} | {x['max_ms']:g} |")

    lines += ["", "| measure | count | p50 ms | p95 ms | p99 ms | max ms |", "|---|---|---|---|---|---|",
              row("**check-in** (the request that records it)", c["request"]),
              row("an agent's waiting, all requests of the check-in", c["agent_waited"]),
              row("**autosave** during the check-ins", a["during_checkins"]),
              row("autosave over the exam", a["whole_run"]),
              "",
              f"last check-in {c['last_checked_in_s']} s after the code appeared "
              f"({c['codes_shown']} codes shown); errors {r['errors']}; check-ins acknowledged "
              f"{checks['acknowledged']} of {checks['agents']}, marks {checks['marks']}, lost "
              f"{checks['lost_checkins']}, doubled {checks['doubled']}, unacknowledged "
              f"{checks['unacknowledged_marks']}, wrong {checks['wrong_marks']}, devices "
              f"{checks['devices']}; exam: lost answers {r['lost_answers']} of "
              f"{r['database_checks']['exam']['answers_checked']:,}, attempts "
              f"{r['database_checks']['exam']['attempt_states']}",
              "",
              "| target | met |", "|---|---|"]
    for name, ok in r["targets"].items():
        lines.append(f"| {name} | {'yes' if ok else '**NO**'} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="60 agents, 40 candidates, a 3-minute exam")
    parser.add_argument("--database", choices=["sqlite", "postgresql", "all"], default="all")
    parser.add_argument("--pg-url", default=PG_URL,
                        help=f"a PostgreSQL database of the benchmark's own, created when "
                             f"missing; the run uses its schema {PG_SCHEMA} (default {PG_URL})")
    parser.add_argument("--agents", type=int, help="another number of agents (a custom run)")
    parser.add_argument("--candidates", type=int,
                        help="another number of candidates (a custom run)")
    parser.add_argument("--front-workers", type=int, default=stack.FRONT_WORKERS)
    parser.add_argument("--exam-workers", type=int, default=stack.EXAM_WORKERS)
    parser.add_argument("--threads", type=int, default=stack.THREADS)
    parser.add_argument("--port", type=int, default=PORT)
    args = parser.parse_args()
    kinds = ["sqlite", "postgresql"] if args.database == "all" else [args.database]
    if "postgresql" in kinds and not stack.postgres_answers():
        print("PostgreSQL does not answer at 127.0.0.1:5432: skipped", flush=True)
        kinds.remove("postgresql")
        if not kinds:
            return 1
    s = shape(args.quick)
    if args.agents or args.candidates:
        s = {**s, "variant": "custom", "agents": args.agents or s["agents"],
             "exam": {**s["exam"], "candidates": args.candidates or s["exam"]["candidates"]}}
    missed = False
    RESULTS.mkdir(parents=True, exist_ok=True)
    for kind in kinds:
        result = run(kind, s, (args.front_workers, args.exam_workers), args.threads, args.port,
                     args.pg_url)
        path = RESULTS / f"checkin_day-{kind}-{s['variant']}.json"
        path.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
        print()
        print(table(result))
        print(f"\n(written to {path.relative_to(ROOT)})\n", flush=True)
        missed |= not all(result["targets"].values())
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
