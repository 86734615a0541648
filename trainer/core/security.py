"""The HTTP security headers (ASVS 14.4), set by the app on everything it serves, so the
development server has them too and behind nginx no page carries two policies (nginx adds them
only to the files it serves itself: deploy/nginx-site.conf, which a test compares with these)."""
from __future__ import annotations

from functools import lru_cache

from flask import Flask, Response, request
from werkzeug.serving import WSGIRequestHandler

# No inline script or style anywhere (templates keep both in static/), images also from data:
# URLs (Bootstrap's CSS draws its icons with them), and no page inside another site's frame.
CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
))
STRICT_TRANSPORT_SECURITY = "max-age=31536000; includeSubDomains"


@lru_cache(maxsize=4)
def security_headers(production: bool, static: bool = False) -> tuple[tuple[str, str], ...]:
    """The headers of every response. Only static files may be cached: every other page can
    show personal data or a one-time password. HSTS only in production, which runs over HTTPS."""
    headers = [("Content-Security-Policy", CONTENT_SECURITY_POLICY),
               ("X-Content-Type-Options", "nosniff"),
               ("Referrer-Policy", "same-origin")]
    if production:
        headers.append(("Strict-Transport-Security", STRICT_TRANSPORT_SECURITY))
    if not static:
        headers.append(("Cache-Control", "no-store"))
    return tuple(headers)


def install_security_headers(app: Flask) -> None:
    """Every response Flask sends (pages, redirects, errors, static files) gets the headers;
    the autosave's lean path (quizzes.fastsave) adds the same itself."""
    production = bool(app.config["PRODUCTION"])

    @app.after_request
    def _security_headers(response: Response) -> Response:
        endpoint = request.endpoint or ""
        static = endpoint == "static" or endpoint.endswith(".static")
        for name, value in security_headers(production, static):
            response.headers[name] = value
        return response


class DevRequestHandler(WSGIRequestHandler):
    """Werkzeug's development server without its and Python's versions in the Server header
    (`trainer run`, and the live servers of the browser tests)."""

    def version_string(self) -> str:
        return "Werkzeug"
