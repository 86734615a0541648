"""`trainer staff …` commands."""
from __future__ import annotations

from datetime import date

import click
from flask import Flask

from trainer.core.timeutil import utcnow


def register_cli(app: Flask) -> None:
    @app.cli.group("staff")
    def staff() -> None:
        """Staff accounts."""

    @staff.command("create-admin")
    @click.argument("employee_no")
    @click.argument("name")
    def create_admin(employee_no: str, name: str) -> None:
        """Create an administrator and print a one-time password."""
        from trainer.accounts.services import create_staff
        from trainer.core.db import db, write_intent
        from trainer.core.errors import DomainError

        with write_intent():
            try:
                _staff, otp = create_staff(None, employee_no=employee_no, name=name,
                                           hire_date=date.today(), roles=["admin", "learner"],
                                           now=utcnow())
            except DomainError as exc:
                db.session.rollback()
                raise click.ClickException(exc.message % exc.params) from exc
            db.session.commit()
        click.echo(f"{employee_no}: one-time password {otp} (must be changed at first login)")

    @staff.command("normalise")
    @click.option("--report", is_flag=True, required=True,
                  help="List employee numbers that collide or break the rule; change nothing.")
    def normalise(report: bool) -> None:
        """Before upgrading: list employee numbers that differ only in case or width (the
        upgrade stops on them) and numbers the rule would refuse today. Exits 1 on
        collisions. Reads the table directly, so it runs on the schema before the upgrade."""
        from sqlalchemy import text

        from trainer.accounts.rules import colliding_employee_nos, normalise_employee_no
        from trainer.core.db import db
        from trainer.core.errors import DomainError

        rows = db.session.execute(text("SELECT employee_no, name FROM staff_members")).all()
        names = {number: name for number, name in rows}
        collisions = colliding_employee_nos(names)
        for group in collisions:
            click.echo("collide: " + ", ".join(f"{n} ({names[n]})" for n in group))
        for number in sorted(names):
            try:
                if normalise_employee_no(number) != number:
                    click.echo(f"not normalised: {number!r} ({names[number]})")
            except DomainError:
                click.echo(f"refused by the rule: {number!r} ({names[number]})")
        click.echo(f"{len(rows)} employee numbers, {len(collisions)} collisions.")
        if collisions:
            raise SystemExit(1)

    @app.cli.group("accounts")
    def accounts() -> None:
        """Sign-ins and their records."""

    @accounts.command("prune")
    def prune() -> None:
        """Delete login records older than 180 days (cron, daily; idempotent)."""
        from trainer.accounts.services import prune_logins
        from trainer.core.db import db, write_intent

        with write_intent():
            count = prune_logins(now=utcnow())
            db.session.commit()
        click.echo(f"Login records deleted: {count}.")
