"""`trainer attendance …` commands (cron)."""
from __future__ import annotations

import click
from flask import Flask

from trainer.core.timeutil import utcnow


def register_cli(app: Flask) -> None:
    @app.cli.group("attendance")
    def attendance() -> None:
        """Classroom sessions."""

    @attendance.command("close")
    def close() -> None:
        """Close every session whose check-in and check-out windows are over: who never checked
        in is absent, and the 学时 are credited (cron, every few minutes; idempotent)."""
        from trainer.attendance.services import close_due_sessions
        from trainer.core.db import db, write_intent

        with write_intent():
            count = close_due_sessions(now=utcnow())
            db.session.commit()
        click.echo(f"Sessions closed: {count}.")

    @attendance.command("prune")
    def prune() -> None:
        """Clear the addresses of check-ins older than the setting (cron, daily)."""
        from trainer.attendance.services import prune_addresses
        from trainer.core.db import db, write_intent

        with write_intent():
            count = prune_addresses(now=utcnow())
            db.session.commit()
        click.echo(f"Addresses cleared: {count}.")
