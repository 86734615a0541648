"""Pure rules of the staff record: status from events, event validity, password policy."""
from __future__ import annotations

import secrets
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from trainer.core.errors import DomainError, N_


class EventLike(Protocol):
    id: int | None
    kind: str
    occurred_on: date
    voids_event_id: int | None


@dataclass
class NewEvent:
    kind: str
    occurred_on: date
    id: int | None = None
    voids_event_id: int | None = None


STATUS_AFTER = {"hire": "active", "leave_start": "on_leave", "leave_return": "active",
                "leaving": "left"}
RECORDABLE_KINDS = ("hire", "leave_start", "leave_return", "nomination", "position_change",
                    "leaving")


def effective_events(events: Iterable[EventLike]) -> list[EventLike]:
    """Events that count: not voids themselves and not voided by a later event, in date order."""
    events = list(events)
    voided = {e.voids_event_id for e in events if e.kind == "void"}
    kept = [e for e in events if e.kind != "void" and e.id not in voided]
    # Events without an id yet (being added) sort after stored events of the same day.
    return sorted(kept, key=lambda e: (e.occurred_on, e.id if e.id is not None else 1 << 62))


def derive_status(events: Iterable[EventLike]) -> str:
    status = "active"
    for event in effective_events(events):
        status = STATUS_AFTER.get(event.kind, status)
    return status


def check_sequence(events: Sequence[EventLike]) -> None:
    """Refuse a history that cannot have happened (a return without a leave, say)."""
    status: str | None = None
    for event in effective_events(events):
        kind = event.kind
        if kind == "hire":
            if status in ("active", "on_leave"):
                raise DomainError("A hire on %(date)s comes while the person is already employed.",
                                  date=event.occurred_on.isoformat())
        elif kind == "leave_start":
            if status == "on_leave":
                raise DomainError("A leave starting on %(date)s comes while the person is "
                                  "already on leave.", date=event.occurred_on.isoformat())
            if status == "left":
                raise DomainError("A leave on %(date)s comes after the person left.",
                                  date=event.occurred_on.isoformat())
        elif kind == "leave_return":
            if status != "on_leave":
                raise DomainError("A return on %(date)s has no leave before it.",
                                  date=event.occurred_on.isoformat())
        elif kind in ("nomination", "position_change", "leaving"):
            if status == "left":
                raise DomainError("An event on %(date)s comes after the person left.",
                                  date=event.occurred_on.isoformat())
        status = STATUS_AFTER.get(kind, status or "active")


def last_leave_days(events: Iterable[EventLike]) -> int | None:
    """Length in days (return date − start date) of the leave the latest return ended."""
    start: date | None = None
    length: int | None = None
    for event in effective_events(events):
        if event.kind == "leave_start":
            start = event.occurred_on
        elif event.kind == "leave_return" and start is not None:
            length = (event.occurred_on - start).days
            start = None
    return length


PASSWORD_MIN_LENGTH = 8
_OTP_ALPHABET = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKMNPQRSTUVWXYZ23456789"


def password_problems(password: str, employee_no: str) -> list[str]:
    """Messages (gettext msgids) for a password a person may not choose."""
    problems = []
    if len(password) < PASSWORD_MIN_LENGTH:
        problems.append(N_("The password must have at least 8 characters."))
    if password.strip().lower() == employee_no.strip().lower():
        problems.append(N_("The password must not be your employee number."))
    if len(set(password)) < 3:
        problems.append(N_("The password is too simple."))
    return problems


def one_time_password() -> str:
    """A password to hand over once; unambiguous characters so it can be read aloud."""
    return "".join(secrets.choice(_OTP_ALPHABET) for _ in range(10))


# Browser and system names people recognise, most specific first (Edge and the WeChat browser
# also say "Chrome"; Chrome also says "Safari").
_BROWSERS = (("MicroMessenger", "WeChat"), ("DingTalk", "DingTalk"), ("Edg/", "Edge"),
             ("OPR/", "Opera"), ("Firefox/", "Firefox"), ("Chromium/", "Chromium"),
             ("Chrome/", "Chrome"), ("Safari/", "Safari"))
_SYSTEMS = (("Windows", "Windows"), ("iPhone", "iPhone"), ("iPad", "iPad"),
            ("Android", "Android"), ("Mac OS X", "macOS"), ("CrOS", "ChromeOS"),
            ("Linux", "Linux"))


def describe_browser(user_agent: str) -> str:
    """A short "browser · system" for a person's list of signed-in devices ("" if unknown)."""
    browser = next((name for mark, name in _BROWSERS if mark in user_agent), "")
    system = next((name for mark, name in _SYSTEMS if mark in user_agent), "")
    return " · ".join(p for p in (browser, system) if p)


# Employee numbers are the login: one normalisation for the HR form, the staff import and
# sign-in. NFKC folds full-width and compatibility forms (Ａ０１ → A01); case is folded only to
# compare (SQLite's lower() folds ASCII alone, so the folded key is computed here and stored,
# and its unique index holds on every database).
EMPLOYEE_NO_MAX = 32


def normalise_employee_no(raw: str) -> str:
    """The employee number as stored and shown: NFKC, trimmed. DomainError when it is empty,
    too long, or holds anything but letters, digits, "-", "_" and "." (no spaces, no
    invisible or direction-changing characters, no markup)."""
    number = unicodedata.normalize("NFKC", raw or "").strip()
    if not number or len(number) > EMPLOYEE_NO_MAX:
        raise DomainError("The employee number is required (at most 32 characters).")
    if not all(c in "-_." or unicodedata.category(c)[0] in "LN" for c in number):
        raise DomainError("An employee number holds only letters, digits, -, _ and . "
                          "(%(value)s does not).", value=_visible(number))
    return number


def employee_no_key(raw: str) -> str:
    """What two employee numbers are compared by (unique in the database): NFKC, trimmed,
    case-folded. Lenient: a sign-in with a malformed number simply finds nobody."""
    return unicodedata.normalize("NFKC", raw or "").strip().casefold()[:2 * EMPLOYEE_NO_MAX]


def _visible(text: str) -> str:
    """Invisible and control characters shown as U+XXXX, so a message can name them."""
    return "".join(f"U+{ord(c):04X}" if unicodedata.category(c)[0] in "CZ" and c != " " else c
                   for c in text)


def colliding_employee_nos(numbers: Iterable[str]) -> list[list[str]]:
    """Groups of distinct stored employee numbers that fold to one key (each group sorted)."""
    groups: dict[str, set[str]] = {}
    for number in numbers:
        groups.setdefault(employee_no_key(number), set()).add(number)
    return sorted(sorted(g) for g in groups.values() if len(g) > 1)
