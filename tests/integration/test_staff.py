"""HR and admin manage staff: create, edit, roles, events, deactivate, import."""
from __future__ import annotations

import io
import re
from datetime import timedelta

from openpyxl import Workbook
from sqlalchemy import func, select

from trainer.accounts.models import Department, Position, StaffEvent, StaffMember
from trainer.accounts.services import active_entry_named, create_list_entry
from trainer.accounts.signals import staff_event_recorded
from trainer.core.models import AuditEvent
from trainer.core.timeutil import utcnow


def count_staff(db_session) -> int:
    return db_session.scalar(select(func.count()).select_from(StaffMember))


def entry_id(model, name: str) -> int:
    return active_entry_named(model, name).id


def test_hr_creates_a_person_who_gets_a_one_time_password(client, users, db_session, today):
    client.login(users["hr"].employee_no)
    response = client.post("/staff/new", {
        "employee_no": "K9001", "name": "新员工", "department": entry_id(Department, "客服一部"),
        "position": entry_id(Position, "坐席"), "hire_date": today.isoformat(), "roles": ["learner"], "locale": "zh_CN",
        "timezone": "Asia/Shanghai"})
    assert response.status_code == 200
    otp = re.search(r"data-otp>(\w+)<", response.get_data(as_text=True)).group(1)
    person = db_session.scalar(select(StaffMember).where(StaffMember.employee_no == "K9001"))
    assert person.must_change_password and person.role_names == {"learner"}
    assert (person.department_name, person.position_name) == ("客服一部", "坐席")
    assert [e.kind for e in person.events] == ["hire"]
    assert otp not in person.password_hash
    # The password is shown once: the staff page does not show it again.
    assert otp not in client.get(f"/staff/{person.id}").get_data(as_text=True)


def test_hr_cannot_grant_hr_or_admin(client, users, db_session, today):
    client.login(users["hr"].employee_no)
    before = count_staff(db_session)
    response = client.post("/staff/new", {
        "employee_no": "K9002", "name": "想当管理员", "hire_date": today.isoformat(),
        "roles": ["admin"], "locale": "zh_CN", "timezone": "Asia/Shanghai"})
    assert response.status_code == 200  # the form again, with the reason
    assert "K9002" in response.get_data(as_text=True)
    assert count_staff(db_session) == before


def test_admin_grants_hr(client, users, db_session, today):
    hr_department = create_list_entry(None, Department, name="人力资源部", now=utcnow())
    clerk = create_list_entry(None, Position, name="专员", now=utcnow())
    db_session.commit()
    client.login(users["admin"].employee_no)
    learner = users["learner"]
    response = client.post(f"/staff/{learner.id}/edit", {
        "name": learner.name, "department": hr_department.id, "position": clerk.id,
        "hire_date": learner.hire_date.isoformat(), "roles": ["learner", "hr"],
        "locale": "zh_CN", "timezone": "Asia/Shanghai"})
    assert response.status_code == 302
    db_session.expire_all()
    assert db_session.get(StaffMember, learner.id).role_names == {"learner", "hr"}
    audit = db_session.scalars(select(AuditEvent).where(AuditEvent.action == "staff.updated")).all()
    assert audit and audit[-1].details["roles"] == [["learner"], ["hr", "learner"]]
    assert audit[-1].details["department"] == ["客服一部", "人力资源部"]


def test_hr_cannot_reset_an_admins_password(client, users):
    client.login(users["hr"].employee_no)
    assert client.post(f"/staff/{users['admin'].id}/reset-password").status_code == 403


def test_duplicate_employee_number_is_refused_clearly(client, users, db_session, today):
    client.login(users["hr"].employee_no)
    before = count_staff(db_session)
    response = client.post("/staff/new", {
        "employee_no": users["learner"].employee_no.lower(), "name": "重复",
        "hire_date": today.isoformat(), "roles": ["learner"], "locale": "zh_CN",
        "timezone": "Asia/Shanghai"})
    assert response.status_code == 200
    assert users["learner"].employee_no.lower() in response.get_data(as_text=True)
    assert count_staff(db_session) == before


def test_staff_events_derive_status_and_send_a_signal(client, users, db_session, today):
    received = []

    def listener(event, now):
        received.append((event.kind, event.staff_id))

    staff_event_recorded.connect(listener)
    try:
        client.login(users["hr"].employee_no)
        learner = users["learner"]
        start = today - timedelta(days=40)
        client.post(f"/staff/{learner.id}/events", {"kind": "leave_start",
                                                    "occurred_on": start.isoformat(),
                                                    "note": "产假"})
        db_session.expire_all()
        assert db_session.get(StaffMember, learner.id).status == "on_leave"
        client.post(f"/staff/{learner.id}/events", {"kind": "leave_return",
                                                    "occurred_on": today.isoformat()})
        db_session.expire_all()
        assert db_session.get(StaffMember, learner.id).status == "active"
        assert ("leave_start", learner.id) in received and ("leave_return", learner.id) in received
    finally:
        staff_event_recorded.disconnect(listener)


def test_an_impossible_event_changes_nothing(client, users, db_session, today):
    client.login(users["hr"].employee_no)
    learner = users["learner"]
    before = db_session.scalar(select(func.count()).select_from(StaffEvent))
    response = client.post(f"/staff/{learner.id}/events", {"kind": "leave_return",
                                                           "occurred_on": today.isoformat()})
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "alert-danger" in page and today.isoformat() in page  # says which event is wrong
    assert db_session.scalar(select(func.count()).select_from(StaffEvent)) == before


def test_future_events_are_refused(client, users, db_session, today):
    client.login(users["hr"].employee_no)
    learner = users["learner"]
    client.post(f"/staff/{learner.id}/events", {"kind": "leave_start",
                                                "occurred_on": (today + timedelta(days=3)).isoformat()})
    db_session.expire_all()
    assert db_session.get(StaffMember, learner.id).status == "active"


def test_voiding_keeps_the_history(client, users, db_session, today):
    client.login(users["hr"].employee_no)
    learner = users["learner"]
    client.post(f"/staff/{learner.id}/events", {"kind": "leave_start",
                                                "occurred_on": today.isoformat()})
    event = db_session.scalar(select(StaffEvent).where(StaffEvent.kind == "leave_start",
                                                       StaffEvent.staff_id == learner.id))
    response = client.post(f"/staff/{learner.id}/events/{event.id}/void", {"note": "录错了"})
    assert response.status_code == 302
    db_session.expire_all()
    kinds = [e.kind for e in db_session.get(StaffMember, learner.id).events]
    assert "leave_start" in kinds and "void" in kinds
    assert db_session.get(StaffMember, learner.id).status == "active"


def _xlsx(rows) -> bytes:
    wb = Workbook()
    for row in rows:
        wb.active.append(row)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def test_import_good_xlsx_creates_everyone(client, users, db_session):
    create_list_entry(None, Department, name="客服二部", now=utcnow())
    db_session.commit()
    client.login(users["hr"].employee_no)
    data = _xlsx([["工号", "姓名", "部门", "岗位", "入职日期", "角色"],
                  ["K5001", "甲", "客服二部", "坐席", "2025-01-02", "学员"],
                  ["K5002", "乙", "客服二部", "坐席", "2025-02-03", "学员,培训师"]])
    response = client.post("/staff/import", {"file": (io.BytesIO(data), "staff.xlsx")},
                           content_type="multipart/form-data")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "K5001" in page and "K5002" in page
    created = db_session.scalars(select(StaffMember).where(
        StaffMember.employee_no.in_(["K5001", "K5002"]))).all()
    assert len(created) == 2 and all(p.must_change_password for p in created)
    assert {(p.department_name, p.position_name) for p in created} == {("客服二部", "坐席")}


def test_import_with_one_bad_row_saves_nobody(client, users, db_session):
    create_list_entry(None, Department, name="客服二部", now=utcnow())
    db_session.commit()
    client.login(users["hr"].employee_no)
    before = count_staff(db_session)
    csv = ("工号,姓名,部门,岗位,入职日期,角色\n"
           "K6001,甲,客服二部,坐席,2025-01-02,学员\n"
           f"{users['learner'].employee_no},乙,客服二部,坐席,2025-01-02,学员\n"
           "K6003,丙,客服二部,坐席,not-a-date,学员\n").encode("gb18030")
    response = client.post("/staff/import", {"file": (io.BytesIO(csv), "staff.csv")},
                           content_type="multipart/form-data")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert re.search(r"<td>3</td><td>工号</td>", page) and re.search(r"<td>4</td><td>入职日期</td>", page)
    assert count_staff(db_session) == before


def test_import_rejects_non_spreadsheets_and_empty_files(client, users, db_session):
    client.login(users["hr"].employee_no)
    before = count_staff(db_session)
    for name, data in [("x.csv", b""), ("x.png", b"\x89PNG\r\n\x1a\n\x00\x00binary"),
                       ("x.xlsx", b"PK\x03\x04broken")]:
        response = client.post("/staff/import", {"file": (io.BytesIO(data), name)},
                               content_type="multipart/form-data")
        assert response.status_code in (200, 422), name
        assert "table" in response.get_data(as_text=True) or response.status_code == 200
    assert count_staff(db_session) == before


def test_upload_over_the_size_cap_gets_a_clear_message(app, client, users):
    client.login(users["hr"].employee_no)
    big = b"a" * (app.config["MAX_CONTENT_LENGTH"] + 10)
    response = client.post("/staff/import", {"file": (io.BytesIO(big), "big.csv")},
                           content_type="multipart/form-data")
    assert response.status_code == 413
    assert "MB" in response.get_data(as_text=True)
