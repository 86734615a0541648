"""Domain errors and the friendly error pages."""
from __future__ import annotations

from typing import Any

from flask import Flask, jsonify, render_template, request
from flask_babel import gettext
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from trainer.core.db import db


def N_(message: str) -> str:
    """Mark a message for translation where it is defined; it is translated where shown."""
    return message


class DomainError(Exception):
    """A rule of the domain refused an action. The message is an English gettext msgid
    with {placeholders}; routes translate it for the person who asked."""

    status_code = 400

    def __init__(self, message: str, **params: Any) -> None:
        super().__init__(message)
        self.message = message
        self.params = params

    def translated(self) -> str:
        return gettext(self.message, **self.params)


class Notice:
    """Something a service wants the person who acted to know (not an error): an English
    gettext msgid with %(placeholders)s, translated where shown."""

    def __init__(self, message: str, **params: Any) -> None:
        self.message = message
        self.params = params

    def translated(self) -> str:
        return gettext(self.message, **self.params)


class BraceDomainError(DomainError):
    """A DomainError whose message uses {placeholders} (the format parsers' messages)."""

    def translated(self) -> str:
        return gettext(self.message).format(**self.params)


class NotFound(DomainError):
    status_code = 404


class Forbidden(DomainError):
    status_code = 403


def wants_json() -> bool:
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return request.is_json or best == "application/json"


def register_error_handlers(app: Flask) -> None:
    def render_error(status: int, message: str | None = None):
        if wants_json():
            return jsonify(error=status, message=message or ""), status
        return render_template("errors/error.html", status=status, message=message), status

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):
        db.session.rollback()
        return render_error(400, gettext("The form expired or was sent from elsewhere. "
                                         "Reload the page and try again."))

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if error.response is not None:
            # A refusal that brings its own answer (a rate limit's on_breach: the calendar
            # feed's plain-text 429 with Retry-After, for calendar apps rather than people).
            return error.response
        status = error.code or 500
        message = None
        if status == 429:
            # A limit that says what it limits (Flask-Limiter's error_message) speaks for
            # itself; the sign-in's is the default.
            limit = getattr(error, "limit", None)
            message = error.description if getattr(limit, "error_message", None) else gettext(
                "Too many failed sign-in attempts. Wait a few minutes and try again, or ask "
                "HR to reset your password.")
        if status == 413:
            limit_mb = app.config["MAX_CONTENT_LENGTH"] // (1024 * 1024)
            message = gettext("The file is too large: the limit is %(mb)d MB.", mb=limit_mb)
        return render_error(status, message)

    @app.errorhandler(DomainError)
    def domain_error(error: DomainError):
        db.session.rollback()
        return render_error(error.status_code, error.translated())

    @app.errorhandler(Exception)
    def unexpected(error: Exception):
        db.session.rollback()
        app.logger.exception("Unhandled error on %s %s", request.method, request.path)
        if app.testing and app.config.get("PROPAGATE_UNEXPECTED", True):
            raise error
        return render_error(500)
