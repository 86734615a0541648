"""The signed-cookie session, marked Secure whenever the request itself came over HTTPS."""
from flask import Flask, request
from flask.sessions import SecureCookieSessionInterface


class TrainerSessionInterface(SecureCookieSessionInterface):
    def __init__(self) -> None:
        self._serializers: dict = {}

    def get_cookie_secure(self, app: Flask) -> bool:
        # Behind nginx, ProxyFix (TRAINER_TRUSTED_PROXIES) makes request.is_secure honest.
        return bool(app.config["SESSION_COOKIE_SECURE"]) or request.is_secure

    def get_signing_serializer(self, app: Flask):
        # Flask builds a new serializer twice per request (open, save); it holds only the keys,
        # so one per key set serves every request.
        keys = (app.secret_key, tuple(app.config.get("SECRET_KEY_FALLBACKS") or ()))
        serializer = self._serializers.get(keys)
        if serializer is None:
            serializer = super().get_signing_serializer(app)
            if serializer is not None:
                self._serializers = {keys: serializer}
        return serializer
