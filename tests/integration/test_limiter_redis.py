"""Failed-login limits against the real Redis: several app processes count together."""
from __future__ import annotations

import re
import uuid
from datetime import date

import pytest
import redis

from tests.conftest import PASSWORD, skip_or_fail
from trainer import create_app
from trainer.core.db import db, write_intent
from trainer.extensions import limiter

REDIS_URL = "redis://127.0.0.1:6379/0"


def _redis_answers() -> bool:
    try:
        return redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError:
        return False


@pytest.fixture
def two_instances(tmp_path):
    if not _redis_answers():
        skip_or_fail(f"no Redis answers at {REDIS_URL}")
    from flask_migrate import upgrade

    from trainer.accounts.services import create_staff
    from trainer.core.timeutil import utcnow

    prefix = f"test-{uuid.uuid4().hex}"
    config = {"INSTANCE_PATH": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path}/r.db",
              "SECRET_KEY": "k" * 32, "REDIS_URL": REDIS_URL, "RATELIMIT_KEY_PREFIX": prefix}
    first, second = create_app(config), create_app(config)
    # One Limiter object serves the process (as in production); start from clean counters.
    limiter.reset()
    with first.app_context():
        upgrade()
        with write_intent():
            for i in range(25):
                create_staff(None, employee_no=f"R{i:03d}", name=f"同事{i}",
                             hire_date=date(2024, 1, 1), now=utcnow(), password=PASSWORD)
            db.session.commit()
        db.session.remove()
    yield first, second
    limiter.reset()


def _login(app, employee_no, password):
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    return client.post("/login", data={"employee_no": employee_no, "password": password,
                                       "csrf_token": token})


def test_failures_on_two_instances_count_together(two_instances):
    first, second = two_instances
    assert first.config["RATELIMIT_STORAGE_URI"].startswith("redis://")
    for attempt in range(10):
        app = first if attempt % 2 else second
        assert _login(app, "R000", "wrong-password").status_code == 401
    assert _login(first, "R000", PASSWORD).status_code == 429
    assert _login(second, "R000", PASSWORD).status_code == 429
    # The lock is per account: a colleague behind the same address still gets in.
    assert _login(second, "R001", PASSWORD).status_code == 302


def test_a_burst_of_correct_logins_from_one_address_is_not_refused(two_instances):
    first, second = two_instances
    for i in range(25):
        app = first if i % 2 else second
        assert _login(app, f"R{i:03d}", PASSWORD).status_code == 302
