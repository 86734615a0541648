"""Configuration: defaults, then TRAINER_* environment variables, then explicit overrides (tests)."""
from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any

class ConfigError(RuntimeError):
    """Raised when the configuration cannot run safely (e.g. production without a secret key)."""


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _niceness_or_none(value: str) -> int | None:
    """A niceness (-20 … 19) from the environment, or None for "off" (or nothing)."""
    value = value.strip().lower()
    if value in ("", "off", "none"):
        return None
    return max(-20, min(int(value), 19))


def normalise_database_url(url: str) -> str:
    """Map a plain postgresql:// URL to the psycopg 3 driver SQLAlchemy should use."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def _secret_key(instance_path: Path, production: bool) -> str:
    key = os.environ.get("TRAINER_SECRET_KEY")
    if key:
        return key
    if production:
        raise ConfigError("TRAINER_SECRET_KEY must be set in production")
    # Generated once per installation and kept out of version control (instance/ is ignored).
    key_file = instance_path / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key


def build_config(instance_path: Path, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    overrides = dict(overrides or {})
    production = overrides.get("PRODUCTION", _env_bool("TRAINER_PRODUCTION", False))
    database_url = overrides.pop("DATABASE_URL", None) or os.environ.get(
        "TRAINER_DATABASE_URL", f"sqlite:///{instance_path / 'trainer.db'}"
    )
    if "SECRET_KEY" in overrides:
        secret_key = overrides["SECRET_KEY"]
    else:
        secret_key = _secret_key(instance_path, production)
    if production and (not secret_key or len(secret_key) < 16):
        raise ConfigError("TRAINER_SECRET_KEY is too short for production")
    redis_url = overrides.pop("REDIS_URL", None) or os.environ.get("TRAINER_REDIS_URL") or None
    # Certificates' QR codes and links are built from it, also by commands that have no request
    # to take a host from: required in production.
    public_url = overrides.get("PUBLIC_URL") or os.environ.get("TRAINER_PUBLIC_URL") or ""
    if production and not public_url.startswith(("https://", "http://")):
        raise ConfigError("TRAINER_PUBLIC_URL must be set in production (e.g. "
                          "https://trainer.example.com)")
    signing_passphrase = overrides.get("SIGNING_PASSPHRASE") or os.environ.get(
        "TRAINER_SIGNING_PASSPHRASE") or ""
    if production and not signing_passphrase:
        raise ConfigError("TRAINER_SIGNING_PASSPHRASE must be set in production")
    secure_cookies = _env_bool("TRAINER_SECURE_COOKIES", production)

    config: dict[str, Any] = {
        "PRODUCTION": production,
        "SECRET_KEY": secret_key,
        "SQLALCHEMY_DATABASE_URI": normalise_database_url(database_url),
        "SQLALCHEMY_RECORD_QUERIES": False,
        "REDIS_URL": redis_url,
        "MAX_CONTENT_LENGTH": int(os.environ.get("TRAINER_MAX_UPLOAD_MB", "10")) * 1024 * 1024,
        # Cookies: HttpOnly and SameSite=Lax always; Secure whenever the request came over HTTPS
        # (see core.sessions) or when forced for deployments behind TLS-terminating proxies.
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": secure_cookies,
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=12),
        "REMEMBER_COOKIE_DURATION": timedelta(days=14),
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": secure_cookies,
        # A CSRF token must outlive the longest exam: an agent who starts a 3-hour exam must still
        # be able to submit it. The token is also bound to the session, which expires after 12 h.
        "WTF_CSRF_TIME_LIMIT": 12 * 3600,
        "WTF_CSRF_SSL_STRICT": True,
        "BOOTSTRAP_SERVE_LOCAL": True,
        "BABEL_DEFAULT_LOCALE": "zh_CN",
        "BABEL_DEFAULT_TIMEZONE": "Asia/Shanghai",
        "BABEL_TRANSLATION_DIRECTORIES": str(Path(__file__).parent / "translations"),
        "LANGUAGES": ("zh_CN", "en"),
        "RATELIMIT_STORAGE_URI": redis_url or "memory://",
        "RATELIMIT_STRATEGY": "moving-window",
        "RATELIMIT_HEADERS_ENABLED": False,
        "RATELIMIT_KEY_PREFIX": os.environ.get("TRAINER_RATELIMIT_PREFIX", "trainer"),
        # Number of proxies in front of the app whose X-Forwarded-* headers are trusted (nginx: 1).
        "TRUSTED_PROXIES": int(os.environ.get("TRAINER_TRUSTED_PROXIES", "0")),
        "SQLITE_BUSY_TIMEOUT_S": 30,
        # A process running nicer than this holds SQLite's write lock at this niceness (core.db.
        # WriterQueue: the front pool runs at nice 10); "off" leaves the niceness alone.
        "SQLITE_WRITER_NICENESS": _niceness_or_none(
            os.environ.get("TRAINER_SQLITE_WRITER_NICENESS", "0")),
        # Compiled templates, shared by the worker processes (core.templates); "" turns it off.
        "TEMPLATE_CACHE_DIR": os.environ.get("TRAINER_TEMPLATE_CACHE_DIR",
                                             str(instance_path / "template-cache")),
        # Password checks may run on a thread of lowered CPU priority (accounts.passwords), for a
        # single pool of workers that also serves exams. Behind nginx's two pools (README,
        # Production) the exam pool is apart already, and a lowered priority only starves the
        # sign-ins of a login rush (bench/exam_day.py), so 0 (normal priority) is the default.
        "PASSWORD_HASH_NICENESS": int(os.environ.get("TRAINER_PASSWORD_HASH_NICENESS", "0")),
        "PUBLIC_URL": (public_url or "http://127.0.0.1:5000").rstrip("/"),
        # The PKCS#12 certificates are signed with (`trainer setup` makes a self-signed one when
        # there is none) and its passphrase (in development, generated into the instance folder).
        "SIGNING_KEY_PATH": os.environ.get("TRAINER_SIGNING_KEY",
                                           str(instance_path / "signing.p12")),
        "SIGNING_PASSPHRASE": signing_passphrase,
        # Saves and submits in flight when the time runs out are accepted for this long.
        "QUIZ_GRACE_S": int(os.environ.get("TRAINER_QUIZ_GRACE_S", "30")),
    }
    config.update(overrides)
    return config
