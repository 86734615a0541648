"""The autosave's lean path: exam day's busiest request, accepted without Flask's full request
machinery, or handed to it unchanged.

A thousand candidates save every few seconds. Through Flask, a save spent more time in the
request's set-up (context, routing, hooks, session and response objects) than in its one UPDATE
(bench/profile_exam.py). This WSGI layer in front of the app takes `POST /attempts/<id>/save`
and handles only the common case — a valid session cookie with a login, this session's CSRF
token (and, over HTTPS, a same-origin Referer), a well-formed JSON answer, and an UPDATE that
proves the login, the owner, the state, the deadline, the version and the choice order at once
(`services.save_answer_for_login`). Anything else (no cookie, a bad token, a refusal, a stale
version, an error) is rolled back and handed to the Flask view as it came in, which checks the
login in full and answers: refusals are explained there, once.
"""
from __future__ import annotations

import io
import json
import os
import re
import time
from typing import Any, Callable

from flask import Flask
from itsdangerous import BadData
from sqlalchemy import create_engine
from sqlalchemy.engine import Engine
from werkzeug.http import parse_cookie

from trainer.core.csrf import VerifiedSignatures
from trainer.core.db import db, reset_write_intent, set_write_intent
from trainer.core.params import is_db_int
from trainer.core.permissions import identity_in
from trainer.core.security import security_headers
from trainer.core.timeutil import utcnow
from trainer.quizzes import services

_PATH = re.compile(r"/attempts/([1-9][0-9]{0,17})/save")
_MAX_BODY = 4096


class FastSave:
    def __init__(self, wsgi_app: Callable, app: Flask) -> None:
        self.wsgi_app = wsgi_app
        self.app = app
        self._sessions = VerifiedSignatures()
        self._engine = None
        self._pool_pid: int | None = None
        self._app_session = db.session

    def __call__(self, environ: dict, start_response: Callable) -> Any:
        if environ.get("REQUEST_METHOD") != "POST":
            return self.wsgi_app(environ, start_response)
        match = _PATH.fullmatch(environ.get("PATH_INFO", ""))
        if match is None:
            return self.wsgi_app(environ, start_response)
        body = self._read_body(environ)
        if body is None:
            return self.wsgi_app(environ, start_response)
        environ["wsgi.input"] = io.BytesIO(body)   # whatever happens, Flask can read it again
        try:
            answer = self._save(environ, int(match.group(1)), body)
        except Exception:  # noqa: BLE001 - the view answers it, with its own error handling
            self.app.logger.exception("Autosave lean path failed; handed to the view")
            answer = None
        if answer is None:
            environ["wsgi.input"] = io.BytesIO(body)
            return self.wsgi_app(environ, start_response)
        payload = json.dumps(answer, separators=(",", ":")).encode() + b"\n"
        start_response("200 OK", [("Content-Type", "application/json"),
                                  ("Content-Length", str(len(payload))),
                                  ("Vary", "Cookie"),
                                  *security_headers(self.app.config["PRODUCTION"])])
        return [payload]

    @staticmethod
    def _read_body(environ: dict) -> bytes | None:
        content_type = environ.get("CONTENT_TYPE", "").split(";")[0].strip().lower()
        if content_type != "application/json":
            return None
        try:
            length = int(environ.get("CONTENT_LENGTH") or -1)
        except ValueError:
            return None
        if not 0 < length <= _MAX_BODY:
            return None
        body = environ["wsgi.input"].read(length)
        return body if len(body) == length else None

    def _session(self, environ: dict) -> dict | None:
        """The signed session cookie's data, as Flask would open it; None if absent or bad.
        Verified signatures are remembered; the age is checked every time."""
        app = self.app
        cookie = parse_cookie(environ.get("HTTP_COOKIE", "")).get(
            app.config["SESSION_COOKIE_NAME"])
        if not cookie:
            return None
        max_age = int(app.permanent_session_lifetime.total_seconds())

        def verify():  # (only for a cookie this process has not verified yet)
            serializer = app.session_interface.get_signing_serializer(app)
            if serializer is None:
                raise BadData("no secret key")
            return serializer.loads(cookie, max_age=max_age, return_timestamp=True)

        try:
            data, signed_at = self._sessions.loads(cookie, verify)
        except Exception:  # noqa: BLE001 - any bad cookie: the view decides
            return None
        if time.time() - signed_at > max_age:
            return None
        return data

    def _save(self, environ: dict, attempt_id: int, body: bytes) -> dict | None:
        app = self.app
        session = self._session(environ)
        if session is None:
            return None
        identity = identity_in(session)
        if identity is None:
            return None
        headers = {"X-CSRFToken": environ.get("HTTP_X_CSRFTOKEN"),
                   "X-CSRF-Token": environ.get("HTTP_X_CSRF_TOKEN")}
        csrf = app.extensions["csrf"]
        secure = environ.get("wsgi.url_scheme") == "https"
        if csrf.tokens.check_request(app, headers, session, secure=secure,
                                     referrer=environ.get("HTTP_REFERER"),
                                     host=environ.get("HTTP_HOST", "")):
            return None
        try:
            payload = json.loads(body)
        except ValueError:
            return None
        if not isinstance(payload, dict):
            return None
        position, version, shown = (payload.get("position"), payload.get("version"),
                                    payload.get("selected"))
        if not (is_db_int(position) and is_db_int(version) and isinstance(shown, list)):
            return None
        grace_s = app.config.get("QUIZ_GRACE_S", services.DEFAULT_GRACE_S)

        def run(connection=None) -> services.Saved | None:
            remembered = services.remembered_choice_order(attempt_id, position, connection)
            if remembered is None:
                return None
            order, order_text = remembered
            chosen = services.chosen_from_shown(shown, order)
            if chosen is None:
                return None
            return services.save_answer_for_login(
                *identity, attempt_id, position, chosen, version,
                order_text=order_text, now=utcnow(), grace_s=grace_s, connection=connection)

        engine = self._autocommit_engine()
        if engine is not None:
            with engine.connect() as connection:
                saved = run(connection)
        else:
            with app.app_context():
                intent = set_write_intent(True)
                try:
                    saved = run()
                    if saved is None:
                        db.session.rollback()
                    else:
                        db.session.commit()
                except BaseException:
                    db.session.rollback()
                    raise
                finally:
                    reset_write_intent(intent)
        if saved is None:
            return None
        return {"saved_at": saved.saved_at.isoformat(), "version": saved.version}

    def _autocommit_engine(self):
        """PostgreSQL: a small pool of this process's own, in autocommit, without pre-ping:
        the save's one UPDATE is its own transaction, so a save costs one round trip. A dead
        connection makes one save fail here, and the view then does it on the app's pool
        (which pings). None on SQLite, or when the app's session is bound to a connection
        rather than the engine (a test's transaction, which this pool could not see)."""
        if db.session is not self._app_session:
            return None
        if self._pool_pid != os.getpid():  # (a forked worker makes its own)
            self._engine, self._pool_pid = None, os.getpid()
            with self.app.app_context():
                bind = db.session.get_bind()
                if bind.dialect.name == "postgresql" and isinstance(bind, Engine):
                    self._engine = create_engine(
                        bind.url, isolation_level="AUTOCOMMIT", pool_pre_ping=False,
                        pool_size=4, max_overflow=16)
        return self._engine


def install(app: Flask) -> None:
    app.wsgi_app = FastSave(app.wsgi_app, app)  # type: ignore[method-assign]
