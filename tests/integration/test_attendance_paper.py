"""The paper side of a class on both databases: the sign-in sheet read back (its text and its QR
code), importing a filled sheet (every problem at once, all or nothing, marks via the sheet that
change minutes and 学时, refused once the class is closed), and the evidence PDF of a closed
class."""
from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.integration.test_attendance import add_session, run, soon  # noqa: F401 - fixture
from trainer.attendance import paper, rules, services
from trainer.attendance.models import AttendanceMark, TrainingClass
from trainer.attendance.sheet_import import SheetLine
from trainer.core.errors import DomainError
from trainer.core.models import AuditEvent
from trainer.core.timeutil import utcnow, zone
from trainer.learning.models import HoursEntry


def pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def qr_codes(data: bytes) -> list[str]:
    """The QR codes on the PDF's first page, rasterised as a phone's camera would see it."""
    import pypdfium2
    import zxingcpp

    document = pypdfium2.PdfDocument(data)
    try:
        image = document[0].render(scale=3).to_pil()
        return [code.text for code in zxingcpp.read_barcodes(image)]
    finally:
        document.close()


def local(moment) -> str:
    return f"{moment.astimezone(zone('Asia/Shanghai')):%H:%M}"


@pytest.fixture
def room(run, users, make_staff, db_session):
    """A class held an hour ago (50 minutes) with three people from two departments on its
    roster, given out of order."""
    trainer = users["trainer"]
    people = {"K3002": make_staff("learner", employee_no="K3002", name="欧阳娜娜",
                                  department="投诉处理组"),
              "K1010": make_staff("learner", employee_no="K1010", name="张伟",
                                  department="客服一部"),
              "K1002": make_staff("learner", employee_no="K1002", name="李晓燕",
                                  department="客服一部")}
    cls = run()
    session = add_session(cls, trainer, soon(-60), minutes=50)
    services.invite(trainer, cls, list(people.values()), now=utcnow())
    db_session.commit()
    return cls, session, people


def csv_upload(rows: list[list[str]], encoding: str = "utf-8-sig") -> tuple[io.BytesIO, str]:
    out = io.StringIO()
    csv.writer(out).writerows([["工号", "签到时间", "签退时间", "状态", "备注"], *rows])
    return io.BytesIO(out.getvalue().encode(encoding)), "签到表.csv"


# -- the sign-in sheet ----------------------------------------------------------------------------

def test_the_sign_in_sheet_names_the_roster_in_order_and_its_qr_opens_the_session(
        client, room, users, db_session):
    cls, session, people = room
    client.login(users["trainer"].employee_no)
    response = client.get(f"/training/sessions/{session.id}/sheet.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    data = response.get_data()
    text = pdf_text(data)
    for header in ("签到表", "姓名", "工号", "部门", "签到", "签退", "服务礼仪集中授课", "三楼培训室",
                   users["trainer"].name, f"{local(session.starts_at)}–{local(session.ends_at)}",
                   "第 1 页，共 1 页"):
        assert header in text, header
    # By department, then employee number: 客服一部 (K1002, K1010) before 投诉处理组 (K3002).
    for person in people.values():
        assert person.name in text and person.department_name in text
    rows = [text.index(number) for number in ("K1002", "K1010", "K3002")]
    assert rows == sorted(rows)
    codes = qr_codes(data)
    assert codes == [f"http://localhost/training/classes/{cls.id}#session-{session.id}"]
    # What the code opens is the class's page at the session, and checks no one in.
    page = client.get(codes[0].removeprefix("http://localhost")).get_data(as_text=True)
    assert f'id="session-{session.id}"' in page
    assert db_session.scalar(select(func.count()).select_from(AttendanceMark)) == 0


def test_the_sheet_follows_the_departments_in_hr_s_order(room, users, db_session):
    """Departments come in the order HR keeps them (the list's order), not by code point: with
    投诉处理组 placed first, its people head the sheet."""
    from trainer.accounts.models import Department

    cls, _session, people = room
    complaints = db_session.get(Department, people["K3002"].department_id)
    service = db_session.get(Department, people["K1002"].department_id)
    complaints.sort_order, service.sort_order = 1, 2
    db_session.commit()
    order = [p.employee_no for p in paper.roster_people(cls)]
    assert order == ["K3002", "K1002", "K1010"]
    complaints.sort_order = 3
    db_session.commit()
    assert [p.employee_no for p in paper.roster_people(cls)] == ["K1002", "K1010", "K3002"]


def test_the_sheet_runs_over_pages_with_their_numbers(app, room, users, make_staff,
                                                     db_session):
    cls, session, _people = room
    many = [make_staff("learner", department="客服二部") for _ in range(40)]
    services.invite(users["trainer"], cls, many, now=utcnow())
    with app.app_context():      # (outside a request: the centre's language)
        data = paper.sheet_pdf(session, page_url="http://localhost/x", now=utcnow())
    from pypdf import PdfReader

    pages = [page.extract_text() for page in PdfReader(io.BytesIO(data)).pages]
    assert len(pages) > 1
    for number, text in enumerate(pages, start=1):
        assert f"第 {number} 页，共 {len(pages)} 页" in text
        assert "签到" in text and "签退" in text          # the header on every page
    assert all(person.employee_no in "".join(pages) for person in many)


# -- importing a filled sheet ---------------------------------------------------------------------

def test_a_preview_lists_every_bad_row_and_records_nothing(client, room, users, make_staff,
                                                          db_session):
    cls, session, people = room
    outsider = make_staff("learner", employee_no="K9001", name="路人甲")
    start, end = local(session.starts_at), local(session.ends_at)
    upload = csv_upload([
        ["K1002", start, end, "", ""],                # good
        ["K7777", start, end, "", ""],                # nobody
        [outsider.employee_no, start, end, "", ""],   # not on the roster
        ["K1010", "九点", end, "", ""],                # not a time
        ["K3002", end, start, "", ""],                # out before in
        ["K1002", start, "", "", ""]])               # twice
    client.login(users["trainer"].employee_no)
    response = client.post(f"/training/sessions/{session.id}/import",
                           {"file": upload}, content_type="multipart/form-data")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    problem_rows = {int(n) for n in re.findall(r'data-problem-row="(\d+)"', page)}
    assert problem_rows == {3, 4, 5, 6, 7}
    assert "K7777" in page and "路人甲" in page and "九点" in page
    assert "发现 5 个问题" in page
    assert "data-preview" not in page and 'name="token"' not in page
    assert db_session.scalar(select(func.count()).select_from(AttendanceMark)) == 0


def test_a_good_sheet_is_previewed_then_recorded_via_the_sheet_with_minutes_and_hours(
        client, room, users, db_session):
    from openpyxl import Workbook

    cls, session, people = room
    trainer = users["trainer"]
    services.close_session(trainer, session, now=utcnow())     # nobody came: all absent
    db_session.commit()
    assert db_session.scalar(select(func.count()).select_from(HoursEntry)) == 0
    start = session.starts_at.astimezone(zone("Asia/Shanghai"))
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["工号", "姓名", "签到时间", "签退时间", "状态", "备注"])
    # Excel's own time cells; 李晓燕 came 10 minutes late and stayed to the end.
    sheet.append(["K1002", "李晓燕", (start + timedelta(minutes=10)).time(),
                  (start + timedelta(minutes=50)).time(), None, "公交晚点"])
    sheet.append(["K1010", "张伟", None, None, "请假", "事先口头请假"])
    sheet.append(["K3002", "欧阳娜娜", None, None, "出勤", None])
    data = io.BytesIO()
    workbook.save(data)
    data.seek(0)
    client.login(trainer.employee_no)
    preview = client.post(f"/training/sessions/{session.id}/import",
                          {"file": (data, "签到表.xlsx")}, content_type="multipart/form-data")
    page = preview.get_data(as_text=True)
    assert preview.status_code == 200, page
    assert 'data-preview-row="K1002"' in page and 'data-after="late"' in page
    assert db_session.scalar(select(func.count()).select_from(AttendanceMark)) == 0
    token = re.search(r'name="token" type="hidden" value="([^"]+)"', page)
    done = client.post(f"/training/sessions/{session.id}/import/confirm",
                       {"token": token.group(1)})
    assert done.status_code == 302 and done.headers["Location"].endswith(
        f"/training/classes/{cls.id}")
    marks = {m.staff_id: m for m in db_session.scalars(select(AttendanceMark))}
    assert set(marks) == {people["K1002"].id, people["K3002"].id}
    late = marks[people["K1002"].id]
    assert (late.via, late.kind, late.author_id) == ("sheet", "correction", trainer.id)
    assert late.reason == "纸质签到表导入：公交晚点"
    assert late.check_in_at == session.starts_at + timedelta(minutes=10)
    assert marks[people["K3002"].id].kind == "present"
    cells = services.grid(cls, now=utcnow())
    assert cells[(session.id, people["K1002"].id)].attendance.status == rules.LATE
    assert cells[(session.id, people["K1010"].id)].attendance.status == rules.LEAVE
    hours = {e.staff_id: e.minutes for e in db_session.scalars(select(HoursEntry))}
    assert hours == {people["K1002"].id: 40, people["K3002"].id: 50}
    event = db_session.scalar(select(AuditEvent).where(
        AuditEvent.action == "attendance.sheet_imported"))
    assert event.actor_id == trainer.id and len(event.details["rows"]) == 3
    # The same confirmation again (a double click, the back button): refused, as the session's
    # record is no longer the one the preview showed; nothing is recorded twice.
    again = client.post(f"/training/sessions/{session.id}/import/confirm",
                        {"token": token.group(1)})
    assert again.headers["Location"].endswith(f"/training/sessions/{session.id}/import")
    assert db_session.scalar(select(func.count()).select_from(AttendanceMark)) == 2


def test_one_bad_row_records_nothing_even_when_it_turns_bad_after_the_preview(
        room, users, db_session):
    cls, session, people = room
    trainer = users["trainer"]
    start, end = local(session.starts_at), local(session.ends_at)
    lines = [SheetLine(2, "K1002", start, end, "", ""), SheetLine(3, "K1010", start, end, "", ""),
             SheetLine(4, "K3002", start, "", "", "")]
    plan = paper.plan_import(trainer, session, lines, filename="a.csv", now=utcnow())
    assert plan.ok and len(plan.rows) == 3
    # Between the preview and the confirmation, one of them is taken off the roster.
    services.cancel_booking(trainer, cls, people["K3002"], now=utcnow(), reason="调班")
    db_session.commit()
    with pytest.raises(paper.SheetRefused) as refused:
        paper.record_import(trainer, session, lines, filename="a.csv", reason="纸质签到表导入",
                            now=utcnow())
    assert [(e.row, e.column) for e in refused.value.errors] == [(4, "工号")]
    db_session.rollback()
    assert db_session.scalar(select(func.count()).select_from(AttendanceMark)) == 0
    assert db_session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "attendance.sheet_imported")) == 0


def test_a_blank_time_keeps_the_scan_and_a_gbk_csv_is_read(room, users, db_session):
    cls, session, people = room
    trainer, person = users["trainer"], people["K1002"]
    services.record_scan(session, person, at=session.starts_at - timedelta(minutes=2),
                         now=utcnow(), via="qr", scan=services.Scan())
    upload, _name = csv_upload([["K1002", "", local(session.ends_at - timedelta(minutes=20)),
                                 "", "提前离开"]], encoding="gbk")
    lines, errors = paper.read_sheet(upload.getvalue(), "签到表.csv")
    assert errors == [] and lines[0].note == "提前离开"
    paper.record_import(trainer, session, lines, filename="签到表.csv", reason="纸质签到表导入",
                        now=utcnow())
    cell = services.grid(cls, now=utcnow())[(session.id, person.id)]
    assert cell.attendance.check_in_at == session.starts_at - timedelta(minutes=2)
    assert cell.attendance.status == rules.EARLY and cell.attendance.minutes == 30
    # A check-out alone, for someone with no check-in, is a problem to fix on the sheet.
    plan = paper.plan_import(trainer, session, [SheetLine(2, "K1010", "", local(
        session.ends_at), "", "")], filename="b.csv", now=utcnow())
    assert [(e.row, e.column) for e in plan.errors] == [(2, "签到时间")]


def test_a_closed_class_refuses_a_sheet(client, room, users, db_session):
    cls, session, _people = room
    cls.closed_at = utcnow()
    db_session.commit()
    client.login(users["trainer"].employee_no)
    page = client.get(f"/training/sessions/{session.id}/import").get_data(as_text=True)
    assert "data-refusal" in page and 'type="file"' not in page
    upload = csv_upload([["K1002", local(session.starts_at), local(session.ends_at), "", ""]])
    response = client.post(f"/training/sessions/{session.id}/import", {"file": upload},
                           content_type="multipart/form-data")
    assert response.status_code == 422 and "data-preview" not in response.get_data(as_text=True)
    with pytest.raises(DomainError):
        paper.plan_import(users["trainer"], session,
                          [SheetLine(2, "K1002", local(session.starts_at), "", "", "")],
                          filename="a.csv", now=utcnow())
    assert db_session.scalar(select(func.count()).select_from(AttendanceMark)) == 0


def test_the_template_lists_the_roster_and_reads_back_as_a_sheet(client, room, users):
    cls, session, people = room
    client.login(users["trainer"].employee_no)
    response = client.get(f"/training/sessions/{session.id}/import/template.xlsx")
    assert response.status_code == 200
    lines, errors = paper.read_sheet(response.get_data(), "template.xlsx")
    assert errors == [] and [line.employee_no for line in lines] == ["K1002", "K1010", "K3002"]
    plan = paper.plan_import(users["trainer"], session, lines, filename="t.xlsx", now=utcnow())
    assert plan.skipped == [2, 3, 4] and not plan.ok     # a blank template records nothing


# -- the evidence of a closed class ---------------------------------------------------------------

@pytest.fixture
def held(run, users, make_staff, db_session):
    """A class of one session eight days ago: its survey has closed, three answers."""
    trainer = users["trainer"]
    people = [make_staff("learner", employee_no=f"K50{n}", name=name, department="客服一部")
              for n, name in enumerate(("孙悦", "周敏", "钱程", "吴昊"), start=1)]
    cls = run()
    session = add_session(cls, trainer, soon(-8 * 24 * 60), minutes=50)
    services.invite(trainer, cls, people, now=utcnow())
    start, end = session.starts_at, session.ends_at
    for person, (came, left) in zip(people[:3], ((0, 50), (12, 50), (0, 30))):
        services.correct(trainer, session, person, kind="correction", now=start, reason="签到表",
                         check_in_at=start + timedelta(minutes=came),
                         check_out_at=start + timedelta(minutes=left))
    services.close_session(trainer, session, now=end + timedelta(minutes=40))
    for person, ratings in zip(people[:3], ((5, 5, 4, 5), (4, 5, 4, 4), (4, 4, 3, 4))):
        services.answer_survey(person, cls, content=ratings[0], trainer=ratings[1],
                               organisation=ratings[2], overall=ratings[3],
                               suggestions="多一些案例" if ratings[0] == 5 else "",
                               now=end + timedelta(days=1))
    db_session.commit()
    return cls, session, people


def test_closing_a_class_keeps_its_evidence_pdf(client, held, users, db_session):
    cls, session, people = held
    client.login(users["trainer"].employee_no)
    before = client.get(f"/training/classes/{cls.id}/evidence.pdf")
    assert before.status_code == 302                     # not made yet: back to the class
    closed = client.post(f"/training/classes/{cls.id}/close")
    assert closed.status_code == 302
    db_session.expire_all()
    cls = db_session.get(TrainingClass, cls.id)
    assert cls.closed_at is not None and cls.evidence_pdf is not None
    response = client.get(f"/training/classes/{cls.id}/evidence.pdf")
    assert response.status_code == 200 and response.get_data() == cls.evidence_pdf
    text = pdf_text(response.get_data())
    for person in people:
        assert person.name in text and person.employee_no in text
    assert "迟到" in text and "早退" in text and "缺勤" in text
    assert "50 / 50" in text and "38 / 50" in text and "30 / 50" in text
    assert "4.3 / 5" in text and "多一些案例" in text      # content 13/3; the suggestion
    assert re.search(r"答卷数\s*3\b", text)
    assert "第 1 页" in text
    # A second close changes nothing, and keeps the PDF it made.
    client.post(f"/training/classes/{cls.id}/close")
    db_session.expire_all()
    assert db_session.get(TrainingClass, cls.id).evidence_pdf == response.get_data()


def test_the_evidence_shows_hours_and_is_not_stored_when_the_record_moved(app, held, users,
                                                                         db_session):
    cls, session, people = held
    trainer = users["trainer"]
    later = utcnow()
    with app.app_context():
        prepared = paper.prepare_evidence(trainer, cls, now=later)
    rows = {p.employee_no: p for p in prepared.evidence.people}
    assert (rows["K501"].minutes, str(rows["K501"].hours), rows["K501"].completed) == \
        (50, "0.5", True)
    assert (rows["K503"].minutes, rows["K503"].completed) == (30, False)
    assert rows["K504"].cells[0].status == rules.ABSENT
    # A correction lands between the rendering and the closing: nothing is closed.
    services.correct(trainer, session, people[3], kind="correction", now=later, reason="补登",
                     check_in_at=session.starts_at, check_out_at=session.ends_at)
    db_session.commit()
    with pytest.raises(DomainError):
        paper.close_with_evidence(trainer, cls, prepared, now=later)
    db_session.rollback()
    fresh = db_session.get(TrainingClass, cls.id)
    assert fresh.closed_at is None and fresh.evidence_pdf is None
    with app.app_context():
        again = paper.prepare_evidence(trainer, fresh, now=later)
    assert paper.close_with_evidence(trainer, fresh, again, now=later) is True
    assert "吴昊" in pdf_text(fresh.evidence_pdf)


def test_a_class_whose_survey_is_open_is_not_closed(client, room, users, db_session):
    cls, _session, _people = room
    client.login(users["trainer"].employee_no)
    client.post(f"/training/classes/{cls.id}/close")
    db_session.expire_all()
    fresh = db_session.get(TrainingClass, cls.id)
    assert fresh.closed_at is None and fresh.evidence_pdf is None
