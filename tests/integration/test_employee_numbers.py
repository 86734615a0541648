"""Employee numbers: one normalisation (NFKC, trimmed, case-folded to compare; no control,
format or markup characters) for the HR form, the import and sign-in, and a unique key that
holds on both databases (security review, item 10)."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import create_engine, func, select, text

from tests.conftest import PASSWORD
from trainer import create_app
from trainer.accounts.models import StaffMember
from trainer.accounts.rules import colliding_employee_nos, employee_no_key, normalise_employee_no
from trainer.core.errors import DomainError


def _new_staff(client, number: str):
    return client.post("/staff/new", {"employee_no": number, "name": "新同事",
                                      "hire_date": "2024-03-01", "roles": "learner",
                                      "locale": "zh_CN", "timezone": "Asia/Shanghai"})


@pytest.mark.parametrize("number", ["K\u200b001", "K\u202e100", "<b>K1</b>", "K 001", "K\x07"])
def test_the_hr_form_refuses_invisible_and_markup_characters(client, users, db_session, number):
    client.login(users["hr"].employee_no)
    response = _new_staff(client, number)
    assert response.status_code == 200
    assert "工号只能包含" in response.get_data(as_text=True)
    assert db_session.scalar(select(func.count()).select_from(StaffMember)) == len(users)


def test_numbers_differing_in_case_or_width_are_one_login(client, users, db_session):
    client.login(users["hr"].employee_no)
    assert _new_staff(client, "ÄSEC1").status_code == 200
    for twin in ("äSEC1", "äsec1", "ÄＳＥＣ１", " ÄSEC1 "):
        page = _new_staff(client, twin).get_data(as_text=True)
        assert "已被使用" in page, twin
    person = db_session.scalar(select(StaffMember).where(StaffMember.employee_no == "ÄSEC1"))
    assert person.employee_no_key == "äsec1"


def test_sign_in_finds_the_person_however_the_number_is_typed(client, make_staff):
    make_staff("learner", employee_no="ÄSEC1")
    for typed in ("ÄSEC1", "äsec1", "ÄＳＥＣ１", " äSEC1"):
        assert client.login(typed).status_code == 302, typed
        client.post("/logout")


def test_the_key_is_unique_on_the_database_itself(db_session, make_staff):
    make_staff("learner", employee_no="ÄSEC1")
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError):
        with db_session.begin_nested():
            db_session.execute(text(
                "INSERT INTO staff_members (employee_no, employee_no_key, name, "
                "locale, timezone, password_hash, must_change_password, "
                "login_enabled, status, created_at, updated_at) VALUES ('äSEC1', 'äsec1', "
                "'x', 'zh_CN', 'Asia/Shanghai', 'x', false, true, 'active', "
                "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"))


def test_normalisation_rules():
    assert normalise_employee_no(" Ｋ００１ ") == "K001"
    assert normalise_employee_no("王-01_a.b") == "王-01_a.b"
    for bad in ("", " ", "K\u200d1", "K\u202e1", "<K1>", "K\t1", "x" * 33):
        with pytest.raises(DomainError):
            normalise_employee_no(bad)
    assert employee_no_key("ÄSEC1") == employee_no_key("äsec1") == "äsec1"
    assert colliding_employee_nos(["ÄSEC1", "äSEC1", "K1", "k2"]) == [["ÄSEC1", "äSEC1"]]


def _database_before_the_key(url: str, tmp_path):
    from flask_migrate import upgrade

    app = create_app({"INSTANCE_PATH": str(tmp_path), "DATABASE_URL": url,
                      "SECRET_KEY": "k" * 32})
    with app.app_context():
        upgrade(revision="a36195a9ef4c")
    return app


def _insert_old_staff(url: str, numbers: list[str]) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        for number in numbers:
            conn.execute(text(
                "INSERT INTO staff_members (employee_no, name, department, position, hire_date, "
                "locale, timezone, password_hash, must_change_password, login_enabled, status, "
                "created_at, updated_at) VALUES (:n, '旧同事', '', '', :d, 'zh_CN', "
                "'Asia/Shanghai', 'x', false, true, 'active', CURRENT_TIMESTAMP, "
                "CURRENT_TIMESTAMP)"), {"n": number, "d": date(2020, 1, 1)})
    engine.dispose()


def test_the_upgrade_stops_on_colliding_numbers_and_changes_nothing(tmp_path, capfd):
    from flask_migrate import upgrade

    url = f"sqlite:///{tmp_path}/old.db"
    app = _database_before_the_key(url, tmp_path)
    _insert_old_staff(url, ["ÄSEC1", "äSEC1", "K0001"])
    report = app.test_cli_runner().invoke(args=["staff", "normalise", "--report"])
    assert report.exit_code == 1 and "ÄSEC1" in report.output and "äSEC1" in report.output
    with app.app_context():
        with pytest.raises(SystemExit):   # (Flask-Migrate logs the error and exits 1)
            upgrade()
    said = capfd.readouterr().err
    assert "ÄSEC1 = äSEC1" in said and "Nothing was changed" in said
    engine = create_engine(url)
    with engine.connect() as conn:
        columns = [row[1] for row in conn.execute(text("PRAGMA table_info(staff_members)"))]
        version = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    engine.dispose()
    assert "employee_no_key" not in columns and version == "a36195a9ef4c"


def test_the_upgrade_fills_the_key_when_nothing_collides(tmp_path):
    from flask_migrate import upgrade

    url = f"sqlite:///{tmp_path}/old.db"
    app = _database_before_the_key(url, tmp_path)
    _insert_old_staff(url, ["ÄSEC1", "K0001"])
    assert app.test_cli_runner().invoke(
        args=["staff", "normalise", "--report"]).exit_code == 0
    with app.app_context():
        upgrade()
    engine = create_engine(url)
    with engine.connect() as conn:
        keys = dict(conn.execute(text("SELECT employee_no, employee_no_key FROM staff_members")).all())
    engine.dispose()
    assert keys == {"ÄSEC1": "äsec1", "K0001": "k0001"}
