"""The shape most POST routes share: call one service; on a domain error roll back and say why;
else commit once and say it is done; then redirect."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import flash, redirect
from werkzeug.wrappers import Response

from trainer.core.db import db
from trainer.core.errors import DomainError, Forbidden, NotFound


Done = str | list[str] | None


def act(change: Callable[[], Any], *, back: str, done: Done | Callable[[Any], Done] = None
        ) -> Response:
    """Run `change` (one service call) in the request's transaction and redirect to `back`.
    `done` is the success message (or several: the first is the success, the rest follow as
    notes), or a function of the service's result that makes it. A
    refusal that is about access (NotFound, Forbidden) is answered by the error page, with its
    status."""
    try:
        result = change()
    except (NotFound, Forbidden):
        raise  # not this person's, or no such thing: the error page with its status
    except DomainError as exc:
        db.session.rollback()
        flash(exc.translated(), "danger")
        return redirect(back)
    db.session.commit()
    messages = done(result) if callable(done) else done
    for index, message in enumerate([messages] if isinstance(messages, str) else messages or []):
        flash(message, "success" if index == 0 else "info")
    return redirect(back)
