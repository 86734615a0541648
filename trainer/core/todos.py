"""The to-do list (待办): each area adds what awaits a person and closes it when done.

An item is (person, kind, ref): adding it again changes nothing, closing it twice too. Each
area registers how its kinds read (a translated sentence and a link) with `register_kind`, as
it adds panels to the staff page, so core never imports an area. The navigation bar shows the
number of open items (one indexed count)."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from flask import Flask
from sqlalchemy import func, select, update

from trainer.core.db import db
from trainer.core.models import TodoItem


@dataclass(frozen=True)
class TodoView:
    id: int
    text: str
    url: str | None
    due_on: date | None
    created_at: datetime
    dismissible: bool = False


def add_todo(staff_id: int, kind: str, ref: Any, *, now: datetime, params: dict | None = None,
             due_on: date | None = None) -> None:
    """Add an item (or reopen it, with fresh params) for a person; idempotent."""
    ref = str(ref)
    item = db.session.scalar(select(TodoItem).where(
        TodoItem.staff_id == staff_id, TodoItem.kind == kind, TodoItem.ref == ref))
    if item is None:
        db.session.add(TodoItem(staff_id=staff_id, kind=kind, ref=ref, params=params or {},
                                created_at=now, due_on=due_on))
    elif item.done_at is not None or item.params != (params or {}) or item.due_on != due_on:
        item.done_at, item.params, item.due_on = None, params or {}, due_on
    db.session.flush()


def close_todos(staff_id: int | None, kind: str, ref: Any = None, *, now: datetime) -> int:
    """Close a person's open items of a kind (one ref, or all); staff_id None: everyone's."""
    query = update(TodoItem).where(TodoItem.kind == kind, TodoItem.done_at.is_(None))
    if staff_id is not None:
        query = query.where(TodoItem.staff_id == staff_id)
    if ref is not None:
        query = query.where(TodoItem.ref == str(ref))
    return db.session.execute(query.values(done_at=now)).rowcount


def open_count(staff_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(TodoItem).where(
        TodoItem.staff_id == staff_id, TodoItem.done_at.is_(None))) or 0


Renderer = Callable[[TodoItem], tuple[str, str | None] | None]


def register_kind(app: Flask, kind: str, render: Renderer, *, dismissible: bool = False) -> None:
    """How an area's kind of item reads: (translated text, link) or None to hide it. A
    dismissible item only informs (a decision, a promotion): the person closes it once read."""
    app.extensions.setdefault("trainer.todo_kinds", {})[kind] = (render, dismissible)


def dismiss(app: Flask, staff_id: int, item_id: int, *, now: datetime) -> None:
    """The person closes an informational item of their own."""
    from trainer.core.errors import NotFound

    item = db.session.get(TodoItem, item_id)
    kinds = app.extensions.get("trainer.todo_kinds", {})
    if item is None or item.staff_id != staff_id or not kinds.get(item.kind, (None, False))[1]:
        raise NotFound("No such item.")
    if item.done_at is None:
        item.done_at = now
        db.session.flush()


def open_todos(app: Flask, staff_id: int) -> list[TodoView]:
    renderers = app.extensions.get("trainer.todo_kinds", {})
    items = db.session.scalars(select(TodoItem).where(
        TodoItem.staff_id == staff_id, TodoItem.done_at.is_(None))
        .order_by(TodoItem.due_on.is_(None), TodoItem.due_on, TodoItem.created_at)).all()
    views = []
    for item in items:
        render, dismissible = renderers.get(item.kind, (None, False))
        shown = render(item) if render else None
        if shown is not None:
            views.append(TodoView(item.id, shown[0], shown[1], item.due_on, item.created_at,
                                  dismissible))
    return views
