"""Pure rules of the staff record: status from events, event validity, password policy."""
from __future__ import annotations

import re
import secrets
import string
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
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
                    "leaving", "stood_down", "reinstated")


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
    """Refuse a history that cannot have happened (a return without a leave, say). A stand-down
    (待岗) is not a status: the person stays employed (half off duty) until reinstated, and only
    one stand-down is in force at a time; leaving ends it."""
    status: str | None = None
    stood_down = False
    for event in effective_events(events):
        kind = event.kind
        if kind == "stood_down":
            if status in (None, "left"):
                raise DomainError("A stand-down on %(date)s comes while the person is not "
                                  "employed.", date=event.occurred_on.isoformat())
            if status == "on_leave":
                raise DomainError("A stand-down on %(date)s comes while the person is on "
                                  "leave.", date=event.occurred_on.isoformat())
            if stood_down:
                raise DomainError("A stand-down on %(date)s comes while the person is already "
                                  "stood down.", date=event.occurred_on.isoformat())
            stood_down = True
            continue
        if kind == "reinstated":
            if not stood_down:
                raise DomainError("A reinstatement on %(date)s has no stand-down before it.",
                                  date=event.occurred_on.isoformat())
            if status == "left":
                raise DomainError("An event on %(date)s comes after the person left.",
                                  date=event.occurred_on.isoformat())
            if status == "on_leave":
                raise DomainError("A reinstatement on %(date)s comes while the person is on "
                                  "leave.", date=event.occurred_on.isoformat())
            stood_down = False
            continue
        if kind == "leaving":
            stood_down = False
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


# ASVS V2.1: at least 12 characters, no composition rules; weak choices are refused by a list of
# common passwords and by zxcvbn's estimate of how many guesses the password would take.
PASSWORD_MIN_LENGTH = 12
_MIN_SCORE = 3  # zxcvbn: 3 and 4 need at least 10^8 guesses ("safely unguessable")
# zxcvbn's matching grows far faster than the length (here: 72 random characters 0.03 s, 100
# 0.27 s, 200 3 s, 400 70 s) and the library refuses more than 72; the first 72 characters of a
# password tell enough about how it was made.
_ZXCVBN_MAX_LENGTH = 72
_OTP_ALPHABET = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKMNPQRSTUVWXYZ23456789"
_OTP_LENGTH = 12
# What people put around a common password to get it past a rule: "dragon2024!", "woaini1314!!".
_PADDING = string.digits + string.punctuation + string.whitespace + "。，、¥—·"
_MIN_CORE = 4  # shorter cores ("qq", "a") are too often part of a good password

# Why a password is refused (shown together, then PASSWORD_ADVICE: what would do).
TOO_SHORT = N_("The password is too short: it needs at least 12 characters.")
TOO_COMMON = N_("It is on the list of common passwords that are tried first.")
WITH_NAME = N_("It contains your name (or its pinyin), which others know.")
WITH_EMPLOYEE_NO = N_("It contains your employee number, which others know.")
WITH_DEPARTMENT = N_("It contains your department's name (or its pinyin), which others know.")
WITH_KEYBOARD_PATTERN = N_("Keyboard patterns such as qwerty or 1qaz2wsx are easy to guess.")
WITH_REPEATS = N_("Repeated characters or words (aaa, abcabc) are easy to guess.")
WITH_SEQUENCE = N_("Sequences such as abcd or 123456 are easy to guess.")
WITH_DATE = N_("Dates and years (a birthday, this year) are easy to guess.")
WITH_WORD = N_("A common word or name is easy to guess, even with digits or symbols added.")
TOO_GUESSABLE = N_("It is too easy to guess.")
PASSWORD_ADVICE = N_("What works: a passphrase of three or four unrelated words (Chinese or "
                     "pinyin is fine) of at least 12 characters; digits, symbols and capitals "
                     "are not needed.")


class PasswordRefused(DomainError):
    """A password a person chose is refused: every reason, then what would do."""

    def __init__(self, reasons: Sequence[str]) -> None:
        super().__init__(reasons[0])
        self.reasons = list(reasons)

    def translated(self) -> str:
        from flask_babel import get_locale, gettext

        # Chinese sentences follow each other without a space.
        locale = get_locale()
        separator = "" if locale is not None and locale.language == "zh" else " "
        return separator.join(gettext(m) for m in (*self.reasons, PASSWORD_ADVICE))


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    path = Path(__file__).with_name("common_passwords.txt")
    lines = (line.strip() for line in path.read_text(encoding="utf-8").splitlines())
    return frozenset(line for line in lines if line and not line.startswith("#"))


def _fold(text: str) -> str:
    # NFKC: Chinese input methods type full-width letters and digits (ｗｏａｉｎｉ１３１４).
    return unicodedata.normalize("NFKC", text).casefold()


def _is_common(folded: str) -> bool:
    listed = common_passwords()
    if folded in listed:
        return True
    for core in (folded.rstrip(_PADDING), folded.strip(_PADDING)):
        if len(core) >= _MIN_CORE and core in listed:
            return True
    return False


def _pinyin_forms(text: str, *, name: bool = False) -> list[str]:
    """The text itself and its pinyin: 客服一部 → kefuyibu; a name also given name first and
    as initials: 张伟 → 张伟, zhangwei, weizhang, zw."""
    from pypinyin import lazy_pinyin  # imported here: its dictionaries take 0.2 s to load

    syllables: list[str] = []
    for piece in lazy_pinyin(_fold(text)):
        # Letters and digits pass through unconverted ("Zhang San"): split them into words.
        syllables.extend(w for w in re.split(r"[\W_]+", piece) if w)
    forms = [re.sub(r"\s+", "", _fold(text)), "".join(syllables)]
    if name and len(syllables) >= 2:
        forms += ["".join(syllables[1:] + syllables[:1]), "".join(s[0] for s in syllables)]
    return forms


def _personal_inputs(name: str, employee_no: str, department: str) -> dict[str, str]:
    """What others know about the person, each mapped to the reason it gives."""
    found: dict[str, str] = {}
    number = _fold(employee_no.strip())
    digits = re.sub(r"\D", "", number)
    for reason, forms in ((WITH_NAME, _pinyin_forms(name, name=True)),
                          (WITH_EMPLOYEE_NO, [number, digits if len(digits) >= 4 else ""]),
                          (WITH_DEPARTMENT, _pinyin_forms(department))):
        for form in forms:
            if len(form) >= 2:
                found.setdefault(form, reason)
    return found


def _matches(sequence: Iterable[dict]) -> Iterable[dict]:
    for match in sequence:
        yield match
        yield from _matches(match.get("base_matches") or ())  # inside a repeat (张伟张伟)


_PATTERN_REASONS = {"spatial": WITH_KEYBOARD_PATTERN, "repeat": WITH_REPEATS,
                    "sequence": WITH_SEQUENCE, "date": WITH_DATE, "regex": WITH_DATE}


def _guessability(folded: str, personal: dict[str, str]) -> str | None:
    """Why zxcvbn finds the password guessable (None when it does not)."""
    from zxcvbn import zxcvbn

    if not folded:
        return TOO_GUESSABLE  # (zxcvbn fails on an empty string)
    result = zxcvbn(folded[:_ZXCVBN_MAX_LENGTH], user_inputs=list(personal))
    if result["score"] >= _MIN_SCORE:
        return None
    matches = list(_matches(result["sequence"]))
    for reason in (WITH_NAME, WITH_EMPLOYEE_NO, WITH_DEPARTMENT):
        if any(m.get("dictionary_name") == "user_inputs"
               and personal.get(m["matched_word"]) == reason for m in matches):
            return reason
    # As zxcvbn's own feedback does: the longest part of the password says how it was made.
    longest = max(result["sequence"], key=lambda m: len(m["token"]), default=None)
    if longest is None:
        return TOO_GUESSABLE
    if longest["pattern"] == "dictionary":
        return TOO_COMMON if longest["dictionary_name"] == "passwords" else WITH_WORD
    return _PATTERN_REASONS.get(longest["pattern"], TOO_GUESSABLE)


def password_problems(password: str, *, name: str, employee_no: str,
                      department: str) -> list[str]:
    """Why a person may not choose this password (gettext msgids; empty when it is fine)."""
    problems = []
    if len(password) < PASSWORD_MIN_LENGTH:
        problems.append(TOO_SHORT)
    folded = _fold(password)
    if _is_common(folded):
        problems.append(TOO_COMMON)  # the list says enough: no pattern to explain
        return problems
    reason = _guessability(folded, _personal_inputs(name, employee_no, department))
    # A short password is always guessable; only a particular reason adds to "too short".
    if reason is not None and not (problems and reason == TOO_GUESSABLE):
        problems.append(reason)
    return problems


def one_time_password(*, name: str = "", employee_no: str = "", department: str = "") -> str:
    """A password to hand over once, meeting the rule people's own passwords meet; unambiguous
    characters so it can be read aloud."""
    while True:
        candidate = "".join(secrets.choice(_OTP_ALPHABET) for _ in range(_OTP_LENGTH))
        if not password_problems(candidate, name=name, employee_no=employee_no,
                                 department=department):
            return candidate


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


def split_employee_nos(text: str) -> list[str]:
    """The employee numbers in a pasted list (spaces, new lines, commas, 、 or semicolons
    between them, as a spreadsheet column or a chat message gives them)."""
    return [n for n in re.split(r"[\s,，、;；]+", text or "") if n]


# Names in the lists HR keeps (departments, positions): NFKC, trimmed, inner spaces collapsed,
# so "客服一部 " and "客服一部" and full-width letters name one entry.
LIST_NAME_MAX = 80
LIST_CODE_MAX = 32


def list_entry_name(raw: str) -> str:
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", raw or "")).strip()


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
