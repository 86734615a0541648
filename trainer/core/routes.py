"""Site-wide endpoints that belong to no area."""
from flask import Blueprint, current_app, send_from_directory

from trainer.core.permissions import public

bp = Blueprint("core", __name__)


@bp.route("/healthz")
@public
def healthz():
    """A trivial answer for load balancers and for measuring the machine's floor."""
    return "ok", 200, {"Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store"}


@bp.route("/favicon.ico")
@public
def favicon():
    """The icon, for the browsers, feed readers and bookmarks that ask here by themselves (pages
    link it and static/favicon.svg)."""
    return send_from_directory(current_app.static_folder, "favicon.ico",
                               mimetype="image/vnd.microsoft.icon")
