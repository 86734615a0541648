"""HR's compliance dashboard, the people lists behind its figures and the staff list's training
columns, on both databases, against the hand-built centre of test_records_figures: each figure
on the page and its link, the lists and their exports read back (XLSX with openpyxl, CSV), the
PDF's text, who may open them, the audit of every export, and no English in zh_CN."""
from __future__ import annotations

import csv
import io
import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from tests.integration.test_records_figures import (  # noqa: F401 - the fixture
    A,
    B,
    EXPECTED,
    FORMULA_NAME,
    PEOPLE,
    _department_id,
    centre,
)
from tests.integration.test_site_pages import english_in
from trainer.core.models import AuditEvent

ZH = {"Accept-Language": "zh-CN,zh;q=0.9"}


def _row_html(html: str, key: int) -> str:
    start = html.index(f'<tr data-key="{key}">')
    return html[start:html.index("</tr>", start)]


def _figure_links(row_html: str) -> dict[str, tuple[str, str]]:
    """{figure: (href, shown value)} of one dashboard row."""
    return {name: (unescape(href), value.strip()) for name, href, value in re.findall(
        r'<a data-figure="(\w+)" href="([^"]+)">([^<]*)</a>', row_html)}


def _people_rows(html: str) -> list[list[str]]:
    rows = []
    for row in re.findall(r'<tr data-staff="\d+">(.*?)</tr>', html, re.S):
        cells = re.findall(r"<td>(.*?)</td>", row, re.S)
        rows.append([unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in cells])
    return rows


def _names(html: str) -> set[str]:
    return {row[1] for row in _people_rows(html)}


def test_the_dashboard_shows_each_figure_and_links_to_its_people(client, users, centre,
                                                                 db_session):
    client.login(users["hr"].employee_no)
    response = client.get("/records/dashboard", headers=ZH)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "data-as-of" in html
    for department in (A, B):
        key = _department_id(db_session, department)
        links = _figure_links(_row_html(html, key))
        expected = EXPECTED[department]
        for name in ("people", "assigned", "in_progress", "overdue", "due_soon", "completed",
                     "waived", "expiring", "expired", "not_cleared", "behind"):
            assert links[name][1] == str(expected[name]), (department, name)
        # Each figure's link lists exactly its people.
        for name, (href, _value) in links.items():
            query = parse_qs(urlsplit(href).query)
            assert query["department"] == [str(key)]
            flag = query["flag"][0]
            listed = client.get(href, headers=ZH)
            assert listed.status_code == 200
            assert _names(listed.get_data(as_text=True)) == PEOPLE[department][flag], \
                (department, name)
    # Coverage and pass rate: A 100 % and 50 %; their links list those without 学时, who failed.
    a_links = _figure_links(_row_html(html, _department_id(db_session, A)))
    assert a_links["coverage"][1].startswith("100") and a_links["pass_rate"][1].startswith("50")
    assert "flag=failed" in a_links["pass_rate"][0]
    # The totals row and the charts, each with its table.
    assert "data-total" in html and html.count("data-chart-table") == 3
    assert html.count('src="data:image/svg+xml;base64,') == 3
    # The other groupings.
    for by in ("position", "track"):
        assert client.get(f"/records/dashboard?by={by}").status_code == 200
    bad = client.get("/records/dashboard?by=nonsense", headers=ZH)
    assert bad.status_code == 200 and "nonsense" in bad.get_data(as_text=True)


def test_the_people_list_filters_and_pages(client, users, centre, db_session, make_staff):
    client.login(users["hr"].employee_no)
    page = client.get("/records/people?q=%E4%B9%99%E4%BC%91", headers=ZH)   # 乙休
    rows = _people_rows(page.get_data(as_text=True))
    assert [r[1] for r in rows] == ["乙休假半年"]
    row = rows[0]
    assert row[0] == "C2004" and row[2] == B and row[7] == "10.0" and row[9] == "是"
    # The name links to the person's record.
    person = centre["people"]["leave"]
    assert f'/records/staff/{person.id}"' in page.get_data(as_text=True)
    # Bad input: said, left out, never a 500.
    for query in ("flag=nonsense", "department=abc", "department=99999999999999",
                  "page=-3", "page=abc", "track=0"):
        response = client.get(f"/records/people?{query}", headers=ZH)
        assert response.status_code == 200, query
    # 50 a page.
    for number in range(55):
        make_staff("learner", employee_no=f"P{number:04d}", name=f"丙{number:04d}",
                   department="合规三部")
    third = db_session.scalar(select(_department_model().id).where(
        _department_model().name == "合规三部"))
    first = client.get(f"/records/people?department={third}").get_data(as_text=True)
    second = client.get(f"/records/people?department={third}&page=2").get_data(as_text=True)
    assert len(_people_rows(first)) == 50 and len(_people_rows(second)) == 5
    assert 'data-total="55"' in first


def _department_model():
    from trainer.accounts.models import Department

    return Department


def test_the_list_exports_equal_the_page_and_are_audited(client, users, centre, db_session,
                                                        monkeypatch):
    import openpyxl

    from trainer.records import compliance

    monkeypatch.setattr(compliance, "EXPORT_BATCH", 2)   # fetched in several batches
    client.login(users["hr"].employee_no)
    key = _department_id(db_session, A)
    page = client.get(f"/records/people?department={key}", headers=ZH).get_data(as_text=True)
    shown = _people_rows(page)
    assert {r[1] for r in shown} == PEOPLE[A]["people"]
    response = client.get(f"/records/people.xlsx?department={key}", headers=ZH)
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(response.data))
    sheet = book.active
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert len(rows) == len(shown) + 1

    def same(page_value: str, cell) -> bool:
        if cell is None:
            return page_value == ""
        if isinstance(cell, (int, float)):
            return float(page_value) == float(cell)
        return page_value == cell

    for page_row, file_row in zip(shown, rows[1:]):
        assert all(same(p, c) for p, c in zip(page_row, file_row)), (page_row, file_row)
    # A name that is a formula stays text.
    formula = next(c for row in sheet.iter_rows() for c in row if c.value == FORMULA_NAME)
    assert formula.data_type == "s"
    # CSV: the same rows, the formula prefixed.
    response = client.get(f"/records/people.csv?department={key}&flag=waived", headers=ZH)
    text = response.get_data(as_text=True).lstrip("\ufeff")
    lines = list(csv.reader(io.StringIO(text)))
    assert len(lines) == 2 and lines[1][1] == "'" + FORMULA_NAME
    events = list(db_session.scalars(select(AuditEvent).where(
        AuditEvent.action == "records.people_exported").order_by(AuditEvent.id)))
    assert [e.details["format"] for e in events] == ["xlsx", "csv"]
    assert events[0].actor_id == users["hr"].id
    assert events[0].details["department"] == key and events[1].details["flag"] == "waived"


@pytest.mark.parametrize("scope", ["", "department", "none"])
def test_every_figures_list_exports_as_its_page_shows_it(client, users, centre, db_session,
                                                         scope):
    """The export streams the whole list in two statements; the page computes a page of 50.
    For every figure, alone, within a department or among people without one, they agree
    (a list behind a figure's condition once made SQLite's parser overflow in the export)."""
    from trainer.records.figures import FLAGS

    client.login(users["hr"].employee_no)
    narrowing = {"": "", "department": f"&department={_department_id(db_session, A)}",
                 "none": "&none=department"}[scope]
    for flag in FLAGS:
        query = f"flag={flag}{narrowing}"
        shown = _people_rows(client.get(f"/records/people?{query}", headers=ZH)
                             .get_data(as_text=True))
        response = client.get(f"/records/people.csv?{query}", headers=ZH)
        assert response.status_code == 200, query
        lines = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
        exported = [[cell.removeprefix("'") for cell in line] for line in lines[1:]]
        assert exported == shown, query


def test_the_dashboard_exports_and_pdf(client, users, centre, db_session):
    import openpyxl
    import pypdf

    client.login(users["admin"].employee_no)
    response = client.get("/records/dashboard.xlsx", headers=ZH)
    assert response.status_code == 200
    rows = [list(r) for r in openpyxl.load_workbook(io.BytesIO(response.data)).active
            .iter_rows(values_only=True)]
    by_name = {r[0]: r for r in rows[1:]}
    assert by_name[A][1:5] == [5, 1, 1, 1] and by_name[B][11] == 2   # people… ; behind
    assert rows[-1][0] == "合计"
    csv_text = client.get("/records/dashboard.csv?by=track", headers=ZH).get_data(as_text=True)
    assert "在岗复训" in csv_text
    response = client.get("/records/dashboard.pdf", headers=ZH)
    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    text = "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(response.data))
                   .pages)
    text = re.sub(r"\s+", "", text)
    assert A in text and B in text and "合规" in text
    assert "50.0%" in text    # A's pass rate
    events = list(db_session.scalars(select(AuditEvent).where(
        AuditEvent.action == "records.dashboard_exported").order_by(AuditEvent.id)))
    assert [(e.details["format"], e.details["by"]) for e in events] == [
        ("xlsx", "department"), ("csv", "track"), ("pdf", "department")]
    assert {e.actor_id for e in events} == {users["admin"].id}


@pytest.mark.parametrize("url", ["/records/dashboard", "/records/dashboard.pdf",
                                 "/records/dashboard.xlsx", "/records/people",
                                 "/records/people.csv"])
def test_agents_and_trainers_are_refused(client, users, url, db_session):
    for role in ("learner", "trainer"):
        client.login(users[role].employee_no)
        assert client.get(url).status_code in (403, 404), (role, url)
    assert db_session.scalar(select(AuditEvent.id).where(
        AuditEvent.action.like("records.%_exported"))) is None
    for role in ("hr", "admin"):
        client.login(users[role].employee_no)
        assert client.get(url).status_code == 200, (role, url)


def test_the_staff_list_shows_training_columns_and_filters(client, users, centre, db_session):
    client.login(users["hr"].employee_no)
    key = _department_id(db_session, B)
    html = client.get(f"/staff?department={key}", headers=ZH).get_data(as_text=True)
    assert "证书即将到期" in html or "即将到期" in html
    assert "10 / " in html       # the one on leave: 10 学时 of the minimum to date
    behind = client.get(f"/staff?department={key}&training=behind").get_data(as_text=True)
    assert "乙休假半年" in behind and "乙无学时" in behind and "乙证书已过期" not in behind
    blocked = client.get("/staff?training=not_cleared").get_data(as_text=True)
    assert "乙未上岗" in blocked and "乙休假半年" not in blocked
    late = client.get("/staff?training=overdue").get_data(as_text=True)
    assert "C1001" in late and "C1006" not in late and "C2004" not in late
    assert client.get("/staff?training=nonsense").status_code == 200


def test_the_chinese_pages_have_no_english(client, users, centre, db_session):
    client.login(users["hr"].employee_no)
    content = tuple(p.name for p in centre["people"].values()) + (FORMULA_NAME,)
    key = _department_id(db_session, A)
    for url in ("/records/dashboard", "/records/dashboard?by=position",
                "/records/dashboard?by=track", f"/records/people?department={key}&flag=overdue",
                "/records/people?flag=behind", "/staff"):
        html = client.get(url, headers=ZH).get_data(as_text=True)
        assert not english_in(html, content), (url, english_in(html, content))


def test_hr_sees_the_compliance_entry(client, users):
    client.login(users["hr"].employee_no)
    html = client.get("/staff", headers=ZH).get_data(as_text=True)
    assert 'href="/records/dashboard"' in html
    client.login(users["learner"].employee_no)
    assert 'href="/records/dashboard"' not in client.get("/records/me").get_data(as_text=True)


def test_stored_figures_while_fresh_then_live_again(app, client, users, centre, db_session):
    from datetime import timedelta

    from sqlalchemy import update

    from trainer.core.timeutil import utcnow
    from trainer.records import cache, figures
    from trainer.records.models import FigureSet

    result = app.test_cli_runner().invoke(args=["records", "refresh"])
    assert result.exit_code == 0, result.output
    now = utcnow()
    # Stored as computed: the same rows, totals and charts as live.
    for by in figures.GROUPINGS:
        stored = cache.fresh(by, now)
        assert stored is not None
        live = figures.group_figures(now, by=by)
        assert stored.rows == live and stored.total == figures.totals(now, live, by)
        assert stored.months == figures.pass_rate_by_month(now)
    # A change after the refresh: the page shows the stored figure, and says so.
    _enrol_overdue(db_session, centre)
    key = _department_id(db_session, A)
    client.login(users["hr"].employee_no)
    html = client.get("/records/dashboard", headers=ZH).get_data(as_text=True)
    assert "data-stored" in html
    assert _figure_links(_row_html(html, key))["overdue"][1] == "1"
    # More than five minutes old: live again.
    db_session.execute(update(FigureSet).values(computed_at=now - timedelta(minutes=6)))
    db_session.commit()
    html = client.get("/records/dashboard", headers=ZH).get_data(as_text=True)
    assert "data-stored" not in html
    assert _figure_links(_row_html(html, key))["overdue"][1] == "2"


def _enrol_overdue(db_session, centre):
    from datetime import timedelta

    from tests.integration.test_records_figures import _enrol

    now = centre["now"]
    _enrol(db_session, centre["people"]["due_soon"], centre["tracks"]["onboarding"], "overdue",
           due_on=now.date() - timedelta(days=3), now=now)
    db_session.commit()
