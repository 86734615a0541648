"""The bank health check (题库体检) where people meet it: the bank page, the quiz builder,
`trainer banks check`, and the giveaway words as a setting."""
from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from trainer.banks import formats, services
from trainer.banks.models import Question
from trainer.core.timeutil import utcnow
from trainer.quizzes import services as quizzes

ROOT = Path(__file__).resolve().parents[2]

# Every fault at once: each key the longest choice, a multiple-choice question with one wrong
# choice, false statements carrying 一定 / 必须 and true ones none, a stem about 某公司 and
# a near copy of another stem.
FAILING = """$CATEGORY: 投诉/受理

// [id:F-1] [tag:案例] [difficulty:1]
::F-1::客户来电投诉时，客服代表首先应当怎么做？{=耐心倾听客户的陈述并表示理解 ~打断客户 ~挂断电话 ~转给别人}

// [id:F-2] [difficulty:2]
::F-2::客户来电投诉时，客服代表首先应该怎么做？{=先向客户致歉再了解事情经过 ~辩解 ~沉默 ~推诿}

// [id:F-3] [difficulty:3]
::F-3::某公司的投诉渠道有哪些？（多选）{~%33.33333%电话热线 ~%33.33333%电子邮件 ~%33.33334%网站 ~%-100%算命}

$CATEGORY: 保密

// [id:F-4]
::F-4::客户信息一定不能告诉任何同事。{FALSE}

// [id:F-5]
::F-5::回访时必须先报工号再问候。{FALSE}

// [id:F-6]
::F-6::回访时应先核实客户身份。{TRUE}
"""

# Nothing to give the answers away: keys no longer than the others, two wrong choices in the
# multiple-choice question, no giveaway word in either kind of statement.
PASSING = """$CATEGORY: 服务规范

// [id:P-1] [difficulty:1]
::P-1::客户离开柜台时应当有哪一声？{=道别声 ~问候客户声 ~提醒客户声}

// [id:P-2] [difficulty:2]
::P-2::服务七声中，客户等候办理业务时应有哪一声？{=致歉声 ~赞美客户声 ~欢迎光临声}

// [id:P-3] [difficulty:2]
::P-3::哪些属于服务七声？（多选）{~%50%问候声 ~%50%道歉声 ~%-50%抱怨声 ~%-50%催促声}

// [id:P-4]
::P-4::客户信息可以随意提供给合作伙伴。{FALSE}

// [id:P-5]
::P-5::受理投诉时应先安抚客户情绪。{TRUE}
"""


def make_bank(name: str, text: str):
    bank = services.create_bank(None, name=name, now=utcnow())
    result = formats.parse_gift(text)
    assert result.ok, [i.render() for i in result.issues]
    services.create_questions(None, bank, result.questions, now=utcnow(), origin="import")
    return bank


@pytest.fixture
def trainer_client(client, users):
    client.login(users["trainer"].employee_no)
    return client


def panel_of(page: str) -> str:
    return page.split('id="bank-health"', 1)[1].split("</section>", 1)[0]


def question_id(db_session, bank, id_number: str) -> int:
    return db_session.scalar(select(Question.id).where(
        Question.bank_id == bank.id, Question.id_number == id_number,
        Question.is_current.is_(True)))


def test_the_bank_page_shows_the_health_check(trainer_client, db_session):
    failing = make_bank("体检未通过题库", FAILING)
    passing = make_bank("体检通过题库", PASSING)
    db_session.commit()

    panel = panel_of(trainer_client.get(f"/banks/{failing.id}").get_data(as_text=True))
    assert "题库体检" in panel and "未通过" in panel
    rows = dict(re.findall(r'<tr data-rule="(\w+)">(.*?)</tr>', panel, re.S))
    assert set(rows) == {"longest_choice", "giveaway_words", "multiple_wrong_choices"}
    assert "100.0 %" in rows["longest_choice"] and "未通过" in rows["longest_choice"]
    assert "100.0" in rows["giveaway_words"] and "未通过" in rows["giveaway_words"]
    assert "未通过" in rows["multiple_wrong_choices"]
    # Each flagged question links to its page, with what is wrong with it.
    flagged = dict(re.findall(r'<tr data-question="(\d+)">(.*?)</tr>', panel, re.S))
    f3 = question_id(db_session, failing, "F-3")
    assert f"/banks/questions/{f3}" in flagged[str(f3)]
    assert re.findall(r'data-flag="(\w+)"', flagged[str(f3)]) == ["few_wrong_choices",
                                                                  "unnamed_subject"]
    f1, f2 = question_id(db_session, failing, "F-1"), question_id(db_session, failing, "F-2")
    assert re.findall(r'data-flag="(\w+)"', flagged[str(f1)]) == ["key_longest",
                                                                  "duplicate_stem"]
    assert f"/banks/questions/{f2}" in flagged[str(f1)]       # the near copy, linked
    assert "一定" in flagged[str(question_id(db_session, failing, "F-4"))]
    assert str(question_id(db_session, failing, "F-6")) not in flagged
    # The shares: one case question in six.
    assert re.search(r"案例.*?</th><td[^>]*>1</td><td[^>]*>16.7 %", panel, re.S)

    panel = panel_of(trainer_client.get(f"/banks/{passing.id}").get_data(as_text=True))
    assert "未通过" not in panel and "通过" in panel
    assert "0.0 %" in panel   # the longest-choice score: every key ties or is shorter


def test_retired_questions_are_left_out(trainer_client, db_session):
    bank = make_bank("退役题库", FAILING)
    f3 = db_session.get(Question, question_id(db_session, bank, "F-3"))
    f3.retired = True
    db_session.commit()
    panel = panel_of(trainer_client.get(f"/banks/{bank.id}").get_data(as_text=True))
    rows = dict(re.findall(r'<tr data-rule="(\w+)">(.*?)</tr>', panel, re.S))
    assert "未通过" not in rows["multiple_wrong_choices"]
    assert f"/banks/questions/{f3.id}" not in panel


def test_the_quiz_builder_says_a_bank_fails(trainer_client, users, db_session):
    failing = make_bank("体检未通过题库", FAILING)
    passing = make_bank("体检通过题库", PASSING)
    quiz = quizzes.save_quiz(users["trainer"], None, quizzes.QuizSettings(title="体检测验"),
                             rule_specs=[quizzes.RuleSpec(passing.id, 1, Decimal(1)),
                                         quizzes.RuleSpec(failing.id, 1, Decimal(1))],
                             now=utcnow())
    fine = quizzes.save_quiz(users["trainer"], None, quizzes.QuizSettings(title="体检通过测验"),
                             rule_specs=[quizzes.RuleSpec(passing.id, 2, Decimal(1))],
                             now=utcnow())
    db_session.commit()

    page = trainer_client.get(f"/quizzes/{quiz.id}/edit").get_data(as_text=True)
    warning = page.split('id="bank-health-warnings"', 1)[1].split("</div>", 1)[0]
    items = re.findall(r"<li>(.*?)</li>", warning, re.S)
    assert len(items) == 1
    assert "体检未通过题库" in items[0] and "第 2 条" in items[0]    # which bank, which rule
    assert "最长选项" in items[0] and "判断题" in items[0] and "多选题" in items[0]
    assert f"/banks/{failing.id}#bank-health" in items[0]
    assert "体检通过题库" not in warning

    page = trainer_client.get(f"/quizzes/{fine.id}/edit").get_data(as_text=True)
    assert 'id="bank-health-warnings"' not in page

    # Saving a quiz that draws from a failing bank: saved, and told so.
    response = trainer_client.post("/quizzes/new", {
        "title": "新测验", "mode": "exam", "pass_mark": "60", "grading": "highest",
        "layout": "all", "navigation": "free", "review_what": "full",
        "review_when": "immediately", "delay_min": "0",
        "rules-0-bank_id": str(failing.id), "rules-0-count": "2", "rules-0-points": "1"},
        follow_redirects=True)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "测验已保存" in page
    flashed = re.findall(r'class="alert alert-warning" role="alert">([^<]*)<', page)
    assert [m for m in flashed if "第 1 条" in m and "体检未通过题库" in m], flashed
    # A form sent back with an error still says it.
    response = trainer_client.post("/quizzes/new", {
        "title": "太多", "mode": "exam", "pass_mark": "60", "grading": "highest",
        "layout": "all", "navigation": "free", "review_what": "full",
        "review_when": "immediately", "rules-0-bank_id": str(failing.id),
        "rules-0-count": "50", "rules-0-points": "1"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and 'id="bank-health-warnings"' in page


def test_fixed_questions_from_a_failing_bank_are_named(users, db_session):
    failing = make_bank("体检未通过题库", FAILING)
    lineage = db_session.get(Question, question_id(db_session, failing, "F-1")).lineage_id
    warnings = quizzes.failing_banks([], [lineage])
    assert [(w.bank.id, w.rules, w.fixed) for w in warnings] == [(failing.id, [], True)]
    assert set(warnings[0].failed) == {"longest_choice", "giveaway_words",
                                       "multiple_wrong_choices"}


def test_the_check_command_reports_every_shipped_bank(app, db_session):
    report = services.sync_banks(ROOT / "question_banks", now=utcnow())
    assert report.errors == []
    runner = app.test_cli_runner()
    result = runner.invoke(args=["banks", "check", "--json"])
    data = json.loads(result.output)
    shipped = {path.stem for path in (ROOT / "question_banks").glob("*.gift")}
    assert len(shipped) >= 10 and {bank["key"] for bank in data["banks"]} == shipped
    for bank in data["banks"]:
        verdicts = {key: rule["verdict"] for key, rule in bank["rules"].items()}
        assert set(verdicts) == {"longest_choice", "giveaway_words", "multiple_wrong_choices"}
        assert set(verdicts.values()) <= {"pass", "fail", "n/a"}
        assert bank["passed"] == ("fail" not in verdicts.values())
        assert bank["failed_rules"] == [k for k, v in verdicts.items() if v == "fail"]
        assert bank["shares"]["questions"] > 0
        assert all(item["id_number"] and item["flags"] for item in bank["flagged"])
    # Every shipped bank passes (issue 19), so the command succeeds.
    assert data["passed"] and all(bank["passed"] for bank in data["banks"])
    assert result.exit_code == 0, result.output

    first = data["banks"][0]
    one = runner.invoke(args=["banks", "check", first["key"]])
    assert one.exit_code == (0 if first["passed"] else 1)
    assert one.output.startswith(f"{first['key']} {first['name']}: ")
    assert "longest-choice score" in one.output and "Banks checked: 1;" in one.output


def test_the_check_command_exit_codes(app, db_session):
    make_bank("体检未通过题库", FAILING)
    make_bank("体检通过题库", PASSING)
    runner = app.test_cli_runner()
    passed = runner.invoke(args=["banks", "check", "体检通过题库"])
    assert passed.exit_code == 0, passed.output
    assert ": passed" in passed.output and "failed: 0" in passed.output
    failed = runner.invoke(args=["banks", "check", "体检未通过题库", "--json"])
    assert failed.exit_code == 1
    data = json.loads(failed.output)
    assert [bank["name"] for bank in data["banks"]] == ["体检未通过题库"]
    flagged = {item["id_number"]: [f["kind"] for f in item["flags"]]
               for item in data["banks"][0]["flagged"]}
    assert flagged["F-3"] == ["few_wrong_choices", "unnamed_subject"]
    assert data["banks"][0]["rules"]["longest_choice"]["score_percent"] == 100.0
    unknown = runner.invoke(args=["banks", "check", "没有这个题库"])
    assert unknown.exit_code == 2 and "没有这个题库" in unknown.output


def test_the_giveaway_words_are_a_setting(client, users, db_session):
    # False statements say 应当, true ones do not: no giveaway by the default list.
    bank = make_bank("措辞题库", """
::A::投诉应当在一周后再处理。{FALSE}

::B::投诉应当拖到月底统一处理。{FALSE}

::C::回访在三个工作日内完成。{TRUE}
""")
    db_session.commit()
    client.login(users["trainer"].employee_no)
    rule = 'data-rule="giveaway_words"'
    panel = panel_of(client.get(f"/banks/{bank.id}").get_data(as_text=True))
    assert "未通过" not in panel.split(rule, 1)[1].split("</tr>", 1)[0]
    client.post("/logout")

    client.login(users["hr"].employee_no)
    response = client.post("/settings", {"giveaway_words": "应当\n必须"})
    assert response.status_code == 302
    assert "应当" in client.get("/settings").get_data(as_text=True)
    client.post("/logout")

    client.login(users["trainer"].employee_no)
    panel = panel_of(client.get(f"/banks/{bank.id}").get_data(as_text=True))
    assert "未通过" in panel.split(rule, 1)[1].split("</tr>", 1)[0]
    assert "应当、必须" in panel
