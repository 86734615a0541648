"""The one guard every uploaded XLSX passes before a reader unpacks it (decompression bombs)."""
from __future__ import annotations

import io
import zipfile
from datetime import date

import pytest
from openpyxl import Workbook

from trainer.accounts.staff_import import read_table
from trainer.banks.formats import parse_file, parse_xlsx
from trainer.banks.formats.table import template_xlsx
from trainer.core.spreadsheets import (
    MAX_MEMBERS,
    MAX_RATIO,
    MAX_UNPACKED,
    SpreadsheetRefused,
    check_xlsx_archive,
)
from trainer.core.textfiles import DecodeError

from tests.spreadsheet_bombs import many_parts, xlsx_bomb


def _staff_list(rows: int) -> bytes:
    workbook = Workbook()
    workbook.active.append(["工号", "姓名", "部门", "岗位", "入职日期", "角色"])
    for number in range(rows):
        workbook.active.append([f"K{number:05d}", "张三", "客服一部", "坐席", date(2024, 3, 1),
                                "学员"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_the_bomb_is_real():
    bomb = xlsx_bomb()
    assert len(bomb) < 2 * 2**20  # far under the 10 MB upload limit
    with zipfile.ZipFile(io.BytesIO(bomb)) as archive:
        assert sum(i.file_size for i in archive.infolist()) > 300 * 2**20 > MAX_UNPACKED


def test_a_bomb_is_refused_unopened(monkeypatch):
    bomb = xlsx_bomb()
    _nothing_unpacks(monkeypatch)
    with pytest.raises(SpreadsheetRefused) as refused:
        check_xlsx_archive(bomb)
    assert "too large" in refused.value.message and refused.value.params["size"] >= 300


def test_a_part_that_unpacks_to_far_more_than_its_size_is_refused():
    small_bomb = xlsx_bomb(20)  # under the total, but 20 MB from a few kilobytes
    with pytest.raises(SpreadsheetRefused) as refused:
        check_xlsx_archive(small_bomb)
    assert refused.value.params["name"] == "xl/worksheets/sheet1.xml"
    assert refused.value.params["ratio"] > MAX_RATIO


def test_a_workbook_of_too_many_parts_is_refused():
    check_xlsx_archive(many_parts(MAX_MEMBERS - 20))
    with pytest.raises(SpreadsheetRefused) as refused:
        check_xlsx_archive(many_parts(MAX_MEMBERS))
    assert refused.value.params["max"] == MAX_MEMBERS


def test_real_workbooks_pass():
    check_xlsx_archive(_staff_list(20000))
    check_xlsx_archive(template_xlsx())


def test_what_is_not_a_zip_is_left_to_the_reader():
    with pytest.raises(zipfile.BadZipFile):
        check_xlsx_archive(b"PK\x03\x04 truncated")


def _nothing_unpacks(monkeypatch):
    """Reading any part of an archive (what openpyxl and a bomb's expansion need) fails."""
    def refuse(*_args, **_kwargs):
        raise AssertionError("a part of the archive was unpacked")

    monkeypatch.setattr(zipfile.ZipFile, "read", refuse)
    monkeypatch.setattr(zipfile.ZipFile, "open", refuse)
    import openpyxl

    monkeypatch.setattr(openpyxl, "load_workbook", refuse)


def test_the_staff_import_refuses_a_bomb_before_unpacking_it(monkeypatch):
    bomb = xlsx_bomb()
    _nothing_unpacks(monkeypatch)
    with pytest.raises(DecodeError) as refused:
        read_table(bomb, "staff.xlsx")
    assert "too large" in refused.value.message


def test_the_bank_import_refuses_a_bomb_through_the_same_guard():
    for result in (parse_xlsx(xlsx_bomb()), parse_file(xlsx_bomb(), "bank.xlsx"),
                   parse_xlsx(xlsx_bomb(20))):
        assert not result.questions
        assert [i.kind for i in result.issues] == ["error"]
        assert "Internal error" not in result.issues[0].message
        assert "unpack" in result.issues[0].render()


def test_the_staff_import_reads_no_further_than_its_column_limit():
    from trainer.accounts.staff_import import MAX_COLUMNS

    workbook = Workbook()
    workbook.active.append(["工号", "姓名", "入职日期"] + ["x"] * 500)
    buffer = io.BytesIO()
    workbook.save(buffer)
    (header,) = read_table(buffer.getvalue(), "wide.xlsx")
    assert len(header) == MAX_COLUMNS
