"""HR's compliance figures (records.figures) on both databases, against a hand-built centre of
two departments with one person in each state, so a wrong join or a wrong definition shows:
each figure exactly, the people behind each figure, and the set-based rules agreeing with the
per-person ones they restate (learning's clearance, records' proration, quizzes' kept grade)."""
from __future__ import annotations

import dataclasses
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from trainer.accounts.models import Department, Position
from trainer.certificates.models import Certificate
from trainer.core.settings import set_setting
from trainer.core.timeutil import utcnow
from trainer.learning.models import Enrolment, HoursEntry, Track
from trainer.quizzes.models import Attempt, Quiz

A, B = "合规一部", "合规二部"
FORMULA_NAME = "=SUM(1,2)"


def _enrol(db_session, person, track, state, *, due_on, now, completed_at=None,
           assigned_days_ago=40):
    enrolment = Enrolment(staff_id=person.id, track_id=track.id, reason="manual",
                          assigned_at=now - timedelta(days=assigned_days_ago), due_on=due_on,
                          state=state, completed_at=completed_at,
                          waived_reason="调岗免训" if state == "waived" else "")
    db_session.add(enrolment)
    db_session.flush()
    return enrolment


def _hours(db_session, person, minutes, *, on, source_id, now, kind="class",
           category="服务礼仪"):
    db_session.add(HoursEntry(staff_id=person.id, source_kind=kind, source_id=source_id,
                              on_date=on, category=category, minutes=minutes, title="集中培训",
                              credited_at=now, updated_at=now))


def _certificate(db_session, person, number, *, now, expires_at, enrolment=None, **extra):
    certificate = Certificate(
        staff_id=person.id, kind="track" if enrolment else "class",
        source="inservice" if enrolment else "class",
        enrolment_id=enrolment.id if enrolment else None, serial=f"HRT-{number:05d}",
        code=f"HRTCODE{number:05d}", issued_at=now - timedelta(days=300), expires_at=expires_at,
        snapshot={"title": "合规证书"}, template_version=1, **extra)
    db_session.add(certificate)
    db_session.flush()
    return certificate


def _quiz(db_session, title, *, now, mode="exam", grading="highest"):
    quiz = Quiz(title=title, mode=mode, grading=grading, pass_mark=Decimal(60),
                created_at=now, updated_at=now)
    db_session.add(quiz)
    db_session.flush()
    return quiz


def _attempt(db_session, quiz, person, number, percent, *, at, state="submitted",
             enrolment=None):
    attempt = Attempt(quiz_id=quiz.id, staff_id=person.id, number=number, state=state,
                      started_at=at - timedelta(minutes=20),
                      submitted_at=at if state != "in_progress" else None,
                      score=Decimal(percent) if state != "in_progress" else None,
                      max_score=Decimal(100),
                      percent=Decimal(percent) if state != "in_progress" else None,
                      passed=(percent >= 60) if state != "in_progress" else None,
                      enrolment_id=enrolment.id if enrolment else None)
    db_session.add(attempt)
    db_session.flush()
    return attempt


def half_year_leave(today: date) -> tuple[date, date]:
    """A leave of about half the year so far (from 2 January to half-way to today)."""
    start = date(today.year, 1, 2)
    return start, start + timedelta(days=max(1, (today - date(today.year, 1, 1)).days // 2))


@pytest.fixture
def centre(make_staff, db_session, today):
    """Two departments; in 合规一部 one enrolment overdue, one due soon, one in progress, one
    completed this year, one waived (a name that is a formula), and someone who left with an
    overdue enrolment (never counted); in 合规二部 a certificate expiring, one expired (and a
    revoked and a superseded expired one, not counted), someone not cleared for duty (hired
    after the go-live, no onboarding), someone on leave half the year (behind on 学时) and
    someone with no 学时 at all this year. Exams: passed, failed, failed twice, a 'last'
    grading whose last attempt failed after a pass, a practice quiz and last year's attempt
    (neither counted)."""
    from trainer.accounts import services as accounts

    now = utcnow()
    set_setting("go_live_date", (today - timedelta(days=100)).isoformat(), actor=None, now=now)
    db_session.commit()
    p = {}
    # No track exists yet: creating people assigns nothing by itself; enrolments are built below.
    p["overdue"] = make_staff("learner", employee_no="C1001", name="甲逾期", department=A)
    p["due_soon"] = make_staff("learner", employee_no="C1002", name="甲将到期", department=A)
    p["in_progress"] = make_staff("learner", employee_no="C1003", name="甲学习中", department=A)
    p["completed"] = make_staff("learner", employee_no="C1004", name="甲已完成", department=A)
    p["waived"] = make_staff("learner", employee_no="C1005", name=FORMULA_NAME, department=A)
    p["left"] = make_staff("learner", employee_no="C1006", name="甲离职", department=A)
    p["expiring"] = make_staff("learner", employee_no="C2001", name="乙证书将到期", department=B)
    p["expired"] = make_staff("learner", employee_no="C2002", name="乙证书已过期", department=B)
    p["not_cleared"] = make_staff("learner", employee_no="C2003", name="乙未上岗", department=B,
                                  hired_days_ago=10)
    p["leave"] = make_staff("learner", employee_no="C2004", name="乙休假半年", department=B)
    p["not_covered"] = make_staff("learner", employee_no="C2005", name="乙无学时",
                                  department=B, position="班组长")
    accounts.record_staff_event(None, p["left"], kind="leaving",
                                occurred_on=today - timedelta(days=5), now=now, today=today)
    start, end = half_year_leave(today)
    accounts.record_staff_event(None, p["leave"], kind="leave_start", occurred_on=start, now=now,
                                today=today)
    accounts.record_staff_event(None, p["leave"], kind="leave_return", occurred_on=end, now=now,
                                today=today)
    onboarding = Track(key="onboarding", title="入职培训", position=0)
    inservice = Track(key="inservice", title="在岗复训", position=1)
    db_session.add_all([onboarding, inservice])
    db_session.flush()
    e = {}
    e["overdue"] = _enrol(db_session, p["overdue"], inservice, "assigned",   # not yet marked
                          due_on=today - timedelta(days=5), now=now)
    e["due_soon"] = _enrol(db_session, p["due_soon"], inservice, "assigned",
                           due_on=today + timedelta(days=10), now=now)
    e["in_progress"] = _enrol(db_session, p["in_progress"], inservice, "in_progress",
                              due_on=today + timedelta(days=45), now=now)
    e["completed"] = _enrol(db_session, p["completed"], inservice, "completed",
                            due_on=today + timedelta(days=5), now=now,
                            completed_at=now - timedelta(minutes=30))
    e["waived"] = _enrol(db_session, p["waived"], inservice, "waived",
                         due_on=today + timedelta(days=5), now=now,
                         completed_at=now - timedelta(minutes=30))
    e["left"] = _enrol(db_session, p["left"], inservice, "overdue",
                       due_on=today - timedelta(days=9), now=now)
    year_start = datetime(today.year, 1, 1, tzinfo=now.tzinfo)
    e["last_year"] = _enrol(db_session, p["expiring"], inservice, "completed",
                            due_on=today - timedelta(days=400), now=now,
                            completed_at=year_start - timedelta(days=10), assigned_days_ago=420)
    # Certificates: expiring in 20 days (of last year's in-service), expired 5 days ago; the
    # revoked and the superseded expired ones do not count.
    c = {}
    c["expiring"] = _certificate(db_session, p["expiring"], 1, now=now,
                                 expires_at=now + timedelta(days=20), enrolment=e["last_year"])
    c["expired"] = _certificate(db_session, p["expired"], 2, now=now,
                                expires_at=now - timedelta(days=5))
    _certificate(db_session, p["expired"], 3, now=now, expires_at=now - timedelta(days=5),
                 revoked_at=now - timedelta(days=50), revoke_reason="withdrawn")
    newer = _certificate(db_session, p["not_covered"], 4, now=now,
                         expires_at=now + timedelta(days=700))
    _certificate(db_session, p["not_covered"], 5, now=now, expires_at=now - timedelta(days=3),
                 superseded_by_id=newer.id)
    _certificate(db_session, p["leave"], 6, now=now, expires_at=now + timedelta(days=200))
    # 学时 this year: 45 (enough to date) for everyone but the one on leave (10) and the one
    # with none; last year's 学时 and uncounted e-learning do not help.
    on = today - timedelta(days=1) if today.timetuple().tm_yday > 1 else today
    for number, key in enumerate(("overdue", "due_soon", "in_progress", "completed", "waived",
                                  "left", "expiring", "expired", "not_cleared"), start=1):
        _hours(db_session, p[key], 45 * 60, on=on, source_id=number, now=now)
    _hours(db_session, p["leave"], 10 * 60, on=on, source_id=50, now=now)
    _hours(db_session, p["leave"], 40 * 60, on=on, source_id=51, now=now, kind="course")
    _hours(db_session, p["not_covered"], 50 * 60, on=date(today.year - 1, 6, 1), source_id=52,
           now=now)
    # Exams this year (a few minutes ago): the grade kept decides.
    q1 = _quiz(db_session, "合规月考", now=now)                       # highest
    q2 = _quiz(db_session, "合规抽考", now=now, grading="last")       # last
    practice = _quiz(db_session, "合规练习", now=now, mode="practice")
    at = now - timedelta(minutes=5)
    _attempt(db_session, q1, p["overdue"], 1, 80, at=at)                                # pass
    _attempt(db_session, q1, p["due_soon"], 1, 40, at=at)                               # fail
    _attempt(db_session, q1, p["due_soon"], 2, 50, at=at, state="expired")              # fail
    _attempt(db_session, q2, p["in_progress"], 1, 90, at=at, enrolment=e["in_progress"])
    _attempt(db_session, q2, p["in_progress"], 2, 30, at=at, enrolment=e["in_progress"])  # fail
    _attempt(db_session, q1, p["completed"], 1, 50, at=at)
    _attempt(db_session, q1, p["completed"], 2, 70, at=at)                              # pass
    _attempt(db_session, practice, p["expiring"], 1, 100, at=at)                        # practice
    _attempt(db_session, q1, p["expired"], 1, 100, at=now - timedelta(days=400))        # last year
    _attempt(db_session, q2, p["expired"], 1, 0, at=at, state="in_progress")            # unfinished
    _attempt(db_session, q1, p["left"], 1, 20, at=at)                                   # left
    db_session.commit()
    return {"people": p, "enrolments": e, "certificates": c, "tracks":
            {"onboarding": onboarding, "inservice": inservice},
            "quizzes": {"q1": q1, "q2": q2, "practice": practice}, "now": now}


def _department_id(db_session, name):
    return db_session.scalar(select(Department.id).where(Department.name == name))


EXPECTED = {
    A: dict(people=5, assigned=1, in_progress=1, overdue=1, due_soon=1, completed=1, waived=1,
            expiring=0, expired=0, not_cleared=0, behind=0, covered=5, hours=225.0, pairs=4,
            passed=2),
    B: dict(people=5, assigned=0, in_progress=0, overdue=0, due_soon=0, completed=0, waived=0,
            expiring=1, expired=1, not_cleared=1, behind=2, covered=4, hours=145.0, pairs=0,
            passed=0),
}
PEOPLE = {
    A: {"people": {"甲逾期", "甲将到期", "甲学习中", "甲已完成", FORMULA_NAME},
        "assigned": {"甲将到期"}, "in_progress": {"甲学习中"}, "overdue": {"甲逾期"},
        "due_soon": {"甲将到期"}, "completed": {"甲已完成"}, "waived": {FORMULA_NAME},
        "expiring": set(), "expired": set(), "not_cleared": set(), "behind": set(),
        "covered": {"甲逾期", "甲将到期", "甲学习中", "甲已完成", FORMULA_NAME},
        "not_covered": set(), "passed": {"甲逾期", "甲已完成"}, "failed": {"甲将到期", "甲学习中"}},
    B: {"people": {"乙证书将到期", "乙证书已过期", "乙未上岗", "乙休假半年", "乙无学时"},
        "assigned": set(), "in_progress": set(), "overdue": set(), "due_soon": set(),
        "completed": set(), "waived": set(), "expiring": {"乙证书将到期"},
        "expired": {"乙证书已过期"}, "not_cleared": {"乙未上岗"},
        "behind": {"乙休假半年", "乙无学时"},
        "covered": {"乙证书将到期", "乙证书已过期", "乙未上岗", "乙休假半年"},
        "not_covered": {"乙无学时"}, "passed": set(), "failed": set()},
}


def test_each_department_figure(centre, db_session):
    from trainer.records import figures

    rows = {f.name: f for f in figures.group_figures(centre["now"], by="department")}
    for department, expected in EXPECTED.items():
        row = rows[department]
        assert row.key == _department_id(db_session, department)
        got = {name: getattr(row, name) for name in expected}
        assert got == expected, department
    a, b = rows[A], rows[B]
    assert a.coverage == 1.0 and b.coverage == pytest.approx(0.8)
    assert a.pass_rate == pytest.approx(0.5) and b.pass_rate is None
    assert a.failed == 2 and b.not_covered == 1
    assert b.hours_mean == pytest.approx(29.0)
    # The totals count everyone in scope once: the departments' people, nobody who left.
    total = figures.totals(centre["now"])
    assert total.people == sum(f.people for f in rows.values())
    assert total.overdue == sum(f.overdue for f in rows.values())
    assert total.pairs == sum(f.pairs for f in rows.values()) == 4
    # The dashboard adds its rows up instead (each person in one department): the same.
    assert figures.totals(centre["now"], list(rows.values()), "department") == \
        dataclasses.replace(total, key=0, name="")


def test_each_figure_lists_exactly_its_people(centre, db_session):
    from trainer.records import figures

    rows = {f.name: f for f in figures.group_figures(centre["now"])}
    for department, flags in PEOPLE.items():
        department_id = _department_id(db_session, department)
        for flag, names in flags.items():
            query = figures.people(centre["now"], figures.PeopleFilter(
                department_id=department_id, flag=flag))
            got = {s.name for s in db_session.scalars(query)}
            assert got == names, (department, flag)
            figure = getattr(rows[department], flag)
            if flag in ("people", "not_cleared", "behind", "covered", "not_covered", "expiring",
                        "expired", "overdue", "due_soon", "assigned", "in_progress",
                        "completed", "waived"):
                # One enrolment (certificate, person) each in this fixture.
                assert figure == len(names), (department, flag)


def test_by_position_and_by_track(centre, db_session):
    from trainer.records import figures

    now = centre["now"]
    positions = {f.name: f for f in figures.group_figures(now, by="position")}
    lead = positions["班组长"]
    assert (lead.people, lead.behind, lead.covered, lead.expired) == (1, 1, 0, 0)
    tracks = {f.name: f for f in figures.group_figures(now, by="track")}
    inservice = tracks["在岗复训"]
    # Everyone in scope with an in-service enrolment (last year's too), their enrolments,
    # the certificate earned by one; only the attempts made for an enrolment of the track.
    assert (inservice.people, inservice.overdue, inservice.due_soon, inservice.in_progress,
            inservice.completed, inservice.waived, inservice.expiring, inservice.expired,
            inservice.pairs, inservice.passed) == (6, 1, 1, 1, 1, 1, 1, 0, 1, 0)
    assert tracks["入职培训"].people == 0
    track_id = centre["tracks"]["inservice"].id
    failed = figures.people(now, figures.PeopleFilter(track_id=track_id, flag="failed"))
    assert [s.name for s in db_session.scalars(failed)] == ["甲学习中"]
    chart = figures.overdue_by_track(now)
    assert chart == {(_department_id(db_session, A), track_id): 1}


def test_the_rows_of_people_without_a_department_or_position(centre, make_staff, db_session):
    from trainer.records import figures

    make_staff("learner", employee_no="C3001", name="无岗位者", department=A, position=None)
    make_staff("learner", employee_no="C3002", name="无部门者", department=None)
    now = centre["now"]
    by_position = {f.key: f for f in figures.group_figures(now, by="position")}
    assert by_position[None].people == 1
    listed = figures.people(now, figures.PeopleFilter(no_position=True, flag="behind"))
    assert [s.name for s in db_session.scalars(listed)] == ["无岗位者"]   # no 学时 at all
    departments = {f.key: f for f in figures.group_figures(now)}
    assert departments[None].people == 1
    listed = figures.people(now, figures.PeopleFilter(no_department=True))
    assert [s.name for s in db_session.scalars(listed)] == ["无部门者"]


def test_search_and_order(centre, db_session):
    from trainer.records import figures

    now = centre["now"]
    found = {s.employee_no for s in db_session.scalars(
        figures.people(now, figures.PeopleFilter(q="c200")))}
    assert found == {"C2001", "C2002", "C2003", "C2004", "C2005"}
    # Ordered by name, then employee number (the same name twice keeps a stable order).
    names = [s.name for s in db_session.scalars(figures.people(now))]
    assert len(names) == len(set(names))
    assert [s.name for s in db_session.scalars(figures.people(
        now, figures.PeopleFilter(q="休假")))] == ["乙休假半年"]
    assert list(db_session.scalars(figures.people(now, figures.PeopleFilter(q="%")))) == []
    with pytest.raises(ValueError):
        figures.PeopleFilter(flag="nonsense")


def test_pass_rate_by_month(centre):
    from trainer.records import figures

    months = figures.pass_rate_by_month(centre["now"])
    assert len(months) == 12
    assert months[-1][1:] == (4, 2)
    assert all(pairs == 0 for _, pairs, _ in months[:-1])


def test_not_cleared_agrees_with_learning(centre, db_session, today):
    from trainer.learning import rules as learning_rules
    from trainer.learning import services as learning
    from trainer.learning.settings import lifecycle_settings
    from trainer.records import figures

    blocked = {s.id for s in db_session.scalars(figures.people(
        centre["now"], figures.PeopleFilter(flag="not_cleared")))}
    for person in centre["people"].values():
        if person.status == "left":
            continue
        cleared = learning_rules.cleared_for_duty(learning._facts(person), lifecycle_settings(),
                                                  today)
        assert (not cleared) == (person.id in blocked), person.name
    # Completing onboarding clears: the same in both.
    person = centre["people"]["not_cleared"]
    _enrol(db_session, person, centre["tracks"]["onboarding"], "completed",
           due_on=centre["now"].date(), now=centre["now"], completed_at=centre["now"])
    db_session.commit()
    assert learning_rules.cleared_on(learning._facts(person), lifecycle_settings()) is not None
    assert person.id not in {s.id for s in db_session.scalars(figures.people(
        centre["now"], figures.PeopleFilter(flag="not_cleared")))}


def test_a_stood_down_agent_is_not_cleared_until_reinstated_in_both(centre, db_session, today,
                                                                    make_staff):
    """learning.rules.cleared_for_duty and records.figures.not_cleared agree on stand-downs,
    a voided stand-down included."""
    from trainer.accounts.services import record_staff_event, void_staff_event
    from trainer.learning import rules as learning_rules
    from trainer.learning import services as learning
    from trainer.learning.settings import lifecycle_settings
    from trainer.records import figures

    def both(person):
        listed = person.id in {s.id for s in db_session.scalars(figures.people(
            utcnow(), figures.PeopleFilter(flag="not_cleared")))}
        cleared = learning_rules.cleared_for_duty(learning._facts(person), lifecycle_settings(),
                                                  today)
        assert listed == (not cleared)
        return cleared

    person = next(p for p in centre["people"].values()
                  if p.status == "active" and both(p))
    down = record_staff_event(None, person, kind="stood_down", reason="performance",
                              occurred_on=today - timedelta(days=10), now=utcnow(), today=today)
    db_session.commit()
    assert not both(person)
    record_staff_event(None, person, kind="reinstated", occurred_on=today, now=utcnow(),
                       today=today)
    db_session.commit()
    assert both(person)
    again = record_staff_event(None, person, kind="stood_down", reason="violation",
                               occurred_on=today, now=utcnow(), today=today)
    db_session.commit()
    assert not both(person)
    void_staff_event(make_staff("hr", employee_no="HR900"), again, note="登记错了", now=utcnow())
    db_session.commit()
    assert both(person) and down.id is not None


def test_behind_agrees_with_the_record_for_half_a_year_on_leave(centre, db_session, today):
    from trainer.records import figures, rules
    from trainer.records import services as record_services

    person = centre["people"]["leave"]
    rows = figures.person_rows([p.id for p in centre["people"].values()], centre["now"])
    for key, someone in centre["people"].items():
        if someone.status == "left":
            continue
        year = next(y for y in record_services._hours(someone, today) if y.year == today.year)
        row = rows[someone.id]
        assert Decimal(str(row.hours)) == year.standing.counted, key
        assert Decimal(str(row.minimum_to_date)) == year.standing.minimum_to_date, key
        assert row.behind == year.standing.behind, key
    # The leave counts: half the year off, about half the minimum to date.
    start, end = half_year_leave(today)
    days = (today - date(today.year, 1, 1)).days + 1 - (end - start).days
    expected = (Decimal(48) * days / rules.days_in_year(today.year)).quantize(Decimal("0.1"))
    assert abs(Decimal(str(rows[person.id].minimum_to_date)) - expected) <= Decimal("0.1")
    full = rows[centre["people"]["not_covered"].id].minimum_to_date
    assert rows[person.id].minimum_to_date < full
    assert rows[person.id].behind and rows[person.id].hours == 10.0
    assert rows[person.id].open_tracks == ()
    assert rows[centre["people"]["due_soon"].id].open_tracks == ("在岗复训",)
    assert rows[centre["people"]["overdue"].id].overdue == 1
    assert rows[centre["people"]["expiring"].id].expiring == 1
    assert not rows[centre["people"]["not_cleared"].id].cleared


def test_kept_grade_agrees_with_quizzes(centre, db_session):
    from trainer.quizzes import services as quizzes
    from trainer.records import figures

    clock = figures.Clock.at(centre["now"])
    kept = figures._kept_grades(clock, "all")
    found = {(s, q): bool(p) for s, q, p in db_session.execute(
        select(kept.c.staff_id, kept.c.quiz_id, kept.c.passed))}
    expected = {}
    for quiz in centre["quizzes"].values():
        if quiz.mode != "exam":
            continue
        for person in centre["people"].values():
            if person.status == "left":
                continue
            attempts = [a for a in db_session.scalars(select(Attempt).where(
                Attempt.staff_id == person.id, Attempt.quiz_id == quiz.id,
                Attempt.started_at >= clock.year_start))]
            grade = quizzes.kept_grade_among(attempts, quiz.grading)
            if grade is not None:
                expected[(person.id, quiz.id)] = grade.passed
    assert found == expected and len(found) == 4


def test_a_position_name_and_an_empty_department(centre, db_session):
    from trainer.records import figures

    names = figures.group_names("position")
    assert "班组长" in names.values()
    assert db_session.scalar(select(Position.id).where(Position.name == "班组长")) in names
    with pytest.raises(ValueError):
        figures.group_figures(centre["now"], by="nonsense")
