"""The check every uploaded XLSX passes before a reader (openpyxl) unpacks any of it.

An XLSX is a zip: a few megabytes can unpack to gigabytes (an 8 MB staff list unpacked to 2.9 GB
took 53 s and 3.6 GB of memory). The zip's central directory declares each part's sizes, and
Python's zipfile never unpacks more than a part declares (it stops with a CRC error), so the
declared sizes can be trusted and checked without unpacking anything.
"""

from __future__ import annotations

import io
import zipfile

from trainer.core.errors import N_
from trainer.core.textfiles import DecodeError

__all__ = ["MAX_MEMBERS", "MAX_RATIO", "MAX_UNPACKED", "SpreadsheetRefused", "check_xlsx_archive"]

# A question bank of 100,000 rows or a staff list of 20,000 unpacks to a few tens of MB.
MAX_UNPACKED = 200 * 2**20
# A workbook holds a part per sheet, drawing and picture: a few dozen.
MAX_MEMBERS = 1000
# Apache POI's defaults (ZipSecureFile): past 100 KiB, a part may unpack to at most 100 times
# its packed size. Sheets written by Excel, WPS or openpyxl unpack to 5–20 times.
MAX_RATIO = 100
RATIO_GRACE = 100 * 2**10


class SpreadsheetRefused(DecodeError):
    """An XLSX refused before it is unpacked. ``message`` is an N_ format string."""


def check_xlsx_archive(data: bytes) -> None:
    """Refuse a decompression bomb: too many parts, too much in all, or a part that unpacks to
    far more than its size. Raises :class:`SpreadsheetRefused`, or zipfile.BadZipFile for what
    is not a zip (each reader words that its own way)."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        members = archive.infolist()
    if len(members) > MAX_MEMBERS:
        raise SpreadsheetRefused(
            N_("The workbook has too many parts ({count}, at most {max}): save it again from "
               "Excel or WPS, or upload it as CSV."),
            count=len(members), max=MAX_MEMBERS)
    unpacked = sum(member.file_size for member in members)
    if unpacked > MAX_UNPACKED:
        raise SpreadsheetRefused(
            N_("The workbook is too large ({size} MB unpacked, at most {max} MB)."),
            size=unpacked // 2**20, max=MAX_UNPACKED // 2**20)
    for member in members:
        if member.file_size > RATIO_GRACE and \
                member.file_size > MAX_RATIO * max(member.compress_size, 1):
            raise SpreadsheetRefused(
                N_("The workbook's part {name} unpacks to {ratio} times its packed size (at most "
                   "{max}): it is refused as a possible decompression bomb."),
                name=member.filename, ratio=member.file_size // max(member.compress_size, 1),
                max=MAX_RATIO)
