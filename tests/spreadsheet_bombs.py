"""Real decompression bombs for the upload tests: valid XLSX workbooks whose sheet unpacks to
hundreds of MB of repeated bytes while the file stays far under the upload limit."""
from __future__ import annotations

import io
import zipfile
from functools import lru_cache

from openpyxl import Workbook

_SHEET = "xl/worksheets/sheet1.xml"
_HEAD = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
         b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
         b'<sheetData><row r="1">')
_CELL = b'<c t="n"><v>1</v></c>'
_TAIL = b"</row></sheetData></worksheet>"


@lru_cache(maxsize=None)
def xlsx_bomb(unpacked_mb: int = 300) -> bytes:
    """A workbook whose one row holds millions of cells: every part but the sheet is what
    openpyxl writes, so a reader without a guard would unpack and parse all of it."""
    template = io.BytesIO()
    Workbook().save(template)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(template.getvalue())) as source, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as bomb:
        for info in source.infolist():
            if info.filename != _SHEET:
                bomb.writestr(info, source.read(info))
        # Streamed: the hundreds of MB never exist in memory at once.
        with bomb.open(_SHEET, "w", force_zip64=True) as sheet:
            sheet.write(_HEAD)
            chunk = _CELL * (2**20 // len(_CELL))
            for _ in range(unpacked_mb):
                sheet.write(chunk)
            sheet.write(_TAIL)
    return out.getvalue()


def many_parts(count: int) -> bytes:
    """A workbook padded with `count` empty extra parts."""
    template = io.BytesIO()
    Workbook().save(template)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(template.getvalue())) as source, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as padded:
        for info in source.infolist():
            padded.writestr(info, source.read(info))
        for number in range(count):
            padded.writestr(f"xl/media/empty{number}.bin", b"")
    return out.getvalue()
