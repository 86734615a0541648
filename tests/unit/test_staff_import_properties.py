"""Fuzzing the staff import as the bank importers are fuzzed: whatever the file, reading it gives
rows or a DecodeError, and checking the rows gives valid staff or errors naming their row —
never another exception. (tests/integration/test_staff_import_fuzz.py: nothing half imported.)"""
from __future__ import annotations

import csv
import io
from datetime import date, datetime, time, timedelta

from hypothesis import event, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from trainer.accounts.rules import employee_no_key, normalise_employee_no
from trainer.accounts.staff_import import (
    COLUMN_LABELS,
    ROLE_WORDS,
    RowError,
    StaffImport,
    parse_staff_table,
    read_table,
)
from trainer.core.textfiles import DecodeError

from tests.hypothesis_profiles import register_profiles

register_profiles()

TODAY = date(2026, 11, 22)
HEADER_WORDS = ["工号", "员工编号", "employee_no", "ID", "姓名", "Name", "部门", "dept", "岗位",
                "职位", "入职日期", "hire date", "角色", "roles", "备注", ""]
# Cells that mean something to the staff list, and the ways real files get them wrong.
MEANINGFUL = ["K1001", "k1001", "K1001 ", "Ｋ１００１", "K-1_2", "K 1001", "张三", "李四",
              "2024-03-01", "2024/3/1", "2024年3月1日", "2024.03.01", "2024-02-30", "2099-01-01",
              "0000-01-01", "学员", "学员、培训师", "人事", "管理员", "厨师", "learner,hr",
              "=SUM(A1:A2)", "=1/0", "=A1", "'0012", "1e9", "-1", "nan", "inf", "\u200b", "　"]
CELL = st.one_of(
    st.none(),
    st.sampled_from(MEANINGFUL),
    st.text(max_size=40),
    st.text(st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF), max_size=90),
    st.integers(min_value=-10**30, max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.dates(), st.datetimes(), st.times(), st.booleans(),
    st.timedeltas(min_value=timedelta(days=-1000), max_value=timedelta(days=1000)),
)
STANDARD = ["工号", "姓名", "部门", "岗位", "入职日期", "角色"]


def _mostly(good: list[object], bad: list[object], *more: st.SearchStrategy) -> st.SearchStrategy:
    # Drawn from the list (each good value five times as likely as a bad one), sometimes more.
    listed = st.sampled_from(good * 5 + bad)
    return st.one_of(listed, *more) if more else listed


# Per column, what a staff list holds there: mostly right, so whole files pass as well as fail.
PLAUSIBLE = {
    "工号": _mostly(["K1001", "k1001", "K1002", " K1003", "K-5_6", "1001", "Z9"],
                   ["Ｋ１００４", "K 7", "", "A" * 33, "工号"],
                   st.from_regex(r"[A-Za-z][0-9]{3,6}", fullmatch=True)),
    "姓名": _mostly(["张三", "李四", "Zhang San", "欧阳娜娜"], ["", "王" * 81]),
    "部门": _mostly(["客服一部", "", "培训部"], ["部" * 81]),
    "岗位": _mostly(["坐席", "质检员", ""], ["岗" * 81]),
    "入职日期": _mostly(["2024-03-01", "2024/3/1", "2024年3月1日", " 2024 - 3 - 1 "],
                      ["2024-02-30", "2099-01-01", "昨天", "", "20240301"]),
    "角色": _mostly(["学员", "学员、培训师", "", "人事 管理员", "Learner"], ["厨师", "learner;chef"]),
}


@st.composite
def tables(draw: st.DrawFn) -> tuple[list[object], list[list[object]]]:
    """A header (the standard columns in any order, or anything) and rows under it: plausible
    rows with the odd empty one, or anything at all."""
    header = draw(st.one_of(
        st.permutations(STANDARD).map(list), st.permutations(STANDARD).map(list),
        st.lists(st.one_of(st.sampled_from(HEADER_WORDS), st.text(max_size=8)), max_size=8)))
    fitting = st.tuples(*(PLAUSIBLE.get(str(label), CELL) for label in header)).map(list)
    # Now and then one cell is anything at all (odd unicode, huge numbers, dates, formulas).
    odd_one = st.tuples(fitting, st.integers(0, 8), CELL).map(
        lambda drawn: drawn[0][:drawn[1]] + [drawn[2]] + drawn[0][drawn[1] + 1:])
    plausible = st.sampled_from([0, 0, 0, 1]).flatmap(lambda odd: odd_one if odd else fitting)
    empty = st.one_of(st.just([]), st.lists(st.none(), max_size=6),
                      st.lists(st.just(""), max_size=6))
    rows = draw(st.one_of(
        st.lists(st.sampled_from([0, 0, 0, 1]).flatmap(lambda e: empty if e else plausible),
                 max_size=8),
        st.lists(st.one_of(plausible, st.lists(CELL, max_size=9), empty), max_size=12)))
    return header, rows


TABLE = tables()
KNOWN_COLUMNS = set(COLUMN_LABELS.values()) | {""}
ROLES = set(ROLE_WORDS.values())


def check(result: object) -> None:
    """What checking a staff list promises, whatever it was given."""
    assert isinstance(result, StaffImport)
    assert result.ok == (not result.errors and bool(result.rows))
    for error in result.errors:
        assert isinstance(error, RowError) and type(error.row) is int and error.row >= 0
        assert error.column in KNOWN_COLUMNS
        assert isinstance(error.render(lambda message: message), str)
    keys = [employee_no_key(row.employee_no) for row in result.rows]
    assert len(keys) == len(set(keys))  # one person per employee number, whatever the case
    for row in result.rows:
        # The one rule of the HR form and sign-in: already normalised, and it would pass it.
        assert normalise_employee_no(row.employee_no) == row.employee_no and row.name
        assert row.hire_date <= TODAY and type(row.hire_date) is date
        assert row.roles and set(row.roles) <= ROLES


def read(data: bytes, filename: str) -> list[list[object]] | None:
    """The table read from the file, or None when it was refused with a DecodeError."""
    try:
        table = read_table(data, filename)
    except DecodeError as refused:
        assert isinstance(refused.message.format(**refused.params), str)
        row = refused.params.get("row", 0)
        assert type(row) is int and row >= 0
        return None
    assert isinstance(table, list) and all(isinstance(row, list) for row in table)
    return table


def csv_bytes(rows: list[list[object]], encoding: str) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows([["" if c is None else str(c) for c in row] for row in rows])
    return out.getvalue().encode(encoding, errors="replace")


def _storable(value: object) -> object:
    if isinstance(value, str):
        return ILLEGAL_CHARACTERS_RE.sub("", value)  # openpyxl cannot store these at all
    return value


def xlsx_bytes(rows: list[list[object]]) -> bytes:
    workbook = Workbook()
    for row in rows:
        workbook.active.append([_storable(c) for c in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


@given(TABLE)
def test_checking_any_table_never_raises(table) -> None:
    header, rows = table
    result = parse_staff_table([header, *rows], TODAY)
    check(result)
    event("some rows pass" if result.rows else "no row passes")
    event("refused" if result.errors else "accepted")


@given(TABLE, st.sampled_from(["utf-8", "utf-8-sig", "gb18030", "utf-16", "big5", "latin-1"]))
def test_any_csv_is_read_or_refused_never_crashes(table, encoding: str) -> None:
    header, rows = table
    found = read(csv_bytes([header, *rows], encoding), "staff.csv")
    if found is not None:
        check(parse_staff_table(found, TODAY))


@settings(max_examples=min(settings.default.max_examples, 100))
@given(TABLE)
def test_any_small_workbook_is_read_or_refused_never_crashes(table) -> None:
    header, rows = table
    found = read(xlsx_bytes([header, *rows]), "staff.xlsx")
    if found is not None:
        check(parse_staff_table(found, TODAY))


_GOOD = xlsx_bytes([["工号", "姓名", "部门", "岗位", "入职日期", "角色"],
                    ["K1", "张三", "客服一部", "坐席", datetime(2024, 3, 1), "学员"],
                    ["K2", "李四", "客服一部", "坐席", "2024-03-02", "学员"]])


@settings(max_examples=min(settings.default.max_examples, 100))
@given(st.integers(0, len(_GOOD) - 1), st.binary(min_size=1, max_size=16),
       st.integers(0, len(_GOOD)))
def test_a_damaged_workbook_is_refused_never_crashes(at: int, junk: bytes, cut: int) -> None:
    for data in (_GOOD[:at] + junk + _GOOD[at + len(junk):], _GOOD[:cut]):
        found = read(data, "staff.xlsx")
        if found is not None:
            check(parse_staff_table(found, TODAY))


@given(st.binary(max_size=3000), st.sampled_from(["staff.csv", "staff.xlsx", "staff.txt", ""]))
def test_any_bytes_are_read_or_refused_never_crash(data: bytes, filename: str) -> None:
    found = read(data, filename)
    if found is not None:
        check(parse_staff_table(found, TODAY))


def test_odd_cells_are_reported_with_their_row_and_column() -> None:
    assert parse_staff_table(read_table(_GOOD, "s.xlsx"), TODAY).ok
    odd = [["工号", "姓名", "入职日期"], [10**30, "x", time(1, 2)], [float("inf"), "y", True]]
    result = parse_staff_table(read_table(xlsx_bytes(odd), "s.xlsx"), TODAY)
    assert {(e.row, e.column) for e in result.errors} == {(2, "入职日期"), (3, "工号"),
                                                          (3, "入职日期")}
