"""Issue 17's walk through the demo, as HR and as an agent: HR opens the compliance dashboard,
follows 客服一部's overdue figure to the people behind it, opens one record, downloads it as a PDF
and the list as an XLSX; an agent reads their own record with scores, attendance, certificates
and 学时."""
from __future__ import annotations

import html
import io
import re

import openpyxl
import pypdf

from tests.integration.test_attendance_demo import sign_in


def _row(page: str, name: str) -> str:
    rows = re.findall(r"<tr data-key=\"[^\"]*\">(.*?)</tr>", page, re.S)
    (row,) = [r for r in rows if f"<th scope=\"row\">{name}</th>" in r]
    return row


def test_hr_follows_the_overdue_figure_to_a_record_its_pdf_and_the_lists_xlsx(demo):
    client, _ = sign_in(demo, "H0001")
    board = client.get("/records/dashboard", headers={"Accept-Language": "zh-CN"})
    assert board.status_code == 200
    row = _row(board.get_data(as_text=True), "客服一部")
    href, figure = re.search(r'data-figure="overdue" href="([^"]+)">(\d+)</a>', row).groups()
    assert int(figure) >= 1
    people = client.get(html.unescape(href)).get_data(as_text=True)
    assert "马骏" in people and "K0013" in people
    assert "许晴" not in people           # her onboarding is complete, not overdue
    record_url = re.search(r'href="(/records/staff/\d+)">马骏</a>', people).group(1)
    record = client.get(record_url).get_data(as_text=True)
    assert "入职培训" in record and "马骏" in record
    pdf = client.get(record_url + ".pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    text = "".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf.data)).pages)
    assert "马骏" in text and "K0013" in text and "入职培训" in text
    query = html.unescape(href).split("?", 1)[1]
    book = openpyxl.load_workbook(io.BytesIO(client.get(f"/records/people.xlsx?{query}").data),
                                  read_only=True)
    numbers = {row[0] for row in book.active.iter_rows(min_row=2, values_only=True)}
    assert "K0013" in numbers and "K0012" not in numbers


def test_an_agent_reads_their_own_record_with_scores_attendance_certificates_and_hours(demo):
    client, _ = sign_in(demo, "K0012")
    page = client.get("/records/me", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "许晴" in page and "入职培训" in page
    assert "入职培训合格证" in page                       # her certificate
    assert re.search(r"\d+(\.\d+)?\s*学时", page)          # 学时 credited, against the minimum
    assert "出勤" in page or "迟到" in page                 # the etiquette class she attended
    assert client.get("/records/dashboard").status_code in (403, 404)
