"""`trainer records snapshot [--month YYYY-MM]`: store a month's compliance figures per
department (for cron, monthly, e.g. `5 0 1 * *`). Idempotent: a month already stored is not
rewritten; by default the month just ended."""
from __future__ import annotations

import click
from flask import Flask


def register_cli(app: Flask) -> None:
    """`trainer records snapshot`, in the records group (records.cache may have made it, for
    `trainer records refresh`)."""
    records = app.cli.commands.get("records")
    if records is None:
        @app.cli.group("records")
        def records() -> None:
            """Training records."""

    @records.command("snapshot")
    @click.option("--month", default="", help="The month, YYYY-MM (default: the month just "
                                              "ended, in the centre's time zone).")
    def snapshot_command(month: str) -> None:
        """Store a month's compliance figures per department, once."""
        from sqlalchemy.exc import IntegrityError

        from trainer.core.db import db, write_intent
        from trainer.core.errors import DomainError
        from trainer.core.timeutil import utcnow
        from trainer.records import monthly

        now = utcnow()
        try:
            chosen = monthly.parse_month(month) if month else monthly.previous_month(now)
            with write_intent():
                written = monthly.take_snapshot(chosen, now=now)
                db.session.commit()
        except DomainError as error:
            db.session.rollback()
            raise click.ClickException(_plain(error)) from None
        except IntegrityError:
            # Another run stored the month between our check and our commit.
            db.session.rollback()
            written = None
        label = chosen.strftime("%Y-%m")
        if written is None:
            click.echo(f"{label} is already stored; nothing was rewritten")
        else:
            click.echo(f"{label} stored: {written} rows")


def _plain(error) -> str:
    """A domain error's English message with its values (the command speaks English)."""
    message = error.message
    for key, value in error.params.items():
        message = message.replace(f"%({key})s", str(value))
    return message
