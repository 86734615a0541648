"""Values from outside (URL parts, query strings, forms, JSON) made safe to use: a page to go
back to kept on this site (`local_path`), and numbers bounded to what the database holds.
Python's int has no limit; the id columns are 32-bit integers on PostgreSQL and SQLite refuses
anything past 64 bits, so an id of 2**63 in a URL was a 500 (security review)."""
from __future__ import annotations

from typing import Any

from werkzeug.routing import IntegerConverter

DB_INT_MAX = 2**31 - 1


def db_int(text: Any) -> int:
    """int(text) for a query-string or form value (`request.args.get(..., type=db_int)`), or
    ValueError when it is not one the database holds (werkzeug then uses the default)."""
    value = int(text)
    if not -DB_INT_MAX <= value <= DB_INT_MAX:
        raise ValueError("out of range")
    return value


def is_db_int(value: Any, minimum: int = 0) -> bool:
    """A JSON number usable as a count or position (bools are not numbers here)."""
    return type(value) is int and minimum <= value <= DB_INT_MAX


class DbIntConverter(IntegerConverter):
    """`<int:…>` in routes: a number the database holds, else the URL does not match (404)."""

    def __init__(self, map, *args: Any, **kwargs: Any) -> None:  # noqa: A002 - werkzeug's name
        kwargs.setdefault("max", DB_INT_MAX)
        super().__init__(map, *args, **kwargs)


def install_converters(app) -> None:
    app.url_map.converters["int"] = DbIntConverter


def local_path(target: str | None, default: str) -> str:
    """A page of this site to go back to (a form's "next" or "back"): a path, never another
    host ("//evil", "https://…", "/\\evil"); otherwise `default`."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return default
