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

from flask import abort, current_app, g, request, session
from flask_wtf.csrf import CSRFProtect, same_origin
from itsdangerous import BadData, SignatureExpired, URLSafeTimedSerializer

from trainer.core.permissions import PUBLIC, declared_access, identity_in

# Enough for every candidate of a large exam day on one worker; cleared whole when full.
_REMEMBERED_MAX = 20_000


class VerifiedSignatures:
    """Signed values whose signature this process has verified once: key → (value, signing
    time). Only what `load` verified is kept; callers still check the age on every use."""

    def __init__(self) -> None:
        self._known: dict = {}
        self._lock = threading.Lock()

    def loads(self, key, load) -> tuple[object, float]:
        """(value, signing time as a timestamp); `load()` verifies and returns (value,
        datetime), raising itsdangerous' errors, when the key is new."""
        known = self._known.get(key)
        if known is None:
            value, signed_at = load()
            known = (value, signed_at.timestamp())
            with self._lock:
                if len(self._known) >= _REMEMBERED_MAX:
                    self._known.clear()
                self._known[key] = known
        return known


class TokenCheck:
    """Flask-WTF's validate_csrf, remembering verified signatures: `check` returns None when
    the token is valid for the session's value, else the reason."""

    def __init__(self) -> None:
        self._verified = VerifiedSignatures()

    def check(self, token: str | None, session_value: object, secret: str,
              time_limit: int | None) -> str | None:
        if not token:
            return "The CSRF token is missing."
        if not session_value:
            return "The CSRF session token is missing."
        try:
            value, signed_at = self._verified.loads(
                (secret, token), lambda: URLSafeTimedSerializer(secret, salt="wtf-csrf-token")
                .loads(token, max_age=time_limit, return_timestamp=True))
        except SignatureExpired:
            return "The CSRF token has expired."
        except BadData:
            return "The CSRF token is invalid."
        if time_limit and time.time() - signed_at > time_limit:
            return "The CSRF token has expired."
        if not isinstance(value, str) or not isinstance(session_value, str) or \
                not hmac.compare_digest(session_value, value):
            return "The CSRF tokens do not match."
        return None

    def check_request(self, app, headers, session_data, *, secure: bool, referrer: str | None,
                      host: str) -> str | None:
        """The whole check of a JSON request, from its parts (no request context needed)."""
        config = app.config
        token = next((headers.get(h) for h in config["WTF_CSRF_HEADERS"] if headers.get(h)),
                     None)
        problem = self.check(token, session_data.get(config["WTF_CSRF_FIELD_NAME"]),
                             config.get("WTF_CSRF_SECRET_KEY") or app.secret_key,
                             config["WTF_CSRF_TIME_LIMIT"])
        if problem:
            return problem
        if secure and config["WTF_CSRF_SSL_STRICT"]:
            if not referrer:
                return "The referrer header is missing."
            if not same_origin(referrer, f"https://{host}/"):
                return "The referrer does not match the host."
        return None


def _signed_out() -> bool:
    """No login in the session nor a remember-me cookie, on a view for signed-in people."""
    access = declared_access(current_app, request.endpoint)
    return access is not None and PUBLIC not in access and identity_in(session) is None and \
        current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token") not in request.cookies


class TrainerCSRFProtect(CSRFProtect):
    def __init__(self, app=None) -> None:
        self.tokens = TokenCheck()
        super().__init__(app)

    def protect(self, apply_exemptions: bool = False) -> None:
        if request.mimetype != "application/json":
            return super().protect(apply_exemptions)
        if apply_exemptions and (not request.endpoint or self._is_exempt()):
            return None
        if request.method not in current_app.config["WTF_CSRF_METHODS"]:
            return None
        problem = self.tokens.check_request(
            current_app, request.headers, session, secure=request.is_secure,
            referrer=request.referrer, host=request.host)
        if problem:
            current_app.logger.info(problem)
            if _signed_out():
                # The token fails because the session is gone (signed out, the cookie expired
                # or cleared): the access check would answer 401, which tells a page what to
                # do (sign in again), where a 400 would not. Nothing runs either way.
                abort(401)
            self._error_response(problem)
        g.csrf_valid = True
        return None
