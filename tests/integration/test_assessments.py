"""Practical assessments on both databases: a trainer writes a form in the site, an assessor
records assessments (critical items, the retake wait, no self-assessment), the person reads and
acknowledges, HR voids a mistake, and a course asking for the assessment completes only once it
is passed."""
from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from tests.integration.test_learning import content  # noqa: F401 - fixture
from trainer.accounts.services import update_staff
from trainer.assessments import services
from trainer.assessments.models import Assessment, AssessmentForm
from trainer.core.errors import DomainError, Forbidden
from trainer.core.models import AuditEvent, TodoItem
from trainer.core.timeutil import utcnow
from trainer.learning import services as learning
from trainer.learning.models import CourseRequirement

ITEMS = [("开场", "使用标准开头语并报工号", "10", False),
         ("核实", "按规定核实客户身份", "20", True),
         ("处理", "准确理解并解答客户问题", "50", False),
         ("结束", "确认无其他需求后规范结束通话", "20", False)]


def form_post(title="上岗测试：接听一通模拟来电", items=ITEMS, **extra):
    data = {"title": title, "description": "由考评员扮演客户来电。", "purpose": "duty",
            "pass_percent": "80", "retake_wait_days": "7", **extra}
    for n, (section, text, points, critical) in enumerate(items):
        data[f"items-{n}-section"], data[f"items-{n}-text"] = section, text
        data[f"items-{n}-points"] = points
        if critical:
            data[f"items-{n}-critical"] = "y"
    return data


@pytest.fixture
def people(users, make_staff, db_session):
    assessor = make_staff("trainer", "assessor", employee_no="AS001", name="考评员甲")
    return {**users, "assessor": assessor}


@pytest.fixture
def form(people):
    fields = services.FormFields(
        title="上岗测试：接听一通模拟来电", description="", purpose="duty", pass_percent=80,
        retake_wait_days=7, items=[services.ItemFields(t, Decimal(p), c, s)
                                   for s, t, p, c in ITEMS])
    return services.save_form(people["trainer"], None, fields, now=utcnow())


def points(form, *values):
    return {str(item.id): Decimal(v) for item, v in zip(form.items, values)}


def test_a_trainer_writes_a_form_in_the_site_and_bad_input_changes_nothing(client, people,
                                                                          db_session):
    client.login("TR001")
    page = client.post("/assessments/forms/new", form_post(), follow_redirects=True)
    text = page.get_data(as_text=True)
    form = db_session.scalar(select(AssessmentForm))
    assert form is not None and [i.text for i in form.items] == [i[1] for i in ITEMS]
    assert [i.critical for i in form.items] == [False, True, False, False]
    assert form.total == Decimal(100) and "按规定核实客户身份" in text
    for bad, message in ((form_post(title="无条目", items=[]), "至少要有一个考评项"),
                         (form_post(title="半分", items=[("", "开场", "7.25", False)]),
                          "0.5 的整数倍"),
                         (form_post(title="及格线", pass_percent="0"), "")):
        before = db_session.scalar(select(func.count()).select_from(AssessmentForm))
        response = client.post("/assessments/forms/new", bad, follow_redirects=True)
        assert response.status_code == 200
        assert db_session.scalar(select(func.count()).select_from(AssessmentForm)) == before
        assert 'alert-danger' in response.get_data(as_text=True)
        if message:
            assert message in response.get_data(as_text=True)
    # a learner may read the form (to prepare) but not write one
    client.raw.get("/logout")
    client.login("L0001")
    assert client.get(f"/assessments/forms/{form.id}").status_code == 200
    assert client.get("/assessments/forms/new").status_code == 403


def test_an_assessor_records_a_pass_and_a_critical_item_fails_whatever_the_total(
        client, people, form, db_session, today):
    learner = people["learner"]
    client.login("AS001")
    data = {"employee_no": "l0001", "assessed_on": today.isoformat(), "context": "模拟来电 1",
            "comments": "开场自然。"}
    for item, value in zip(form.items, ("10", "19", "50", "20")):
        data[f"points-{item.id}"], data[f"note-{item.id}"] = value, ""
    page = client.post(f"/assessments/forms/{form.id}/record", data, follow_redirects=True)
    text = page.get_data(as_text=True)
    assessment = db_session.scalar(select(Assessment))
    assert assessment.staff_id == learner.id and assessment.total == Decimal(99)
    assert not assessment.passed and "data-critical-failed" in text
    assert db_session.scalar(select(AuditEvent).where(
        AuditEvent.action == "assessment.recorded")).details["critical_failed"] == 1
    # the retake waits seven days: refused with the date, nothing written
    data[f"points-{form.items[1].id}"] = "20"
    refused = client.post(f"/assessments/forms/{form.id}/record", data, follow_redirects=True)
    assert (today + timedelta(days=7)).isoformat() in refused.get_data(as_text=True)
    assert db_session.scalar(select(func.count()).select_from(Assessment)) == 1
    assert "考评员甲" in text and "模拟来电 1" in text


def test_refusals_change_nothing(people, form, db_session, today):
    assessor, learner = people["assessor"], people["learner"]
    for actor, person, day, values, expected in (
            (assessor, assessor, today, (10, 20, 50, 20), "themselves"),
            (assessor, learner, today + timedelta(days=1), (10, 20, 50, 20), "after today"),
            (people["trainer"], learner, today, (10, 20, 50, 20), "Only assessors"),
            (assessor, learner, today, (10, 20, 51, 20), "give 0 to 50"),
            (assessor, learner, today, (10, 20, 50), "has no points")):
        with pytest.raises(DomainError) as caught:
            services.record_assessment(actor, form, person, assessed_on=day, today=today,
                                       awarded=points(form, *values), now=utcnow())
        assert expected in caught.value.translated()
    assert db_session.scalar(select(func.count()).select_from(Assessment)) == 0


def test_the_retake_wait_then_a_pass(people, form, db_session, today):
    assessor, learner = people["assessor"], people["learner"]
    week_ago = today - timedelta(days=7)
    failed = services.record_assessment(assessor, form, learner, assessed_on=week_ago,
                                        today=today, awarded=points(form, 10, 10, 50, 20),
                                        now=utcnow())
    assert not failed.passed
    with pytest.raises(DomainError):
        services.record_assessment(assessor, form, learner, assessed_on=today - timedelta(1),
                                   today=today, awarded=points(form, 10, 20, 50, 20),
                                   now=utcnow())
    passed = services.record_assessment(assessor, form, learner, assessed_on=today,
                                        today=today, awarded=points(form, 10, 20, 30, 20),
                                        now=utcnow())
    assert passed.passed and passed.total == Decimal(80)


def test_the_person_reads_and_acknowledges_others_cannot_see_hr_voids(
        client, another_client, people, form, db_session, today):
    assessment = services.record_assessment(
        people["assessor"], form, people["learner"], assessed_on=today, today=today,
        awarded=points(form, 10, 20, 40, 20), comments="解答准确。", now=utcnow())
    db_session.commit()
    todo = db_session.scalar(select(TodoItem).where(TodoItem.kind == services.ACK_TODO))
    assert todo.staff_id == people["learner"].id and todo.done_at is None
    another_client.login("L0002")
    assert another_client.get(f"/assessments/{assessment.id}").status_code == 404
    assert another_client.post(f"/assessments/{assessment.id}/acknowledge",
                               {"comment": "x"}).status_code == 404
    client.login("L0001")
    mine = client.get("/assessments/mine").get_data(as_text=True)
    assert f'data-assessment="{assessment.id}"' in mine
    client.post(f"/assessments/{assessment.id}/acknowledge", {"comment": "第三项我有不同看法。"})
    db_session.refresh(assessment)
    assert assessment.acknowledged_at is not None
    assert assessment.person_comment == "第三项我有不同看法。"
    db_session.refresh(todo)
    assert todo.done_at is not None
    again = client.post(f"/assessments/{assessment.id}/acknowledge", {"comment": ""},
                        follow_redirects=True)
    assert "alert-danger" in again.get_data(as_text=True)
    # a learner cannot void; HR can, with a reason; the record stays
    assert client.post(f"/assessments/{assessment.id}/void",
                       {"reason": "录错人"}).status_code == 403
    another_client.raw.get("/logout")
    another_client.login("HR001")
    page = another_client.get(f"/assessments/{assessment.id}").get_data(as_text=True)
    assert "第三项我有不同看法。" in page
    another_client.post(f"/assessments/{assessment.id}/void", {"reason": "录错表"})
    db_session.refresh(assessment)
    assert assessment.voided_at is not None and assessment.void_reason == "录错表"
    with pytest.raises(Forbidden):
        services.acknowledge_assessment(people["learner2"], assessment, now=utcnow())


def test_hr_grants_the_assessor_role(people, db_session):
    learner = people["learner2"]
    update_staff(people["hr"], learner, name=learner.name, department=learner.department_name,
                 position=learner.position_name, hire_date=learner.hire_date,
                 roles={"learner", "assessor"}, locale=learner.locale,
                 timezone=learner.timezone, now=utcnow())
    assert learner.has_role("assessor")


def test_a_course_asking_for_the_assessment_completes_only_once_it_is_passed(
        content, people, form, make_staff, db_session, today):
    hr, assessor = people["hr"], people["assessor"]
    track = learning.track_by_key("reentry")
    course = track.courses[0]
    db_session.add(CourseRequirement(course_id=course.id, kind="assessment", ref_id=form.id,
                                     position=90, created_at=utcnow()))
    db_session.flush()
    person = make_staff("learner")
    learning.assign_manual(hr, [person], track, due_on=today + timedelta(days=28),
                           now=utcnow())
    enrolment = db_session.scalar(select(learning.Enrolment).where(
        learning.Enrolment.staff_id == person.id, learning.Enrolment.track_id == track.id))

    def state():
        return [o for o in learning.progress(enrolment).courses[0].others
                if o.kind == "assessment"][0].status

    assert not state().done and state().label == form.title
    services.record_assessment(assessor, form, person, assessed_on=today, today=today,
                               awarded=points(form, 10, 15, 50, 20), now=utcnow())
    assert not state().done                       # failed: open for a retake
    form.retake_wait_days = 0
    passed = services.record_assessment(assessor, form, person, assessed_on=today, today=today,
                                        awarded=points(form, 10, 20, 50, 20), now=utcnow())
    assert state().done
    services.void_assessment(hr, passed, reason="误录", now=utcnow())
    assert not state().done


def test_a_trainer_asks_a_course_for_a_form_in_the_site(client, people, form, content,
                                                        db_session):
    """The course page offers the current forms; the form must be one of them; enrolments
    assigned from then on ask for it."""
    course = learning.track_by_key("inservice").courses[0]
    client.login("TR001")
    page = client.get(f"/tracks/courses/{course.id}").get_data(as_text=True)
    assert f'<option value="{form.id}">{form.title}</option>' in page
    refused = client.post(f"/tracks/courses/{course.id}/requirements",
                          {"kind": "assessment", "ref_id": "999999"}, follow_redirects=True)
    assert "alert-danger" in refused.get_data(as_text=True)
    assert db_session.scalar(select(CourseRequirement).where(
        CourseRequirement.course_id == course.id,
        CourseRequirement.kind == "assessment")) is None
    client.post(f"/tracks/courses/{course.id}/requirements",
                {"kind": "assessment", "ref_id": str(form.id)})
    asked = db_session.scalar(select(CourseRequirement).where(
        CourseRequirement.course_id == course.id, CourseRequirement.kind == "assessment"))
    assert asked is not None and asked.ref_id == form.id
    page = client.get(f"/tracks/courses/{course.id}").get_data(as_text=True)
    listed = re.search(r'data-requirement="assessment">(.*?)</li>', page, re.S).group(1)
    assert form.title in listed
    assert 'data-add-requirement="assessment"' not in page   # asked once


def test_a_failed_assessment_gets_one_extension_then_a_failed_retake_ends_not_passed(
        client, content, people, form, make_staff, db_session, today):
    hr, assessor, trainer = people["hr"], people["assessor"], people["trainer"]
    track = learning.track_by_key("reentry")
    db_session.add(CourseRequirement(course_id=track.courses[0].id, kind="assessment",
                                     ref_id=form.id, position=90, created_at=utcnow()))
    db_session.flush()
    person = make_staff("learner", employee_no="K0500")
    learning.assign_manual(hr, [person], track, due_on=today + timedelta(days=28), now=utcnow())
    enrolment = db_session.scalar(select(learning.Enrolment).where(
        learning.Enrolment.staff_id == person.id, learning.Enrolment.track_id == track.id))
    failing = points(form, 10, 0, 50, 20)
    services.record_assessment(assessor, form, person, assessed_on=today, today=today,
                               awarded=failing, now=utcnow())
    db_session.commit()
    # one failure: not yet "not passed"; a trainer may no longer extend, HR may once
    with pytest.raises(DomainError, match="both failed"):
        learning.end_not_passed(assessor, enrolment, "退回原岗位", now=utcnow())
    with pytest.raises(Forbidden):
        learning.extend_due(trainer, enrolment, enrolment.due_on + timedelta(days=14),
                            now=utcnow())
    learning.extend_due(hr, enrolment, enrolment.due_on + timedelta(days=14), now=utcnow())
    db_session.commit()
    assert enrolment.retake_extended_on == today
    with pytest.raises(DomainError, match="already extended once"):
        learning.extend_due(hr, enrolment, enrolment.due_on + timedelta(days=7), now=utcnow())
    # the retake fails too: the assessor ends it from the assessment page
    form.retake_wait_days = 0
    retake = services.record_assessment(assessor, form, person, assessed_on=today, today=today,
                                        awarded=failing, now=utcnow())
    db_session.commit()
    client.login("AS001")
    page = client.get(f"/assessments/{retake.id}").get_data(as_text=True)
    assert "data-failed-twice" in page
    refused = client.post(f"/training/enrolments/{enrolment.id}/not-passed",
                          {"note": "", "back": f"/assessments/{retake.id}"},
                          follow_redirects=True)
    assert refused.status_code == 200 and enrolment.state != "not_passed"
    client.post(f"/training/enrolments/{enrolment.id}/not-passed",
                {"note": "退回原岗位，三个月后可再申请", "back": f"/assessments/{retake.id}"})
    db_session.expire_all()
    enrolment = db_session.get(learning.Enrolment, enrolment.id)
    assert enrolment.state == "not_passed" and enrolment.waived_reason.startswith("退回原岗位")
    assert db_session.scalar(select(AuditEvent).where(
        AuditEvent.action == "enrolment.not_passed")).actor_id == assessor.id
