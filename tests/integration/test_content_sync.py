"""`trainer content sync` for the banks: idempotent, versions changes, never overwrites a
trainer's edit, retires what was removed."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select

from trainer.banks import formats, services
from trainer.banks.models import Question, QuestionBank
from trainer.core.timeutil import utcnow

ROOT = Path(__file__).resolve().parents[2]


def count(db_session, *where):
    return db_session.scalar(select(func.count()).select_from(Question).where(*where))


def test_shipped_banks_load_and_sync_is_idempotent(db_session):
    first = services.sync_banks(ROOT / "question_banks", now=utcnow())
    assert first.errors == [] and first.banks >= 8 and first.created >= 320
    rows = count(db_session)
    second = services.sync_banks(ROOT / "question_banks", now=utcnow())
    assert (second.created, second.updated, second.retired) == (0, 0, 0)
    assert second.unchanged == first.created
    assert count(db_session) == rows


@pytest.fixture
def folder(tmp_path):
    target = tmp_path / "question_banks"
    target.mkdir()
    shutil.copy(ROOT / "question_banks" / "etiquette.gift", target)
    return target


def test_changed_question_becomes_a_new_version(folder, db_session):
    services.sync_banks(folder, now=utcnow())
    path = folder / "etiquette.gift"
    text = path.read_text(encoding="utf-8")
    original = formats.parse_gift(text).questions[0]
    path.write_text(text.replace(original.stem, original.stem + "（修订）", 1), encoding="utf-8")
    report = services.sync_banks(folder, now=utcnow())
    assert report.updated == 1 and report.created == 0
    versions = db_session.scalars(select(Question).where(
        Question.id_number == original.id_number).order_by(Question.version)).all()
    assert [v.version for v in versions] == [1, 2]
    assert versions[0].stem == original.stem and versions[1].stem.endswith("（修订）")


def test_a_trainers_edit_is_not_overwritten(folder, db_session):
    services.sync_banks(folder, now=utcnow())
    bank = db_session.scalar(select(QuestionBank).where(QuestionBank.key == "etiquette"))
    q = services.find_by_id_number(bank, "SE-001")
    parsed = services.to_parsed(q)
    parsed.explanation = "培训师在网站上改写的解析。"
    services.edit_question(None, q, parsed, now=utcnow())
    path = folder / "etiquette.gift"
    text = path.read_text(encoding="utf-8")
    stem = formats.parse_gift(text).questions[0].stem
    path.write_text(text.replace(stem, stem + "（文件修订）", 1), encoding="utf-8")
    report = services.sync_banks(folder, now=utcnow())
    assert report.conflicts == ["etiquette:SE-001"]
    assert services.find_by_id_number(bank, "SE-001").explanation == "培训师在网站上改写的解析。"


def test_removed_question_is_retired_with_history_kept(folder, db_session):
    services.sync_banks(folder, now=utcnow())
    path = folder / "etiquette.gift"
    blocks = path.read_text(encoding="utf-8").split("\n\n")
    victim = next(b for b in blocks if "[id:SE-002]" in b)
    path.write_text("\n\n".join(b for b in blocks if b is not victim), encoding="utf-8")
    report = services.sync_banks(folder, now=utcnow())
    assert report.retired == 1
    q = db_session.scalar(select(Question).where(Question.id_number == "SE-002"))
    assert q.retired and q.is_current


def test_cli_sync_reports(app, db_session):
    result = app.test_cli_runner().invoke(args=["content", "sync"])
    assert result.exit_code == 0, result.output
    assert "Question banks" in result.output


def test_cli_import_json_and_exit_code(app, db_session, tmp_path):
    import json

    good = tmp_path / "good.txt"
    good.write_text("客户离开时应说？\nA. 您好\nB. 再见\n答案：B\n", encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["banks", "import", str(good), "--bank", "CLI题库",
                                                "--format", "aiken", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["imported"] == 1 and report["questions"]["single"] == 1
    bad = tmp_path / "bad.gift"
    bad.write_text("题一？{=是 ~否}\n\n坏题 {~甲 ~乙}\n", encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["banks", "import", str(bad), "--bank", "CLI题库",
                                                "--json"])
    assert result.exit_code == 1
    report = json.loads(result.output)
    assert report["errors"][0]["line"] == 3 and report["imported"] == 0
    result = app.test_cli_runner().invoke(args=["banks", "export", "CLI题库", "--format", "gift"])
    assert "再见" in result.output
