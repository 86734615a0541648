"""The records commands, for cron:

- `trainer records refresh` (every few minutes): store the compliance dashboard's figures
  (records.cache), which the dashboard shows while at most five minutes old;
- `trainer records snapshot [--month YYYY-MM]` (monthly, e.g. `5 0 1 * *`): store a month's
  compliance figures per department. Idempotent: a month already stored is not rewritten; by
  default the month just ended."""
from __future__ import annotations

import click
from flask import Flask


def register_cli(app: Flask) -> None:
    @app.cli.group("records")
    def records() -> None:
        """Training records."""

    @records.command("refresh")
    def refresh_command() -> None:
        """Store the compliance dashboard's figures and the quiz results list (cron: every
        few minutes)."""
        from trainer.core.db import db, write_intent
        from trainer.core.timeutil import utcnow
        from trainer.records import cache

        sets = cache.compute(utcnow())     # the reads, without SQLite's write lock
        db.session.rollback()
        with write_intent():
            count = cache.store(sets)
            db.session.commit()
        click.echo(f"{count} sets of figures stored (the dashboard's groupings, the quiz "
                   "results list)")

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
