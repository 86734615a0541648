"""Failed sign-ins against the real Redis: several app processes count together, a shift's
rush behind one NAT address is never refused, and a sprayed password is."""
from __future__ import annotations

import re
import uuid
from datetime import date

import pytest
import redis
from sqlalchemy import insert

from tests.conftest import PASSWORD, skip_or_fail
from trainer import create_app
from trainer.accounts.models import StaffMember, StaffRole
from trainer.accounts.passwords import hash_password
from trainer.core.db import db, write_intent
from trainer.core.models import AuditEvent
from trainer.core.timeutil import utcnow

REDIS_URL = "redis://127.0.0.1:6379/0"


def _redis_answers() -> bool:
    try:
        return redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError:
        return False


def _add_staff(app, count: int) -> None:
    """`count` agents R0000… sharing one real Argon2id hash of PASSWORD (hashing each would
    take most of a minute)."""
    shared = hash_password(PASSWORD)
    now = utcnow()
    with app.app_context(), write_intent():
        db.session.execute(insert(StaffMember), [
            {"employee_no": f"R{i:04d}", "employee_no_key": f"r{i:04d}", "name": f"同事{i}",
             "hire_date": date(2024, 1, 1), "locale": "zh_CN",
             "timezone": "Asia/Shanghai", "password_hash": shared,
             "must_change_password": False, "login_enabled": True, "status": "active",
             "created_at": now, "updated_at": now} for i in range(count)])
        ids = db.session.scalars(db.select(StaffMember.id)).all()
        db.session.execute(insert(StaffRole), [{"staff_id": i, "role": "learner"} for i in ids])
        db.session.commit()
        db.session.remove()


@pytest.fixture
def two_instances(tmp_path):
    if not _redis_answers():
        skip_or_fail(f"no Redis answers at {REDIS_URL}")
    from flask_migrate import upgrade

    prefix = f"test-{uuid.uuid4().hex}"
    config = {"INSTANCE_PATH": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path}/r.db",
              "SECRET_KEY": "k" * 32, "REDIS_URL": REDIS_URL, "RATELIMIT_KEY_PREFIX": prefix}
    first, second = create_app(config), create_app(config)
    with first.app_context():
        upgrade()
        db.session.remove()
    _add_staff(first, 1000)
    yield first, second
    first.extensions["trainer.login_throttle"].counters.reset()


class Browser:
    def __init__(self, app):
        self.client = app.test_client()
        page = self.client.get("/login").get_data(as_text=True)
        self.token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)

    def login(self, employee_no, password):
        return self.client.post("/login", data={"employee_no": employee_no, "password": password,
                                                "csrf_token": self.token})


def test_counters_are_shared_by_two_instances(two_instances):
    first, second = two_instances
    browsers = [Browser(second), Browser(first)]
    for attempt in range(4):
        assert browsers[attempt % 2].login("R0000", f"wrong-{attempt}").status_code == 401
    fifth = browsers[0].login("R0000", "wrong-4")
    assert fifth.status_code == 429 and fifth.headers["Retry-After"] == "30"
    # Locked on both instances, for the right password too, without checking it...
    assert browsers[1].login("R0000", PASSWORD).status_code == 429
    # ...but only for this account: a colleague behind the same address signs in.
    assert browsers[1].login("R0001", PASSWORD).status_code == 302


def test_a_shift_signs_in_behind_one_address_with_typos_and_none_is_refused(two_instances):
    """500 agents sign in from one NAT address within two minutes; 50 of them mistype first,
    each with a different wrong password. Nobody is refused."""
    first, second = two_instances
    statuses = []
    for i in range(500):
        browser = Browser(first if i % 2 else second)
        if i % 10 == 0:
            statuses.append(("typo", browser.login(f"R{i:04d}", f"typo-{i}-pass").status_code))
        statuses.append(("right", browser.login(f"R{i:04d}", PASSWORD).status_code))
    assert [s for kind, s in statuses if kind == "typo"] == [401] * 50
    assert [s for kind, s in statuses if kind == "right"] == [302] * 500


def test_one_password_sprayed_over_many_accounts_is_refused_by_the_fiftieth_try(two_instances):
    first, second = two_instances
    browser = Browser(first)
    statuses = [browser.login(f"R{i:04d}", "Summer2026!") .status_code for i in range(1000)]
    assert statuses[:19] == [401] * 19
    assert 429 in statuses[:50]
    assert statuses[19:] == [429] * (1000 - 19)   # refused from the 20th account on, until it cools
    # The same address still signs people in with their own passwords...
    assert browser.login("R0001", PASSWORD).status_code == 302
    # ...and the spraying is in the audit log, without the password.
    with first.app_context():
        events = db.session.scalars(db.select(AuditEvent).where(
            AuditEvent.action == "login.password_spraying")).all()
        assert len(events) == 1 and "Summer2026!" not in str(events[0].details)
        db.session.remove()
