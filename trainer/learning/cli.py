"""`trainer learning assign`: run the lifecycle rules for everyone; `trainer learning schedule`:
the monthly business exam's sittings (both for cron, daily)."""
from __future__ import annotations

import click
from flask import Flask


def register_cli(app: Flask) -> None:
    @app.cli.group("learning")
    def learning() -> None:
        """Training tracks and enrolments."""

    @learning.command("assign")
    def assign_command() -> None:
        """Assign what is due (hire, return, nomination, yearly in-service) and mark overdue."""
        from trainer.core.db import db, write_intent
        from trainer.core.timeutil import utcnow
        from trainer.learning.services import assign_all

        with write_intent():
            created, overdue = assign_all(now=utcnow())
            db.session.commit()
        click.echo(f"{created} enrolments assigned, {overdue} marked overdue")

    @learning.command("schedule")
    def schedule_command() -> None:
        """The monthly business exam: create this month's sittings (for cron, daily;
        idempotent) and close the sittings whose window ended unsat as missed."""
        from trainer.core.db import db, write_intent
        from trainer.core.timeutil import utcnow
        from trainer.learning.schedules import run
        from trainer.learning.services import today_local

        now = utcnow()
        with write_intent():
            report = run(now=now, today=today_local(now))
            db.session.commit()
        click.echo(report.summary())
