"""Pure parsing and validation of a staff list (XLSX or CSV). Nothing here touches the database;
the service checks what only the database knows (existing employee numbers) and saves."""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import islice

from trainer.accounts.rules import employee_no_key, normalise_employee_no
from trainer.core.errors import DomainError, N_
from trainer.core.spreadsheets import SpreadsheetRefused, check_xlsx_archive
from trainer.core.textfiles import DecodeError, decode_bytes

COLUMNS = {
    "employee_no": ("工号", "员工编号", "employee_no", "employee no", "employee number", "id"),
    "name": ("姓名", "name"),
    "department": ("部门", "department", "dept"),
    "position": ("岗位", "职位", "position", "post"),
    "hire_date": ("入职日期", "hire_date", "hire date", "hired"),
    "roles": ("角色", "roles", "role"),
}
REQUIRED = ("employee_no", "name", "hire_date")
COLUMN_LABELS = {"employee_no": "工号", "name": "姓名", "department": "部门", "position": "岗位",
                 "hire_date": "入职日期", "roles": "角色"}
ROLE_WORDS = {
    "学员": "learner", "员工": "learner", "坐席": "learner", "learner": "learner",
    "培训师": "trainer", "讲师": "trainer", "trainer": "trainer",
    "考评员": "assessor", "考官": "assessor", "assessor": "assessor",
    "人力资源": "hr", "人事": "hr", "hr": "hr",
    "管理员": "admin", "admin": "admin", "administrator": "admin",
}
MAX_ROWS = 20000
MAX_COLUMNS = 100  # the reader stops there: a staff list has six
_DATE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")


@dataclass
class RowError:
    row: int          # spreadsheet row number, header = 1
    column: str       # the column's label, "" for the whole row or file
    message: str      # gettext msgid with %(…)s placeholders ({…} when brace is set)
    params: dict = field(default_factory=dict)
    brace: bool = False

    def render(self, translate) -> str:
        text = translate(self.message)
        return text.format(**self.params) if self.brace else text % self.params


@dataclass
class StaffRow:
    row: int
    employee_no: str
    name: str
    department: str
    position: str
    hire_date: date
    roles: list[str]


@dataclass
class StaffImport:
    rows: list[StaffRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors and bool(self.rows)


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def read_table(data: bytes, filename: str) -> list[list[object]]:
    """Rows of cells from an XLSX or CSV file; raises DecodeError (with the row when it is
    known) for anything else."""
    if not data:
        raise DecodeError(N_("The file is empty."))
    if data[:4] == b"PK\x03\x04" or filename.lower().endswith(".xlsx"):
        return _read_xlsx(data)
    text, _encoding = decode_bytes(data)
    rows: list[list[object]] = []
    try:
        for row in csv.reader(io.StringIO(text)):
            rows.append(row)
    except csv.Error as exc:
        # Without NUL bytes or stray carriage returns (decode_bytes sees to both), the one error
        # left is a cell over the csv module's limit: an unclosed quote swallows the rest.
        raise DecodeError(N_("Row {row} cannot be read: a cell is too long, often because a "
                             "quotation mark is not closed."), row=len(rows) + 1) from exc
    return rows


def _read_xlsx(data: bytes) -> list[list[object]]:
    from openpyxl import load_workbook  # imported here: only spreadsheet uploads pay for it

    try:
        check_xlsx_archive(data)  # before openpyxl unpacks anything
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except SpreadsheetRefused:
        raise
    except Exception as exc:  # noqa: BLE001 - zip, XML and openpyxl errors alike mean "unreadable"
        raise DecodeError(N_("The file is not a readable XLSX spreadsheet.")) from exc
    rows: list[list[object]] = []
    try:
        if not workbook.worksheets:
            raise DecodeError(N_("The workbook has no worksheet."))
        cells = workbook.worksheets[0].iter_rows(values_only=True, max_col=MAX_COLUMNS)
        # Rows are unpacked and parsed as they are read: damage shows at the row it is in.
        for row in islice(cells, MAX_ROWS + 2):
            rows.append(list(row))
    except DecodeError:
        raise
    except Exception as exc:  # noqa: BLE001 - zip, XML and openpyxl errors alike mean "damaged"
        raise DecodeError(N_("Row {row} of the sheet cannot be read: the file is damaged. Open "
                             "it in Excel or WPS and save it again."), row=len(rows) + 1) from exc
    finally:
        workbook.close()
    return rows


def _map_header(header: list[object]) -> tuple[dict[str, int], list[RowError]]:
    positions: dict[str, int] = {}
    errors: list[RowError] = []
    for index, cell in enumerate(header):
        label = _cell_text(cell).lower()
        for key, names in COLUMNS.items():
            if label in names:
                positions.setdefault(key, index)
    for key in REQUIRED:
        if key not in positions:
            errors.append(RowError(1, COLUMN_LABELS[key], "Required column %(column)s is missing.",
                                   {"column": COLUMN_LABELS[key]}))
    return positions, errors


def _parse_date(value: object) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    match = _DATE.match(_cell_text(value))
    if not match:
        return None
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None


def _parse_roles(text: str) -> tuple[list[str], list[str]]:
    roles: list[str] = []
    unknown: list[str] = []
    for word in re.split(r"[,，、;；/\s]+", text.strip()):
        if not word:
            continue
        role = ROLE_WORDS.get(word.lower())
        if role is None:
            unknown.append(word)
        elif role not in roles:
            roles.append(role)
    return roles or ["learner"], unknown


def parse_staff_table(table: list[list[object]], today: date) -> StaffImport:
    """Validate every row; collect every problem with its row number and column."""
    result = StaffImport()
    # Trailing empty rows are common in spreadsheets; they are not errors.
    while table and not any(_cell_text(c) for c in table[-1]):
        table.pop()
    if not table:
        result.errors.append(RowError(0, "", "The file is empty."))
        return result
    positions, errors = _map_header(table[0])
    if errors:
        result.errors.extend(errors)
        return result
    if len(table) == 1:
        result.errors.append(RowError(1, "", "The file has a header but no staff rows."))
        return result
    if len(table) - 1 > MAX_ROWS:
        result.errors.append(RowError(0, "", "The file has more than %(max)d rows.",
                                      {"max": MAX_ROWS}))
        return result
    seen: dict[str, int] = {}
    for number, cells in enumerate(table[1:], start=2):
        def get(key: str) -> object:
            index = positions.get(key)
            return cells[index] if index is not None and index < len(cells) else None

        if not any(_cell_text(c) for c in cells):
            continue
        row_errors: list[RowError] = []
        employee_no = _cell_text(get("employee_no"))
        name = _cell_text(get("name"))
        department = _cell_text(get("department"))
        position = _cell_text(get("position"))
        refused = None
        if employee_no:
            try:  # the one rule of the HR form and sign-in (NFKC, trimmed, no hidden characters)
                employee_no = normalise_employee_no(employee_no)
            except DomainError as exc:
                refused = exc
        if not employee_no:
            row_errors.append(RowError(number, "工号", "The employee number is empty."))
        elif refused is not None:
            row_errors.append(RowError(number, "工号", refused.message, refused.params))
        elif (key := employee_no_key(employee_no)) in seen:
            row_errors.append(RowError(number, "工号", "The employee number %(value)s is already "
                                       "on row %(other)d.", {"value": employee_no,
                                                             "other": seen[key]}))
        else:
            seen[key] = number
        if not name:
            row_errors.append(RowError(number, "姓名", "The name is empty."))
        elif len(name) > 80:
            row_errors.append(RowError(number, "姓名", "The name is longer than 80 characters."))
        for key, value in (("department", department), ("position", position)):
            if len(value) > 80:
                row_errors.append(RowError(number, COLUMN_LABELS[key],
                                           "The value is longer than 80 characters."))
        raw_date = get("hire_date")
        hire_date = _parse_date(raw_date)
        if hire_date is None:
            row_errors.append(RowError(number, "入职日期", "The hire date %(value)s is not a date "
                                       "like 2024-03-01.", {"value": _cell_text(raw_date)}))
        elif hire_date > today:
            row_errors.append(RowError(number, "入职日期", "The hire date %(value)s is in the "
                                       "future.", {"value": hire_date.isoformat()}))
        roles, unknown = _parse_roles(_cell_text(get("roles")))
        if unknown:
            row_errors.append(RowError(number, "角色", "Unknown role %(value)s.",
                                       {"value": "、".join(unknown)}))
        if row_errors:
            result.errors.extend(row_errors)
            continue
        assert hire_date is not None
        result.rows.append(StaffRow(number, employee_no, name, department, position, hire_date,
                                    roles))
    if not result.rows and not result.errors:
        result.errors.append(RowError(1, "", "The file has a header but no staff rows."))
    return result


def template_csv(departments: list[str], positions: list[str]) -> bytes:
    """The template, its examples naming the centre's own departments and positions (the
    import accepts only names on those lists; an example naming another would fail)."""
    department = departments[0] if departments else ""
    first = positions[0] if positions else ""
    second = positions[1] if len(positions) > 1 else first
    rows = [["工号", "姓名", "部门", "岗位", "入职日期", "角色"],
            ["K1001", "张晓燕", department, first, "2026-03-01", "学员"],
            ["K1002", "李明", department, second, "2024-09-15", "学员、培训师"]]
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode("utf-8-sig")
