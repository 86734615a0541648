"""Site-wide endpoints that belong to no area."""
from flask import Blueprint

from trainer.core.permissions import public

bp = Blueprint("core", __name__)


@bp.route("/healthz")
@public
def healthz():
    """A trivial answer for load balancers and for measuring the machine's floor."""
    return "ok", 200, {"Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store"}
