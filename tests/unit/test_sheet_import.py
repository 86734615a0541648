"""Reading and checking a filled paper sign-in sheet, without a database: columns, times in the
centre's zone, the session's span at its edges, and every bad row reported at once."""
from __future__ import annotations

from datetime import datetime, time, timedelta, timezone

import pytest

from trainer.attendance.sheet_import import (
    ABSENT,
    LEAVE,
    MAX_ROWS,
    PRESENT,
    TIMES,
    SheetLine,
    SheetSpan,
    StaffRef,
    check_lines,
    read_lines,
)

UTC = timezone.utc
# 09:00–09:50 in Shanghai (01:00–01:50 UTC); check-in opens 15 min before, check-out closes
# 30 min after: times between 08:45 and 10:20 belong to the session.
START = datetime(2027, 3, 1, 1, 0, tzinfo=UTC)
SPAN = SheetSpan(START, START + timedelta(minutes=50), "Asia/Shanghai",
                 START - timedelta(minutes=15), START + timedelta(minutes=80))
STAFF = {"k1001": StaffRef(1, "张伟", "K1001", True),
         "k1002": StaffRef(2, "李娜", "K1002", True),
         "k1003": StaffRef(3, "王芳", "K1003", True),
         "k2001": StaffRef(9, "赵强", "K2001", False)}      # not on the roster


def line(row, number, check_in="", check_out="", status="", note=""):
    return SheetLine(row, number, check_in, check_out, status, note)


def shanghai(hour, minute, day=1):
    return datetime(2027, 3, day, hour, minute, tzinfo=UTC) - timedelta(hours=8)


# -- reading the table ----------------------------------------------------------------------------

def test_headers_in_chinese_or_english_in_any_order_and_excel_cells_as_text():
    table = [["姓名", "签退时间", "工号", "签到时间", "备注", "状态"],
             ["张伟", time(9, 50), 1001.0, time(9, 2), "", None],
             ["李娜", "", "K1002", 0.375, "迟到原因：堵车", ""],      # 09:00 as a day's fraction
             [None, None, None, None, None, None],                       # blank: left out
             ["王芳", None, "K1003", None, None, "请假"],
             [None, None, None, None, None, None]]                       # trailing: ignored
    lines, errors = read_lines(table)
    assert errors == []
    assert lines == [line(2, "1001", "09:02", "09:50"),
                     line(3, "K1002", "09:00", "", "", "迟到原因：堵车"),
                     line(5, "K1003", status="请假")]
    english = [["Employee No", "Check-in", "Check-out", "Status", "Note"],
               ["K1001", "9:02", "9:50", "", ""]]
    assert read_lines(english)[0] == [line(2, "K1001", "9:02", "9:50")]


def test_a_missing_column_an_empty_file_and_too_many_rows_are_refused():
    lines, errors = read_lines([["工号", "姓名", "签到时间"], ["K1001", "张伟", "09:00"]])
    assert lines == [] and [(e.row, e.column) for e in errors] == [(1, "签退时间")]
    assert read_lines([])[1][0].message == "The file is empty."
    assert read_lines([["工号", "签到时间", "签退时间"], [None, "", ""]])[1][0].message == \
        "The file has a header but no rows."
    big = [["工号", "签到时间", "签退时间"]] + [["K1", "09:00", ""]] * (MAX_ROWS + 1)
    assert read_lines(big)[1][0].params == {"max": MAX_ROWS}


def test_a_line_survives_the_round_trip_of_a_preview_and_nothing_else_does():
    one = line(7, "K1001", "09:00", "09:50", "出勤", "备注")
    assert SheetLine.from_list(one.as_list()) == one
    for bad in ([7, "K1001"], ["7", "K1001", "", "", "", ""], [7, 1001, "", "", "", ""]):
        with pytest.raises(ValueError):
            SheetLine.from_list(bad)


# -- checking the rows ----------------------------------------------------------------------------

def test_good_rows_become_marks_in_the_centres_zone():
    checked = check_lines([
        line(2, "K1001", "09:02", "09:50"),
        line(3, "k1002", "８：５５", ""),              # full-width digits, lower case: the same
        line(4, "K1003", status="请假", note="病假条已交")], SPAN, STAFF)
    assert checked.errors == []
    first, second, third = checked.rows
    assert (first.staff.id, first.action) == (1, TIMES)
    assert first.check_in_at == shanghai(9, 2) and first.check_out_at == shanghai(9, 50)
    assert (second.staff.id, second.check_in_at, second.check_out_at) == \
        (2, shanghai(8, 55), None)
    assert (third.action, third.check_in_at, third.note) == (LEAVE, None, "病假条已交")


def test_statuses_without_times():
    checked = check_lines([line(2, "K1001", status="缺勤"), line(3, "K1002", status="出勤"),
                           line(4, "K1003", "09:00", "", status="出勤")], SPAN, STAFF)
    assert [(r.row, r.action) for r in checked.rows] == [(2, ABSENT), (3, PRESENT), (4, TIMES)]


def test_every_bad_row_is_reported_at_once_with_its_row_and_column():
    checked = check_lines([
        line(2, "K1001", "09:00", "09:50"),          # good, but nothing is kept with errors
        line(3, "K9999", "09:00", "09:50"),          # nobody has this number
        line(4, "K2001", "09:00", "09:50"),          # not on the roster
        line(5, "K1002", "9点", "09:50"),             # not a time
        line(6, "K1003", "09:40", "09:10"),          # check-out before check-in
        line(7, "K1001", "09:00"),                   # the same person twice
        line(8, "", "09:00"),                        # no number
        line(9, "K1004", "23:00", "25:00", "早到"),   # unknown: number, span, time, status
        line(10, "K1005", "09:00", "", "请假"),       # leave with a time
        line(11, "K1006", status="缺勤", note="很" * 201)],
        SPAN, {**STAFF, "k1004": StaffRef(4, "周杰", "K1004", True),
               "k1005": StaffRef(5, "吴敏", "K1005", True),
               "k1006": StaffRef(6, "郑丽", "K1006", True)})
    found = {(e.row, e.column) for e in checked.errors}
    assert found == {(3, "工号"), (4, "工号"), (5, "签到时间"), (6, "签退时间"), (7, "工号"),
                     (8, "工号"), (9, "签到时间"), (9, "签退时间"), (9, "状态"), (10, "状态"),
                     (11, "备注")}
    assert [r.row for r in checked.rows] == [2]       # the caller records nothing: errors
    roster = next(e for e in checked.errors if e.row == 4)
    assert roster.params == {"name": "赵强", "value": "K2001"}
    outside = next(e for e in checked.errors if (e.row, e.column) == (9, "签到时间"))
    assert outside.params["span"] == "08:45–10:20" and outside.params["day"] == "2027-03-01"


def test_the_span_is_the_sessions_windows_edges_included():
    edges = check_lines([line(2, "K1001", "08:45", "10:20")], SPAN, STAFF)
    assert edges.errors == []
    early = check_lines([line(2, "K1001", "08:44", "09:50")], SPAN, STAFF)
    late = check_lines([line(2, "K1001", "09:00", "10:21")], SPAN, STAFF)
    assert [e.column for e in early.errors] == ["签到时间"]
    assert [e.column for e in late.errors] == ["签退时间"]
    same = check_lines([line(2, "K1001", "09:10", "09:10")], SPAN, STAFF)
    assert [e.column for e in same.errors] == ["签退时间"]


def test_a_date_with_the_time_must_be_the_sessions_day():
    good = check_lines([line(2, "K1001", "2027-03-01 09:00", "2027/3/1 09:50")], SPAN, STAFF)
    assert good.errors == [] and good.rows[0].check_in_at == shanghai(9, 0)
    other_day = check_lines([line(2, "K1001", "2027-03-02 09:00", "")], SPAN, STAFF)
    assert [e.column for e in other_day.errors] == ["签到时间"]


def test_a_session_past_midnight_reads_small_hours_as_the_next_day():
    start = shanghai(23, 30)
    span = SheetSpan(start, start + timedelta(hours=1), "Asia/Shanghai",
                     start - timedelta(minutes=15), start + timedelta(minutes=90))
    checked = check_lines([line(2, "K1001", "23:28", "00:31")], span, STAFF)
    assert checked.errors == []
    assert checked.rows[0].check_out_at == shanghai(0, 31, day=2)


def test_a_blank_row_is_left_out_whoever_it_names():
    checked = check_lines([line(2, "K9999", note="没来"), line(3, "K2001"),
                           line(4, "K1001", "09:00", "09:50")], SPAN, STAFF)
    assert checked.errors == [] and checked.skipped == [2, 3]
    assert [r.row for r in checked.rows] == [4]
