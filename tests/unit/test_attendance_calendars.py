"""The iCalendar builder without a database: its bytes are parsed back with icalendar."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import icalendar
import pytest

from trainer.attendance.calendars import SessionEvent, build_calendar

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2025, 3, 3, 1, 2, 3, tzinfo=timezone.utc)
# A long Chinese title: its line is folded at 75 octets, which must never split a character.
TITLE = "客户投诉处理与服务补救集中授课（含情景演练、录音复盘和服务七声规范）（第2课次）"


def event(**changes) -> SessionEvent:
    base = SessionEvent(
        uid="4f1c0e@trainer", sequence=0,
        starts_at=datetime(2025, 3, 10, 9, 0, tzinfo=SHANGHAI),
        ends_at=datetime(2025, 3, 10, 10, 30, tzinfo=SHANGHAI),
        summary=TITLE, location="三楼培训室",
        description="培训师：陈培训、王老师\n详情：https://trainer.example/classes",
        url="https://trainer.example/classes")
    return replace(base, **changes)


def parse(data: bytes) -> icalendar.Calendar:
    assert isinstance(data, bytes)
    return icalendar.Calendar.from_ical(data)


def only_event(data: bytes) -> icalendar.Event:
    events = parse(data).walk("VEVENT")
    assert len(events) == 1
    return events[0]


def test_one_session_reads_back_with_its_chinese_text_and_utc_times():
    data = build_calendar([event()], name="服务礼仪集中授课", now=NOW)
    calendar = parse(data)
    assert str(calendar["method"]) == "PUBLISH" and str(calendar["version"]) == "2.0"
    assert "Trainer" in str(calendar["prodid"])
    assert str(calendar["x-wr-calname"]) == "服务礼仪集中授课"
    vevent = only_event(data)
    assert str(vevent["summary"]) == TITLE
    assert str(vevent["location"]) == "三楼培训室"
    assert str(vevent["description"]).splitlines() == ["培训师：陈培训、王老师",
                                                       "详情：https://trainer.example/classes"]
    assert str(vevent["url"]) == "https://trainer.example/classes"
    assert str(vevent["uid"]) == "4f1c0e@trainer" and int(vevent["sequence"]) == 0
    assert str(vevent["status"]) == "CONFIRMED" and str(vevent["transp"]) == "OPAQUE"
    # 09:00 in Shanghai is 01:00 UTC, written as UTC (the Z form), and DTSTAMP is the clock's.
    start, end = vevent.decoded("dtstart"), vevent.decoded("dtend")
    assert start == datetime(2025, 3, 10, 1, 0, tzinfo=timezone.utc)
    assert start.utcoffset() == timedelta(0) and end - start == timedelta(minutes=90)
    assert b"DTSTART:20250310T010000Z" in data and b"DTEND:20250310T023000Z" in data
    assert vevent.decoded("dtstamp") == NOW.replace(microsecond=0)
    assert not parse(data).walk("VTIMEZONE")


def test_lines_are_folded_without_breaking_a_character():
    data = build_calendar([event()], name="名" * 40, now=NOW)
    lines = data.split(b"\r\n")
    assert max(len(line) for line in lines) <= 75
    assert any(line.startswith(b" ") for line in lines)    # the title was folded
    for line in lines:
        line.decode("utf-8")                                # every piece is whole UTF-8


def test_an_edited_session_keeps_its_uid_and_carries_its_higher_sequence():
    before = only_event(build_calendar([event()], name="班", now=NOW))
    moved = event(sequence=1, starts_at=datetime(2025, 3, 11, 14, 0, tzinfo=SHANGHAI),
                  ends_at=datetime(2025, 3, 11, 15, 0, tzinfo=SHANGHAI),
                  last_modified=NOW)
    after = only_event(build_calendar([moved], name="班", now=NOW + timedelta(hours=1)))
    assert str(after["uid"]) == str(before["uid"])
    assert int(after["sequence"]) > int(before["sequence"])
    assert after.decoded("dtstart") == datetime(2025, 3, 11, 6, 0, tzinfo=timezone.utc)
    assert after.decoded("last-modified") == NOW.replace(microsecond=0)
    assert after.decoded("dtstamp") > before.decoded("dtstamp")


def test_a_cancelled_session_stays_with_status_cancelled_and_frees_the_time():
    data = build_calendar([event(), event(uid="other@trainer", cancelled=True, sequence=2)],
                          name="我的培训课程", now=NOW)
    by_uid = {str(e["uid"]): e for e in parse(data).walk("VEVENT")}
    assert str(by_uid["other@trainer"]["status"]) == "CANCELLED"
    assert str(by_uid["other@trainer"]["transp"]) == "TRANSPARENT"
    assert int(by_uid["other@trainer"]["sequence"]) == 2
    assert str(by_uid["4f1c0e@trainer"]["status"]) == "CONFIRMED"


def test_a_feed_orders_its_events_and_asks_to_be_fetched_again_hourly():
    later = event(uid="later@trainer", starts_at=datetime(2025, 4, 1, 9, 0, tzinfo=SHANGHAI),
                  ends_at=datetime(2025, 4, 1, 10, 0, tzinfo=SHANGHAI))
    data = build_calendar([later, event()], name="李学员的培训课程", now=NOW, feed=True)
    calendar = parse(data)
    assert [str(e["uid"]) for e in calendar.walk("VEVENT")] == ["4f1c0e@trainer",
                                                               "later@trainer"]
    assert b"REFRESH-INTERVAL;VALUE=DURATION:PT1H" in data and b"X-PUBLISHED-TTL:PT1H" in data
    single = build_calendar([event()], name="班", now=NOW)
    assert b"REFRESH-INTERVAL" not in single and b"X-PUBLISHED-TTL" not in single


def test_optional_text_is_left_out_and_an_empty_feed_is_still_a_calendar():
    bare = only_event(build_calendar([event(location="", description="", url="")],
                                     name="班", now=NOW))
    assert "location" not in bare and "description" not in bare and "url" not in bare
    empty = parse(build_calendar([], name="李学员的培训课程", now=NOW, feed=True))
    assert empty.walk("VEVENT") == [] and str(empty["x-wr-calname"]) == "李学员的培训课程"


def test_naive_times_are_refused():
    with pytest.raises(ValueError):
        build_calendar([event(starts_at=datetime(2025, 3, 10, 9, 0))], name="班", now=NOW)
