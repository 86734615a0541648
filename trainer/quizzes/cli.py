"""`trainer quizzes sweep`: finalise attempts whose time ran out (for cron, every minute)."""
from __future__ import annotations

import click
from flask import Flask, current_app


def register_cli(app: Flask) -> None:
    @app.cli.group("quizzes")
    def quizzes() -> None:
        """Timed quizzes."""

    @quizzes.command("sweep")
    def sweep_command() -> None:
        """Submit every attempt past its deadline + grace with its last saved answers."""
        from trainer.core.db import db, write_intent
        from trainer.core.timeutil import utcnow
        from trainer.quizzes.services import DEFAULT_GRACE_S, sweep

        with write_intent():
            count = sweep(now=utcnow(), grace_s=current_app.config.get("QUIZ_GRACE_S",
                                                                       DEFAULT_GRACE_S))
            db.session.commit()
        click.echo(f"{count} attempts finalised")
