"""Pure reading and checking of a filled paper sign-in sheet (签到表) typed into XLSX or CSV:
工号, 签到时间, 签退时间 (local HH:MM, blank allowed), 状态 (请假 / 缺勤 / 出勤, optional), 备注.
Nothing here touches the database: the caller looks up the employee numbers and the roster and
hands them in, and records what comes out only when no row has an error (all or nothing)."""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from trainer.accounts.rules import employee_no_key
from trainer.accounts.staff_import import RowError

__all__ = ["COLUMNS", "MAX_ROWS", "SheetLine", "SheetRow", "SheetSpan", "StaffRef", "check_lines",
           "read_lines"]

COLUMNS = {
    "employee_no": ("工号", "员工编号", "employee_no", "employee no", "employee number"),
    "check_in": ("签到时间", "签到", "check_in", "check-in", "check in"),
    "check_out": ("签退时间", "签退", "check_out", "check-out", "check out"),
    "status": ("状态", "status"),
    "note": ("备注", "note", "notes"),
}
REQUIRED = ("employee_no", "check_in", "check_out")
LABELS = {"employee_no": "工号", "check_in": "签到时间", "check_out": "签退时间",
          "status": "状态", "note": "备注"}
# What the 状态 column may say. A row with times and no status records those times.
LEAVE, ABSENT, PRESENT, TIMES = "leave", "absent", "present", "times"
STATUS_WORDS = {"请假": LEAVE, "事假": LEAVE, "病假": LEAVE, "leave": LEAVE,
                "缺勤": ABSENT, "absent": ABSENT,
                "出勤": PRESENT, "present": PRESENT}
MAX_ROWS = 2000          # a class's roster, with room to spare
MAX_NOTE = 200
_CLOCK = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?$")
_STAMP = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})[ T]+(\d{1,2}:\d{2}(?::\d{2})?)$")


@dataclass(frozen=True)
class SheetLine:
    """One filled row of the sheet, as text (what a preview's confirmation carries back)."""

    row: int              # spreadsheet row number, the header being 1
    employee_no: str
    check_in: str
    check_out: str
    status: str
    note: str

    def as_list(self) -> list:
        return [self.row, self.employee_no, self.check_in, self.check_out, self.status,
                self.note]

    @classmethod
    def from_list(cls, values: Sequence) -> SheetLine:
        row, *texts = values
        if not isinstance(row, int) or len(texts) != 5 or \
                not all(isinstance(t, str) for t in texts):
            raise ValueError("not a sheet line")
        return cls(row, *texts)


@dataclass(frozen=True)
class StaffRef:
    """What the checks need to know of a person the sheet names."""

    id: int
    name: str
    employee_no: str
    booked: bool          # on the class's roster (booked)


@dataclass(frozen=True)
class SheetSpan:
    """The session the sheet belongs to: its times (aware UTC), the centre's zone, and how
    early a check-in and how late a check-out can be (its windows)."""

    starts_at: datetime
    ends_at: datetime
    zone: str
    earliest: datetime
    latest: datetime

    def local(self, moment: datetime) -> datetime:
        return moment.astimezone(ZoneInfo(self.zone))

    @property
    def day(self) -> date:
        return self.local(self.starts_at).date()

    def text(self) -> str:
        """The span as the sheet's reader sees it: 08:45–10:20."""
        return f"{self.local(self.earliest):%H:%M}–{self.local(self.latest):%H:%M}"


@dataclass(frozen=True)
class SheetRow:
    """A good row: what it records for whom."""

    row: int
    staff: StaffRef
    action: str                      # TIMES, PRESENT, ABSENT or LEAVE
    check_in_at: datetime | None = None
    check_out_at: datetime | None = None
    note: str = ""


@dataclass
class SheetCheck:
    rows: list[SheetRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)   # row numbers with nothing filled in


def _text(value: object) -> str:
    """A cell as text, the way a person reads it: an Excel time as HH:MM, a date and time as
    YYYY-MM-DD HH:MM, 1001.0 as 1001, a time stored as a fraction of a day as HH:MM."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        if 0 < value < 1:      # a time cell whose format was lost: a fraction of a day
            minutes = round(value * 24 * 60)
            return f"{minutes // 60:02d}:{minutes % 60:02d}" if minutes < 24 * 60 else "24:00"
    return str(value).strip()


def read_lines(table: list[list[object]]) -> tuple[list[SheetLine], list[RowError]]:
    """The filled rows of a sheet's table (header first), as text; errors for a missing
    column, an empty file or one too long. Rows with nothing in them are left out."""
    while table and not any(_text(c) for c in table[-1]):
        table = table[:-1]
    if not table:
        return [], [RowError(0, "", "The file is empty.")]
    positions: dict[str, int] = {}
    for index, cell in enumerate(table[0]):
        label = unicodedata.normalize("NFKC", _text(cell)).strip().lower()
        for key, names in COLUMNS.items():
            if label in names:
                positions.setdefault(key, index)
    missing = [key for key in REQUIRED if key not in positions]
    if missing:
        return [], [RowError(1, LABELS[key], "Required column %(column)s is missing.",
                             {"column": LABELS[key]}) for key in missing]
    if len(table) - 1 > MAX_ROWS:
        return [], [RowError(0, "", "The file has more than %(max)d rows.", {"max": MAX_ROWS})]
    lines = []
    for number, cells in enumerate(table[1:], start=2):
        def get(key: str) -> str:
            index = positions.get(key)
            return _text(cells[index]) if index is not None and index < len(cells) else ""

        values = [get(key) for key in COLUMNS]
        if any(values):
            lines.append(SheetLine(number, *values))
    if not lines:
        return [], [RowError(1, "", "The file has a header but no rows.")]
    return lines, []


def _clock(text: str, span: SheetSpan) -> datetime | None:
    """A time of the session's day (or the day after, for a session past midnight) as aware
    UTC; None when it cannot be read. A date may come with it (YYYY-MM-DD HH:MM)."""
    text = unicodedata.normalize("NFKC", text).strip()
    days = [span.day, span.day + timedelta(days=1)]
    stamp = _STAMP.match(text)
    if stamp:
        try:
            given = date(int(stamp[1]), int(stamp[2]), int(stamp[3]))
        except ValueError:
            return None
        days, text = [given], stamp[4]
    match = _CLOCK.match(text)
    if not match:
        return None
    hour, minute = int(match[1]), int(match[2])
    if hour > 23 or minute > 59 or (match[3] is not None and int(match[3]) > 59):
        return None
    zone = ZoneInfo(span.zone)
    moments = [datetime.combine(day, time(hour, minute), tzinfo=zone).astimezone(
        span.starts_at.tzinfo) for day in days]
    # The session's own day unless only the next day falls inside it (past midnight).
    for moment in moments:
        if span.earliest <= moment <= span.latest:
            return moment
    return moments[0]


def check_lines(lines: Sequence[SheetLine], span: SheetSpan,
                staff: Mapping[str, StaffRef]) -> SheetCheck:
    """Check every row and report every problem at once, each with its row and column:
    an unknown employee number, a person not on the roster, a number given twice, a time that
    cannot be read or falls outside the session, a check-out before the check-in, a status
    with times or one not known. `staff` maps employee_no_key to the people the file names."""
    result = SheetCheck()
    seen: dict[str, int] = {}
    for line in lines:
        if not (line.check_in or line.check_out or line.status.strip()):
            # A template's row left blank (a number, a name, perhaps a note): nothing to record,
            # whoever it names.
            result.skipped.append(line.row)
            continue
        errors: list[RowError] = []
        person = None
        key = employee_no_key(line.employee_no)
        if not key:
            errors.append(RowError(line.row, "工号", "The employee number is empty."))
        elif key in seen:
            errors.append(RowError(line.row, "工号", "The employee number %(value)s is already "
                                   "on row %(other)d.", {"value": line.employee_no,
                                                         "other": seen[key]}))
        else:
            seen[key] = line.row
            person = staff.get(key)
            if person is None:
                errors.append(RowError(line.row, "工号", "No staff member has the employee "
                                       "number %(value)s.", {"value": line.employee_no}))
            elif not person.booked:
                errors.append(RowError(line.row, "工号", "%(name)s (%(value)s) is not on this "
                                       "class's roster.", {"name": person.name,
                                                           "value": person.employee_no}))
        moments: dict[str, datetime | None] = {}
        for column, text in (("check_in", line.check_in), ("check_out", line.check_out)):
            moments[column] = None
            if not text:
                continue
            moment = _clock(text, span)
            if moment is None:
                errors.append(RowError(line.row, LABELS[column], "%(value)s is not a time like "
                                       "09:05.", {"value": text}))
            elif not span.earliest <= moment <= span.latest:
                errors.append(RowError(line.row, LABELS[column], "%(value)s is outside the "
                                       "session (%(span)s on %(day)s).",
                                       {"value": text, "span": span.text(),
                                        "day": span.day.isoformat()}))
            else:
                moments[column] = moment
        check_in, check_out = moments["check_in"], moments["check_out"]
        if check_in is not None and check_out is not None and check_out <= check_in:
            errors.append(RowError(line.row, "签退时间", "The check-out %(out)s is not after the "
                                   "check-in %(in)s.", {"out": line.check_out,
                                                       "in": line.check_in}))
        status = line.status.strip()
        action = STATUS_WORDS.get(unicodedata.normalize("NFKC", status).lower()) \
            if status else None
        if status and action is None:
            errors.append(RowError(line.row, "状态", "Unknown status %(value)s: write 请假, 缺勤 "
                                   "or 出勤, or leave it empty.", {"value": status}))
        elif action in (LEAVE, ABSENT) and (line.check_in or line.check_out):
            errors.append(RowError(line.row, "状态", "A row marked %(value)s has no times.",
                                   {"value": status}))
        if len(line.note) > MAX_NOTE:
            errors.append(RowError(line.row, "备注", "The note is longer than %(max)d "
                                   "characters.", {"max": MAX_NOTE}))
        if errors:
            result.errors.extend(errors)
            continue
        assert person is not None
        if action is None or (action == PRESENT and (check_in or check_out)):
            action = TIMES
        result.rows.append(SheetRow(line.row, person, action, check_in, check_out,
                                    line.note.strip()))
    return result
