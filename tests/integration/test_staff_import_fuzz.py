"""Fuzzing the staff import page: whatever file HR uploads, either every row is imported or the
page names the problems (422) and the staff table is as it was — never a crash, never a part."""
from __future__ import annotations

from datetime import date

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from trainer.accounts.models import StaffMember
from trainer.accounts.staff_import import parse_staff_table, read_table
from trainer.core.textfiles import DecodeError

from tests.integration.test_staff_import_files import _state, _upload
from tests.unit.test_staff_import_properties import CELL, STANDARD, TABLE, csv_bytes, xlsx_bytes

# Each imported person costs an Argon2id hash: a few dozen files a run are plenty here, the
# pure properties (tests/unit/test_staff_import_properties.py) take the hundreds.
EXAMPLES = min(settings.default.max_examples, 25)


@st.composite
def nearly_right(draw: st.DrawFn) -> tuple[list[object], list[list[object]]]:
    """A good staff list, or one with a single flaw: the kinds a database can catch as well as
    those a look at the file can."""
    header = draw(st.permutations(STANDARD).map(list))
    numbers = draw(st.lists(st.from_regex(r"F[0-9]{4}", fullmatch=True), min_size=1, max_size=4,
                            unique=True))
    rows = [{"工号": number, "姓名": draw(st.sampled_from(["张三", "李四", "Zhang San"])),
             "部门": "客服一部", "岗位": "坐席",
             "入职日期": draw(st.sampled_from(["2024-03-01", "2024/3/1", date(2024, 3, 1)])),
             "角色": draw(st.sampled_from(["学员", "学员、培训师", ""]))} for number in numbers]
    flaw = draw(st.sampled_from([None, None, None, None, "twin in another case",
                                 "taken in another case", "bad date", "hr role", "odd cell"]))
    victim = rows[draw(st.integers(0, len(rows) - 1))]
    if flaw == "twin in another case":
        rows.append({**victim, "工号": " " + str(victim["工号"]).lower()})
    elif flaw == "taken in another case":
        victim["工号"] = "l0001"  # the learner's L0001
    elif flaw == "bad date":
        victim["入职日期"] = "2024-02-30"
    elif flaw == "hr role":
        victim["角色"] = "人事"  # HR may not grant it
    elif flaw == "odd cell":
        victim[draw(st.sampled_from(STANDARD))] = draw(CELL)
    return header, [[row[label] for label in header] for row in rows]


def _expected_rows(data: bytes, filename: str, today) -> list[str] | None:
    try:
        return [r.employee_no for r in parse_staff_table(read_table(data, filename), today).rows]
    except DecodeError:
        return None


def test_an_import_creates_every_row_or_changes_nothing(client, users, db_session, today):
    client.login(users["hr"].employee_no)
    outcomes: list[int] = []

    @settings(max_examples=EXAMPLES, suppress_health_check=list(HealthCheck))
    @given(st.sampled_from([True, True, False]).flatmap(
               lambda plausible: nearly_right() if plausible else TABLE),
           st.sampled_from(["csv-utf-8", "csv-gb18030", "xlsx"]),
           st.sampled_from([False, False, True]).flatmap(
               lambda damaged: st.tuples(st.integers(0, 10**6), st.binary(min_size=1, max_size=8))
               if damaged else st.none()))
    def upload_anything(table, kind: str, damage) -> None:
        header, rows = table
        if kind == "xlsx":
            data, filename = xlsx_bytes([header, *rows]), "staff.xlsx"
        else:
            data, filename = csv_bytes([header, *rows], kind[4:]), "staff.csv"
        if damage is not None and data:
            at, junk = damage[0] % len(data), damage[1]
            data = data[:at] + junk + data[at + len(junk):]
        # Each file meets the same staff table: what one import adds is undone before the next.
        savepoint = db_session.begin_nested()
        try:
            check_upload(data, filename)
        finally:
            savepoint.rollback()
            db_session.expire_all()

    def check_upload(data: bytes, filename: str) -> None:
        before = _state(db_session)
        response = _upload(client, data, filename)
        assert response.status_code in (200, 422), response.status_code
        outcomes.append(response.status_code)
        if response.status_code == 422:
            assert _state(db_session) == before
            return
        numbers = _expected_rows(data, filename, today)
        assert numbers, "an import that succeeded had rows"
        staff, events = _state(db_session)
        assert staff == before[0] + len(numbers) and events > before[1]
        stored = set(db_session.scalars(select(StaffMember.employee_no).where(
            func.lower(StaffMember.employee_no).in_([n.lower() for n in numbers]))))
        assert stored == set(numbers)

    upload_anything()
    assert len(outcomes) >= EXAMPLES and set(outcomes) == {200, 422}, outcomes
