"""Bad staff-list files on the import page: each gets the page's clear error naming its row, with
HTTP 422, and changes nothing."""
from __future__ import annotations

import io
import re
import zipfile

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from trainer.accounts.models import StaffMember
from trainer.core.models import AuditEvent

from tests.spreadsheet_bombs import xlsx_bomb


def _state(db_session) -> tuple[int, int]:
    return (db_session.scalar(select(func.count()).select_from(StaffMember)),
            db_session.scalar(select(func.count()).select_from(AuditEvent)))


def _upload(client, data: bytes, filename: str):
    return client.post("/staff/import", {"file": (io.BytesIO(data), filename)},
                       content_type="multipart/form-data")


def _problems(page: str) -> list[tuple[str, str, str]]:
    """(row, column, problem) of each line in the page's table of problems."""
    return re.findall(r"<tr><td>([^<]*)</td><td>([^<]*)</td><td>([^<]*)</td></tr>", page)


def test_a_decompression_bomb_is_refused_clearly(client, users, db_session):
    bomb = xlsx_bomb()
    client.login(users["hr"].employee_no)
    before = _state(db_session)
    response = _upload(client, bomb, "staff.xlsx")
    assert response.status_code == 422
    (problem,) = _problems(response.get_data(as_text=True))
    assert problem[0] == "—" and "工作簿过大" in problem[2] and "解压后" in problem[2]
    assert _state(db_session) == before


HEADER = ["工号", "姓名", "部门", "岗位", "入职日期", "角色"]
GOOD_ROWS = [["K7001", "甲", "客服一部", "坐席", "2025-01-02", "学员"],
             ["K7002", "乙", "客服一部", "坐席", "2025-01-03", "学员"],
             ["K7003", "丙", "客服一部", "坐席", "2025-01-04", "学员"]]


def _xlsx(rows: list[list[object]]) -> bytes:
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _replace_part(data: bytes, name: str, content: bytes | None) -> bytes:
    """The workbook with one part replaced (or left out when content is None)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            if info.filename != name:
                target.writestr(info, source.read(info))
            elif content is not None:
                target.writestr(info, content)
    return out.getvalue()


def _sheet_xml(data: bytes) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return archive.read("xl/worksheets/sheet1.xml")


def _malformed_sheet() -> bytes:
    good = _xlsx([HEADER, *GOOD_ROWS])
    sheet = _sheet_xml(good)
    # The third data row (sheet row 4) is cut off in the middle of a cell.
    broken = sheet[:sheet.index(b'<row r="4"')] + b'<row r="4"><c r="A4" t="inlineStr"><is><t>K7'
    return _replace_part(good, "xl/worksheets/sheet1.xml", broken)


def _corrupt_sheet_data() -> bytes:
    """A zip whose directory is intact but whose sheet's compressed bytes are damaged."""
    good = _xlsx([HEADER, *GOOD_ROWS * 50])
    with zipfile.ZipFile(io.BytesIO(good)) as archive:
        info = archive.getinfo("xl/worksheets/sheet1.xml")
    data = bytearray(good)
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    for offset in range(start + info.compress_size // 2, start + info.compress_size // 2 + 40):
        data[offset] ^= 0x5A
    return bytes(data)


def _no_sheet() -> bytes:
    good = _xlsx([HEADER, *GOOD_ROWS])
    with zipfile.ZipFile(io.BytesIO(good)) as archive:
        workbook = archive.read("xl/workbook.xml")
    empty = re.sub(rb"<sheets>.*</sheets>", b"<sheets/>", workbook)
    return _replace_part(_replace_part(good, "xl/workbook.xml", empty),
                         "xl/worksheets/sheet1.xml", None)


def _csv(rows: list[list[str]], encoding: str) -> bytes:
    return "\n".join(",".join(row) for row in rows).encode(encoding)


BAD_FILES = {
    # name: (file, filename, (row, column) of the problem that must be named, words it says);
    # row "*": the damage is found at whichever row reading reaches it
    "malformed sheet XML": (_malformed_sheet, "staff.xlsx", ("4", "—"), "损坏"),
    "damaged compressed sheet": (_corrupt_sheet_data, "staff.xlsx", ("*", "—"), "损坏"),
    "truncated zip": (lambda: _xlsx([HEADER, *GOOD_ROWS])[:900], "staff.xlsx", ("—", "—"),
                      "XLSX"),
    "workbook without a sheet": (_no_sheet, "staff.xlsx", ("—", "—"), "工作表"),
    "UTF-16 CSV without a byte-order mark": (
        lambda: _csv([HEADER, *GOOD_ROWS], "utf-16-le"), "staff.csv", ("—", "—"), "UTF-8"),
    "Big5 CSV": (lambda: _csv([["工號", "姓名", "部門", "崗位", "入職日期", "角色"],
                               ["K7001", "張三", "客服一部", "坐席", "2025-01-02", "學員"]],
                              "big5"), "staff.csv", ("1", "工号"), "工号"),
    "header without the hire date": (
        lambda: _csv([HEADER[:4], *(r[:4] for r in GOOD_ROWS)], "utf-8"), "staff.csv",
        ("1", "入职日期"), "入职日期"),
    "employee numbers differing only in case": (
        lambda: _csv([HEADER, GOOD_ROWS[0], ["k7001", *GOOD_ROWS[1][1:]], GOOD_ROWS[2]],
                     "utf-8"), "staff.csv", ("3", "工号"), "第 2 行"),
    "the same number with spaces and in another case": (
        lambda: _xlsx([HEADER, GOOD_ROWS[0], GOOD_ROWS[1], [" k7001 ", *GOOD_ROWS[2][1:]]]),
        "staff.xlsx", ("4", "工号"), "第 2 行"),
    "a number in full-width characters, the same as another once normalised": (
        lambda: _xlsx([HEADER, GOOD_ROWS[0], ["Ｋ７００１", *GOOD_ROWS[1][1:]]]),
        "staff.xlsx", ("3", "工号"), "第 2 行"),
    "a number with a zero-width space": (
        lambda: _xlsx([HEADER, GOOD_ROWS[0], ["K70\u200b02", *GOOD_ROWS[1][1:]]]),
        "staff.xlsx", ("3", "工号"), "U+200B"),
    "an unclosed quotation mark": (
        lambda: _csv([HEADER, GOOD_ROWS[0], ['"K7002', "乙"]], "utf-8") + b"x" * 140_000,
        "staff.csv", ("3", "—"), "引号"),
}


@pytest.mark.parametrize("case", BAD_FILES)
def test_a_bad_file_gets_a_clear_error_naming_its_row_and_changes_nothing(
        case, client, users, db_session):
    make, filename, (row, column), words = BAD_FILES[case]
    client.login(users["hr"].employee_no)
    before = _state(db_session)
    response = _upload(client, make(), filename)
    assert response.status_code == 422, case
    problems = _problems(response.get_data(as_text=True))
    assert any((r == row or row == "*" and r.isdigit()) and c == column and words in text
               for r, c, text in problems), problems
    assert _state(db_session) == before


def test_a_number_already_taken_in_another_case_is_named_with_its_row(client, users, db_session):
    client.login(users["hr"].employee_no)
    before = _state(db_session)
    taken = users["learner"].employee_no.lower()
    response = _upload(client, _csv([HEADER, GOOD_ROWS[0], [taken, *GOOD_ROWS[1][1:]]], "utf-8"),
                       "staff.csv")
    assert response.status_code == 422
    (problem,) = _problems(response.get_data(as_text=True))
    assert problem[:2] == ("3", "工号") and taken in problem[2]
    assert _state(db_session) == before


def test_a_row_refused_while_saving_is_named_and_nobody_is_half_imported(
        client, users, db_session, monkeypatch):
    # As when another import creates the same person between this one's checks and its saving.
    from trainer.accounts import services
    from trainer.core.errors import DomainError

    real = services.create_staff
    calls = []

    def failing_on_the_second(*args, **kwargs):
        calls.append(kwargs["employee_no"])
        if len(calls) == 2:
            raise DomainError("Employee number %(no)s is already in use.", no="K7002")
        return real(*args, **kwargs)

    monkeypatch.setattr(services, "create_staff", failing_on_the_second)
    client.login(users["hr"].employee_no)
    before = _state(db_session)
    response = _upload(client, _csv([HEADER, *GOOD_ROWS], "utf-8"), "staff.csv")
    assert calls == ["K7001", "K7002"] and response.status_code == 422
    (problem,) = _problems(response.get_data(as_text=True))
    assert problem == ("3", "—", "工号 K7002 已被使用。")
    assert _state(db_session) == before
