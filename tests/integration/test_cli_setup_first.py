"""A `trainer` command that needs the tables, run on a database that was never set up or is
behind the migrations, says to run `trainer setup` first and exits 1: no traceback."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory

from trainer import create_app

ROOT = Path(__file__).resolve().parents[2]
SETUP_FIRST = "run `trainer setup` first"


def _app(tmp_path: Path, name: str = "trainer.db"):
    return create_app({"INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "k" * 32,
                       "DATABASE_URL": f"sqlite:///{tmp_path / name}"})


@pytest.fixture
def gift(tmp_path: Path) -> Path:
    path = tmp_path / "q.gift"
    path.write_text("客户离开时应说？{=再见 ~您好}\n", encoding="utf-8")
    return path


def _commands(gift: Path) -> list[list[str]]:
    return [["banks", "import", str(gift)], ["banks", "export", "题库"], ["content", "sync"],
            ["quizzes", "sweep"], ["learning", "assign"], ["accounts", "prune"],
            ["staff", "create-admin", "A9", "周敏"]]


def _says_setup_first(result) -> None:
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert SETUP_FIRST in result.output and "Traceback" not in result.output


def test_every_command_on_an_empty_database_says_to_run_setup_first(tmp_path, gift):
    runner = _app(tmp_path).test_cli_runner()
    for args in _commands(gift):
        result = runner.invoke(args=args)
        _says_setup_first(result)
        assert "not set up" in result.output, args
    # Help needs no database.
    result = runner.invoke(args=["banks", "import", "--help"])
    assert result.exit_code == 0 and "--skip-invalid" in result.output


def test_a_database_behind_the_migrations_says_to_run_setup_first(tmp_path, gift):
    from flask_migrate import upgrade

    app = _app(tmp_path)
    with app.app_context():
        script = ScriptDirectory.from_config(app.extensions["migrate"].migrate.get_config())
        head = script.get_revision(script.get_current_head())
        upgrade(revision=head.down_revision)
    result = app.test_cli_runner().invoke(args=["banks", "import", str(gift)])
    _says_setup_first(result)
    assert head.down_revision in result.output and head.revision in result.output
    # Once upgraded, the same command runs.
    with app.app_context():
        upgrade()
    result = app.test_cli_runner().invoke(args=["banks", "import", str(gift)])
    assert result.exit_code == 0, result.output
    assert "Imported 1" in result.output


def test_the_console_command_prints_no_traceback(tmp_path, gift):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TRAINER_SECRET_KEY": "k" * 32,
           "TRAINER_DATABASE_URL": f"sqlite:///{tmp_path / 'empty.db'}"}
    done = subprocess.run([sys.executable, "-c", "from trainer.cli import main; main()",
                           "banks", "import", str(gift)], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert SETUP_FIRST in done.stderr and "Traceback" not in done.stderr + done.stdout
