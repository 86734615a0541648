"""Import benchmark: a generated 10,000-question GIFT file, parsed with validation and saved, then
the bank browser, filtered and unfiltered, over those 10,000 questions.

    make bench-import            # SQLite, and PostgreSQL when one answers at 127.0.0.1:5432
    python bench/import_bench.py --questions 10000 [--no-postgres]

Targets (issue 3): import ≤ 5 s with validation; a browser page ≤ 100 ms. Exits 1 when missed.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from datetime import date, datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

IMPORT_TARGET_S = 5.0
PAGE_TARGET_MS = 100.0
PG_URL = "postgresql://postgres@127.0.0.1:5432/test"


def generate_gift(n: int, seed: int = 7) -> str:
    rng = random.Random(seed)
    topics = ["语言规范", "服务七声", "投诉处理", "客户信息保密", "电话回访", "客户满意度"]
    blocks = []
    for i in range(n):
        topic = topics[i % len(topics)]
        difficulty = rng.randint(1, 3)
        head = f"$CATEGORY: 基准/{topic}\n\n" if i % 500 == 0 else ""
        kind = i % 6
        meta = f"// [id:B-{i:05d}] [tag:入职] [tag:{topic}] [difficulty:{difficulty}]\n"
        if kind < 3:
            body = (f"::B-{i:05d}::第 {i} 题：关于{topic}，以下哪一项做法正确？{{\n"
                    f"\t=做法一（正确）#对\n\t~做法二\n\t~做法三\n\t~做法四\n\t####解析 {i}\n}}")
        elif kind < 5:
            body = (f"::B-{i:05d}::第 {i} 题：关于{topic}，哪些做法正确？（多选）{{\n"
                    f"\t~%50%做法一\n\t~%50%做法二\n\t~%-100%做法三\n\t####解析 {i}\n}}")
        else:
            body = f"::B-{i:05d}::第 {i} 题：{topic}可以省略。{{FALSE####解析 {i}}}"
        blocks.append(head + meta + body)
    return "\n\n".join(blocks) + "\n"


def run_backend(url: str, label: str, gift: bytes, pages: int) -> dict:
    from flask_migrate import upgrade

    from trainer import create_app
    from trainer.accounts.services import create_staff
    from trainer.banks import formats, services
    from trainer.core.db import db, write_intent
    from trainer.core.timeutil import utcnow

    instance = tempfile.mkdtemp(prefix="bench-import-")
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench-secret-key-0123456789",
                      "INSTANCE_PATH": instance})
    out: dict = {"database": label}
    with app.app_context():
        if label == "postgresql":
            with db.engine.begin() as conn:
                conn.exec_driver_sql("DROP SCHEMA IF EXISTS public CASCADE")
                conn.exec_driver_sql("CREATE SCHEMA public")
        upgrade()
        with write_intent():
            trainer, _ = create_staff(None, employee_no="BENCH1", name="基准", hire_date=date(2024, 1, 1),
                                      roles=["trainer"], now=utcnow(), password="bench-pass-1")
            db.session.commit()
        started = time.perf_counter()
        result = formats.parse_file(gift, "bench.gift", "gift")
        parsed_at = time.perf_counter()
        assert result.ok and len(result.questions) > 0, result.issues[:3]
        with write_intent():
            bank = services.create_bank(None, name="基准题库", now=utcnow())
            plan = services.plan_import(bank, result)
            outcome = services.import_questions(None, bank, plan, skip_invalid=False, now=utcnow())
            db.session.commit()
        finished = time.perf_counter()
        out.update(questions=outcome.imported, parse_validate_s=round(parsed_at - started, 3),
                   save_s=round(finished - parsed_at, 3), import_total_s=round(finished - started, 3))
        bank_id = bank.id
        category_id = bank.categories[1].id
        db.session.remove()

    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    import re
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    client.post("/login", data={"employee_no": "BENCH1", "password": "bench-pass-1", "csrf_token": token})
    urls = {"unfiltered": f"/banks/{bank_id}",
            "unfiltered_page_200": f"/banks/{bank_id}?page=200",
            "filtered": f"/banks/{bank_id}?category={category_id}&difficulty=2&qtype=single&tag=入职&q=正确"}
    for name, url in urls.items():
        assert client.get(url).status_code == 200
        timings = []
        for _ in range(pages):
            t0 = time.perf_counter()
            response = client.get(url)
            timings.append((time.perf_counter() - t0) * 1000)
            assert response.status_code == 200
        timings.sort()
        out[f"browse_{name}_ms"] = {"p50": round(statistics.median(timings), 1),
                                    "p95": round(timings[int(len(timings) * 0.95) - 1], 1),
                                    "max": round(timings[-1], 1)}
    with app.app_context():
        db.engine.dispose()
    return out


def postgres_answers() -> bool:
    import socket
    try:
        socket.create_connection(("127.0.0.1", 5432), timeout=1).close()
        return True
    except OSError:
        return False


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--questions", type=int, default=10000)
    parser.add_argument("--pages", type=int, default=30)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    gift = generate_gift(args.questions).encode("utf-8")
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        runs.append(run_backend(f"sqlite:///{tmp}/bench.db", "sqlite", gift, args.pages))
    if not args.no_postgres and postgres_answers():
        runs.append(run_backend(PG_URL, "postgresql", gift, args.pages))
    result = {"benchmark": "import", "at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
              "machine": {"cores": os.cpu_count(), "python": platform.python_version(),
                          "platform": platform.platform()},
              "questions": args.questions, "targets": {"import_s": IMPORT_TARGET_S,
                                                       "page_p95_ms": PAGE_TARGET_MS},
              "runs": runs}
    out_dir = ROOT / "bench" / "results"
    out_dir.mkdir(exist_ok=True)
    (out_dir / "import.json").write_text(json.dumps(result, ensure_ascii=False, indent=2))
    print("| database | questions | parse+validate s | save s | total s | browse unfiltered p95 ms | page 200 p95 ms | filtered p95 ms |")
    print("|---|---|---|---|---|---|---|---|")
    ok = True
    for run in runs:
        print(f"| {run['database']} | {run['questions']} | {run['parse_validate_s']} | {run['save_s']} | "
              f"{run['import_total_s']} | {run['browse_unfiltered_ms']['p95']} | "
              f"{run['browse_unfiltered_page_200_ms']['p95']} | {run['browse_filtered_ms']['p95']} |")
        ok &= run["import_total_s"] <= IMPORT_TARGET_S
        ok &= all(run[k]["p95"] <= PAGE_TARGET_MS for k in run if k.startswith("browse_"))
    print("targets met" if ok else "TARGET MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
