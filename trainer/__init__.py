"""Trainer: training tracks, timed quizzes and training records for customer-service centres."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask, request
from werkzeug.middleware.proxy_fix import ProxyFix

from trainer.config import build_config

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    """Build the application: config, extensions, blueprints, CLI."""
    app = Flask(
        __name__,
        instance_path=str((overrides or {}).get("INSTANCE_PATH", PROJECT_ROOT / "instance")),
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    app.config.update(build_config(Path(app.instance_path), overrides))

    from trainer.core.params import install_converters

    install_converters(app)  # before any blueprint adds its routes

    from trainer.accounts.passwords import set_hash_niceness

    set_hash_niceness(app.config["PASSWORD_HASH_NICENESS"])
    _init_extensions(app)
    # Order matters: the write intent must be set before anything loads the user, or the
    # request's transaction would already have begun deferred.
    _install_request_transactions(app)
    _register_blueprints(app)
    _connect_subscriptions()

    from trainer.cli import require_current_schema

    require_current_schema(app)  # once every command is registered

    from trainer.core.errors import register_error_handlers
    from trainer.core.i18n import install_template_helpers
    from trainer.core.permissions import install_access_check
    from trainer.core.security import install_security_headers
    from trainer.core.templates import install_asset_tags, install_bytecode_cache

    install_access_check(app)
    install_security_headers(app)
    register_error_handlers(app)
    install_template_helpers(app)
    install_bytecode_cache(app)
    install_asset_tags(app)

    # WSGI layers, innermost first: the autosave's lean path, then the proxy headers.
    from trainer.quizzes.fastsave import install as install_fast_save

    install_fast_save(app)
    if app.config["TRUSTED_PROXIES"]:
        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]
    return app


def _init_extensions(app: Flask) -> None:
    from trainer.core.db import configure_engine, engine_options
    from trainer.core.i18n import select_locale, select_timezone
    from trainer.core.sessions import TrainerSessionInterface
    from trainer.extensions import babel, bootstrap, csrf, db, limiter, login_manager, migrate

    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(
        app.config["SQLALCHEMY_DATABASE_URI"], app.config["SQLITE_BUSY_TIMEOUT_S"]
    )
    db.init_app(app)
    _import_models()
    with app.app_context():
        configure_engine(db.engine, app.config["SQLITE_BUSY_TIMEOUT_S"],
                         app.config["SQLITE_WRITER_NICENESS"])
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"),
                     render_as_batch=True, compare_type=True)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    bootstrap.init_app(app)
    limiter.init_app(app)
    app.session_interface = TrainerSessionInterface()

    from trainer.accounts.services import load_user

    login_manager.init_app(app)
    login_manager.user_loader(load_user)
    login_manager.login_view = "accounts.login"
    login_manager.session_protection = "basic"
    login_manager.login_message = None

    from trainer.accounts.throttle import install as install_login_throttle

    install_login_throttle(app)


def _import_models() -> None:
    """Every model module, so metadata (and Alembic's autogenerate) sees every table."""
    import trainer.accounts.models  # noqa: F401
    import trainer.banks.models  # noqa: F401
    import trainer.learning.models  # noqa: F401
    import trainer.attendance.models  # noqa: F401
    import trainer.assessments.models  # noqa: F401
    import trainer.remedial.models  # noqa: F401
    import trainer.certificates.models  # noqa: F401
    import trainer.quizzes.models  # noqa: F401
    import trainer.core.models  # noqa: F401
    import trainer.records.models  # noqa: F401
    # Every area's settings, so the settings page and get_setting know them all.
    import trainer.learning.settings  # noqa: F401
    import trainer.attendance.settings  # noqa: F401
    import trainer.certificates.settings  # noqa: F401
    import trainer.records.settings  # noqa: F401
    import trainer.banks.settings  # noqa: F401


def _connect_subscriptions() -> None:
    """Each area reacts to the signals of the areas below it, from one module of its own."""
    from trainer.assessments.subscriptions import connect as connect_assessments
    from trainer.attendance.subscriptions import connect as connect_attendance
    from trainer.learning.subscriptions import connect as connect_learning

    from trainer.certificates.subscriptions import connect as connect_certificates

    connect_learning()
    connect_attendance()
    connect_assessments()
    connect_certificates()


def _register_blueprints(app: Flask) -> None:
    from trainer.accounts.cli import register_cli as register_accounts_cli
    from trainer.accounts.routes import bp as accounts_bp
    from trainer.accounts.routes import register_nav as register_accounts_nav
    from trainer.banks.cli import register_cli as register_banks_cli
    from trainer.attendance.cli import register_cli as register_attendance_cli
    from trainer.attendance.routes import register as register_attendance
    from trainer.assessments.routes import register as register_assessments
    from trainer.remedial.routes import register as register_remedial
    from trainer.certificates.cli import register_cli as register_certificates_cli
    from trainer.certificates.routes import register as register_certificates
    from trainer.records.cli import register_cli as register_records_cli
    from trainer.records.routes import register as register_records
    from trainer.banks.routes import register as register_banks
    from trainer.cli import register_commands
    from trainer.learning.cli import register_cli as register_learning_cli
    from trainer.learning.routes import register as register_learning
    from trainer.quizzes.cli import register_cli as register_quizzes_cli
    from trainer.quizzes.routes import register as register_quizzes
    from trainer.core.nav import install_nav
    from trainer.core.routes import bp as core_bp
    from trainer.core.routes import register_nav as register_core_nav

    install_nav(app)
    app.register_blueprint(core_bp)
    register_core_nav(app)
    app.register_blueprint(accounts_bp)
    register_accounts_nav(app)
    register_accounts_cli(app)
    register_banks(app)
    register_banks_cli(app)
    register_quizzes(app)
    register_quizzes_cli(app)
    register_learning(app)
    register_learning_cli(app)
    register_attendance(app)
    register_attendance_cli(app)
    register_assessments(app)
    register_remedial(app)
    register_certificates(app)
    register_certificates_cli(app)
    register_records(app)
    register_records_cli(app)
    register_commands(app)


def _install_request_transactions(app: Flask) -> None:
    """Requests that change things take SQLite's write lock when their transaction begins."""
    from trainer.core.db import reset_write_intent, set_write_intent

    @app.before_request
    def _begin_write_intent():
        view = app.view_functions.get(request.endpoint or "")
        if request.method in ("POST", "PUT", "PATCH", "DELETE") and getattr(
            view, "_write_lock", True
        ):
            request.environ["trainer.write_token"] = set_write_intent(True)

    @app.teardown_request
    def _end_write_intent(_exc):
        token = request.environ.pop("trainer.write_token", None)
        if token is not None:
            reset_write_intent(token)
