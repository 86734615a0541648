"""The `trainer` console command: Flask's commands over our app factory, plus our own groups."""
from __future__ import annotations

import click
from flask import Flask
from flask.cli import FlaskGroup


def _create_app() -> Flask:
    from trainer import create_app

    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app)
def main() -> None:
    """Trainer: training tracks, timed quizzes and training records."""


def register_commands(app: Flask) -> None:
    @app.cli.command("setup")
    @click.option("--demo", is_flag=True, help="Also create demo accounts and demo training.")
    def setup(demo: bool) -> None:
        """Create or upgrade the database, load the shipped content, optionally demo data.

        Idempotent: running it twice changes nothing the second time."""
        from flask_migrate import upgrade

        from trainer.core.db import db, write_intent
        from trainer.core.timeutil import local_date, utcnow

        upgrade()
        now = utcnow()
        with write_intent():
            for step in _content_steps():
                step(now=now)
            db.session.commit()
            if demo:
                from trainer.accounts.demo import DEMO_PASSWORD, create_demo_staff

                created = create_demo_staff(now=now, today=local_date(now, None))
                for step in _demo_steps():
                    step(now=now)
                db.session.commit()
                if created:
                    click.echo("Demo accounts (password for all: %s):" % DEMO_PASSWORD)
                    for person in created:
                        click.echo(f"  {person.employee_no}  {person.name}  "
                                   f"{'/'.join(person.roles)}  ({person.story})")
                else:
                    click.echo("Demo accounts already exist (password: %s)." % DEMO_PASSWORD)
        click.echo("Setup complete.")


def _content_steps() -> list:
    """Loaders of the shipped content, in dependency order (banks before courses)."""
    return []


def _demo_steps() -> list:
    """Demo data beyond the staff (a standalone exam, enrolments), in dependency order."""
    return []
