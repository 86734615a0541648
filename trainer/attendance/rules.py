"""Attendance as pure rules (no database, the clock injected): rotating check-in codes, the
check-in and check-out windows, and each person's status and minutes at a session, derived
from marks that are only ever appended."""
from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

# -- rotating codes -------------------------------------------------------------------------------
# code = HMAC(session secret, floor(server time / step)): no table of codes, and the display PC
# shows what the server computes, so its clock and a page refresh cannot break a check-in (the
# two commonest failures of Moodle's rotating QR codes). The current and the previous step are
# accepted, so a code read just before it changed still works.

CODE_DIGITS = 6


def step_of(moment: datetime, step_s: int) -> int:
    return int(moment.timestamp()) // step_s


def code_for(secret: str, step: int) -> str:
    digest = hmac.new(bytes.fromhex(secret), step.to_bytes(8, "big"), hashlib.sha256).digest()
    # (dynamic truncation, as in HOTP: RFC 4226 §5.3)
    offset = digest[-1] & 0x0F
    number = int.from_bytes(digest[offset:offset + 4], "big") & 0x7FFFFFFF
    return str(number % 10 ** CODE_DIGITS).zfill(CODE_DIGITS)


def code_matches(secret: str, code: str, step: int, now: datetime, step_s: int) -> bool:
    """A code for `step` is good when `step` is now's or the one before, and it is that step's
    code (compared in constant time)."""
    current = step_of(now, step_s)
    if step not in (current, current - 1):
        return False
    return hmac.compare_digest(code_for(secret, step), str(code).strip())


def matching_step(secret: str, code: str, now: datetime, step_s: int) -> int | None:
    """The step (now's or the previous) whose code this is, or None."""
    current = step_of(now, step_s)
    for step in (current, current - 1):
        if hmac.compare_digest(code_for(secret, step), str(code).strip()):
            return step
    return None


# -- windows --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class SessionTimes:
    starts_at: datetime
    ends_at: datetime
    checkin_opens_min: int = 15      # check-in opens this long before the start …
    checkin_closes_min: int = 30     # … and closes this long after it
    checkout_opens_min: int = 10     # check-out opens this long before the end …
    checkout_closes_min: int = 30    # … and closes this long after it
    late_after_min: int = 5          # checked in later than start + this: late
    early_leave_min: int = 5         # checked out earlier than end − this: left early
    checkout_required: bool = True

    @property
    def minutes(self) -> int:
        return max(0, int((self.ends_at - self.starts_at).total_seconds() // 60))

    @property
    def checkin_window(self) -> tuple[datetime, datetime]:
        return (self.starts_at - timedelta(minutes=self.checkin_opens_min),
                self.starts_at + timedelta(minutes=self.checkin_closes_min))

    @property
    def checkout_window(self) -> tuple[datetime, datetime]:
        return (self.ends_at - timedelta(minutes=self.checkout_opens_min),
                self.ends_at + timedelta(minutes=self.checkout_closes_min))

    @property
    def closes_at(self) -> datetime:
        """When nothing can be scanned any more: the later of the two windows' ends."""
        return max(self.checkin_window[1], self.checkout_window[1])


def _within(moment: datetime, window: tuple[datetime, datetime]) -> bool:
    return window[0] <= moment <= window[1]


def scan_kind(times: SessionTimes, moment: datetime, checked_in: bool) -> str | None:
    """What a scan at `moment` records: "check_in", "check_out", or None (outside both
    windows). Where the windows overlap (a short session), the first scan checks in."""
    in_checkin = _within(moment, times.checkin_window)
    in_checkout = _within(moment, times.checkout_window)
    if in_checkin and (not checked_in or not in_checkout):
        return "check_in" if not checked_in else None
    if in_checkout:
        return "check_out"
    return None


# -- status and minutes ---------------------------------------------------------------------------

PRESENT, LATE, EARLY, LEAVE, ABSENT, PENDING = "present", "late", "early", "leave", "absent", \
    "pending"
# When two apply, the first in this order is the status; the other stays as a flag.
PRECEDENCE = (LEAVE, ABSENT, EARLY, LATE, PRESENT)
MISSING_CHECKOUT = "missing_checkout"


@dataclass(frozen=True)
class Mark:
    """One appended mark. kind: "check_in" / "check_out" (a scan or a typed code, at the time
    of the scan), "present" (the trainer's roster grid: there all along), "absent", or
    "correction" (sets both times, None for unknown; a reason and an author are kept)."""

    kind: str
    recorded_at: datetime
    at: datetime | None = None
    check_in_at: datetime | None = None
    check_out_at: datetime | None = None


@dataclass(frozen=True)
class Attendance:
    status: str                         # one of PRECEDENCE, or PENDING before it is known
    flags: frozenset[str] = field(default_factory=frozenset)
    minutes: int = 0
    check_in_at: datetime | None = None
    check_out_at: datetime | None = None


def times_from(marks: Iterable[Mark], times: SessionTimes
               ) -> tuple[datetime | None, datetime | None, bool]:
    """(check-in, check-out, marked absent) after applying the marks in the order they were
    recorded: the first check-in counts, the last check-out counts, and a trainer's mark or a
    correction replaces what came before it."""
    check_in = check_out = None
    absent = False
    for mark in sorted(marks, key=lambda m: m.recorded_at):
        if mark.kind == "check_in":
            if check_in is None:
                check_in, absent = mark.at, False
        elif mark.kind == "check_out":
            check_out, absent = mark.at, False
        elif mark.kind == "present":
            check_in, check_out, absent = times.starts_at, times.ends_at, False
        elif mark.kind == "absent":
            check_in = check_out = None
            absent = True
        elif mark.kind == "correction":
            check_in, check_out = mark.check_in_at, mark.check_out_at
            absent = check_in is None and check_out is None
    return check_in, check_out, absent


def attended_minutes(times: SessionTimes, check_in: datetime | None,
                     check_out: datetime | None) -> int:
    """From check-in (or the start) to check-out (or the end), clipped to the session; 0
    without a check-in, and 0 when a required check-out is missing (缺签退) until a correction
    gives its time."""
    if check_in is None:
        return 0
    if check_out is None:
        if times.checkout_required:
            return 0
        check_out = times.ends_at
    start = max(check_in, times.starts_at)
    end = min(check_out, times.ends_at)
    return max(0, int((end - start).total_seconds() // 60))


def derive(times: SessionTimes, marks: Sequence[Mark], *, now: datetime,
           leave_approved: bool = False, closed: bool = False) -> Attendance:
    """One person's status at one session, by precedence 请假 > 缺勤 > 早退 > 迟到 > 出勤, the
    other irregularities kept as flags. Absent once the session is closed (or its windows are
    over) with no check-in; a leave request still pending then counts as absent until it is
    decided. Before that, without marks, the status is pending."""
    check_in, check_out, marked_absent = times_from(marks, times)
    flags: set[str] = set()
    if check_in is not None and check_in > times.starts_at + timedelta(
            minutes=times.late_after_min):
        flags.add(LATE)
    over = closed or now > times.closes_at
    if check_in is not None:
        if check_out is not None and check_out < times.ends_at - timedelta(
                minutes=times.early_leave_min):
            flags.add(EARLY)
        elif check_out is None and times.checkout_required and \
                (over or now > times.checkout_window[1]):
            flags.update((EARLY, MISSING_CHECKOUT))
    minutes = attended_minutes(times, check_in, check_out)
    if leave_approved:
        status = LEAVE
    elif marked_absent or (check_in is None and over):
        status = ABSENT
    elif check_in is None:
        status = PENDING
    elif EARLY in flags:
        status = EARLY
    elif LATE in flags:
        status = LATE
    else:
        status = PRESENT
    flags.discard(status)
    return Attendance(status, frozenset(flags), 0 if status in (LEAVE, ABSENT) else minutes,
                      check_in, check_out)


def completed(attended: int, total: int, share_percent: int) -> bool:
    """A class is completed by whoever attended at least that share of its minutes."""
    return total > 0 and attended * 100 >= total * share_percent
