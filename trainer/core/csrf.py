"""Flask-WTF's CSRF protection, made cheap for JSON requests (exam day's autosave).

The rules are Flask-WTF's own: a state-changing request carries the signed token of this
session, no older than WTF_CSRF_TIME_LIMIT, and over HTTPS a same-origin Referer. Two things
cost a third of each autosave (bench/profile_exam.py), and only those change:

- a JSON request has no form, so its token is read from the headers without parsing the body
  as a form first;
- a token whose signature has been verified once is remembered (token → session value and
  signing time), so the same candidate's next saves skip the HMAC. Only tokens that passed the
  full check are remembered; the age and the session value are checked on every request.
"""
from __future__ import annotations

import hmac
import threading
import time

from flask import current_app, g, request, session
from flask_wtf.csrf import CSRFProtect, same_origin
from itsdangerous import BadData, SignatureExpired, URLSafeTimedSerializer

# Enough for every candidate of a large exam day on one worker; cleared whole when full.
_REMEMBERED_MAX = 20_000


class TrainerCSRFProtect(CSRFProtect):
    def __init__(self, app=None) -> None:
        self._verified: dict[tuple[str, str], tuple[str, float]] = {}
        self._lock = threading.Lock()
        super().__init__(app)

    def protect(self, apply_exemptions: bool = False) -> None:
        if request.mimetype != "application/json":
            return super().protect(apply_exemptions)
        if apply_exemptions and (not request.endpoint or self._is_exempt()):
            return None
        config = current_app.config
        if request.method not in config["WTF_CSRF_METHODS"]:
            return None
        token = next((request.headers[h] for h in config["WTF_CSRF_HEADERS"]
                      if request.headers.get(h)), None)
        problem = self._check(token)
        if problem:
            current_app.logger.info(problem)
            self._error_response(problem)
        if request.is_secure and config["WTF_CSRF_SSL_STRICT"]:
            if not request.referrer:
                self._error_response("The referrer header is missing.")
            if not same_origin(request.referrer, f"https://{request.host}/"):
                self._error_response("The referrer does not match the host.")
        g.csrf_valid = True
        return None

    def _check(self, token: str | None) -> str | None:
        """Flask-WTF's validate_csrf, remembering verified signatures. None when valid."""
        config = current_app.config
        field = config["WTF_CSRF_FIELD_NAME"]
        secret = config.get("WTF_CSRF_SECRET_KEY") or current_app.secret_key
        time_limit = config["WTF_CSRF_TIME_LIMIT"]
        if not token:
            return "The CSRF token is missing."
        if field not in session:
            return "The CSRF session token is missing."
        key = (secret, token)
        known = self._verified.get(key)
        if known is None:
            serializer = URLSafeTimedSerializer(secret, salt="wtf-csrf-token")
            try:
                value, signed_at = serializer.loads(token, max_age=time_limit,
                                                    return_timestamp=True)
            except SignatureExpired:
                return "The CSRF token has expired."
            except BadData:
                return "The CSRF token is invalid."
            known = (value, signed_at.timestamp())
            with self._lock:
                if len(self._verified) >= _REMEMBERED_MAX:
                    self._verified.clear()
                self._verified[key] = known
        value, signed_at = known
        if time_limit and time.time() - signed_at > time_limit:
            return "The CSRF token has expired."
        if not isinstance(value, str) or not hmac.compare_digest(session[field], value):
            return "The CSRF tokens do not match."
        return None
