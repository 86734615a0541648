"""The signed-cookie session, marked Secure whenever the request itself came over HTTPS."""
from flask import Flask, request
from flask.sessions import SecureCookieSessionInterface


class TrainerSessionInterface(SecureCookieSessionInterface):
    def get_cookie_secure(self, app: Flask) -> bool:
        # Behind nginx, ProxyFix (TRAINER_TRUSTED_PROXIES) makes request.is_secure honest.
        return bool(app.config["SESSION_COOKIE_SECURE"]) or request.is_secure
