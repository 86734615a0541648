"""Access control. Every view declares who may use it; a view that declares nothing is refused
(deny by default). Object-level checks (whose attempt is this?) live in the areas' services."""
from __future__ import annotations

from collections.abc import Callable

from typing import Any, TypeVar

from flask import Flask, abort, redirect, request, url_for
from flask_login import current_user

# assessor (考评员): records practical assessments (实操考评); HR grants it to trainers, quality
# inspectors and team leads.
ROLES = ("learner", "trainer", "assessor", "hr", "admin")
PUBLIC = "public"
AUTHENTICATED = "authenticated"

F = TypeVar("F", bound=Callable[..., Any])


def _declare(view: F, access: tuple[str, ...]) -> F:
    view._access = access  # type: ignore[attr-defined]
    return view


def public(view: F) -> F:
    """Anyone, signed in or not (login page, certificate verification, static assets)."""
    return _declare(view, (PUBLIC,))


def signed_in(view: F) -> F:
    """Any signed-in person, whatever their roles."""
    return _declare(view, (AUTHENTICATED,))


def roles_required(*roles: str) -> Callable[[F], F]:
    """Signed-in people holding at least one of the roles."""
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown roles {unknown}")

    def decorator(view: F) -> F:
        return _declare(view, tuple(roles))

    return decorator


def identity_in(session_data) -> tuple[int, str] | None:
    """(staff id, session token) of the login a session's data carries, or None."""
    staff_id, _, token = str(session_data.get("_user_id") or "").partition(":")
    if not staff_id.isdigit() or not token:
        return None
    return int(staff_id), token


def has_any_role(user: Any, roles: tuple[str, ...] | list[str]) -> bool:
    # The person's roles are read once (has_role per role rebuilt the set each time; the
    # navigation bar asks this for every entry on every page).
    return bool(getattr(user, "is_authenticated", False)) and \
        not user.role_names.isdisjoint(roles)


def declared_access(app: Flask, endpoint: str | None) -> tuple[str, ...] | None:
    if endpoint is None:
        return None
    if endpoint == "static" or endpoint.endswith(".static"):
        return (PUBLIC,)
    view = app.view_functions.get(endpoint)
    return getattr(view, "_access", None)


def install_access_check(app: Flask) -> None:
    @app.before_request
    def check_access():
        if request.endpoint is None:  # 404 / 405: let Flask answer
            return None
        access = declared_access(app, request.endpoint)
        if access is None:
            app.logger.error("View %s declares no access rule; refused", request.endpoint)
            abort(403)
        if PUBLIC in access:
            return None
        if not current_user.is_authenticated:
            if request.method == "GET":
                return redirect(url_for("accounts.login", next=request.full_path.rstrip("?")))
            abort(401)
        if AUTHENTICATED in access or has_any_role(current_user, access):
            return None
        abort(403)


