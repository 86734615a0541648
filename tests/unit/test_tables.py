"""List exports: a cell a spreadsheet would run comes back as text, in CSV and XLSX alike; the
CSV opens as UTF-8 in Excel (byte-order mark) and streams in chunks; numbers stay numbers."""
from __future__ import annotations

import csv
import io
import os
from datetime import date, datetime, timezone

import openpyxl
import pytest
from flask import Flask

from trainer.core import tables

HOSTILE = ["=HYPERLINK(\"http://x\",\"y\")", "+1+1", "-2+3", "@SUM(A1)", "\tTAB", "普通文本",
           "http://example.com"]


def test_csv_cells_that_would_run_are_prefixed_and_numbers_are_not():
    assert [tables.csv_cell(v) for v in HOSTILE] == [
        "'=HYPERLINK(\"http://x\",\"y\")", "'+1+1", "'-2+3", "'@SUM(A1)", "'\tTAB", "普通文本",
        "http://example.com"]
    assert tables.csv_cell(-3) == "-3" and tables.csv_cell(2.5) == "2.5"
    assert tables.csv_cell(None) == ""
    assert tables.csv_cell(date(2026, 12, 3)) == "2026-12-03"
    assert tables.csv_cell(datetime(2026, 12, 3, 8, 5, tzinfo=timezone.utc)) == "2026-12-03 08:05"


def test_the_csv_streams_in_chunks_with_one_byte_order_mark_and_reads_back():
    rows = ([f"工号{i:05d}", i, HOSTILE[i % len(HOSTILE)]] for i in range(1234))
    chunks = list(tables.csv_chunks(["工号", "分数", "备注"], rows))
    assert len(chunks) == 3                      # 500 rows a chunk
    data = b"".join(chunks)
    assert data.startswith("\ufeff".encode()) and data.count("\ufeff".encode()) == 1
    read = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert read[0] == ["工号", "分数", "备注"] and len(read) == 1235
    assert read[1] == ["工号00000", "0", "'=HYPERLINK(\"http://x\",\"y\")"]
    assert read[4] == ["工号00003", "3", "'@SUM(A1)"]


def test_the_xlsx_keeps_every_cell_as_written_text_as_text():
    path = tables.xlsx_path(["工号", "分数", "备注"],
                            ([f"A{i}", i, v] for i, v in enumerate(HOSTILE)), sheet="名单")
    try:
        book = openpyxl.load_workbook(path, read_only=True)
        sheet = book["名单"]
        rows = [[c.value for c in row] for row in sheet.iter_rows()]
        # A formula would come back as a cell of type "f"; every one is text ("s") or a number.
        types = {c.data_type for row in book["名单"].iter_rows(min_row=2) for c in row}
        book.close()
    finally:
        os.unlink(path)
    assert rows[0] == ["工号", "分数", "备注"]
    assert [r[2] for r in rows[1:]] == HOSTILE
    assert [r[1] for r in rows[1:]] == list(range(len(HOSTILE)))
    assert types <= {"s", "n"}


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_download_names_the_file_in_chinese_and_leaves_no_temporary_file(fmt, tmp_path,
                                                                              monkeypatch):
    monkeypatch.setattr(tables.tempfile, "tempdir", str(tmp_path))
    app = Flask(__name__)
    with app.test_request_context():
        response = tables.export_response(fmt, "逾期名单", ["工号"], [["=1"]])
        body = b"".join(response.response)
    disposition = response.headers["Content-Disposition"]
    assert f"filename*=UTF-8''%E9%80%BE%E6%9C%9F%E5%90%8D%E5%8D%95.{fmt}" in disposition
    assert body.startswith(b"\xef\xbb\xbf" if fmt == "csv" else b"PK")
    assert list(tmp_path.iterdir()) == []       # the workbook was deleted once sent
    with pytest.raises(ValueError):
        tables.export_response("pdf", "x", [], [])
