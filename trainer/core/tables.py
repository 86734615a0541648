"""Lists exported as CSV or XLSX, safely and in flat memory, for any area's list page.

- **CSV**: UTF-8 with a byte-order mark (Excel and WPS open it as UTF-8, not GBK), written row by
  row as a streamed response. A cell beginning with ``=``, ``+``, ``-`` or ``@`` (or a tab or a
  carriage return) is prefixed with ``'``, so a spreadsheet shows it as text instead of running it
  as a formula (OWASP's "CSV injection"). Numbers stay numbers.
- **XLSX**: xlsxwriter in constant-memory mode (each row is flushed to a temporary file as it is
  written) with ``strings_to_formulas``, ``strings_to_urls`` and ``strings_to_numbers`` off: text
  is text whatever it begins with. The finished file is sent from disk in chunks and deleted.

Rows are any iterable of sequences (a server-side cursor's rows, say): nothing holds the whole
list.
"""
from __future__ import annotations

import csv
import io
import os
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from flask import Response, has_request_context, stream_with_context

__all__ = ["FORMULA_PREFIXES", "WORKBOOK_OPTIONS", "csv_cell", "csv_chunks", "export_response",
           "xlsx_path"]

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
WORKBOOK_OPTIONS = {"constant_memory": True, "strings_to_formulas": False,
                    "strings_to_urls": False, "strings_to_numbers": False}
_ROWS_PER_CHUNK = 500


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def csv_cell(value: Any) -> str:
    """A cell's CSV text: numbers as they are, text that a spreadsheet would run made inert."""
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        return _text(value)
    text = _text(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def csv_chunks(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[bytes]:
    """The CSV as UTF-8 chunks, the first starting with a byte-order mark."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([csv_cell(h) for h in header])
    first, count = True, 0
    for row in rows:
        writer.writerow([csv_cell(v) for v in row])
        count += 1
        if count % _ROWS_PER_CHUNK == 0:
            yield (("\ufeff" if first else "") + buffer.getvalue()).encode("utf-8")
            first = False
            buffer.seek(0)
            buffer.truncate()
    yield (("\ufeff" if first else "") + buffer.getvalue()).encode("utf-8")


def xlsx_path(header: Sequence[str], rows: Iterable[Sequence[Any]], *, sheet: str = "Sheet1",
              widths: Sequence[int] | None = None) -> str:
    """Writes the workbook to a temporary file and returns its path (the caller deletes it)."""
    import xlsxwriter

    handle, path = tempfile.mkstemp(prefix="trainer-export-", suffix=".xlsx")
    os.close(handle)
    workbook = xlsxwriter.Workbook(path, WORKBOOK_OPTIONS)
    try:
        worksheet = workbook.add_worksheet(sheet[:31])
        bold = workbook.add_format({"bold": True})
        for column, width in enumerate(widths or []):
            worksheet.set_column(column, column, width)
        for column, title in enumerate(header):
            worksheet.write_string(0, column, str(title), bold)
        worksheet.freeze_panes(1, 0)
        for number, row in enumerate(rows, start=1):
            for column, value in enumerate(row):
                if value is None or value == "":
                    continue
                if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
                    worksheet.write_number(number, column, float(value))
                else:
                    worksheet.write_string(number, column, _text(value))
    finally:
        workbook.close()
    return path


def _file_chunks(path: str) -> Iterator[bytes]:
    try:
        with open(path, "rb") as f:
            while chunk := f.read(256 * 1024):
                yield chunk
    finally:
        os.unlink(path)


def _disposition(filename: str) -> str:
    ascii_name = filename.encode("ascii", "ignore").decode() or "export"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"


def export_response(fmt: str, filename: str, header: Sequence[str],
                    rows: Iterable[Sequence[Any]], *, sheet: str = "Sheet1",
                    widths: Sequence[int] | None = None) -> Response:
    """A download of the list as ``csv`` or ``xlsx`` (``filename`` without its extension).

    CSV streams as it is written; an XLSX is complete before its first byte is sent (the format
    needs its end written first), then sent from disk. A CSV's rows are read while it streams,
    inside the request's context (``stream_with_context``), so a generator over a query works."""
    if fmt == "csv":
        chunks = csv_chunks(header, rows)
        if has_request_context():
            chunks = stream_with_context(chunks)
        response = Response(chunks, mimetype="text/csv")
        response.headers["Content-Disposition"] = _disposition(f"{filename}.csv")
        return response
    if fmt == "xlsx":
        path = xlsx_path(header, rows, sheet=sheet, widths=widths)
        response = Response(_file_chunks(path), mimetype=(
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))
        response.headers["Content-Length"] = str(os.path.getsize(path))
        response.headers["Content-Disposition"] = _disposition(f"{filename}.xlsx")
        return response
    raise ValueError(f"unknown export format: {fmt}")
