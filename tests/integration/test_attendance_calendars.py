"""Classroom calendars on both databases: one session's .ics download and who may have it, the
personal feed by its token (no sign-in), a new address that retires the old one, a person who
left, cancelled and moved sessions as calendars see them, and failed lookups slowed."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import icalendar
from sqlalchemy import select

from tests.integration.test_attendance import add_session, soon
from trainer.accounts import services as accounts
from trainer.attendance import services
from trainer.attendance.models import CalendarFeed
from trainer.core.models import AuditEvent
from trainer.core.timeutil import utcnow

FEED_URL = re.compile(r'id="feed-url" value="(http://localhost/calendar/([A-Za-z0-9_-]+)\.ics)"')


def make_class(trainer, title="服务礼仪集中授课", place="三楼培训室", **fields):
    return services.save_class(trainer, None, services.ClassFields(
        title=title, hours_category="服务礼仪", place=place, **fields), now=utcnow())


def events_of(response) -> dict[str, icalendar.Event]:
    assert response.status_code == 200, response.status_code
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert "no-store" in response.headers["Cache-Control"]
    calendar = icalendar.Calendar.from_ical(response.get_data())
    assert str(calendar["method"]) == "PUBLISH"
    return {str(e["uid"]): e for e in calendar.walk("VEVENT")}


def utc(moment: datetime) -> datetime:
    return moment.astimezone(timezone.utc).replace(microsecond=0)


def make_feed(client) -> tuple[str, str]:
    """Make (or renew) the signed-in person's feed on 我的课程: (address, token) as shown."""
    made = client.post("/classes/calendar")
    assert made.status_code == 302 and made.headers["Location"].endswith("/classes#calendar")
    page = client.get("/classes").get_data(as_text=True)
    found = FEED_URL.search(page)
    assert found, "the new address is shown"
    assert f'href="webcal://localhost/calendar/{found.group(2)}.ics"' in page
    assert "你的日历地址" in page and "只显示这一次" in page
    return found.group(1), found.group(2)


# -- one session's download -----------------------------------------------------------------------

def test_a_sessions_event_for_its_roster_its_trainers_and_hr_only(client, users, make_staff,
                                                                  db_session):
    trainer, learner = users["trainer"], users["learner"]
    cls = make_class(trainer, capacity=1)
    first = add_session(cls, trainer, soon(2 * 24 * 60))
    second = add_session(cls, trainer, soon(3 * 24 * 60), minutes=90)
    waiting, stranger = make_staff("learner"), make_staff("learner")
    services.invite(trainer, cls, [learner, waiting], now=utcnow())
    db_session.commit()
    url = f"/sessions/{second.id}.ics"

    client.login(learner.employee_no)
    page = client.get("/classes").get_data(as_text=True)
    assert f'href="{url}"' in page and "加入日历" in page
    response = client.get(url)
    events = events_of(response)
    assert response.headers["Content-Disposition"] == \
        f'attachment; filename="class-{cls.id}-session-{second.id}.ics"'
    event = events[second.uid]
    assert len(events) == 1 and int(event["sequence"]) == 0
    assert str(event["summary"]) == "服务礼仪集中授课（第2课次）"
    assert str(event["location"]) == "三楼培训室" and str(event["status"]) == "CONFIRMED"
    assert event.decoded("dtstart") == utc(second.starts_at)
    assert event.decoded("dtend") - event.decoded("dtstart") == timedelta(minutes=90)
    assert trainer.name in str(event["description"])
    assert str(event["url"]) == "http://localhost/classes"
    assert first.uid not in events

    # Wait-listed is still on the roster: the download is theirs too (the feed is not).
    client.post("/logout")
    client.login(waiting.employee_no)
    assert second.uid in events_of(client.get(url))

    # Off the roster, a stranger, or another class's trainer: refused.
    services.cancel_booking(waiting, cls, waiting, now=utcnow())
    db_session.commit()
    assert client.get(url).status_code == 403
    other_trainer = make_staff("trainer")
    for person in (users["learner2"], other_trainer, stranger):
        client.post("/logout")
        client.login(person.employee_no)
        assert client.get(url).status_code == 403, person.employee_no

    # The class's trainer and HR get it, pointing at the class's page.
    for person in (trainer, users["hr"], users["admin"]):
        client.post("/logout")
        client.login(person.employee_no)
        event = events_of(client.get(url))[second.uid]
        assert str(event["url"]) == f"http://localhost/training/classes/{cls.id}"
    page = client.get(f"/training/classes/{cls.id}").get_data(as_text=True)
    assert f'href="{url}"' in page
    assert client.get("/sessions/999999.ics").status_code == 404


def test_a_moved_session_keeps_its_uid_with_a_higher_sequence_then_is_cancelled(
        client, users, db_session):
    trainer, learner = users["trainer"], users["learner"]
    cls = make_class(trainer, place="", link="https://meeting.example/room/7")
    session = add_session(cls, trainer, soon(2 * 24 * 60))
    services.invite(trainer, cls, [learner], now=utcnow())
    db_session.commit()
    client.login(learner.employee_no)
    url = f"/sessions/{session.id}.ics"
    before = events_of(client.get(url))[session.uid]
    assert str(before["summary"]) == "服务礼仪集中授课"          # one session: no 第n课次
    assert str(before["location"]) == "https://meeting.example/room/7"

    later = session.starts_at + timedelta(hours=3)
    local = later.astimezone(ZoneInfo("Asia/Shanghai"))
    services.save_session(trainer, cls, session, services.SessionFields(
        day=local.date(), starts=local.time(), ends=(local + timedelta(minutes=50)).time(),
        end_day=(local + timedelta(minutes=50)).date()), now=utcnow())
    db_session.commit()
    moved = events_of(client.get(url))[session.uid]
    assert int(moved["sequence"]) > int(before["sequence"])
    assert moved.decoded("dtstart") == utc(later)

    services.cancel_session(trainer, session, now=utcnow(), reason="讲师出差")
    db_session.commit()
    cancelled = events_of(client.get(url))[session.uid]
    assert str(cancelled["status"]) == "CANCELLED"
    assert int(cancelled["sequence"]) > int(moved["sequence"])
    assert "此课次已取消" in str(cancelled["description"])


# -- the personal feed ----------------------------------------------------------------------------

def test_the_feed_by_its_token_shows_the_persons_classes_without_sign_in(
        client, another_client, users, make_staff, db_session):
    trainer, learner = users["trainer"], users["learner"]
    booked = make_class(trainer)
    held = add_session(booked, trainer, soon(-30 * 24 * 60))            # a month ago: kept
    ancient = add_session(booked, trainer, soon(-100 * 24 * 60))        # too old for the feed
    coming = add_session(booked, trainer, soon(5 * 24 * 60))
    dropped = add_session(booked, trainer, soon(6 * 24 * 60))
    full = make_class(trainer, title="投诉处理", place="二楼", capacity=1)
    full_session = add_session(full, trainer, soon(7 * 24 * 60))
    left_class = make_class(trainer, title="满意度调查", place="一楼")
    left_session = add_session(left_class, trainer, soon(8 * 24 * 60))
    services.invite(trainer, booked, [learner], now=utcnow())
    services.invite(trainer, full, [make_staff("learner"), learner], now=utcnow())  # waits
    services.invite(trainer, left_class, [learner], now=utcnow())
    services.cancel_booking(learner, left_class, learner, now=utcnow())
    services.cancel_session(trainer, dropped, now=utcnow(), reason="教室维修")
    db_session.commit()

    client.login(learner.employee_no)
    assert 'id="feed-url"' not in client.get("/classes").get_data(as_text=True)
    address, token = make_feed(client)
    # Shown once: the next visit says when it was made, not what it is.
    again = client.get("/classes").get_data(as_text=True)
    assert token not in again and "日历地址创建于" in again

    feed = another_client.get(address)                                     # nobody signed in
    events = events_of(feed)
    assert set(events) == {held.uid, coming.uid, dropped.uid}
    assert ancient.uid not in events and full_session.uid not in events \
        and left_session.uid not in events
    assert str(events[dropped.uid]["status"]) == "CANCELLED"
    assert str(events[coming.uid]["status"]) == "CONFIRMED"
    assert str(events[coming.uid]["summary"]) == "服务礼仪集中授课（第3课次）"
    assert str(events[coming.uid]["url"]) == "http://localhost/classes"
    calendar = icalendar.Calendar.from_ical(feed.get_data())
    assert str(calendar["x-wr-calname"]) == f"{learner.name}的培训课程"
    assert b"REFRESH-INTERVAL;VALUE=DURATION:PT1H" in feed.get_data()

    stored = db_session.get(CalendarFeed, learner.id)
    assert stored.token_hash != token and len(stored.token_hash) == 64
    audit = db_session.scalars(select(AuditEvent).where(
        AuditEvent.action == "calendar.feed_created")).all()
    assert [(a.actor_id, a.object_id) for a in audit] == [(learner.id, str(learner.id))]
    assert token not in str(audit[0].details)


def test_a_trainers_feed_has_the_classes_they_teach(client, users, db_session):
    trainer = users["trainer"]
    cls = make_class(trainer)
    session = add_session(cls, trainer, soon(2 * 24 * 60))
    db_session.commit()
    client.login(trainer.employee_no)
    assert 'href="/classes#calendar"' in client.get("/training/classes").get_data(as_text=True)
    address, _ = make_feed(client)
    client.post("/logout")
    event = events_of(client.get(address))[session.uid]
    assert str(event["url"]) == f"http://localhost/training/classes/{cls.id}"


def test_a_new_address_retires_the_old_one(client, another_client, users, db_session):
    learner = users["learner"]
    client.login(learner.employee_no)
    old_address, old_token = make_feed(client)
    assert another_client.get(old_address).status_code == 200
    new_address, new_token = make_feed(client)
    assert new_token != old_token
    assert another_client.get(old_address).status_code == 404
    assert another_client.get(new_address).status_code == 200
    actions = db_session.scalars(select(AuditEvent.action).where(
        AuditEvent.object_type == "staff", AuditEvent.object_id == str(learner.id),
        AuditEvent.action.like("calendar.%")).order_by(AuditEvent.id)).all()
    assert actions == ["calendar.feed_created", "calendar.feed_regenerated"]
    assert another_client.get("/calendar/no-such-token.ics").status_code == 404


def test_the_feed_of_a_person_who_left_is_gone(client, another_client, users, today,
                                               db_session):
    learner = users["learner"]
    client.login(learner.employee_no)
    address, _ = make_feed(client)
    assert another_client.get(address).status_code == 200
    accounts.record_staff_event(users["hr"], learner, kind="leaving", occurred_on=today,
                                now=utcnow(), today=today, note="离职")
    db_session.commit()
    assert another_client.get(address).status_code == 404


def test_failed_lookups_are_slowed_per_address_and_good_fetches_never_count(
        client, another_client, users, db_session):
    client.login(users["learner"].employee_no)
    address, _ = make_feed(client)
    prober = {"REMOTE_ADDR": "203.0.113.9"}
    for n in range(60):
        # The owner's calendar polling from the same address (one NAT): never counted.
        assert another_client.get(address, environ_base=prober).status_code == 200
        assert another_client.get(f"/calendar/guess{n}.ics",
                                  environ_base=prober).status_code == 404
    refused = another_client.get("/calendar/guess-again.ics", environ_base=prober)
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "60"
    assert refused.mimetype == "text/plain"
    assert another_client.get(address, environ_base=prober).status_code == 429
    assert another_client.get(address, environ_base={"REMOTE_ADDR": "198.51.100.4"}
                              ).status_code == 200
