"""Training by post, on both databases: `posts/*.toml` names a post's courses (of the transfer
track), internship, due days and final assessment; a position change to the post assigns its
transfer training (its courses only), a nomination its promotion training (the common courses,
then the post's); the 实习考评 counts only after the internship; a bad post file is refused."""
from __future__ import annotations

import shutil
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from tests.integration.test_learning import ROOT
from trainer.accounts.models import Position
from trainer.accounts.services import create_list_entry, record_staff_event
from trainer.assessments import services as assessments
from trainer.assessments.content import sync_forms
from trainer.assessments.models import AssessmentForm
from trainer.banks.services import sync_banks
from trainer.certificates.models import Certificate
from trainer.core.timeutil import utcnow
from trainer.learning import services as learning
from trainer.learning.content import sync_courses, sync_posts
from trainer.learning.models import Enrolment, PostTraining, Track

LESSON = (ROOT / "courses/reentry/01-service-standards-review/01-language-and-seven-voices.md")
POST = """name = "质检专员"
aliases = ["质检员"]
title_en = "Quality inspector"
internship_days = 30
due_days = 90
final_assessment = "internship-quality-inspector"
courses = ["21-qa-basics", "23-qa-internship"]
"""


def course(root, key, hours, extra=""):
    folder = root / "courses" / "transfer" / key
    folder.mkdir(parents=True)
    (folder / "course.toml").write_text(
        f'posts = ["质检专员"]\ntitle = "{key}"\nhours = {hours}\ncategory = "岗位技能"\n{extra}',
        encoding="utf-8")
    shutil.copy(LESSON, folder / "01-lesson.md")


@pytest.fixture
def posts_root(db_session, tmp_path):
    sync_banks(ROOT / "question_banks", now=utcnow())
    sync_forms(ROOT / "assessment_forms", now=utcnow())
    shutil.copytree(ROOT / "courses" / "promotion", tmp_path / "courses" / "promotion")
    (tmp_path / "courses" / "transfer").mkdir(parents=True)
    shutil.copy(ROOT / "courses/transfer/track.toml", tmp_path / "courses/transfer/track.toml")
    course(tmp_path, "21-qa-basics", 16)
    course(tmp_path, "23-qa-internship", 4, '\n[[requirements]]\nkind = "assessment"\n'
                                            'ref = "internship-quality-inspector"\n')
    (tmp_path / "posts").mkdir()
    assert sync_courses(tmp_path / "courses", now=utcnow()).errors == []
    return tmp_path


def load(root):
    report = sync_posts(root / "posts", courses_root=root / "courses", now=utcnow())
    return report


@pytest.mark.parametrize("change,expected", [
    (("21-qa-basics", "21-qa-nothing"), "no course '21-qa-nothing'"),
    (('"21-qa-basics", ', ""), "at least 20"),
    (("internship-quality-inspector", "duty-test"), "no course of the post asks"),
    (("internship_days = 30", "internship_days = 120"), "internship_days and due_days"),
])
def test_a_bad_post_file_is_refused_and_changes_nothing(posts_root, db_session, change,
                                                        expected):
    (posts_root / "posts" / "quality-inspector.toml").write_text(
        POST.replace(*change), encoding="utf-8")
    report = load(posts_root)
    assert any(expected in e for e in report.errors), report.errors
    assert db_session.scalar(select(PostTraining)) is None


def test_a_change_to_the_post_assigns_its_courses_and_the_internship_comes_first(
        posts_root, client, users, make_staff, db_session, today):
    (posts_root / "posts" / "quality-inspector.toml").write_text(POST, encoding="utf-8")
    assert load(posts_root).errors == []
    db_session.commit()
    agent = make_staff("learner", employee_no="K0200")
    alias = create_list_entry(None, Position, name="质检员", now=utcnow())
    db_session.commit()
    client.login("HR001")
    page = client.post(f"/staff/{agent.id}/events", {
        "kind": "position_change", "position": alias.id, "occurred_on": today.isoformat()},
        follow_redirects=True)
    assert "转岗培训" in page.get_data(as_text=True)
    enrolment = db_session.scalar(select(Enrolment).join(Track).where(
        Enrolment.staff_id == agent.id, Track.key == "transfer"))
    assert enrolment.due_on == today + timedelta(days=90) and enrolment.reason == "transfer"
    courses = [c.course.key for c in learning.progress(enrolment).courses]
    assert courses == ["21-qa-basics", "23-qa-internship"]
    # the lessons read, an internship assessment passed today: too early, it does not count
    client.raw.get("/logout")
    client.login("K0200")
    for cp in learning.progress(enrolment).courses:
        for status in cp.lessons:
            client.post(f"/learn/{enrolment.id}/lessons/{status.lesson.id}/read")
    form = db_session.scalar(select(AssessmentForm).where(
        AssessmentForm.key == "internship-quality-inspector"))
    assessor = make_staff("assessor", employee_no="AS200")
    full = {str(item.id): Decimal(item.points) for item in form.items}
    assessments.record_assessment(assessor, form, agent, assessed_on=today, today=today,
                                  awarded=full, now=utcnow())
    db_session.commit()
    learning.refresh_enrolment(enrolment, now=utcnow())
    db_session.commit()
    assert enrolment.state != "completed"
    page = client.get(f"/learn/{enrolment.id}/courses/"
                      f"{learning.progress(enrolment).courses[1].course.id}")
    assert "data-counts-from" in page.get_data(as_text=True)
    assert "实习" in page.get_data(as_text=True).split("data-counts-from")[1][:200]
    # thirty days on (the assignment moved back), the next passed 考评 completes the training
    enrolment.assigned_at -= timedelta(days=45)
    form.retake_wait_days = 0
    db_session.commit()
    assessments.record_assessment(assessor, form, agent, assessed_on=today, today=today,
                                  awarded=full, now=utcnow() + timedelta(seconds=1))
    db_session.commit()
    learning.refresh_enrolment(enrolment, now=utcnow())
    db_session.commit()
    assert enrolment.state == "completed"
    certificate = db_session.scalar(select(Certificate).where(
        Certificate.enrolment_id == enrolment.id))
    assert certificate is not None and "质检员" in str(certificate.snapshot)


def test_a_nomination_takes_the_common_courses_then_the_posts_and_no_transfer_after(
        posts_root, make_staff, db_session, today):
    (posts_root / "posts" / "quality-inspector.toml").write_text(POST, encoding="utf-8")
    assert load(posts_root).errors == []
    db_session.commit()
    agent = make_staff("learner", employee_no="K0300")
    post = create_list_entry(None, Position, name="质检专员", now=utcnow())
    record_staff_event(None, agent, kind="nomination", position=post, occurred_on=today,
                       now=utcnow(), today=today)
    db_session.commit()
    promotion = db_session.scalar(select(Enrolment).join(Track).where(
        Enrolment.staff_id == agent.id, Track.key == "promotion"))
    keys = [c.course.key for c in learning.progress(promotion).courses]
    common = sorted(p.name for p in (posts_root / "courses" / "promotion").iterdir()
                    if p.is_dir())
    assert keys == common + ["21-qa-basics", "23-qa-internship"]
    assert promotion.due_on == today + timedelta(days=90)
    promotion.state, promotion.completed_at = "completed", utcnow()
    db_session.commit()
    record_staff_event(None, agent, kind="position_change", position=post, occurred_on=today,
                       now=utcnow(), today=today)
    db_session.commit()
    assert db_session.scalar(select(Enrolment).join(Track).where(
        Enrolment.staff_id == agent.id, Track.key == "transfer")) is None
