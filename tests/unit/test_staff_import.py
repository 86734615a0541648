"""Staff list parsing and validation (pure): every bad row reported with row and column."""
from datetime import date

import pytest
from openpyxl import Workbook

from trainer.accounts.staff_import import parse_staff_table, read_table, template_csv
from trainer.core.textfiles import DecodeError

TODAY = date(2026, 11, 22)
HEADER = "工号,姓名,部门,岗位,入职日期,角色\n"


def parse_csv(text: str, encoding: str = "utf-8"):
    return parse_staff_table(read_table(text.encode(encoding), "staff.csv"), TODAY)


def test_good_csv():
    result = parse_csv(HEADER + "K1,张三,客服一部,坐席,2024-03-01,学员\n"
                       "K2,李四,客服一部,质检员,2023/7/9,学员、培训师\n")
    assert result.ok
    assert [r.employee_no for r in result.rows] == ["K1", "K2"]
    assert result.rows[1].roles == ["learner", "trainer"]
    assert result.rows[1].hire_date == date(2023, 7, 9)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030", "gbk"])
def test_encodings_are_read(encoding):
    result = parse_csv(HEADER + "K1,张三,客服一部,坐席,2024年3月1日,学员\n", encoding)
    assert result.ok and result.rows[0].name == "张三"


def test_english_headers_are_accepted():
    result = parse_csv("employee_no,name,department,position,hire_date,roles\n"
                       "K1,Zhang San,Dept,Agent,2024-03-01,learner\n")
    assert result.ok


def test_every_bad_row_is_reported_with_row_and_column():
    result = parse_csv(HEADER +
                       "K1,张三,客服一部,坐席,2024-03-01,学员\n"
                       ",李四,客服一部,坐席,2024-03-01,学员\n"      # row 3: no number
                       "K3,,客服一部,坐席,2024-03-01,学员\n"        # row 4: no name
                       "K4,王五,客服一部,坐席,2024-13-01,学员\n"     # row 5: bad date
                       "K1,赵六,客服一部,坐席,2024-03-01,学员\n"     # row 6: duplicate
                       "K6,钱七,客服一部,坐席,2099-01-01,学员\n"     # row 7: future
                       "K7,孙八,客服一部,坐席,2024-03-01,厨师\n"     # row 8: unknown role
                       "K 8,周九,客服一部,坐席,2024-03-01,学员\n")   # row 9: bad number
    assert not result.ok
    found = {(e.row, e.column) for e in result.errors}
    assert found == {(3, "工号"), (4, "姓名"), (5, "入职日期"), (6, "工号"), (7, "入职日期"),
                     (8, "角色"), (9, "工号")}


def test_missing_required_column():
    result = parse_csv("工号,部门\nK1,客服一部\n")
    assert {e.column for e in result.errors} == {"姓名", "入职日期"}


def test_empty_and_header_only_files():
    with pytest.raises(DecodeError):
        read_table(b"", "x.csv")
    assert not parse_csv(HEADER).ok
    assert not parse_csv("\n\n").ok


def test_binary_file_is_not_a_spreadsheet():
    with pytest.raises(DecodeError):
        read_table(b"\x00\x01\x02binary\xff" * 50, "x.csv")
    with pytest.raises(DecodeError):
        read_table(b"PK\x03\x04 truncated zip", "x.xlsx")


def test_undecodable_bytes_are_refused():
    with pytest.raises(DecodeError):
        read_table(b"abc,\x81\x20def\n", "x.csv")


def test_xlsx_with_real_date_cells(tmp_path):
    from datetime import datetime
    import io

    wb = Workbook()
    ws = wb.active
    ws.append(["工号", "姓名", "部门", "岗位", "入职日期", "角色"])
    ws.append([1001, "张三", "客服一部", "坐席", datetime(2024, 3, 1), "学员"])
    buffer = io.BytesIO()
    wb.save(buffer)
    result = parse_staff_table(read_table(buffer.getvalue(), "s.xlsx"), TODAY)
    assert result.ok and result.rows[0].employee_no == "1001"
    assert result.rows[0].hire_date == date(2024, 3, 1)


def test_template_parses_cleanly():
    for departments, positions in ((["客服一部"], ["坐席", "质检员"]), ([], [])):
        parsed = parse_staff_table(read_table(template_csv(departments, positions), "t.csv"),
                                   TODAY)
        assert parsed.ok
    # The examples name the centre's own entries, which the import accepts.
    assert {(r.department, r.position) for r in parsed.rows} == {("", "")}
    rows = parse_staff_table(read_table(template_csv(["客服一部"], ["坐席", "质检员"]), "t.csv"),
                             TODAY).rows
    assert [(r.department, r.position) for r in rows] == [("客服一部", "坐席"),
                                                          ("客服一部", "质检员")]
