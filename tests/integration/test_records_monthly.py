"""The month-end report (issue 17) on both databases: `trainer records snapshot` stores the
month just ended per department, exactly the figures of that moment, once; a later correction
(an overdue enrolment completed afterwards) leaves the stored month as it was; the stored month
as a page, a PDF and a workbook, the current month live and marked so."""
from __future__ import annotations

import io
import re
from dataclasses import asdict
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.integration import test_site_pages as site_checks
from trainer.core.models import AuditEvent
from trainer.core.timeutil import utcnow
from trainer.records.models import MonthlyFigures


@pytest.fixture
def centre(users, make_staff, db_session):
    """Two departments; in the first, one person overdue at the end of last month (an
    enrolment due on its first day) and one with nothing; in the second, one person."""
    from trainer.learning.models import Enrolment, Track
    from trainer.records import monthly

    now = utcnow()
    last = monthly.previous_month(now)
    track = Track(key="inservice", title="在岗培训", position=1)
    db_session.add(track)
    db_session.flush()
    a1 = make_staff("learner", employee_no="M001", name="月一", department="月报一部")
    make_staff("learner", employee_no="M002", name="月二", department="月报一部")
    make_staff("learner", employee_no="M003", name="月三", department="月报二部")
    enrolment = Enrolment(staff_id=a1.id, track_id=track.id, reason="manual",
                          assigned_at=now - timedelta(days=70), due_on=last, state="overdue")
    db_session.add(enrolment)
    db_session.commit()
    return {"month": last, "enrolment": enrolment, "a1": a1}


def snapshot(app, *args):
    result = app.test_cli_runner().invoke(args=["records", "snapshot", *args])
    return result.exit_code, result.output


def stored(db_session, month) -> list[dict]:
    db_session.expire_all()
    return [{k: v for k, v in vars(row).items() if not k.startswith("_") and k not in (
        "id", "created_at")} for row in db_session.scalars(select(MonthlyFigures).where(
            MonthlyFigures.month == month).order_by(MonthlyFigures.line))]


def test_the_snapshot_holds_the_figures_of_the_months_end(app, centre, db_session):
    from trainer.records import figures, monthly

    month = centre["month"]
    code, output = snapshot(app)       # by default, the month just ended
    assert code == 0, output
    assert month.strftime("%Y-%m") in output
    with app.test_request_context():
        expected = figures.group_figures(monthly.month_end(month), by="department")
    rows = stored(db_session, month)
    assert len(rows) == len(expected) >= 2
    for line, (row, figure) in enumerate(zip(rows, expected)):
        want = asdict(figure)
        assert row["line"] == line and row["department_id"] == want.pop("key")
        assert row["department_name"] == want.pop("name")
        assert {k: float(row[k]) if k == "hours" else row[k] for k in want} == want
    by_name = {r["department_name"]: r for r in rows}
    assert by_name["月报一部"]["people"] == 2 and by_name["月报一部"]["overdue"] == 1
    assert by_name["月报二部"]["people"] == 1 and by_name["月报二部"]["overdue"] == 0


def test_a_later_correction_does_not_rewrite_the_month_and_twice_writes_once(app, centre,
                                                                           db_session):
    from trainer.records import figures, monthly

    month = centre["month"]
    assert snapshot(app, "--month", month.strftime("%Y-%m"))[0] == 0
    before = stored(db_session, month)
    # The overdue training is completed afterwards: the month recomputed would change…
    enrolment = db_session.get(type(centre["enrolment"]), centre["enrolment"].id)
    enrolment.state, enrolment.completed_at = "completed", utcnow()
    db_session.commit()
    with app.test_request_context():
        again = {f.name: f.overdue for f in figures.group_figures(monthly.month_end(month))}
    assert again["月报一部"] == 0
    # …the stored month does not, and a second run writes nothing.
    code, output = snapshot(app)
    assert code == 0 and "already stored" in output
    assert stored(db_session, month) == before
    assert db_session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "records.month_stored")) == 1


def test_a_month_not_ended_or_not_a_month_is_refused(app, centre, db_session):
    from trainer.records import monthly

    current = monthly.this_month(utcnow()).strftime("%Y-%m")
    for bad in (current, "2026-13", "last month"):
        code, output = snapshot(app, "--month", bad)
        assert code != 0 and ("not ended" in output or "not a month" in output), output
    assert db_session.scalar(select(func.count()).select_from(MonthlyFigures)) == 0


def _monthly_rows(html: str) -> dict[str, dict[str, str]]:
    found = {}
    for tag, name in re.findall(r'(<tr data-key="[^"]*"[^>]*>)\s*<th scope="row">([^<]+)</th>',
                                html):
        found[name] = dict(re.findall(r'data-([\w-]+)="([^"]*)"', tag))
    return found


def test_the_stored_month_as_page_pdf_and_workbook(app, client, users, centre, db_session):
    from openpyxl import load_workbook
    from pypdf import PdfReader

    month = centre["month"].strftime("%Y-%m")
    assert snapshot(app)[0] == 0
    enrolment = db_session.get(type(centre["enrolment"]), centre["enrolment"].id)
    enrolment.state, enrolment.completed_at = "completed", utcnow()
    db_session.commit()
    client.login(users["hr"].employee_no)
    listing = client.get("/records/monthly").get_data(as_text=True)
    assert f'data-month="{month}"' in listing
    html = client.get(f"/records/monthly/report?month={month}").get_data(as_text=True)
    assert "data-stored" in html and "data-live" not in html
    rows = _monthly_rows(html)
    assert rows["月报一部"]["people"] == "2" and rows["月报一部"]["overdue"] == "1"   # as stored
    book = load_workbook(io.BytesIO(client.get(
        f"/records/monthly/report.xlsx?month={month}").data)).worksheets[0]
    values = [[c for c in row] for row in book.iter_rows(values_only=True)]
    header = values[0]
    people, overdue = header.index("人数"), header.index("已逾期")
    sheet = {row[0]: row for row in values[1:]}
    for name, page in rows.items():
        assert sheet[name][people] == int(page["people"])
        assert sheet[name][overdue] == int(page["overdue"])
    assert sheet["合计"][people] == sum(int(r["people"]) for r in rows.values())
    pdf = client.get(f"/records/monthly/report.pdf?month={month}")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    text = re.sub(r"\s+", "", "".join(p.extract_text() for p in PdfReader(
        io.BytesIO(pdf.data)).pages))
    assert f"{month}月末报表" in text and "月报一部" in text and "月报二部" in text
    events = db_session.scalars(select(AuditEvent).where(
        AuditEvent.action == "records.monthly_exported").order_by(AuditEvent.id)).all()
    assert [(e.actor_id, e.details) for e in events] == [
        (users["hr"].id, {"format": "xlsx", "month": month, "live": False}),
        (users["hr"].id, {"format": "pdf", "month": month, "live": False})]


def test_the_current_month_is_live_and_marked_so(client, users, centre):
    from trainer.records import monthly

    client.login(users["hr"].employee_no)
    html = client.get("/records/monthly/report").get_data(as_text=True)
    current = monthly.this_month(utcnow()).strftime("%Y-%m")
    assert "data-live" in html and current in html
    # The overdue training counts now, live.
    assert _monthly_rows(html)["月报一部"]["overdue"] == "1"


@pytest.mark.parametrize("query", ["month=2020-01", "month=nonsense", "month=2026-00"])
def test_a_month_with_no_report_says_why(client, users, centre, query):
    client.login(users["hr"].employee_no)
    response = client.get(f"/records/monthly/report?{query}")
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "月" in page and ("没有保存的数据" in page or "不是月份" in page)
    assert client.get(f"/records/monthly/report.pdf?{query}").status_code == 302


def test_only_hr_and_administrators_and_in_chinese(app, client, users, centre):
    assert snapshot(app)[0] == 0
    month = centre["month"].strftime("%Y-%m")
    for role, code in (("learner", 403), ("trainer", 403), ("hr", 200), ("admin", 200)):
        client.login(users[role].employee_no)
        assert client.get("/records/monthly").status_code == code
        assert client.get(f"/records/monthly/report?month={month}").status_code == code
    for url in ("/records/monthly", f"/records/monthly/report?month={month}",
                "/records/monthly/report"):
        html = client.get(url, headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
        assert not site_checks.english_in(html, ()), (url, site_checks.english_in(html, ()))


def test_an_empty_centre_stores_its_month_once_too(app, db_session):
    from trainer.records import monthly

    month = monthly.previous_month(utcnow())
    assert snapshot(app)[0] == 0
    assert snapshot(app)[1].strip().endswith("nothing was rewritten")
    rows = stored(db_session, month)
    assert len(rows) == 1 and rows[0]["people"] == 0 and rows[0]["department_id"] is None


def test_the_records_group_holds_both_commands(app):
    assert {"refresh", "snapshot"} <= set(app.cli.commands["records"].commands)
