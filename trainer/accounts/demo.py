"""Demo staff for trying the site: the centre's departments and positions, one account per
role and a small department of agents."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from trainer.accounts.models import Department, Position, StaffMember
from trainer.accounts.services import (
    active_entry_named,
    create_list_entry,
    create_staff,
    get_staff_by_employee_no,
    record_staff_event,
)

DEMO_PASSWORD = "demo-trainer-2026"


@dataclass(frozen=True)
class DemoPerson:
    employee_no: str
    name: str
    department: str
    position: str
    hired_days_ago: int
    roles: tuple[str, ...]
    story: str  # what the demo shows with this person


# (name, code), in the order the lists show them.
DEMO_DEPARTMENTS = (("客服一部", "CS1"), ("客服二部", "CS2"), ("培训部", "TRN"),
                    ("人力资源部", "HR"), ("信息部", "IT"))
DEMO_POSITIONS = (("坐席", "AGT"), ("柜台服务员", "CTR"), ("班组长", "TL"), ("质检员", "QA"),
                  ("培训师", "TRN"), ("人事专员", "HRS"), ("系统管理员", "SYS"))

DEMO_STAFF = (
    DemoPerson("A0001", "周敏", "信息部", "系统管理员", 2000, ("admin", "learner"), "admin"),
    DemoPerson("H0001", "王芳", "人力资源部", "人事专员", 1500, ("hr", "learner"), "hr"),
    DemoPerson("T0001", "陈刚", "培训部", "培训师", 1800, ("trainer", "assessor", "learner"),
               "trainer"),
    DemoPerson("K0001", "李娜", "客服一部", "坐席", 3 * 365, ("learner",), "veteran"),
    DemoPerson("K0002", "张伟", "客服一部", "坐席", 5, ("learner",), "new hire"),
    DemoPerson("K0003", "刘洋", "客服一部", "坐席", 2 * 365, ("learner",), "back from leave"),
    DemoPerson("K0004", "赵静", "客服一部", "坐席", 4 * 365, ("learner",), "nominated"),
    DemoPerson("K0005", "孙磊", "客服一部", "坐席", 400, ("learner",), "in-service"),
    DemoPerson("K0006", "周婷", "客服二部", "坐席", 240, ("learner",), "in-service"),
    DemoPerson("K0007", "吴昊", "客服二部", "坐席", 600, ("learner",), "on leave"),
    DemoPerson("K0008", "郑丽", "客服二部", "柜台服务员", 20, ("learner",), "new hire"),
    DemoPerson("K0009", "黄磊", "客服一部", "坐席", 12, ("learner",), "new hire"),
    DemoPerson("K0010", "林芳", "客服二部", "坐席", 9, ("learner",), "new hire"),
    DemoPerson("K0011", "何军", "客服二部", "坐席", 7, ("learner",), "new hire"),
    DemoPerson("K0012", "许晴", "客服一部", "坐席", 42, ("learner",), "onboarded"),
    # Hired after go-live and 40 days in, onboarding (due in 30) not finished: HR's overdue.
    DemoPerson("K0013", "马骏", "客服一部", "坐席", 40, ("learner",), "overdue"),
    # Stood down (待岗) twelve days ago: remedial training, a plan, a talk, evaluation pending.
    DemoPerson("K0014", "钱程", "客服二部", "坐席", 2 * 365, ("learner",), "stood down"),
    # Back yesterday from 130 days of leave: re-entry with the extended business course.
    DemoPerson("K0015", "冯雪", "客服一部", "坐席", 3 * 365, ("learner",), "back from long leave"),
)


def create_demo_staff(*, now: datetime, today: date) -> list[DemoPerson]:
    """Create the demo departments, positions and people that do not exist yet (idempotent);
    return the people created."""
    for model, entries in ((Department, DEMO_DEPARTMENTS), (Position, DEMO_POSITIONS)):
        for order, (name, code) in enumerate(entries, start=1):
            if active_entry_named(model, name) is None:
                create_list_entry(None, model, name=name, code=code, sort_order=order, now=now)
    created = []
    for person in DEMO_STAFF:
        if get_staff_by_employee_no(person.employee_no) is not None:
            continue
        hired = today - timedelta(days=person.hired_days_ago)
        # The overdue agent was entered on the day they were hired, so their onboarding fell
        # due 30 days later; the others were entered today (due dates count from then).
        entered = now - timedelta(days=person.hired_days_ago) if person.story == "overdue" \
            else now
        staff, _ = create_staff(
            None, employee_no=person.employee_no, name=person.name,
            department=person.department, position=person.position,
            hire_date=hired, roles=person.roles, now=entered, password=DEMO_PASSWORD)
        _play_story(staff, person.story, now=now, today=today)
        created.append(person)
    return created


def _play_story(staff: StaffMember, story: str, *, now: datetime, today: date) -> None:
    if story == "back from leave":
        record_staff_event(None, staff, kind="leave_start", occurred_on=today - timedelta(days=47),
                           note="产假", now=now)
        record_staff_event(None, staff, kind="leave_return",
                           occurred_on=today - timedelta(days=2), note="休假 45 天后返岗", now=now)
    elif story == "nominated":
        record_staff_event(None, staff, kind="nomination", occurred_on=today - timedelta(days=3),
                           position="班组长", note="季度绩效第一，推荐晋升班组长", now=now)
    elif story == "back from long leave":
        record_staff_event(None, staff, kind="leave_start",
                           occurred_on=today - timedelta(days=131), note="产假", now=now)
        record_staff_event(None, staff, kind="leave_return",
                           occurred_on=today - timedelta(days=1), note="休假 130 天后返岗", now=now)
    elif story == "stood down":
        record_staff_event(None, staff, kind="stood_down", reason="performance",
                           occurred_on=today - timedelta(days=12),
                           note="连续三个月质检成绩不达标，服务用语和身份核实问题反复出现", now=now)
    elif story == "on leave":
        record_staff_event(None, staff, kind="leave_start", occurred_on=today - timedelta(days=10),
                           note="病假", now=now)
