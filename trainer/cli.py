"""The `trainer` console command: Flask's commands over our app factory, plus our own groups."""
from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import (
    FlaskGroup,
    ScriptInfo,
    get_debug_flag,
    pass_script_info,
    run_command,
    show_server_banner,
)


def _create_app() -> Flask:
    from trainer import create_app

    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app)
def main() -> None:
    """Trainer: training tracks, timed quizzes and training records."""


@click.command("run", params=run_command.params, help=run_command.help,
               short_help=run_command.short_help)
@pass_script_info
def run(info: ScriptInfo, host: str, port: int, reload: bool | None, debugger: bool | None,
        with_threads: bool, cert, extra_files, exclude_patterns) -> None:
    """Flask's `run` (the same options), whose server does not announce its versions: Flask's
    own command gives Werkzeug no other request handler."""
    from werkzeug.serving import run_simple

    from trainer.core.security import DevRequestHandler

    debug = get_debug_flag()
    show_server_banner(debug, info.app_import_path)
    run_simple(host, port, info.load_app(), use_reloader=debug if reload is None else reload,
               use_debugger=debug if debugger is None else debugger, threaded=with_threads,
               ssl_context=cert, extra_files=extra_files, exclude_patterns=exclude_patterns,
               request_handler=DevRequestHandler)


main.add_command(run)


def register_commands(app: Flask) -> None:
    @app.cli.command("setup")
    @click.option("--demo", is_flag=True, help="Also create demo accounts and demo training.")
    def setup(demo: bool) -> None:
        """Create or upgrade the database, load the shipped content, optionally demo data.

        Idempotent: running it twice changes nothing the second time."""
        from flask_migrate import upgrade

        from trainer.certificates.signing import ensure_key
        from trainer.core.db import db, write_intent
        from trainer.core.settings import get_setting
        from trainer.core.timeutil import local_date, utcnow

        upgrade()
        now = utcnow()
        # The centre's key for signing certificates, unless it supplied its own.
        if ensure_key(current_app.config, common_name=get_setting("centre_name")):
            click.echo("Signing certificate made (self-signed): "
                       f"{current_app.config['SIGNING_KEY_PATH']}.")
        db.session.rollback()
        with write_intent():
            for step in _content_steps():
                click.echo(step(now=now).summary())
            db.session.commit()
            if demo:
                from trainer.accounts.demo import DEMO_PASSWORD, create_demo_staff
                from trainer.attendance.demo import create_demo_classes, require_the_class
                from trainer.certificates.demo import create_demo_certificates
                from trainer.learning.demo import (
                    create_demo_exam_schedule,
                    finish_demo_learning,
                    prepare_demo_settings,
                )
                from trainer.quizzes.demo import create_demo_exam
                from trainer.quizzes.demo_statistics import create_statistics_demo, summary
                from trainer.remedial.demo import create_demo_remedial

                prepare_demo_settings(now=now)
                require_the_class(now=now)
                created = create_demo_staff(now=now, today=local_date(now, None))
                create_demo_exam(now=now)
                finish_demo_learning(now=now)
                create_demo_classes(now=now)
                create_demo_certificates(now=now)
                create_demo_remedial(now=now)
                create_demo_exam_schedule(now=now)
                # After the rest: its agents join a demo whose own figures are already set.
                statistics = create_statistics_demo(now=now)
                db.session.commit()
                if created:
                    click.echo("Demo accounts (password for all: %s):" % DEMO_PASSWORD)
                    for person in created:
                        click.echo(f"  {person.employee_no}  {person.name}  "
                                   f"{'/'.join(person.roles)}  ({person.story})")
                else:
                    click.echo("Demo accounts already exist (password: %s)." % DEMO_PASSWORD)
                if statistics is not None:
                    click.echo(summary(statistics.quiz))
        if demo:
            from trainer.certificates.document import render_pending

            # (in production `trainer certificates render` runs from cron)
            click.echo(f"Certificates rendered: {render_pending()}.")
        if current_app.jinja_env.bytecode_cache is not None:
            from trainer.core.templates import compile_templates

            click.echo(f"Templates compiled: {compile_templates(current_app)}.")
        click.echo("Setup complete.")


    @app.cli.group("content")
    def content() -> None:
        """The shipped question banks and courses."""

    @content.command("sync")
    def sync() -> None:
        """Load question_banks/ (and courses/) idempotently; report what changed."""
        from trainer.core.db import db, write_intent
        from trainer.core.timeutil import utcnow

        with write_intent():
            reports = [step(now=utcnow()) for step in _content_steps()]
            db.session.commit()
        failed = False
        for report in reports:
            click.echo(report.summary())
            for line in report.conflicts:
                click.echo(f"  conflict (edited in the site, not overwritten): {line}")
            for line in report.errors:
                click.echo(f"  error: {line}")
                failed = True
        if failed:
            raise SystemExit(1)


def _content_steps() -> list:
    """Loaders of the shipped content, in dependency order (banks before courses)."""
    from trainer import PROJECT_ROOT
    from trainer.assessments.content import sync_forms
    from trainer.banks.services import sync_banks
    from trainer.learning.content import sync_courses, sync_posts

    return [lambda now: sync_banks(PROJECT_ROOT / "question_banks", now=now),
            lambda now: sync_forms(PROJECT_ROOT / "assessment_forms", now=now),
            lambda now: sync_courses(PROJECT_ROOT / "courses", now=now),
            lambda now: sync_posts(PROJECT_ROOT / "posts", courses_root=PROJECT_ROOT / "courses",
                                   now=now)]


# Commands that run whatever the schema: `setup` and `db` create or upgrade it, and
# `staff normalise --report` reads an older one before an upgrade (README, Commands).
_ANY_SCHEMA = {("setup",), ("db",), ("staff", "normalise")}


def require_current_schema(app: Flask) -> None:
    """Make every command of *app* (but those in _ANY_SCHEMA) check the database first: one
    that was never set up, or whose schema is behind the migrations, gets "run `trainer setup`
    first" and exit status 1 instead of a traceback about a missing table. The check runs when
    the command does, after its arguments are read, so --help needs no database. Call it once
    every command is registered."""

    def guard(command: click.Command, path: tuple[str, ...]) -> None:
        if path in _ANY_SCHEMA:
            return
        if isinstance(command, click.Group):
            for name, sub in command.commands.items():
                guard(sub, (*path, name))
        elif command.callback is not None:
            command.callback = _after_schema_check(app, command.callback)

    for name, command in app.cli.commands.items():
        guard(command, (name,))


def _after_schema_check(app: Flask, callback: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(callback)
    def checked(*args: Any, **kwargs: Any) -> Any:
        _check_schema(app)
        return callback(*args, **kwargs)

    return checked


def _check_schema(app: Flask) -> None:
    from alembic.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from trainer.core.db import db

    with app.app_context():
        script = ScriptDirectory.from_config(app.extensions["migrate"].migrate.get_config())
        with db.engine.connect() as connection:
            current = set(MigrationContext.configure(connection).get_current_heads())
        where = db.engine.url.render_as_string(hide_password=True)
    heads = set(script.get_heads())
    if current == heads:
        return
    if not current:
        raise click.ClickException(f"The database {where} is not set up: "
                                   "run `trainer setup` first.")
    known = {revision.revision for revision in script.walk_revisions()}
    if current <= known:
        raise click.ClickException(
            f"The database {where} has an older schema ({', '.join(sorted(current))}; this "
            f"Trainer needs {', '.join(sorted(heads))}): run `trainer setup` first, it upgrades "
            "the database.")
    raise click.ClickException(
        f"The database {where} has a schema this Trainer does not know "
        f"({', '.join(sorted(current - known))}): a newer Trainer set it up.")
