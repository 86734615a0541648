"""Centre-wide settings with defaults; stored values override them."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from trainer.core.audit import record_event
from trainer.core.db import db
from trainer.core.models import Setting

DEFAULTS: dict[str, Any] = {
    "timezone": "Asia/Shanghai",
    "go_live_date": None,  # ISO date; staff hired before it enter the in-service cycle
}


def get_setting(key: str, default: Any = None) -> Any:
    """The stored value, else the default given here, else the centre-wide default."""
    row = db.session.get(Setting, key)
    if row is None:
        return default if default is not None else DEFAULTS.get(key)
    return row.value


def set_setting(key: str, value: Any, *, actor_id: int | None, now: datetime) -> None:
    """Store a setting and audit the change."""
    row = db.session.get(Setting, key)
    old = row.value if row else DEFAULTS.get(key)
    if row is None:
        row = Setting(key=key, value=value, updated_at=now)
        db.session.add(row)
    else:
        row.value = value
        row.updated_at = now
    record_event(actor_id, "setting.changed", "setting", key, now=now,
                 details={"old": old, "new": value})
    db.session.flush()
