"""Site-wide endpoints that belong to no area: the health check, the favicon, the settings
page and dismissing a to-do."""
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from trainer.core.db import db
from trainer.core.errors import DomainError
from trainer.core.forms import ConfirmForm, settings_form, submitted_values
from trainer.core.params import local_path
from trainer.core import todos
from trainer.core.actions import act
from trainer.core.permissions import public, roles_required, signed_in
from trainer.core.settings import grouped, may_change, save_settings
from trainer.core.timeutil import utcnow

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


@bp.route("/settings", methods=["GET", "POST"])
@roles_required("hr", "admin")
def settings():
    """The centre's settings, grouped by area; each change is audited."""
    form = settings_form(current_user, request.form if request.method == "POST" else None)
    if request.method == "POST" and form.validate_on_submit():
        try:
            changed = save_settings(current_user, submitted_values(form, current_user),
                                    now=utcnow())
        except DomainError as exc:
            db.session.rollback()
            flash(exc.translated(), "danger")
        else:
            db.session.commit()
            flash(_("Saved: %(n)d settings changed.", n=len(changed)) if changed
                  else _("Nothing was changed."), "success")
            return redirect(url_for("core.settings"))
    return render_template("core/settings.html", form=form, groups=grouped(),
                           may_change=lambda d: may_change(current_user, d))


@bp.route("/todos/<int:item_id>/dismiss", methods=["POST"])
@signed_in
def dismiss_todo(item_id: int):
    """Close an informational to-do item of one's own (a decision read, a promotion seen)."""
    if not ConfirmForm().validate_on_submit():
        abort(400)
    return act(lambda: todos.dismiss(current_app, current_user.id, item_id, now=utcnow()),
               back=local_path(request.form.get("next"), url_for("accounts.index")))


def register_nav(app) -> None:
    from flask_babel import lazy_gettext as _l

    from trainer.core.nav import add_nav_item

    add_nav_item(app, "core.settings", _l("Settings"), ("hr", "admin"), 90)
