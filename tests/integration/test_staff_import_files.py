"""Bad staff-list files on the import page: each gets the page's clear error naming its row, with
HTTP 422, and changes nothing."""
from __future__ import annotations

import io
import re
import time

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


def test_a_decompression_bomb_is_refused_clearly_and_fast(client, users, db_session):
    bomb = xlsx_bomb()
    client.login(users["hr"].employee_no)
    before = _state(db_session)
    start = time.perf_counter()
    response = _upload(client, bomb, "staff.xlsx")
    assert time.perf_counter() - start < 2.0
    assert response.status_code == 422
    (problem,) = _problems(response.get_data(as_text=True))
    assert problem[0] == "—" and "工作簿过大" in problem[2] and "解压后" in problem[2]
    assert _state(db_session) == before
