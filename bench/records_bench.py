"""HR records benchmark (issue 17, "Speed"): a centre of 50,000 staff built by bulk SQL, then
HR's pages measured in-process with Flask's test client, signed in as HR.

    make bench-records                                   # SQLite, then PostgreSQL (5432)
    make bench-records BENCH_ARGS="--quick --database sqlite"
    python bench/records_bench.py [--quick] [--database sqlite|postgresql|all]
                                  [--pg-url postgresql://…/bench_records] [--repeat 30]

1. The build. A fresh database (a SQLite file; on PostgreSQL the schema `bench_records` of the
   database --pg-url names, created when missing: never the test suite's), the schema by
   `db upgrade` and the shipped content by `content sync` (what `trainer setup` runs), then,
   by bulk SQL (COPY on PostgreSQL, executemany on SQLite; explicit ids, the app's own column
   formats, every foreign key and constraint of the schema in force):
   50,000 staff in 40 departments (one of 2,000, the others ~1,230; one shared precomputed
   password hash) with their roles; 100,000 staff events (a hire each; leaves and returns,
   leaves still running, leavings, position changes: the status agrees with them);
   200,000 enrolments in every state (onboarding, in-service years, re-entry after a leave,
   promotion) with their requirements copied as `learning.copy_requirements` copies them;
   1,000,000 attempts (score, passed, dates; course quizzes for their enrolments, in order,
   the completed ones passed, and exams outside the tracks), 10 snapshotted items each for
   20,000 of them; 2,000,000 lesson reads (of the current revisions, after the enrolment was
   assigned); 1,000,000 学时 ledger entries (20 a person: courses completed, the classes they
   attended, older classes); 300,000 attendance marks (a check-in and a check-out at each of
   three closed classroom sessions a person was booked on, 30 to a class, with the roster and
   the class completions); 150,000 certificates (one per completed enrolment, three a person,
   all sharing one stored PDF). `--quick`: one tenth of everything (5,000 staff). Target: the
   build ≤ 5 minutes per database; the time of each table is printed. PostgreSQL is ANALYZEd
   afterwards (as autovacuum would); SQLite is not (nothing runs ANALYZE in production).
2. The data is checked as the app reads it: SQLite's foreign_key_check, then a heavy person's
   record page, PDF (its text extracted), the department's staff list, each must show that
   person's or department's own data.
3. The measures (test client in this process, signed in as HR; each ≥ 30 times; p50 / p95 /
   max of the wall clock, which the targets are about, and p50 / p95 of this process's CPU time,
   which a shared machine does not inflate; PostgreSQL's own CPU is not in it): one person's record page for the people with the most attempts and enrolments
   (p95 ≤ 100 ms); one record PDF (p95 ≤ 300 ms); the HR staff list filtered to the
   2,000-person department (p95 ≤ 300 ms); the XLSX of all 50,000 staff rows (≤ 5 s, the
   process's peak RSS growth sampled every 10 ms: flat is < 64 MB); the compliance dashboard
   `/records/dashboard` (p95 ≤ 150 ms) and `/records/people?department=…` (p95 ≤ 300 ms) when
   the app has those routes, else "not built yet" (not a failure). Without an all-staff XLSX
   route the export is measured as such a route would make it: `core.tables.xlsx_path` over a
   server-side cursor (yield_per) of 50,000 staff rows of 12 columns, one set-based statement.

Results: bench/results/records-<database>[-quick].json and a Markdown table; exits 1 when a
target is missed.
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import re
import statistics
import sys
import tempfile
import threading
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

RESULTS = ROOT / "bench" / "results"
PG_URL = "postgresql://postgres@127.0.0.1:5432/bench_records"
PG_SCHEMA = "bench_records"
HR_NUMBER, HR_PASSWORD = "HR0001", "bench-hr-password-1"
AGENT_PASSWORD = "bench-agent-password-1"
TARGETS = {"build_s": 300.0, "record_p95_ms": 100.0, "pdf_p95_ms": 300.0,
           "department_list_p95_ms": 300.0, "xlsx_s": 5.0, "xlsx_rss_growth_mb": 64.0,
           "dashboard_p95_ms": 150.0, "people_p95_ms": 300.0}

EPOCH = date(2015, 1, 1)
DAY = 86400
DEPARTMENTS = 40
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红娥玲芬芳燕彩春菊兰凤洁梅琳素云莲真环雪荣爱妹霞香月莺媛艳瑞凡佳嘉琼勤珍贞莉桂娣叶璧璐娅琦晶妍茜秋珊莎锦黛青倩婷姣婉娴瑾颖露瑶怡婵雁蓓纨仪荷丹蓉眉君琴蕊薇菁梦岚苑婕馨瑗琰韵融园艺咏卿聪澜纯毓悦昭冰爽琬茗羽希宁欣飘育滢馥筠柔竹霭凝晓欢霄枫芸菲寒伊亚宜可姬舒影荔枝思丽"


def d2i(day: date) -> int:
    return (day - EPOCH).days


# -- the centre's shape ------------------------------------------------------------------------------

class Shape:
    """How many of everything: the full centre, or one tenth of it (--quick)."""

    def __init__(self, quick: bool) -> None:
        scale = 10 if quick else 1
        self.quick = quick
        self.staff = 50_000 // scale
        self.big_department = 2_000 // scale
        self.events = 2 * self.staff
        self.enrolments = 4 * self.staff
        self.attempts = 20 * self.staff
        self.item_attempts = 20_000 // scale          # attempts with their items
        self.items_each = 10
        self.reads = 40 * self.staff
        self.hours = 20 * self.staff
        self.marks = 6 * self.staff                   # 3 sessions × check-in and check-out
        self.certificates = 3 * self.staff
        self.class_size = 30
        self.heavy_every = 40                        # every 40th of the big department
        self.heavy_attempts = 300                    # whatever the scale: the page is the same

    def describe(self) -> dict:
        return {k: v for k, v in vars(self).items() if not k.startswith("_")}


# -- formats: each database's own text for times and dates ------------------------------------

class Formats:
    def __init__(self, kind: str) -> None:
        self.days = [(EPOCH + timedelta(days=i)).isoformat() for i in range(6000)]
        # SQLAlchemy's SQLite DateTime text (naive UTC, as core.db.UTCDateTime stores it);
        # PostgreSQL's timestamptz with its zone.
        self.suffix = ".000000" if kind == "sqlite" else "+00"

    def ts(self, seconds: int) -> str:
        d, r = divmod(seconds, DAY)
        h, r = divmod(r, 3600)
        m, s = divmod(r, 60)
        return f"{self.days[d]} {h:02d}:{m:02d}:{s:02d}{self.suffix}"

    def day(self, day_index: int) -> str:
        return self.days[day_index]


# -- bulk loading --------------------------------------------------------------------------------

class Loader:
    """Rows into a table by the fastest plain way each database has: COPY (psycopg) on
    PostgreSQL, executemany (sqlite3) on SQLite; each table's rows and seconds recorded."""

    def __init__(self, kind: str, url: str) -> None:
        self.kind = kind
        self.timings: dict[str, dict] = {}
        if kind == "sqlite":
            import sqlite3

            self.conn = sqlite3.connect(url.removeprefix("sqlite:///"))
            self.conn.execute("PRAGMA synchronous = OFF")
            self.conn.execute("PRAGMA foreign_keys = OFF")   # checked once at the end
        else:
            import psycopg

            base, _, query = url.partition("?")
            self.conn = psycopg.connect(base, options=f"-c search_path={PG_SCHEMA}")

    def load(self, table: str, columns: tuple[str, ...], rows, *, label: str | None = None) -> int:
        started = time.perf_counter()
        count = 0
        names = ", ".join(columns)
        if self.kind == "sqlite":
            sql = f"INSERT INTO {table} ({names}) VALUES ({', '.join('?' * len(columns))})"
            batch = []
            for row in rows:
                batch.append(row)
                if len(batch) == 50_000:
                    self.conn.executemany(sql, batch)
                    count += len(batch)
                    batch.clear()
            if batch:
                self.conn.executemany(sql, batch)
                count += len(batch)
            self.conn.commit()
        else:
            with self.conn.cursor() as cur, cur.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
                    count += 1
            self.conn.commit()
        seconds = time.perf_counter() - started
        key = label or table
        previous = self.timings.get(key, {"rows": 0, "seconds": 0.0})
        self.timings[key] = {"rows": previous["rows"] + count,
                             "seconds": round(previous["seconds"] + seconds, 2)}
        print(f"  {key:<24} {count:>10,} rows {seconds:7.1f} s", flush=True)
        return count

    def scalar(self, sql: str):
        cur = self.conn.execute(sql)
        row = cur.fetchone()
        return row[0] if row else None

    def rows(self, sql: str) -> list:
        return list(self.conn.execute(sql).fetchall())

    def finish(self) -> dict:
        started = time.perf_counter()
        result = {}
        if self.kind == "postgresql":
            for (table,) in self.rows(
                    "SELECT table_name FROM information_schema.columns WHERE table_schema = "
                    f"'{PG_SCHEMA}' AND column_name = 'id' AND column_default LIKE 'nextval%'"):
                self.conn.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"COALESCE((SELECT max(id) FROM {table}), 0) + 1, false)")
            self.conn.commit()
            self.conn.autocommit = True
            self.conn.execute("ANALYZE")
            result["analyze_s"] = round(time.perf_counter() - started, 2)
        else:
            problems = self.rows("PRAGMA foreign_key_check")
            if problems:
                raise AssertionError(f"foreign keys broken: {problems[:5]} …")
            self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            result["foreign_key_check_s"] = round(time.perf_counter() - started, 2)
        self.conn.close()
        return result


# -- the content the shipped courses give (after `content sync`) ---------------------------------

class Content:
    def __init__(self, loader: Loader) -> None:
        self.tracks = dict(loader.rows("SELECT key, id FROM tracks"))
        self.minutes_per_hour = 60
        courses = loader.rows(
            "SELECT c.id, t.key, c.quiz_id, c.hours, c.hours_category, c.title FROM courses c "
            "JOIN tracks t ON t.id = c.track_id WHERE NOT c.retired ORDER BY t.key, c.position, c.id")
        lessons: dict[int, list[tuple[int, int]]] = {}
        for course_id, lesson_id, revision_id in loader.rows(
                "SELECT l.course_id, l.id, (SELECT r.id FROM lesson_revisions r WHERE "
                "r.lesson_id = l.id ORDER BY r.number DESC LIMIT 1) FROM lessons l "
                "WHERE NOT l.retired ORDER BY l.position, l.id"):
            lessons.setdefault(course_id, []).append((lesson_id, revision_id))
        asked: dict[int, list] = {}
        for course_id, kind, ref_id, params, position in loader.rows(
                "SELECT course_id, kind, ref_id, params, position FROM course_requirements "
                "ORDER BY position, id"):
            asked.setdefault(course_id, []).append(
                (kind, ref_id, params if isinstance(params, dict) else json.loads(params or "{}"),
                 position))
        # Per track: [(course id, quiz id, [(lesson id, revision id)], minutes, category, title)]
        self.courses: dict[str, list] = {}
        self.requirements: dict[str, list] = {}   # per track: copy_requirements' rows
        for course_id, key, quiz_id, hours, category, title in courses:
            minutes = int(float(hours or 0) * self.minutes_per_hour)
            self.courses.setdefault(key, []).append(
                (course_id, quiz_id, lessons.get(course_id, []), minutes, category or "其他",
                 title))
        for key, lines in self.courses.items():
            order = {course_id: index for index, (course_id, *_) in enumerate(lines)}
            rows = []
            for course_id, *_ in lines:
                for kind, ref_id, params, position in asked.get(course_id, []):
                    params = dict(params)
                    if kind == "lessons":
                        params["lesson_ids"] = [lesson for lesson, _ in lessons.get(course_id, [])]
                    rows.append((course_id, kind, ref_id,
                                 json.dumps(params, ensure_ascii=False),
                                 order[course_id] * 100 + position))
            self.requirements[key] = rows
        questions = loader.rows(
            "SELECT q.id, q.lineage_id, q.qtype, q.stem, q.text_format, q.name, q.explanation, "
            "q.version FROM questions q WHERE q.is_current AND NOT q.retired AND q.qtype = "
            "'single' ORDER BY q.id LIMIT 10")
        self.questions = []
        for qid, lineage, qtype, stem, text_format, name, explanation, version in questions:
            choices = loader.rows(f"SELECT text, weight, feedback, keep_in_place FROM choices "
                                  f"WHERE question_id = {qid} ORDER BY position")
            snapshot = {"qtype": qtype, "stem": stem, "text_format": text_format, "name": name,
                        "explanation": explanation, "points": "10", "version": version,
                        "choices": [{"text": t, "weight": str(w), "feedback": f,
                                     "keep": bool(k)} for t, w, f, k in choices]}
            right = next(i for i, (_, w, _, _) in enumerate(choices) if float(w) > 0)
            wrong = next(i for i, (_, w, _, _) in enumerate(choices) if float(w) <= 0)
            self.questions.append((qid, lineage or qid, json.dumps(snapshot, ensure_ascii=False),
                                   json.dumps(list(range(len(choices)))), right, wrong))
        self.bank_id = loader.scalar("SELECT id FROM question_banks ORDER BY id LIMIT 1")


# -- the people and what happened to them (a plan in memory; rows are generated from it) -------

class Plan:
    """Everyone's working life, enrolments and classes, decided once from their index, so each
    table's rows can be generated in a pass of their own."""

    def __init__(self, shape: Shape, content: Content, today: date, bases: dict[str, int]) -> None:
        self.shape, self.content, self.today = shape, content, today
        self.t = d2i(today)
        n = shape.staff
        self.staff0 = bases["staff_members"]
        self.hr_id = self.staff0 + n
        self.department0 = bases["departments"]
        self.position0 = bases["positions"]
        self.heavy = [i for i in range(0, shape.big_department, shape.heavy_every)
                      if not self.recent(i)]
        heavy = set(self.heavy)
        early = d2i(date(2015, 1, 5))
        span = d2i(date(2025, 6, 30)) - d2i(date(2015, 1, 1))
        self.hire = [0] * n
        for i in range(n):
            if i in heavy:
                self.hire[i] = early + i % 30
            elif self.recent(i):
                self.hire[i] = d2i(date(2026, 1, 5)) + (i * 37) % 290
            else:
                self.hire[i] = (i * 7919) % span
        self._enrolments(bases["enrolments"])

    @staticmethod
    def name(i: int) -> str:
        return SURNAMES[i % len(SURNAMES)] + GIVEN[(i // 7) % len(GIVEN)] + \
            GIVEN[(i // 13 + i) % len(GIVEN)]

    @staticmethod
    def recent(i: int) -> bool:
        return i % 20 == 7

    def department(self, i: int) -> int:
        if i < self.shape.big_department:
            return self.department0
        return self.department0 + 1 + i % (DEPARTMENTS - 1)

    def position(self, i: int) -> int:
        return self.position0 + (1 + i % 3 if i % 100 < 54 else 0)

    def status(self, i: int) -> str:
        return "on_leave" if i % 25 == 3 else "left" if i % 50 == 4 else "active"

    def leave(self, i: int) -> tuple[int, int] | None:
        if i % 5 == 1:
            start = d2i(date(2026, 3, 1)) + i % 60
            return start, start + 75
        return None

    def events(self, i: int) -> list[tuple[str, int]]:
        hire = self.hire[i]
        events = [("hire", hire)]
        leave = self.leave(i)
        if leave:
            events += [("leave_start", leave[0]), ("leave_return", leave[1])]
        if i % 25 == 3:
            events.append(("leave_start", d2i(date(2026, 9, 1)) + i % 60))
        if i % 50 == 4:
            events.append(("leaving", d2i(date(2026, 6, 1)) + i % 90))
        if i % 100 < 54:
            events.append(("position_change", hire + (self.t - hire) // 2))
        events.sort(key=lambda e: e[1])
        return events

    # Enrolment: (id, i, track key, reason, assigned (s), due (day), state, completed (s) | None,
    #             waived reason, away from, away until, target position)
    def _enrolments(self, first_id: int) -> None:
        n, t = self.shape.staff, self.t
        plan: list[list] = [[] for _ in range(n)]
        total = 0
        for i in range(n):
            hire = self.hire[i]
            own = plan[i]
            if self.recent(i):
                due = hire + 30
                state = ("completed", "overdue" if due < t else "assigned", "in_progress")[
                    (i // 20) % 3]
                own.append(["onboarding", "hire", hire * DAY + 7200, due, state])
            else:
                own.append(["onboarding", "hire", hire * DAY + 7200, hire + 30, "completed"])
                hire_year = (EPOCH + timedelta(days=hire)).year
                for year in (2024, 2025):
                    if hire_year < year:
                        start = d2i(date(year, 1, 10)) + i % 60
                        own.append(["inservice", "renewal", start * DAY + 7200, start + 31,
                                    "waived" if i % 17 == 0 else "completed"])
                start = d2i(date(2026, 1, 10)) + i % 60
                state, due = self._inservice_now(i, start)
                own.append(["inservice", "renewal", start * DAY + 7200, due, state])
                leave = self.leave(i)
                if leave:
                    state = ("completed", "in_progress", "overdue", "waived")[(i // 5) % 4]
                    own.append(["reentry", "return", leave[1] * DAY + 7200, leave[1] + 28, state,
                                leave[0], leave[1]])
                if i % 100 in (54, 55, 56):
                    start = d2i(date(2025, 9, 1)) + i % 60
                    own.append(["promotion", "nomination", start * DAY + 7200, start + 60,
                                ("completed", "in_progress", "assigned")[i % 3]])
            total += len(own)
        # The heavy people have every in-service year since 2016; the count is then brought to
        # 4 a person: older in-service years for others hired early enough, or, when over, the
        # 2024 one of some.
        heavy = set(self.heavy)

        def history(i: int, year: int) -> list:
            start = d2i(date(year, 1, 10)) + i % 60
            return ["inservice", "renewal", start * DAY + 7200, start + 31, "completed"]

        for i in self.heavy:
            plan[i][1:1] = [history(i, year) for year in range(2016, 2024)]
            total += 8
        missing = self.shape.enrolments - total
        for year in range(2023, 2020, -1):
            for i in range(n):
                if missing <= 0:
                    break
                if i in heavy or self.recent(i) or \
                        (EPOCH + timedelta(days=self.hire[i])).year >= year:
                    continue
                plan[i].insert(1, history(i, year))
                missing -= 1
        for i in range(n - 1, -1, -1):
            if missing >= 0:
                break
            if i in heavy:
                continue
            for k, e in enumerate(plan[i]):
                if e[0] == "inservice" and e[2] < d2i(date(2025, 1, 1)) * DAY:
                    del plan[i][k]
                    missing += 1
                    break
        self.enrolments: list[tuple] = []
        eid = first_id
        for i in range(n):
            for e in sorted(plan[i], key=lambda e: e[2]):
                key, reason, assigned, due, state = e[:5]
                away = (e[5], e[6]) if len(e) > 5 else (None, None)
                completed = assigned + 25 * DAY if state == "completed" else None
                self.enrolments.append((eid, i, key, reason, assigned, due, state, completed,
                                        "已在外部完成同等培训" if state == "waived" else "",
                                        away[0], away[1],
                                        "班组长" if key == "promotion" else ""))
                eid += 1
        self.by_person: list[list[tuple]] = [[] for _ in range(n)]
        for e in self.enrolments:
            self.by_person[e[1]].append(e)

    def _inservice_now(self, i: int, start: int) -> tuple[str, int]:
        t = self.t
        kind = i % 10
        if kind in (0, 1, 2, 9):
            return "completed", start + 31
        if kind == 3:
            return "assigned", t + 1 + i % 29             # due soon
        if kind == 4:
            return "assigned", t + 40 + i % 60
        if kind in (5, 6):
            return "in_progress", t + 5 + i % 80
        if kind == 7:
            return "overdue", start + 31
        return "waived", start + 31

    # -- what each enrolment's courses got: (course index, lessons read, attempts) -------------

    def progress(self, e: tuple) -> list[tuple[int, int, list[bool]]]:
        """Per course: (course index, how many of its lessons were read, the attempts' pass
        flags in order)."""
        eid, state, courses = e[0], e[6], self.content.courses[e[2]]
        out = []
        for index, (_, quiz_id, lessons, *_rest) in enumerate(courses):
            n = len(lessons)
            if state == "completed":
                tries = [False, True] if (eid + index) % 4 == 0 else [True]
                out.append((index, n, tries if quiz_id else []))
            elif state == "in_progress" and index == 0:
                out.append((index, n, [True] if quiz_id else []))
            elif state == "in_progress" and index == 1:
                out.append((index, n // 2, []))
            elif state == "overdue" and index == 0:
                out.append((index, n // 2 + 1, [False] if quiz_id else []))
        return out

    def classes(self, i: int) -> list[int]:
        """The three recent classes (marked sessions) of person i: class indexes, 30 a class."""
        groups = -(-self.shape.staff // self.shape.class_size)
        return [i // self.shape.class_size + j * groups for j in range(3)]

    @property
    def marked_classes(self) -> int:
        return 3 * -(-self.shape.staff // self.shape.class_size)

    @property
    def older_classes(self) -> int:
        return self.shape.staff // 5


# -- the build -----------------------------------------------------------------------------------

def build(kind: str, url: str, shape: Shape, app) -> dict:
    from trainer.accounts.passwords import hash_password
    from trainer.accounts.rules import employee_no_key
    from trainer.core.timeutil import utcnow

    loader = Loader(kind, url)
    f = Formats(kind)
    content = Content(loader)
    tables = ("staff_members", "departments", "positions", "staff_events", "enrolments",
              "enrolment_requirements", "attempts", "attempt_items", "lesson_reads",
              "hours_entries", "classes", "class_sessions", "attendance_marks",
              "certificates", "stored_files", "quizzes", "quiz_draw_rules")
    tables += ("enrolment_requirements", "attempt_items", "lesson_reads", "attendance_marks",
               "hours_entries")
    bases = {t: (loader.scalar(f"SELECT max(id) FROM {t}") or 0) + 1 for t in tables}
    now = utcnow()
    plan = Plan(shape, content, now.date(), bases)
    n = shape.staff
    started = time.perf_counter()
    created = f.ts(d2i(now.date()) * DAY)

    # Departments and positions: the big one first.
    names = ["客服一部"] + [f"客服{i + 2}部" if i < 30 else f"服务中心{i - 29}组"
                          for i in range(DEPARTMENTS - 1)]
    loader.load("departments", ("id", "name", "code", "active", "sort_order", "created_at",
                                "updated_at"),
                ((plan.department0 + k, name, f"D{k + 1:02d}", True, k, created, created)
                 for k, name in enumerate(names)))
    loader.load("positions", ("id", "name", "code", "active", "sort_order", "created_at",
                              "updated_at"),
                ((plan.position0 + k, name, f"P{k + 1}", True, k, created, created)
                 for k, name in enumerate(("客服代表", "班组长", "质检员", "培训专员"))))

    # Staff: one precomputed Argon2id hash for every agent, HR's own.
    shared, hr_hash = hash_password(AGENT_PASSWORD), hash_password(HR_PASSWORD)

    def staff_rows():
        for i in range(n):
            number = f"A{i + 1:06d}"
            yield (plan.staff0 + i, number, employee_no_key(number), plan.name(i), plan.department(i),
                   plan.position(i), f.day(plan.hire[i]), "zh_CN", "Asia/Shanghai", shared,
                   False, True, plan.status(i), created, created)
        yield (plan.hr_id, HR_NUMBER, employee_no_key(HR_NUMBER), "基准人事", None, None,
               "2015-01-05", "zh_CN", "Asia/Shanghai", hr_hash, False, True, "active", created,
               created)

    loader.load("staff_members", ("id", "employee_no", "employee_no_key", "name",
                                  "department_id", "position_id", "hire_date", "locale",
                                  "timezone", "password_hash", "must_change_password",
                                  "login_enabled", "status", "created_at", "updated_at"),
                staff_rows())
    loader.load("staff_roles", ("staff_id", "role"),
                [(plan.staff0 + i, "learner") for i in range(n)] + [(plan.hr_id, "hr")])

    position_names = ("客服代表", "班组长", "质检员", "培训专员")

    def event_rows():
        eid = bases["staff_events"]
        for i in range(n):
            for kind_, day in plan.events(i):
                position_id = plan.position(i) if kind_ == "position_change" else None
                yield (eid, plan.staff0 + i, kind_, f.day(day), position_id,
                       position_names[position_id - plan.position0] if position_id else "",
                       "", f.ts(day * DAY + 3600), plan.hr_id)
                eid += 1

    loader.load("staff_events", ("id", "staff_id", "kind", "occurred_on", "position_id",
                                 "position", "note", "recorded_at", "recorded_by_id"),
                event_rows())

    tracks = content.tracks
    loader.load("enrolments", ("id", "staff_id", "track_id", "reason", "assigned_at", "due_on",
                               "state", "completed_at", "waived_reason", "away_from",
                               "away_until", "target_position", "assigned_by_id"),
                ((e[0], plan.staff0 + e[1], tracks[e[2]], e[3], f.ts(e[4]), f.day(e[5]), e[6],
                  f.ts(e[7]) if e[7] else None, e[8],
                  f.day(e[9]) if e[9] is not None else None,
                  f.day(e[10]) if e[10] is not None else None, e[11], None)
                 for e in plan.enrolments))

    def requirement_rows():
        rid = bases["enrolment_requirements"]
        for e in plan.enrolments:
            for course_id, kind_, ref_id, params, position in content.requirements[e[2]]:
                yield (rid, e[0], course_id, kind_, ref_id, params, position)
                rid += 1

    loader.load("enrolment_requirements", ("id", "enrolment_id", "course_id", "kind", "ref_id",
                                           "params", "position"), requirement_rows())

    # Exams outside the tracks (a trainer's quizzes), drawn from the first shipped bank.
    quiz0 = bases["quizzes"]
    standalone = [quiz0 + k for k in range(3)]
    loader.load("quizzes", ("id", "title", "description", "mode", "owner_id", "personal_for_id",
                            "open_to_all", "time_limit_s", "open_at", "close_at", "pass_mark",
                            "attempts_allowed", "grading", "delay_s", "shuffle_questions",
                            "shuffle_choices", "layout", "navigation", "all_or_nothing",
                            "review_what", "review_when", "fixed_list", "created_at",
                            "updated_at"),
                ((q, title, "", "exam", None, None, True, 1800, None, None, "60", None,
                  grading, 0, True, True, "all", "free", False, "full", "immediately", False,
                  created, created)
                 for q, title, grading in zip(standalone, ("季度业务考试", "服务规范抽考",
                                                           "投诉处理专项考核"),
                                              ("highest", "last", "highest"))))
    loader.load("quiz_draw_rules", ("id", "quiz_id", "position", "bank_id", "category_id", "tag",
                                    "difficulty", "qtype", "count", "points"),
                ((bases["quiz_draw_rules"] + k, q, 0, content.bank_id, None, "", None, "", 10,
                  "10") for k, q in enumerate(standalone)))

    # Attempts: each enrolment's course quizzes in order (a completed course passed, maybe at
    # the second try), then exams outside the tracks up to 20 a person (300 for the heavy).
    course_attempts = [0] * n
    for e in plan.enrolments:
        course_attempts[e[1]] += sum(len(tries) for _, _, tries in plan.progress(e))
    heavy = set(plan.heavy)
    extra = [0] * n
    budget = shape.attempts - sum(course_attempts)
    for i in plan.heavy:
        extra[i] = max(0, shape.heavy_attempts - course_attempts[i])
        budget -= extra[i]
    others = [i for i in range(n) if i not in heavy]
    if budget < 0:
        raise AssertionError(f"the course quizzes alone exceed the attempts: {-budget} over")
    each, rest = divmod(budget, len(others))
    for k, i in enumerate(others):
        extra[i] = each + (1 if k < rest else 0)
    attempt_ids = {"next": bases["attempts"]}
    item_every = shape.attempts // shape.item_attempts
    with_items: list[tuple[int, int, int]] = []     # (attempt id, score / 10, started)

    def one_attempt(i, quiz_id, enrolment_id, number, start, passed, state="submitted"):
        aid = attempt_ids["next"]
        attempt_ids["next"] += 1
        tens = 6 + (aid % 5) if passed else 2 + aid % 4     # 60–100 passed, 20–50 not
        if state == "abandoned":
            row = (aid, quiz_id, plan.staff0 + i, enrolment_id, number, state, f.ts(start),
                   f.ts(start + 1800), None, None, "100", None, None, False, 0)
        else:
            row = (aid, quiz_id, plan.staff0 + i, enrolment_id, number, state, f.ts(start),
                   f.ts(start + 1800), f.ts(start + 600 + aid % 1200 if state == "submitted"
                                            else start + 1800),
                   f"{tens * 10}", "100", f"{tens * 10}", tens >= 6, False, 0)
            if aid % item_every == 0:
                with_items.append((aid, tens, start))
        return row

    def attempt_rows():
        for i in range(n):
            own = plan.by_person[i]
            for e in own:
                courses = content.courses[e[2]]
                for index, _, tries in plan.progress(e):
                    quiz_id = courses[index][1]
                    for number, passed in enumerate(tries, start=1):
                        start = e[4] + (index + 1) * 3 * DAY + number * DAY + 3600 * (i % 5)
                        yield one_attempt(i, quiz_id, e[0], number, start, passed)
            numbers = [0, 0, 0]
            first = max(plan.hire[i], d2i(date(2024, 1, 1)))
            span = max(plan.t - first - 1, 1)
            for k in range(extra[i]):
                q = (i + k) % 3
                numbers[q] += 1
                day = first + (k * span) // extra[i]      # in order: number follows time
                start = day * DAY + 3600 + (k % 6) * 3600
                state = "expired" if (i + k) % 33 == 0 else \
                    "abandoned" if (i + k) % 97 == 0 else "submitted"
                yield one_attempt(i, standalone[q], None, numbers[q], start, (i * 3 + k) % 4 != 0,
                                  state)

    loader.load("attempts", ("id", "quiz_id", "staff_id", "enrolment_id", "number", "state",
                             "started_at", "deadline_at", "submitted_at", "score", "max_score",
                             "percent", "passed", "mistakes_collected", "open_from"),
                attempt_rows())

    def item_rows():
        iid = bases["attempt_items"]
        for aid, tens, start in with_items:
            for position, (qid, lineage, snapshot, order, right, wrong) in enumerate(
                    content.questions[:shape.items_each]):
                good = position < tens
                yield (iid, aid, position, qid, lineage, snapshot, order,
                       f"[{right if good else wrong}]", 1, f.ts(start + 60 * (position + 1)),
                       False, "10" if good else "0", "10")
                iid += 1

    loader.load("attempt_items", ("id", "attempt_id", "position", "question_id", "lineage_id",
                                  "snapshot", "choice_order", "selected", "version", "saved_at",
                                  "locked", "mark", "max_mark"), item_rows())

    # Lesson reads: each enrolment's reads after it was assigned; then the lessons of the
    # person's latest track read again, up to 40 a person on average.
    natural = [0] * n
    for e in plan.enrolments:
        natural[e[1]] += sum(read for _, read, _ in plan.progress(e))
    # At least 40 reads a person; more when the tracks' own lessons call for more (the shipped
    # onboarding grew from 4 courses to 7 and from 16 lessons to 27 with issues 19 and 20).
    budget = max(0, shape.reads - sum(natural))
    if budget == 0:
        print(f"  lesson reads: the enrolments' own, {sum(natural):,} (over the {shape.reads:,} "
              "planned)")
    each, rest = divmod(budget, n)

    def read_rows():
        rid = bases["lesson_reads"]
        for i in range(n):
            own = plan.by_person[i]
            for e in own:
                courses = content.courses[e[2]]
                for index, read, _ in plan.progress(e):
                    for k, (lesson, revision) in enumerate(courses[index][2][:read]):
                        yield (rid, plan.staff0 + i, lesson, revision,
                               f.ts(e[4] + (index + 1) * 2 * DAY + 600 * k))
                        rid += 1
            # Read again: the onboarding lessons after onboarding was completed (no open
            # enrolment asks for them), or, for a new hire still in onboarding, the in-service
            # lessons ahead of time (none of their enrolments asks for those).
            again = each + (1 if i < rest else 0)
            first = own[0]
            track = "onboarding" if first[6] == "completed" else "inservice"
            lessons = [pair for c in content.courses[track] for pair in c[2]]
            base = first[7] if first[6] == "completed" else first[4]
            for k in range(again):
                lesson, revision = lessons[k % len(lessons)]
                yield (rid, plan.staff0 + i, lesson, revision,
                       f.ts(min(base + (k + 1) * 7200, (plan.t - 1) * DAY)))
                rid += 1

    loader.load("lesson_reads", ("id", "staff_id", "lesson_id", "revision_id", "read_at"),
                read_rows())

    # Classes: the recent ones (one closed session each, 30 booked, everyone checked in and
    # out) and older ones (the ledger's history); categories as the settings list them.
    categories = ["业务知识", "岗位技能", "服务礼仪", "法规制度", "系统操作"]
    class0, session0 = bases["classes"], bases["class_sessions"]
    marked, older = plan.marked_classes, plan.older_classes
    groups = marked // 3

    def class_day(c: int) -> int:
        if c < marked:
            j, k = divmod(c, groups)
            return d2i((date(2026, 7, 1), date(2026, 8, 20), date(2026, 10, 1))[j]) + k % 48
        return d2i(date(2024, 1, 8)) + (c * 11) % (plan.t - d2i(date(2024, 1, 8)) - 3)

    def class_rows():
        for c in range(marked + older):
            title = (f"服务规范集中培训第{c + 1}期" if c < marked else f"业务知识专题课第{c + 1}期")
            closed = f.ts(class_day(c) * DAY + 10 * 3600)
            yield (class0 + c, title, "", None, categories[c % 5], f"培训室{c % 6 + 1}", "", 40,
                   None, "invitation", 80, c < marked and c % 2 == 0, created, plan.hr_id,
                   closed, plan.hr_id)

    loader.load("classes", ("id", "title", "description", "course_id", "hours_category", "place",
                            "link", "capacity", "cost", "signup_mode", "completion_share",
                            "issues_certificate", "created_at", "created_by_id", "closed_at",
                            "closed_by_id"), class_rows())

    def session_rows():
        for c in range(marked + older):
            start = class_day(c) * DAY + 3600          # 09:00 in Shanghai
            yield (session0 + c, class0 + c, f.ts(start), f.ts(start + 3 * 3600), "", 15, 30,
                   10, 30, 5, 5, True, f"{c:064x}", f"bench-session-{c}@training.example.cn",
                   0, None, f.ts(start + 4 * 3600), None, f.ts(start + 4 * 3600))

    loader.load("class_sessions", ("id", "class_id", "starts_at", "ends_at", "place",
                                   "checkin_opens_min", "checkin_closes_min",
                                   "checkout_opens_min", "checkout_closes_min", "late_after_min",
                                   "early_leave_min", "checkout_required", "secret", "uid",
                                   "sequence", "cancelled_at", "closed_at", "closed_by_id",
                                   "updated_at"), session_rows())
    loader.load("class_roster", ("class_id", "staff_id", "state", "since"),
                ((class0 + c, plan.staff0 + i, "booked", f.ts((class_day(c) - 14) * DAY))
                 for i in range(n) for c in plan.classes(i)))

    def mark_rows():
        mid = bases["attendance_marks"]
        for i in range(n):
            for c in plan.classes(i):
                start = class_day(c) * DAY + 3600
                late = 600 if (i + c) % 10 == 0 else 0
                at_in, at_out = start - 300 + late, start + 3 * 3600 + 60
                device = f"{(i * 2654435761) % (1 << 64):016x}" * 4
                yield (mid, session0 + c, plan.staff0 + i, "check_in", "qr", f.ts(at_in), None,
                       None, f.ts(at_in), None, "", None, "Mozilla/5.0 (Linux; Android 14)",
                       device)
                yield (mid + 1, session0 + c, plan.staff0 + i, "check_out", "qr", f.ts(at_out),
                       None, None, f.ts(at_out), None, "", None,
                       "Mozilla/5.0 (Linux; Android 14)", device)
                mid += 2

    loader.load("attendance_marks", ("id", "session_id", "staff_id", "kind", "via", "at",
                                     "check_in_at", "check_out_at", "recorded_at", "author_id",
                                     "reason", "address", "user_agent", "device_hash"),
                mark_rows())

    def minutes_at(i: int, c: int) -> int:
        return 180 - (5 if (i + c) % 10 == 0 else 0)

    loader.load("class_completions", ("class_id", "staff_id", "completed_at", "minutes"),
                ((class0 + c, plan.staff0 + i, f.ts(class_day(c) * DAY + 4 * 3600),
                  minutes_at(i, c)) for i in range(n) for c in plan.classes(i)))

    # The 学时 ledger: 20 entries a person (courses completed, the recent classes, then older
    # classes), one per source as credit_hours keeps it.
    per_person = shape.hours // n

    def hours_rows():
        hid = bases["hours_entries"]
        step = older // per_person
        for i in range(n):
            seen: dict[int, tuple] = {}
            for e in plan.by_person[i]:
                if e[6] != "completed":
                    continue
                for course_id, _, _, minutes, category, title in content.courses[e[2]]:
                    if minutes > 0:
                        seen[course_id] = (e[7], minutes, category, title)
            rows = [("course", cid, completed // DAY, minutes, category, title)
                    for cid, (completed, minutes, category, title) in seen.items()]
            rows += [("class", class0 + c, class_day(c), minutes_at(i, c), categories[c % 5],
                      f"服务规范集中培训第{c + 1}期") for c in plan.classes(i)]
            k = 0
            while len(rows) < per_person:
                c = marked + (i + k * step) % older
                rows.append(("class", class0 + c, class_day(c), 180, categories[c % 5],
                             f"业务知识专题课第{c + 1}期"))
                k += 1
            for kind_, source, day, minutes, category, title in rows:
                yield (hid, plan.staff0 + i, kind_, source, f.day(day), category, minutes, title,
                       f.ts(day * DAY + 5 * 3600), f.ts(day * DAY + 5 * 3600))
                hid += 1

    loader.load("hours_entries", ("id", "staff_id", "source_kind", "source_id", "on_date",
                                  "category", "minutes", "title", "credited_at", "updated_at"),
                hours_rows())

    # Certificates: one per completed enrolment, three a person (the first completed ones of
    # each, then more of those who have more), all pointing at one stored PDF.
    pdf = b"%PDF-1.7\n% bench: one stored certificate shared by every row\n%%EOF\n"
    import hashlib

    sha = hashlib.sha256(pdf).hexdigest()
    file_id = bases["stored_files"]
    loader.load("stored_files", ("id", "sha256", "content_type", "size", "data", "created_at"),
                [(file_id, sha, "application/pdf", len(pdf), pdf, created)])
    ranked: list[tuple[int, tuple]] = []
    for i in range(n):
        done = [e for e in plan.by_person[i] if e[6] == "completed"]
        ranked += [(rank, e) for rank, e in enumerate(done)]
    ranked.sort(key=lambda pair: pair[0])
    chosen = sorted((e for _, e in ranked[:shape.certificates]), key=lambda e: e[0])
    prefixes = {"onboarding": "RZ", "inservice": "ZG", "reentry": "FG", "promotion": "JS"}
    titles = {"onboarding": "入职培训合格证书", "inservice": "在岗培训合格证书",
              "reentry": "复岗培训合格证书", "promotion": "晋升培训合格证书"}
    track_titles = {"onboarding": "入职培训", "inservice": "在岗培训", "reentry": "复岗培训",
                    "promotion": "晋升培训"}

    def certificate_rows():
        cid = bases["certificates"]
        for k, e in enumerate(chosen):
            issued = e[7]
            year = (EPOCH + timedelta(days=issued // DAY)).year
            expires = f.ts(issued + 365 * DAY) if e[2] == "inservice" else None
            revoked = k % 101 == 0
            snapshot = json.dumps({"name": plan.name(e[1]), "employee_no": f"A{e[1] + 1:06d}",
                                   "title": titles[e[2]], "track": track_titles[e[2]],
                                   "courses": [c[5] for c in content.courses[e[2]]],
                                   "hours": "", "completed_on": f.day(issued // DAY)},
                                  ensure_ascii=False)
            yield (cid, plan.staff0 + e[1], "track", e[2], e[0], None,
                   f"{prefixes[e[2]]}-{year}-{k + 1:07d}", f"B{k + 1:011d}", f.ts(issued),
                   expires, snapshot, 1, file_id, sha, "bench", f.ts(issued + 60),
                   f.ts(issued + 30 * DAY) if revoked else None, plan.hr_id if revoked else None,
                   "withdrawn" if revoked else None, "", None, None)
            cid += 1

    loader.load("certificates", ("id", "staff_id", "kind", "source", "enrolment_id", "class_id",
                                 "serial", "code", "issued_at", "expires_at", "snapshot",
                                 "template_version", "pdf_file_id", "pdf_sha256", "signed_with",
                                 "rendered_at", "revoked_at", "revoked_by_id", "revoke_reason",
                                 "revoke_note", "supersedes_id", "superseded_by_id"),
                certificate_rows())
    build_s = time.perf_counter() - started
    finish = loader.finish()
    total_s = time.perf_counter() - started
    print(f"  built in {build_s:.1f} s; {', '.join(f'{k} {v} s' for k, v in finish.items())}; "
          f"total {total_s:.1f} s", flush=True)
    counts = {k: v["rows"] for k, v in loader.timings.items()}
    return {"tables": loader.timings, "counts": counts, "load_s": round(build_s, 1),
            **finish, "build_s": round(total_s, 1),
            "heavy": [plan.staff0 + i for i in plan.heavy],
            "big_department_id": plan.department0, "hr_id": plan.hr_id,
            "people": {str(plan.staff0 + i): {
                "enrolments": len(plan.by_person[i]),
                "attempts": sum(len(t) for e in plan.by_person[i] for _, _, t in plan.progress(e))
                + extra[i]} for i in plan.heavy[:3]}}


# -- measuring -----------------------------------------------------------------------------------

def percentiles(timings: list[float], cpu: list[float] | None = None) -> dict:
    timings = sorted(timings)
    out = {"n": len(timings), "p50": round(statistics.median(timings), 1),
           "p95": round(timings[max(0, int(round(len(timings) * 0.95)) - 1)], 1),
           "max": round(timings[-1], 1)}
    if cpu:
        # This process's CPU per request: what the request costs whatever else the machine
        # runs (the wall-clock figures above include waiting for a core on a shared machine).
        cpu = sorted(cpu)
        out.update(cpu_p50=round(statistics.median(cpu), 1),
                   cpu_p95=round(cpu[max(0, int(round(len(cpu) * 0.95)) - 1)], 1))
    return out


def timed(fn, repeat: int) -> dict:
    fn()                                   # warm: templates, fonts, the statement cache
    timings, cpu = [], []
    for k in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        fn(k)
        timings.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    return percentiles(timings, cpu)


def signed_in_client(app):
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    response = client.post("/login", data={"employee_no": HR_NUMBER, "password": HR_PASSWORD,
                                           "csrf_token": token})
    if response.status_code != 302:
        raise RuntimeError(f"HR's sign-in failed: {response.status_code}")
    return client


class PeakRSS:
    """The process's resident memory sampled every 10 ms while the block runs."""

    def __enter__(self):
        import psutil

        gc.collect()
        self.process = psutil.Process()
        self.baseline = self.peak = self.process.memory_info().rss
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()
        return self

    def _sample(self) -> None:
        while not self.stop.is_set():
            self.peak = max(self.peak, self.process.memory_info().rss)
            time.sleep(0.01)

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.thread.join()
        self.peak = max(self.peak, self.process.memory_info().rss)

    @property
    def growth_mb(self) -> float:
        return round((self.peak - self.baseline) / 2**20, 1)


def staff_export_rows(today: date):
    """The all-staff list as an export would read it: one set-based statement (the person,
    department, position, and per person the open and overdue enrolments, those completed this
    year, certificates expiring within 60 days, classroom minutes this year), streamed from a
    server-side cursor."""
    from sqlalchemy import and_, case, func, select

    from trainer.accounts.models import Department, Position, StaffMember
    from trainer.certificates.models import Certificate
    from trainer.core.db import db
    from trainer.learning.models import Enrolment, HoursEntry

    year_start = datetime(today.year, 1, 1, tzinfo=timezone.utc)
    soon = datetime.combine(today + timedelta(days=60), datetime.min.time(), timezone.utc)
    now = datetime.now(timezone.utc)
    enrolments = (select(
        Enrolment.staff_id.label("staff_id"),
        func.sum(case((Enrolment.state.in_(("assigned", "in_progress", "overdue")), 1),
                      else_=0)).label("open"),
        func.sum(case((Enrolment.state == "overdue", 1), else_=0)).label("overdue"),
        func.sum(case((and_(Enrolment.state == "completed",
                            Enrolment.completed_at >= year_start), 1), else_=0)).label("done"))
        .group_by(Enrolment.staff_id).subquery())
    expiring = (select(Certificate.staff_id.label("staff_id"), func.count().label("n"))
                .where(Certificate.revoked_at.is_(None), Certificate.expires_at > now,
                       Certificate.expires_at <= soon)
                .group_by(Certificate.staff_id).subquery())
    hours = (select(HoursEntry.staff_id.label("staff_id"),
                    func.sum(HoursEntry.minutes).label("minutes"))
             .where(HoursEntry.source_kind == "class", HoursEntry.on_date >= date(today.year, 1, 1))
             .group_by(HoursEntry.staff_id).subquery())
    query = (select(StaffMember.employee_no, StaffMember.name, Department.name, Position.name,
                    StaffMember.hire_date, StaffMember.status,
                    func.coalesce(enrolments.c.open, 0), func.coalesce(enrolments.c.overdue, 0),
                    func.coalesce(enrolments.c.done, 0), func.coalesce(expiring.c.n, 0),
                    func.coalesce(hours.c.minutes, 0), StaffMember.id)
             .outerjoin(Department, Department.id == StaffMember.department_id)
             .outerjoin(Position, Position.id == StaffMember.position_id)
             .outerjoin(enrolments, enrolments.c.staff_id == StaffMember.id)
             .outerjoin(expiring, expiring.c.staff_id == StaffMember.id)
             .outerjoin(hours, hours.c.staff_id == StaffMember.id)
             .order_by(StaffMember.employee_no)
             .execution_options(yield_per=2000))
    yield from db.session.execute(query)


EXPORT_HEADER = ["工号", "姓名", "部门", "岗位", "入职日期", "状态", "在训", "逾期", "本年完成",
                 "证书将到期", "本年课堂学时(分钟)", "编号"]


def find_export_route(app) -> str | None:
    """An all-staff XLSX export, should the app have one by now."""
    for rule in app.url_map.iter_rules():
        text = rule.rule
        if "<" in text or "GET" not in (rule.methods or ()):
            continue
        if text in ("/records/people.xlsx", "/staff.xlsx", "/staff/export.xlsx",
                    "/records/people/export.xlsx"):
            return text
    return None


def measure(app, built: dict, repeat: int, quick: bool) -> dict:
    from trainer.core.db import db
    from trainer.core.tables import xlsx_path

    out: dict = {"how": "in-process, Flask test client, signed in as HR (one process, "
                        "no network, no gunicorn; the collector frozen as wsgi.py does)"}
    # The worker as production starts it: wsgi.py moves what was loaded before the first request
    # out of the cycle collector's sight (gc.freeze), so a full collection walks what requests
    # allocate. Here that is the app and what the build left behind.
    gc.collect()
    gc.freeze()
    client = signed_in_client(app)
    heavy = built["heavy"]
    dept = built["big_department_id"]

    # The data as the app shows it: a heavy person's record, PDF and the department's list.
    with app.app_context():
        from trainer.accounts.models import StaffMember

        person = db.session.get(StaffMember, heavy[0])
        name, number = person.name, person.employee_no
        db.session.rollback()
    page = client.get(f"/records/staff/{heavy[0]}").get_data(as_text=True)
    for needed in (name, number, "客服一部", "季度业务考试", "服务规范集中培训", "ZG-",
                   "data-enrolment", "data-session"):
        assert needed in page, f"the record page lacks {needed!r}"
    assert page.count("data-enrolment=") >= 10, "the heavy person's enrolments are missing"
    pdf = client.get(f"/records/staff/{heavy[0]}.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    import io

    import pypdf

    reader = pypdf.PdfReader(io.BytesIO(pdf.data))
    text = "".join(p.extract_text() for p in reader.pages)
    assert name in text and number in text, "the PDF lacks the person"
    out["pdf_pages"] = len(reader.pages)
    listing = client.get(f"/staff?department={dept}").get_data(as_text=True)
    assert "A000001" in listing and "客服一部" in listing, "the department list lacks its people"
    print(f"  data checked: record page ({len(page) // 1024} KB), PDF ({len(reader.pages)} "
          "pages), department list", flush=True)

    def get(url_of):
        def run(k: int = 0):
            response = client.get(url_of(k))
            assert response.status_code == 200, (url_of(k), response.status_code)
            response.get_data()
        return run

    out["record_page_ms"] = timed(get(lambda k: f"/records/staff/{heavy[k % len(heavy)]}"),
                                  repeat)
    print(f"  record page {out['record_page_ms']}", flush=True)
    out["record_pdf_ms"] = timed(get(lambda k: f"/records/staff/{heavy[k % len(heavy)]}.pdf"),
                                 repeat)
    print(f"  record PDF {out['record_pdf_ms']}", flush=True)
    out["department_list_ms"] = timed(get(lambda k: f"/staff?department={dept}&page={1 + k % 3}"),
                                      repeat)
    print(f"  department list {out['department_list_ms']}", flush=True)

    rules = {r.rule for r in app.url_map.iter_rules()}
    if "/records/dashboard" in rules:
        # Production runs `trainer records refresh` from cron every 4 minutes (README); the
        # dashboard shows the stored figures while they are at most 5 minutes old. The refresh
        # is timed too: it is the live computation of every grouping.
        from trainer.core.timeutil import utcnow
        from trainer.records import cache

        with app.app_context():
            started, cpu_started = time.perf_counter(), time.process_time()
            sets = cache.compute(utcnow())
            db.session.rollback()
            cache.store(sets)
            db.session.commit()
            out["refresh"] = {"seconds": round(time.perf_counter() - started, 2),
                              "cpu_s": round(time.process_time() - cpu_started, 2),
                              "groupings": len(sets)}
        print(f"  trainer records refresh {out['refresh']}", flush=True)
        page = client.get("/records/dashboard").get_data(as_text=True)
        assert "data-stored" in page and "客服一部" in page, "the dashboard shows no stored figures"
        out["dashboard_ms"] = timed(get(lambda k: "/records/dashboard"), repeat)
    else:
        out["dashboard_ms"] = "not built yet"
    if "/records/people" in rules:
        out["people_ms"] = timed(get(lambda k: f"/records/people?department={dept}"), repeat)
    else:
        out["people_ms"] = "not built yet"
    print(f"  dashboard {out['dashboard_ms']}; people {out['people_ms']}", flush=True)

    route = find_export_route(app)
    with PeakRSS() as memory:
        started, cpu_started = time.perf_counter(), time.process_time()
        if route:
            response = client.get(route)
            size = sum(len(chunk) for chunk in response.response)
            rows = None
        else:
            with app.test_request_context():
                count = {"rows": 0}

                def counted():
                    for row in staff_export_rows(date.today()):
                        count["rows"] += 1
                        yield row

                path = xlsx_path(EXPORT_HEADER, counted(), sheet="全部员工")
                size = os.path.getsize(path)
                os.unlink(path)
                rows = count["rows"]
                db.session.rollback()
        seconds, cpu_s = time.perf_counter() - started, time.process_time() - cpu_started
    out["xlsx"] = {"cpu_s": round(cpu_s, 2),
                   "how": f"GET {route}" if route else
                   "core.tables.xlsx_path over a server-side cursor (no all-staff export route "
                   "yet): 12 columns, one set-based statement",
                   "seconds": round(seconds, 2), "rows": rows, "mb": round(size / 2**20, 1),
                   "rss_growth_mb": memory.growth_mb}
    print(f"  XLSX {out['xlsx']}", flush=True)
    return out


def evaluate(r: dict) -> dict:
    m = r["measures"]
    met = {"build_s": r["build"]["build_s"] <= TARGETS["build_s"],
           "record_p95_ms": m["record_page_ms"]["p95"] <= TARGETS["record_p95_ms"],
           "pdf_p95_ms": m["record_pdf_ms"]["p95"] <= TARGETS["pdf_p95_ms"],
           "department_list_p95_ms":
               m["department_list_ms"]["p95"] <= TARGETS["department_list_p95_ms"],
           "xlsx_s": m["xlsx"]["seconds"] <= TARGETS["xlsx_s"],
           "xlsx_flat": m["xlsx"]["rss_growth_mb"] < TARGETS["xlsx_rss_growth_mb"]}
    if isinstance(m["dashboard_ms"], dict):
        met["dashboard_p95_ms"] = m["dashboard_ms"]["p95"] <= TARGETS["dashboard_p95_ms"]
    if isinstance(m["people_ms"], dict):
        met["people_p95_ms"] = m["people_ms"]["p95"] <= TARGETS["people_p95_ms"]
    return met


def prepare(kind: str, workdir: Path, pg_url: str) -> str:
    """A fresh database, as the other production benchmarks make theirs."""
    from production_stack import prepare_database

    return prepare_database(kind, workdir, pg_url, PG_SCHEMA)


def run(kind: str, shape: Shape, repeat: int, pg_url: str, keep: bool = False) -> dict:
    from flask_migrate import upgrade

    from trainer import create_app
    from trainer.cli import _content_steps
    from trainer.core.db import db, write_intent
    from trainer.core.timeutil import utcnow

    workdir = Path(tempfile.mkdtemp(prefix=f"bench-records-{kind}-"))
    url = prepare(kind, workdir, pg_url)
    print(f"[{kind}] schema and shipped content ({workdir})", flush=True)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench-records-secret-key-0123456789",
                      "INSTANCE_PATH": str(workdir), "RATELIMIT_ENABLED": False})
    started = time.perf_counter()
    with app.app_context():
        upgrade()
        with write_intent():
            for step in _content_steps():
                step(now=utcnow())
            db.session.commit()
        db.session.remove()
        db.engine.dispose()
    schema_s = time.perf_counter() - started
    print(f"[{kind}] schema in {schema_s:.1f} s; building the centre", flush=True)
    with app.app_context():
        built = build(kind, url, shape, app)
    built["schema_s"] = round(schema_s, 1)
    print(f"[{kind}] measuring", flush=True)
    result = {"database": kind, "quick": shape.quick, "shape": shape.describe(),
              "build": built, "measures": measure(app, built, repeat, shape.quick)}
    with app.app_context():
        db.engine.dispose()
    if not keep:
        import shutil

        shutil.rmtree(workdir, ignore_errors=True)
        if kind == "postgresql":
            import psycopg

            with psycopg.connect(pg_url, autocommit=True) as conn:
                conn.execute(f"DROP SCHEMA IF EXISTS {PG_SCHEMA} CASCADE")
    return result


def table(r: dict) -> str:
    m = r["measures"]

    def ms(v):
        if not isinstance(v, dict):
            return v
        return f"{v['p50']} / {v['p95']} / {v['max']} (CPU {v['cpu_p50']} / {v['cpu_p95']})"

    return (f"| {r['database']}{' (quick)' if r['quick'] else ''} | {r['build']['build_s']} s | "
            f"{ms(m['record_page_ms'])} | {ms(m['record_pdf_ms'])} | "
            f"{ms(m['department_list_ms'])} | {m['xlsx']['seconds']} s, +{m['xlsx']['rss_growth_mb']} MB | "
            f"{ms(m['dashboard_ms'])} | {ms(m['people_ms'])} |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="one tenth of the data")
    parser.add_argument("--database", choices=("sqlite", "postgresql", "all"), default="all")
    parser.add_argument("--pg-url", default=PG_URL)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--keep", action="store_true",
                        help="keep the SQLite file and PostgreSQL schema afterwards")
    args = parser.parse_args()
    shape = Shape(args.quick)
    kinds = ["sqlite", "postgresql"] if args.database == "all" else [args.database]
    if "postgresql" in kinds:
        import socket

        try:
            socket.create_connection(("127.0.0.1", 5432), timeout=1).close()
        except OSError:
            print("No PostgreSQL at 127.0.0.1:5432: SQLite only.")
            kinds.remove("postgresql")
    RESULTS.mkdir(exist_ok=True)
    failed = False
    rows = []
    for kind in kinds:
        r = run(kind, shape, max(args.repeat, 30), args.pg_url, args.keep)
        r["at"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
        r["machine"] = f"{platform.machine()}, {os.cpu_count()} cores, {platform.python_version()}"
        r["targets"] = TARGETS
        r["met"] = evaluate(r)
        name = f"records-{kind}{'-quick' if args.quick else ''}.json"
        (RESULTS / name).write_text(json.dumps(r, indent=2, ensure_ascii=False))
        rows.append(table(r))
        failed |= not all(r["met"].values())
        print(json.dumps(r["met"]), flush=True)
    print("| database | build | record page p50 / p95 / max ms (CPU p50 / p95) | record PDF "
          "| department list "
          "| XLSX of all staff | dashboard | people |")
    print("|---|---|---|---|---|---|---|---|")
    print("\n".join(rows))
    print("TARGET MISSED" if failed else "targets met")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
