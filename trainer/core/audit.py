"""The audit log: every state change an area makes is recorded here."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from trainer.core.db import db
from trainer.core.models import AuditEvent


def record_event(
    actor_id: int | None,
    action: str,
    object_type: str,
    object_id: Any,
    *,
    now: datetime,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Add one audit event to the session (the caller's transaction commits it)."""
    event = AuditEvent(
        at=now,
        actor_id=actor_id,
        action=action,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        details=details or {},
    )
    db.session.add(event)
    return event
