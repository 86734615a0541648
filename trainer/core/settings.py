"""The centre's settings: one typed registry, stored in the settings table, edited on one page.

Each area declares its settings where it uses them (`define(...)` at import time: key, type,
default, validation, label, the role allowed to change it); the settings page (core.routes)
builds its form from the registry, grouped by area, and every change is audited. A stored value
that no longer validates (an old type, a removed choice) reads as the default, so a bad row can
never break a page. Values are read once per app context (one query for all of them)."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from flask import g, has_app_context
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from trainer.core.audit import record_event
from trainer.core.db import db
from trainer.core.errors import DomainError, Forbidden
from trainer.core.models import Setting

KINDS = ("int", "bool", "date", "text", "timezone", "choice", "list")


@dataclass(frozen=True)
class SettingDef:
    key: str
    kind: str
    default: Any
    label: Any                       # a lazy gettext string
    area: str                        # the group on the settings page ("core", "learning" …)
    role: str = "hr"                 # who may change it: "hr" (HR and admins) or "admin"
    help: Any = ""
    minimum: int | None = None
    maximum: int | None = None
    choices: Sequence[tuple[Any, Any]] = ()   # (value, lazy label) for kind "choice"
    optional: bool = False           # a date or text that may be empty (None)
    check: Callable[[Any], str | None] | None = None  # extra rule: a msgid when refused
    order: int = 0
    hidden: bool = False             # set by its own page (an uploaded file), not the settings page
    extra: dict = field(default_factory=dict)


REGISTRY: dict[str, SettingDef] = {}
AREA_LABELS: dict[str, Any] = {}


def define(key: str, kind: str, default: Any, label: Any, area: str, **options: Any) -> SettingDef:
    """Declare a setting (at import time of the area that uses it)."""
    if kind not in KINDS:
        raise ValueError(f"unknown setting kind {kind}")
    definition = SettingDef(key, kind, default, label, area, **options)
    REGISTRY[key] = definition
    return definition


def define_area(area: str, label: Any) -> None:
    AREA_LABELS[area] = label


def parse(definition: SettingDef, raw: Any) -> Any:
    """The typed value of a raw input (form text or stored JSON); DomainError when refused."""
    kind = definition.kind
    if raw is None or raw == "" or raw == []:
        if kind == "bool":
            return False
        if definition.optional:
            return [] if kind == "list" else None
        raise DomainError("%(setting)s is required.", setting=str(definition.label))
    if kind == "int":
        try:
            value = int(raw)
        except (TypeError, ValueError):
            raise DomainError("%(setting)s must be a whole number.",
                              setting=str(definition.label)) from None
        low, high = definition.minimum, definition.maximum
        if (low is not None and value < low) or (high is not None and value > high):
            raise DomainError("%(setting)s must be between %(low)s and %(high)s.",
                              setting=str(definition.label), low=low, high=high)
    elif kind == "bool":
        value = raw if isinstance(raw, bool) else str(raw).lower() in ("1", "true", "y", "on")
    elif kind == "date":
        try:
            value = raw if isinstance(raw, date) else date.fromisoformat(str(raw))
        except ValueError:
            raise DomainError("%(setting)s must be a date like 2026-03-01.",
                              setting=str(definition.label)) from None
    elif kind == "timezone":
        from trainer.core.timeutil import is_valid_timezone

        value = str(raw).strip()
        if not is_valid_timezone(value):
            raise DomainError("Unknown time zone %(tz)s.", tz=value)
    elif kind == "choice":
        allowed = {str(v): v for v, _label in definition.choices}
        if str(raw) not in allowed:
            raise DomainError("%(setting)s: choose one of the options.",
                              setting=str(definition.label))
        value = allowed[str(raw)]
    elif kind == "list":
        items = raw if isinstance(raw, list) else str(raw).replace("，", "\n").replace(
            ",", "\n").splitlines()
        value = []
        for item in (str(i).strip() for i in items):
            if item and item not in value:
                value.append(item[:80])
        if not value and not definition.optional:
            raise DomainError("%(setting)s needs at least one entry.",
                              setting=str(definition.label))
    else:
        value = str(raw).strip()[:500]
    if definition.check is not None:
        problem = definition.check(value)
        if problem:
            raise DomainError(problem, setting=str(definition.label))
    return value


def _to_json(definition: SettingDef, value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def _stored() -> dict[str, Any]:
    """Every stored value, read once per app context."""
    if has_app_context():
        cached = g.get("_trainer_settings")
        if cached is not None:
            return cached
    values = dict(db.session.execute(select(Setting.key, Setting.value)).all())
    if has_app_context():
        g._trainer_settings = values
    return values


def forget_cached() -> None:
    if has_app_context():
        g.pop("_trainer_settings", None)


def get_setting(key: str) -> Any:
    """The stored value of a declared setting, typed; its default when unset or no longer
    valid."""
    definition = REGISTRY[key]
    stored = _stored()
    if key not in stored or stored[key] is None and not definition.optional:
        return definition.default
    try:
        return parse(definition, stored[key])
    except DomainError:
        return definition.default


def may_change(actor: Any, definition: SettingDef) -> bool:
    roles = actor.role_names
    return "admin" in roles or (definition.role == "hr" and "hr" in roles)


def set_setting(key: str, value: Any, *, actor: Any | None, now: datetime) -> bool:
    """Store one setting (validated, audited). actor=None is the system itself (setup, demo).
    Returns whether it changed."""
    definition = REGISTRY[key]
    if actor is not None and not may_change(actor, definition):
        raise Forbidden("Only an administrator may change %(setting)s.",
                        setting=str(definition.label))
    value = parse(definition, value)
    old = get_setting(key)
    if old == value:
        return False
    row = db.session.get(Setting, key)
    stored = _to_json(definition, value)
    if row is None:
        db.session.add(Setting(key=key, value=stored, updated_at=now))
    else:
        row.value, row.updated_at = stored, now
    record_event(actor.id if actor is not None else None, "setting.changed", "setting", key,
                 now=now, details={"old": _to_json(definition, old), "new": stored})
    db.session.flush()
    _stored()[key] = stored
    return True


def save_settings(actor: Any, values: dict[str, Any], *, now: datetime) -> list[str]:
    """Change several settings at once: all validated first, then each change stored and
    audited; nothing is stored when one is refused. Returns the keys that changed."""
    parsed = {}
    for key, raw in values.items():
        definition = REGISTRY[key]
        if not may_change(actor, definition):
            continue  # shown read-only to this person: whatever came back is ignored
        parsed[key] = parse(definition, raw)
    return [key for key, value in parsed.items()
            if set_setting(key, value, actor=actor, now=now)]


def grouped() -> list[tuple[str, Any, list[SettingDef]]]:
    """(area, label, settings) in page order."""
    areas: dict[str, list[SettingDef]] = {}
    for definition in sorted((d for d in REGISTRY.values() if not d.hidden),
                             key=lambda d: (d.order, d.key)):
        areas.setdefault(definition.area, []).append(definition)
    order = list(AREA_LABELS)
    return [(area, AREA_LABELS.get(area, area), items)
            for area, items in sorted(areas.items(),
                                      key=lambda a: order.index(a[0]) if a[0] in order else 99)]


# -- the centre itself ---------------------------------------------------------------------------

define_area("core", _l("The centre"))
define("timezone", "timezone", "Asia/Shanghai", _l("The centre's time zone"), "core",
       help=_l("Due dates, class times and every time shown follow it."), order=1)


def centre_timezone() -> str:
    return get_setting("timezone")
