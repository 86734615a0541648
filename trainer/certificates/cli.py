"""`trainer certificates …` commands (cron)."""
from __future__ import annotations

import click
from flask import Flask

from trainer.core.timeutil import utcnow


def register_cli(app: Flask) -> None:
    @app.cli.group("certificates")
    def certificates() -> None:
        """Certificates."""

    @certificates.command("render")
    @click.option("--limit", type=click.IntRange(1), default=None,
                  help="At most this many (the rest on the next run).")
    def render(limit: int | None) -> None:
        """Render, sign and keep the PDF of every certificate still being prepared (cron, every
        minute; idempotent: a certificate's PDF is made once)."""
        from trainer.certificates.document import render_pending

        click.echo(f"Certificates rendered: {render_pending(limit)}.")

    @certificates.command("issue-missing")
    def issue_missing() -> None:
        """Issue the certificates of completed enrolments that have none (a centre starting to
        keep certificates; idempotent). Their PDFs follow with `render`."""
        from trainer.certificates.services import issue_missing as issue
        from trainer.core.db import db, write_intent

        with write_intent():
            count = issue(now=utcnow())
            db.session.commit()
        click.echo(f"Certificates issued: {count}.")
