"""Departments and positions are lists HR keeps: staff records, events and the staff import point
at their entries; an entry in use is deactivated, never deleted; every change is audited."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from tests.integration.test_staff_import_files import _problems, _upload
from trainer.accounts import services
from trainer.accounts.demo import DEMO_DEPARTMENTS, DEMO_POSITIONS, create_demo_staff
from trainer.accounts.models import Department, Position, StaffEvent, StaffMember
from trainer.core.errors import DomainError, Forbidden
from trainer.core.models import AuditEvent
from trainer.core.timeutil import utcnow


def alerts(page: str, kind: str = "danger") -> str:
    return " ".join(re.findall(rf'<div class="alert alert-{kind}" role="alert">(.*?)</div>', page,
                               re.S))


def follow(client, response, kind: str = "danger") -> str:
    assert response.status_code == 302, response.status_code
    return alerts(client.get(response.headers["Location"]).get_data(as_text=True), kind)


def entry(model, name: str):
    return services.active_entry_named(model, name)


def audit_actions(db_session, kind: str, entry_id: int) -> list[str]:
    return list(db_session.scalars(select(AuditEvent.action).where(
        AuditEvent.object_type == kind, AuditEvent.object_id == str(entry_id))
        .order_by(AuditEvent.id)))


def count(db_session, model) -> int:
    return db_session.scalar(select(func.count()).select_from(model))


def options(page: str, name: str) -> list[str]:
    """The labels a select of the page offers."""
    select_html = re.search(rf'<select[^>]*name="{name}"[^>]*>(.*?)</select>', page, re.S)
    assert select_html, name
    return [label.strip() for label in re.findall(r"<option[^>]*>([^<]*)</option>",
                                                  select_html.group(1))]


# -- HR keeps the lists on pages of their own -------------------------------------------------

def test_hr_adds_renames_and_deactivates_a_department_every_change_audited(client, users,
                                                                             db_session):
    client.login(users["hr"].employee_no)
    assert client.post("/staff/departments", {"name": " 客服九部 ", "code": "CS9",
                                              "sort_order": "9"}).status_code == 302
    nine = entry(Department, "客服九部")
    assert (nine.name, nine.code, nine.sort_order, nine.active) == ("客服九部", "CS9", 9, True)
    assert "客服九部" in client.get("/staff/departments").get_data(as_text=True)
    assert client.post(f"/staff/departments/{nine.id}/edit", {
        "name": "客服九组", "code": "CS9", "sort_order": "9"}).status_code == 302
    assert client.post(f"/staff/departments/{nine.id}/active", {"enable": "0"}).status_code == 302
    db_session.expire_all()
    renamed = db_session.get(Department, nine.id)
    assert (renamed.name, renamed.active) == ("客服九组", False)
    assert audit_actions(db_session, "department", nine.id) == [
        "department.created", "department.updated", "department.deactivated"]
    updated = db_session.scalar(select(AuditEvent).where(AuditEvent.action ==
                                                         "department.updated"))
    assert updated.details["changed"] == {"name": ["客服九部", "客服九组"]}
    assert updated.actor_id == users["hr"].id


def test_positions_have_the_same_pages(client, users, db_session):
    client.login(users["admin"].employee_no)
    client.post("/staff/positions", {"name": "班组长", "code": "TL"})
    lead = entry(Position, "班组长")
    assert lead.code == "TL" and "班组长" in client.get("/staff/positions").get_data(as_text=True)
    assert audit_actions(db_session, "position", lead.id) == ["position.created"]


@pytest.mark.parametrize("fields, said", [
    ({"name": "客服一部"}, "客服一部"),            # taken by an active department
    ({"name": " 客服一部  "}, "客服一部"),          # the same name, spaced
    ({"name": "客服九部", "code": "DUP"}, "DUP"),  # a code another active entry holds
    ({"name": "客服九部", "code": "X" * 33}, "32"),
    ({"name": "   "}, ""),
])
def test_a_bad_new_entry_is_refused_clearly_and_changes_nothing(client, users, db_session,
                                                                 fields, said):
    services.create_list_entry(None, Department, name="客服八部", code="DUP", now=utcnow())
    db_session.commit()
    client.login(users["hr"].employee_no)
    before = count(db_session, Department), count(db_session, AuditEvent)
    response = client.post("/staff/departments", fields)
    assert response.status_code == 200
    message = alerts(response.get_data(as_text=True))
    assert message and said in message
    assert (count(db_session, Department), count(db_session, AuditEvent)) == before


def test_a_bad_rename_is_refused_and_changes_nothing(client, users, db_session):
    nine = services.create_list_entry(None, Department, name="客服九部", now=utcnow())
    db_session.commit()
    client.login(users["hr"].employee_no)
    for fields in ({"name": "客服一部"}, {"name": ""}, {"name": "客服十部", "sort_order": "x"}):
        response = client.post(f"/staff/departments/{nine.id}/edit", fields)
        page = response.get_data(as_text=True)
        assert response.status_code == 200 and ("alert-danger" in page or "is-invalid" in page), \
            fields
    db_session.expire_all()
    assert db_session.get(Department, nine.id).name == "客服九部"
    assert audit_actions(db_session, "department", nine.id) == ["department.created"]


def test_an_entry_in_use_is_never_deleted_an_unused_one_is(client, users, db_session):
    used = users["learner"].department
    spare_id = services.create_list_entry(None, Department, name="空部门", now=utcnow()).id
    db_session.commit()
    client.login(users["hr"].employee_no)
    said = follow(client, client.post(f"/staff/departments/{used.id}/delete"))
    assert used.name in said
    assert db_session.get(Department, used.id) is not None
    client.post(f"/staff/departments/{spare_id}/delete")
    db_session.expire_all()
    assert db_session.get(Department, spare_id) is None
    assert audit_actions(db_session, "department", spare_id)[-1] == "department.deleted"


def test_a_position_named_only_by_an_event_is_in_use(client, users, db_session, today):
    lead = services.create_list_entry(None, Position, name="班组长", now=utcnow())
    services.record_staff_event(None, users["learner"], kind="nomination", occurred_on=today,
                                position=lead, now=utcnow())
    db_session.commit()
    with pytest.raises(DomainError) as refused:
        services.delete_list_entry(users["hr"], lead, now=utcnow())
    assert refused.value.params == {"name": "班组长", "people": 0, "events": 1}


def test_a_retired_name_can_be_used_again_and_the_old_entry_cannot_come_back_beside_it(
        client, users, db_session):
    old = services.create_list_entry(None, Department, name="客服九部", code="CS9", now=utcnow())
    db_session.commit()
    client.login(users["hr"].employee_no)
    client.post(f"/staff/departments/{old.id}/active", {"enable": "0"})
    assert client.post("/staff/departments", {"name": "客服九部", "code": "CS9"}).status_code == 302
    said = follow(client, client.post(f"/staff/departments/{old.id}/active", {"enable": "1"}))
    assert "客服九部" in said
    db_session.expire_all()
    assert db_session.get(Department, old.id).active is False


def test_only_hr_and_admin_keep_the_lists(users, db_session):
    with pytest.raises(Forbidden):
        services.create_list_entry(users["trainer"], Department, name="培训部", now=utcnow())


# -- a deactivated entry is not offered for new staff but stays on existing records -------------

def test_a_deactivated_department_stays_on_its_records_and_is_offered_to_nobody_else(
        client, users, db_session, today):
    learner = users["learner"]
    old = learner.department
    services.set_list_entry_active(users["hr"], old, False, now=utcnow())
    db_session.commit()
    client.login(users["hr"].employee_no)
    new_form = client.get("/staff/new").get_data(as_text=True)
    assert not any(old.name in label for label in options(new_form, "department"))
    edit_form = client.get(f"/staff/{learner.id}/edit").get_data(as_text=True)
    assert re.search(rf'<option selected value="{old.id}">{old.name}', edit_form) or \
        re.search(rf'<option value="{old.id}" selected>', edit_form), "kept and selected"
    # Saving the person's record keeps it.
    response = client.post(f"/staff/{learner.id}/edit", {
        "name": "改名", "department": old.id, "position": learner.position_id,
        "hire_date": learner.hire_date.isoformat(), "roles": ["learner"], "locale": "zh_CN",
        "timezone": "Asia/Shanghai"})
    assert response.status_code == 302
    db_session.expire_all()
    assert db_session.get(StaffMember, learner.id).department_id == old.id
    # A new person cannot be given it, however it is asked for.
    before = count(db_session, StaffMember)
    response = client.post("/staff/new", {
        "employee_no": "K9100", "name": "新人", "department": old.id,
        "hire_date": today.isoformat(), "roles": ["learner"], "locale": "zh_CN",
        "timezone": "Asia/Shanghai"})
    assert response.status_code == 200 and count(db_session, StaffMember) == before
    with pytest.raises(DomainError) as refused:
        services.create_staff(users["hr"], employee_no="K9101", name="新人", department=old.id,
                              hire_date=today, now=utcnow())
    assert refused.value.params == {"name": old.name}


def test_hr_never_creates_an_entry_by_naming_it_the_system_does(users, db_session, today):
    with pytest.raises(DomainError) as refused:
        services.create_staff(users["hr"], employee_no="K9200", name="新人",
                              department="客服九部", hire_date=today, now=utcnow())
    assert refused.value.params["name"] == "客服九部"
    assert "客服一部" in refused.value.params["known"]
    assert entry(Department, "客服九部") is None
    person, _ = services.create_staff(None, employee_no="K9201", name="新人",
                                      department="客服九部", position="ＱＡ 专员",
                                      hire_date=today, now=utcnow())
    assert (person.department_name, person.position_name) == ("客服九部", "QA 专员")
    again, _ = services.create_staff(None, employee_no="K9202", name="又一人",
                                     department=" 客服九部", hire_date=today, now=utcnow())
    assert again.department_id == person.department_id


# -- the staff form, list and events ----------------------------------------------------------

def test_the_staff_form_offers_the_lists_and_the_list_filters_by_them(client, users, make_staff,
                                                                       db_session):
    nine = make_staff("learner", department="客服九部", position="质检员")
    make_staff("learner", department="客服九部", position="坐席")
    services.create_list_entry(None, Position, name="班组长", now=utcnow())
    db_session.commit()
    client.login(users["hr"].employee_no)
    form = client.get("/staff/new").get_data(as_text=True)
    assert {"客服一部", "客服九部"} <= set(options(form, "department"))
    assert {"坐席", "质检员", "班组长"} <= set(options(form, "position"))
    page = client.get(f"/staff?department={nine.department_id}&position={nine.position_id}")
    listed = re.findall(r'href="/staff/\d+">([^<]+)</a>', page.get_data(as_text=True))
    assert listed == [nine.employee_no]
    assert client.get("/staff?department=x&position=99999999999").status_code == 200


def test_a_nomination_picks_a_position_and_keeps_the_name_it_was_recorded_with(
        client, users, db_session, today):
    learner = users["learner"]
    lead = services.create_list_entry(None, Position, name="班组长", now=utcnow())
    db_session.commit()
    client.login(users["hr"].employee_no)
    detail = client.get(f"/staff/{learner.id}").get_data(as_text=True)
    assert "班组长" in options(detail, "position")
    client.post(f"/staff/{learner.id}/events", {"kind": "position_change",
                                                "occurred_on": today.isoformat(),
                                                "position": lead.id})
    client.post(f"/staff/positions/{lead.id}/edit", {"name": "值班长", "sort_order": "1"})
    db_session.expire_all()
    event = db_session.scalar(select(StaffEvent).where(StaffEvent.kind == "position_change"))
    assert (event.position_id, event.position) == (lead.id, "班组长")
    person = db_session.get(StaffMember, learner.id)
    assert person.position_id == lead.id and person.position_name == "值班长"


def test_an_event_cannot_name_no_position_or_a_deactivated_one(client, users, db_session, today):
    learner = users["learner"]
    gone = services.create_list_entry(None, Position, name="旧岗位", now=utcnow())
    services.set_list_entry_active(users["hr"], gone, False, now=utcnow())
    db_session.commit()
    client.login(users["hr"].employee_no)
    before = count(db_session, StaffEvent)
    for position in ("", gone.id, 99999):
        response = client.post(f"/staff/{learner.id}/events", {
            "kind": "nomination", "occurred_on": today.isoformat(), "position": position})
        assert follow(client, response), position
    assert count(db_session, StaffEvent) == before
    with pytest.raises(DomainError):
        services.record_staff_event(users["hr"], learner, kind="nomination", occurred_on=today,
                                    position=gone.id, now=utcnow())


# -- the staff import maps names to the lists ---------------------------------------------------

def test_the_import_maps_names_and_names_the_row_of_an_unknown_one(client, users, db_session):
    services.create_list_entry(None, Position, name="质检员", now=utcnow())
    gone = services.create_list_entry(None, Department, name="客服零部", now=utcnow())
    services.set_list_entry_active(users["hr"], gone, False, now=utcnow())
    db_session.commit()
    client.login(users["hr"].employee_no)
    lists_before = count(db_session, Department), count(db_session, Position)
    staff_before = count(db_session, StaffMember)
    csv = ("工号,姓名,部门,岗位,入职日期,角色\n"
           "K8001,甲,客服一部,坐席,2025-01-02,学员\n"
           "K8002,乙,客服九部,坐席,2025-01-02,学员\n"
           "K8003,丙,客服一部,班组长,2025-01-02,学员\n"
           "K8004,丁,客服零部,,2025-01-02,学员\n").encode()
    response = _upload(client, csv, "staff.csv")
    assert response.status_code == 422
    problems = {(row, column): text for row, column, text in
                _problems(response.get_data(as_text=True))}
    assert set(problems) == {("3", "部门"), ("4", "岗位"), ("5", "部门")}
    assert "客服九部" in problems["3", "部门"] and "客服一部" in problems["3", "部门"]
    assert "班组长" in problems["4", "岗位"] and "质检员" in problems["4", "岗位"]
    assert "客服零部" in problems["5", "部门"]
    assert (count(db_session, Department), count(db_session, Position)) == lists_before
    assert count(db_session, StaffMember) == staff_before
    good = ("工号,姓名,部门,岗位,入职日期,角色\n"
            "K8001,甲,客服一部,质检员,2025-01-02,学员\n"
            "K8002,乙, 客服一部 ,,2025-01-02,学员\n").encode()
    assert _upload(client, good, "staff.csv").status_code == 200
    people = db_session.scalars(select(StaffMember).where(
        StaffMember.employee_no.in_(["K8001", "K8002"])).order_by(StaffMember.employee_no)).all()
    assert [(p.department_name, p.position_name) for p in people] == [("客服一部", "质检员"),
                                                                      ("客服一部", "")]


def test_the_import_template_names_the_centres_own_entries(client, users):
    client.login(users["hr"].employee_no)
    template = client.get("/staff/import/template.csv").get_data().decode("utf-8-sig")
    assert template.splitlines()[1].split(",")[2:4] == ["客服一部", "坐席"]
    page = client.get("/staff/import").get_data(as_text=True)
    assert "/staff/departments" in page and "/staff/positions" in page


# -- the demo -----------------------------------------------------------------------------------

def test_the_demo_creates_its_departments_and_positions(db_session, today):
    create_demo_staff(now=utcnow(), today=today)
    create_demo_staff(now=utcnow(), today=today)  # idempotent
    assert [(d.name, d.code) for d in services.list_entries(Department)] == list(DEMO_DEPARTMENTS)
    assert [(p.name, p.code) for p in services.list_entries(Position)] == list(DEMO_POSITIONS)
    nominated = services.get_staff_by_employee_no("K0004")
    nomination = next(e for e in nominated.events if e.kind == "nomination")
    assert nomination.position_entry.name == nomination.position == "班组长"
    assert services.get_staff_by_employee_no("K0008").position_name == "柜台服务员"
    assert all(s.department_id for s in db_session.scalars(select(StaffMember)))


def test_people_per_entry_counts_those_still_there(users, make_staff, db_session, today):
    gone = make_staff("learner", department="客服九部")
    make_staff("learner", department="客服九部")
    services.record_staff_event(None, gone, kind="leaving", occurred_on=today, now=utcnow())
    nine = entry(Department, "客服九部")
    assert services.people_per_entry(Department)[nine.id] == 1
    assert services.people_per_entry(Department, include_left=True)[nine.id] == 2
    assert nine.id in services.entries_in_use(Department)


def test_voiding_a_position_change_gives_back_the_position_it_replaced(
        users, make_staff, db_session, today):
    """The staff record's position follows its position changes: voiding the one in force
    puts back the position it replaced (it kept the voided one)."""
    from datetime import timedelta

    hr = users["hr"]
    agent = make_staff("learner", position="坐席", hired_days_ago=400)
    lead = services.create_list_entry(None, Position, name="班组长", now=utcnow())
    head = services.create_list_entry(None, Position, name="值班经理", now=utcnow())
    first = services.record_staff_event(hr, agent, kind="position_change", position=lead.id,
                                        occurred_on=today - timedelta(days=30), now=utcnow())
    second = services.record_staff_event(hr, agent, kind="position_change", position=head.id,
                                         occurred_on=today, now=utcnow())
    assert agent.position_name == "值班经理"
    services.void_staff_event(hr, second, note="录错了", now=utcnow())
    assert agent.position_name == "班组长"
    services.void_staff_event(hr, first, note="也录错了", now=utcnow())
    assert agent.position_name == "坐席"
    assert [e.kind for e in agent.events].count("position_change") == 2   # history kept


def test_a_position_set_by_hand_survives_later_events(users, make_staff, db_session, today):
    """HR's correction of the position on the staff form is not undone by the next event
    recorded (a leave re-derived the position from the last position change)."""
    from datetime import timedelta

    hr = users["hr"]
    agent = make_staff("learner", position="坐席", hired_days_ago=400)
    lead = services.create_list_entry(None, Position, name="班组长", now=utcnow())
    services.create_list_entry(None, Position, name="质检员", now=utcnow())
    services.record_staff_event(hr, agent, kind="position_change", position=lead.id,
                                occurred_on=today - timedelta(days=30), now=utcnow())
    services.update_staff(hr, agent, name=agent.name, department=agent.department_id,
                          position="质检员", hire_date=agent.hire_date,
                          roles=agent.role_names, locale=agent.locale,
                          timezone=agent.timezone, now=utcnow())
    assert agent.position_name == "质检员"
    services.record_staff_event(hr, agent, kind="leave_start", occurred_on=today, now=utcnow())
    assert agent.position_name == "质检员"
