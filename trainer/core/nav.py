"""The navigation bar (each area adds its entries with the roles that see them), and the rule
for every link to a page that not everyone may open: show it only to those who may."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask
from flask_login import current_user

from trainer.core.permissions import AUTHENTICATED, PUBLIC, declared_access, has_any_role


@dataclass(frozen=True)
class NavItem:
    endpoint: str
    label: object  # a lazy gettext string
    roles: tuple[str, ...]
    order: int
    # A number shown beside the entry (e.g. open to-dos), from the signed-in person; 0 hides it.
    badge: Callable[[Any], int] | None = None


def add_nav_item(app: Flask, endpoint: str, label: object, roles: tuple[str, ...],
                 order: int, badge: Callable[[Any], int] | None = None) -> None:
    app.extensions.setdefault("trainer.nav", []).append(
        NavItem(endpoint, label, roles, order, badge))


# The role whose home wins when a person holds several, most specific first.
HOME_PRIORITY = ("admin", "hr", "trainer", "learner")


def set_home(app: Flask, role: str, endpoint: str) -> None:
    """Where people with this role land after login (the area that owns the page decides)."""
    app.extensions.setdefault("trainer.homes", {})[role] = endpoint


def home_endpoint(app: Flask, roles: set[str]) -> str | None:
    homes = app.extensions.get("trainer.homes", {})
    for role in HOME_PRIORITY:
        if role in roles and role in homes:
            return homes[role]
    return None


def add_staff_panel(app: Flask, render) -> None:
    """A higher area adds a panel to the HR staff page (accounts cannot import it)."""
    app.extensions.setdefault("trainer.staff_panels", []).append(render)


@dataclass(frozen=True)
class StaffColumns:
    """Columns a higher area adds to the HR staff list: their headings, and `cells(ids)` giving
    {staff id: [cell, …]} for the page's people at once (one query for the page, never one per
    person)."""

    headers: tuple[object, ...]
    cells: Callable[[list[int]], dict[int, list[Any]]]


@dataclass(frozen=True)
class StaffFilter:
    """A filter a higher area adds to the HR staff list: `narrow(query)` returns the staff
    SELECT narrowed to the people it names."""

    value: str
    label: object
    narrow: Callable[[Any], Any]


def add_staff_columns(app: Flask, headers: tuple[object, ...],
                      cells: Callable[[list[int]], dict[int, list[Any]]]) -> None:
    """A higher area adds columns to the HR staff list (accounts cannot import it)."""
    app.extensions.setdefault("trainer.staff_columns", []).append(StaffColumns(headers, cells))


def add_staff_filter(app: Flask, value: str, label: object, narrow: Callable[[Any], Any]) -> None:
    app.extensions.setdefault("trainer.staff_filters", []).append(
        StaffFilter(value, label, narrow))


def staff_columns(app: Flask) -> list[StaffColumns]:
    return list(app.extensions.get("trainer.staff_columns", []))


def staff_filters(app: Flask) -> list[StaffFilter]:
    return list(app.extensions.get("trainer.staff_filters", []))


def add_return_link(app: Flask, kind: str, link: Callable[[Any], str | None]) -> None:
    """A higher area says where a page of a lower one leads back to (a course quiz's result →
    the course, not the quiz's own page, which learners may not open)."""
    app.extensions.setdefault("trainer.return_links", {}).setdefault(kind, []).append(link)


def return_link(app: Flask, kind: str, obj: Any) -> str | None:
    for link in app.extensions.get("trainer.return_links", {}).get(kind, []):
        url = link(obj)
        if url:
            return url
    return None


def may_open(app: Flask, user, endpoint: str) -> bool:
    """Whether this person may open the view, by the access it declares (the check every
    request passes). Whose record it is the view decides, as before."""
    access = declared_access(app, endpoint)
    if access is None:
        return False
    if PUBLIC in access:
        return True
    return bool(getattr(user, "is_authenticated", False)) and \
        (AUTHENTICATED in access or has_any_role(user, access))


def install_nav(app: Flask) -> None:
    @app.context_processor
    def _nav():
        def nav_items() -> list[NavItem]:
            user = current_user._get_current_object()  # (the proxy resolved once per bar)
            items = sorted(app.extensions.get("trainer.nav", []), key=lambda i: i.order)
            return [i for i in items
                    if has_any_role(user, i.roles) and may_open(app, user, i.endpoint)]

        def staff_panels(staff) -> list:
            return [render(staff) for render in app.extensions.get("trainer.staff_panels", [])]

        return {"nav_items": nav_items, "staff_panels": staff_panels,
                "may_open": lambda endpoint: may_open(app, current_user, endpoint)}
