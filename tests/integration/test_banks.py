"""Trainer pages for question banks: authoring, versions, browsing, import preview, export."""
from __future__ import annotations

import io
import re

import pytest
from openpyxl import Workbook
from sqlalchemy import select

from tests.integration.quiz_fixtures import make_quiz
from trainer.banks import formats, services
from trainer.banks.models import Question
from trainer.core.timeutil import utcnow

GIFT = """$CATEGORY: 服务规范/服务七声

// [id:T-1] [tag:入职] [difficulty:1]
::道别::客户离开时应当有哪一声？{~问候声 =道别声 ~提醒声 ####服务七声。}

// [id:T-2] [tag:入职] [tag:案例] [difficulty:3]
::七声::哪些属于服务七声？（多选）{~%50%问候声 ~%50%道歉声 ~%-100%抱怨声 ####问候、道歉都是。}

$CATEGORY: 保密

// [id:T-3] [tag:复岗] [difficulty:2]
客户信息可以随意提供给合作伙伴。{FALSE####不可以。}
"""


@pytest.fixture
def bank(db_session):
    bank = services.create_bank(None, name="测试题库", now=utcnow())
    for parsed in formats.parse_gift(GIFT).questions:
        services.create_question(None, bank, parsed, now=utcnow(), origin="import")
    db_session.commit()
    return bank


@pytest.fixture
def trainer_client(client, users):
    client.login(users["trainer"].employee_no)
    return client


def current(db_session, bank_id):
    return db_session.scalars(select(Question).where(Question.bank_id == bank_id,
                                                     Question.is_current.is_(True))).all()


def question_form(**overrides):
    data = {"qtype": "single", "name": "新题", "category": "服务规范/语言规范",
            "stem": "客户来到柜台时，第一句话应该说什么？", "text_format": "markdown",
            "choices-0-text": "您好，请问办理什么业务？", "choices-0-weight": "100",
            "choices-1-text": "什么事？", "choices-1-weight": "0",
            "choices-2-text": "等一下。", "choices-2-weight": "0",
            "tf_answer": "true", "explanation": "主动问候。", "difficulty": "1",
            "default_points": "2", "tags": "入职, 语言规范", "id_number": "NEW-1"}
    data.update(overrides)
    return data


def test_bank_list_shows_counts(trainer_client, bank):
    page = trainer_client.get("/banks/").get_data(as_text=True)
    assert "测试题库" in page
    assert re.search(r">\s*3\s*</td>", page)


def test_create_single_choice_question(trainer_client, bank, db_session):
    response = trainer_client.post(f"/banks/{bank.id}/questions/new", question_form())
    assert response.status_code == 302
    q = db_session.scalar(select(Question).where(Question.id_number == "NEW-1"))
    assert q.qtype == "single" and [c.text for c in q.choices][0].startswith("您好")
    assert q.category.path == "服务规范/语言规范" and q.tags == ["入职", "语言规范"]
    assert float(q.default_points) == 2


def test_invalid_question_is_refused_and_nothing_saved(trainer_client, bank, db_session):
    before = len(current(db_session, bank.id))
    response = trainer_client.post(f"/banks/{bank.id}/questions/new",
                                   question_form(**{"choices-0-weight": "50"}))
    assert response.status_code == 200
    assert "alert-danger" in response.get_data(as_text=True)
    response = trainer_client.post(f"/banks/{bank.id}/questions/new", question_form(
        qtype="multiple", **{"choices-0-weight": "50", "choices-1-weight": "20"}))
    assert "alert-danger" in response.get_data(as_text=True)
    assert len(current(db_session, bank.id)) == before


def test_true_false_question_from_the_form(trainer_client, bank, db_session):
    trainer_client.post(f"/banks/{bank.id}/questions/new",
                        question_form(qtype="truefalse", tf_answer="false", id_number="TF-9",
                                      stem="可以把客户密码告诉同事。"))
    q = db_session.scalar(select(Question).where(Question.id_number == "TF-9"))
    assert [(c.text, float(c.weight)) for c in q.choices] == [("正确", 0), ("错误", 100)]


def test_editing_makes_a_new_version_and_keeps_the_old(trainer_client, bank, db_session):
    q = db_session.scalar(select(Question).where(Question.id_number == "T-1"))
    form = question_form(stem="客户办完业务离开时，应当有哪一声？", id_number="T-1",
                         category="服务规范/服务七声", **{"choices-0-text": "道别声"})
    response = trainer_client.post(f"/banks/questions/{q.id}/edit", form)
    assert response.status_code == 302
    db_session.expire_all()
    versions = db_session.scalars(select(Question).where(Question.lineage_id == q.lineage_id)
                                  .order_by(Question.version)).all()
    assert [v.version for v in versions] == [1, 2]
    assert versions[0].stem == "客户离开时应当有哪一声？" and not versions[0].is_current
    assert versions[1].is_current and versions[1].edited_in_site
    # The old version can still be shown, not edited.
    assert trainer_client.get(f"/banks/questions/{versions[0].id}").status_code == 200
    assert trainer_client.get(f"/banks/questions/{versions[0].id}/edit").status_code == 302


def test_retire_hides_from_browse_and_keeps_history(trainer_client, bank, db_session):
    q = db_session.scalar(select(Question).where(Question.id_number == "T-3"))
    trainer_client.post(f"/banks/questions/{q.id}/retire", {"retired": "1"})
    page = trainer_client.get(f"/banks/{bank.id}").get_data(as_text=True)
    assert "T-3" not in page
    page = trainer_client.get(f"/banks/{bank.id}?retired=1").get_data(as_text=True)
    assert "T-3" in page
    db_session.expire_all()
    assert db_session.get(Question, q.id).retired


def test_duplicate_and_move(trainer_client, bank, db_session):
    q = db_session.scalar(select(Question).where(Question.id_number == "T-1"))
    response = trainer_client.post(f"/banks/questions/{q.id}/duplicate")
    assert response.status_code == 302
    assert len(current(db_session, bank.id)) == 4
    ids = [str(x.id) for x in current(db_session, bank.id) if x.id_number in ("T-1", "T-2")]
    trainer_client.post(f"/banks/{bank.id}/move", {"question": ids, "category": "新分类/子类"})
    db_session.expire_all()
    moved = [x for x in current(db_session, bank.id) if x.id_number in ("T-1", "T-2")]
    assert {x.category.path for x in moved} == {"新分类/子类"}


def test_browse_filters(trainer_client, bank, db_session):
    top = next(c for c in bank.categories if c.path == "服务规范")

    def ids(query):
        page = trainer_client.get(f"/banks/{bank.id}?{query}").get_data(as_text=True)
        # The list of questions, not the health check above it (which reads the whole bank).
        page = page.split('id="questions"', 1)[1]
        # (Not inside a random token: a CSRF token holds "T-2" now and then.)
        return set(re.findall(r"(?<![\w-])T-\d(?![\w-])", page))
    assert ids(f"category={top.id}") == {"T-1", "T-2"}  # includes sub-categories
    assert ids("tag=复岗") == {"T-3"}
    assert ids("difficulty=3") == {"T-2"}
    assert ids("qtype=truefalse") == {"T-3"}
    assert ids("q=离开") == {"T-1"}


def test_coverage_table(trainer_client, bank):
    page = trainer_client.get(f"/banks/{bank.id}/coverage").get_data(as_text=True)
    assert "服务七声" in page and "保密" in page


def test_preview_hides_the_key_until_asked(trainer_client, bank, db_session):
    q = db_session.scalar(select(Question).where(Question.id_number == "T-1"))
    page = trainer_client.get(f"/banks/questions/{q.id}").get_data(as_text=True)
    assert "text-success" not in page and "服务七声。" not in page
    page = trainer_client.get(f"/banks/questions/{q.id}?key=1").get_data(as_text=True)
    assert "text-success" in page and "服务七声。" in page


def test_scripts_in_question_text_are_never_rendered(trainer_client, bank, db_session):
    parsed = formats.parse_gift('::x::[html]<p>你好<script>alert(1)</script>'
                                '<img src=x onerror="alert(2)"></p>{=是 ~否}').questions[0]
    q = services.create_question(None, bank, parsed, now=utcnow())
    db_session.commit()
    page = trainer_client.get(f"/banks/questions/{q.id}").get_data(as_text=True)
    assert "<script>alert(1)" not in page and "onerror" not in page


def test_the_form_refuses_an_image_from_another_site_and_keeps_links(trainer_client, bank,
                                                                      db_session):
    pixel = "https://tracker.example/pixel.gif"
    before = len(current(db_session, bank.id))
    page = trainer_client.post(f"/banks/{bank.id}/questions/new", question_form(
        stem=f"看图回答 ![]({pixel})", id_number="IMG-1")).get_data(as_text=True)
    assert pixel in page and "IMG-1" in page
    assert len(current(db_session, bank.id)) == before
    original = current(db_session, bank.id)[0]
    response = trainer_client.post(f"/banks/questions/{original.id}/edit", question_form(
        text_format="html", explanation=f'<p>详见<iframe src="{pixel}"></iframe></p>'))
    assert response.status_code == 200 and pixel in response.get_data(as_text=True)
    response = trainer_client.post(f"/banks/{bank.id}/questions/new", question_form(
        stem="见[服务规范](https://example.com/std)。", id_number="LINK-1"))
    assert response.status_code == 302
    page = trainer_client.get(response.headers["Location"]).get_data(as_text=True)
    assert '<a href="https://example.com/std" rel="noopener noreferrer">' in page
    assert len(current(db_session, bank.id)) == before + 1


def _upload(client, bank, name, data, fmt="auto"):
    return client.post(f"/banks/{bank.id}/import", {"file": (io.BytesIO(data), name),
                                                    "format": fmt},
                       content_type="multipart/form-data")


def test_import_preview_then_confirm(trainer_client, bank, db_session):
    text = ("// [id:N-1] [difficulty:2]\n新的问题一？{=甲 ~乙 ~丙}\n\n"
            "::配对::不支持的题型 {=a -> b =c -> d}\n\n"
            "坏题没有正确答案 {~甲 ~乙}\n\n"
            "::七声::哪些属于服务七声？（多选）{~%50%问候声 ~%50%道歉声 ~%-100%抱怨声 ####问候、道歉都是。}\n")
    response = _upload(trainer_client, bank, "new.gift", text.encode("gb18030"))
    assert response.status_code == 302
    preview_url = response.headers["Location"]
    page = trainer_client.get(preview_url).get_data(as_text=True)
    assert "GB18030" in page  # the encoding as people know it
    assert re.search(r"<td>6</td>", page) and re.search(r"<td>4</td>", page)  # bad, unsupported
    assert "已在题库中" in page or "already in the bank" in page
    before = len(current(db_session, bank.id))
    # All or nothing: errors stop the import unless the trainer chooses the valid ones.
    trainer_client.post(preview_url, {})
    assert len(current(db_session, bank.id)) == before
    response = trainer_client.post(preview_url, {"skip_invalid": "y"})
    assert response.status_code == 302
    assert len(current(db_session, bank.id)) == before + 1  # the duplicate is not doubled
    # The staging is gone once used.
    assert trainer_client.get(preview_url).status_code == 302


def test_an_import_with_a_stem_over_the_forms_limit_imports_nothing(trainer_client, bank,
                                                                      db_session):
    """The form refuses a question text over 20,000 characters; so does an import, naming the
    line, and with one bad question nothing is imported."""
    limit = 20_000
    form = trainer_client.post(f"/banks/{bank.id}/questions/new",
                               question_form(stem="长" * (limit + 1), id_number="LONG-0"))
    assert form.status_code == 200
    before = len(current(db_session, bank.id))
    text = f"// [id:OK-1]\n短题？{{=是 ~否}}\n\n// [id:LONG-1]\n{'长' * (limit + 1)}{{=是 ~否}}\n"
    preview_url = _upload(trainer_client, bank, "long.gift", text.encode()).headers["Location"]
    page = trainer_client.get(preview_url).get_data(as_text=True)
    assert re.search(r'<tr class="table-danger">\s*<td>5</td>', page)
    assert "20001" in page and "20000" in page
    response = trainer_client.post(preview_url, {})
    assert response.status_code == 200
    assert len(current(db_session, bank.id)) == before
    # Exactly at the limit is accepted, by the import as by the form.
    text = f"// [id:LONG-2]\n{'长' * limit}{{=是 ~否}}\n"
    preview_url = _upload(trainer_client, bank, "limit.gift", text.encode()).headers["Location"]
    assert trainer_client.post(preview_url, {}).status_code == 302
    form = trainer_client.post(f"/banks/{bank.id}/questions/new",
                               question_form(stem="长" * limit, id_number="LONG-3"))
    assert form.status_code == 302
    assert len(current(db_session, bank.id)) == before + 2


def test_staging_belongs_to_its_trainer(trainer_client, bank, make_staff, another_client):
    response = _upload(trainer_client, bank, "a.gift", "题？{=是 ~否}".encode())
    other = make_staff("trainer")
    another_client.login(other.employee_no)
    page = another_client.get(response.headers["Location"])
    assert page.status_code == 302  # not waiting for this trainer


@pytest.mark.parametrize("name,data", [
    ("aiken.txt", "客户离开时应当说什么？\nA. 您好\nB. 再见，欢迎再来\nC. 下一位\n答案：B\n".encode()),
    ("paper.txt", "一、单选题(共1题,每题2分)\n1、客户离开时应当说什么？( )A、您好B、再见C、下一位正确答案:B\n".encode("gb18030")),
    ("moodle.xml", b'<?xml version="1.0"?><quiz><question type="truefalse"><name><text>t</text></name>'
                   b'<questiontext format="html"><text>Is it?</text></questiontext>'
                   b'<answer fraction="100"><text>true</text></answer>'
                   b'<answer fraction="0"><text>false</text></answer></question></quiz>'),
])
def test_each_text_format_imports_from_the_page(trainer_client, bank, db_session, name, data):
    before = len(current(db_session, bank.id))
    preview = _upload(trainer_client, bank, name, data).headers["Location"]
    assert trainer_client.post(preview, {}).status_code == 302
    assert len(current(db_session, bank.id)) == before + 1


def test_xlsx_template_round_trip(trainer_client, bank, db_session):
    template = trainer_client.get("/banks/import/template.xlsx")
    assert template.status_code == 200 and template.data[:2] == b"PK"
    before = len(current(db_session, bank.id))
    preview = _upload(trainer_client, bank, "t.xlsx", template.data).headers["Location"]
    trainer_client.post(preview, {})
    assert len(current(db_session, bank.id)) == before + 2


def test_spreadsheet_errors_name_row_and_column(trainer_client, bank):
    wb = Workbook()
    wb.active.append(["题型", "题干", "选项A", "选项B", "答案"])
    wb.active.append(["单选", "题目", "甲", "乙", "Z"])
    buffer = io.BytesIO()
    wb.save(buffer)
    preview = _upload(trainer_client, bank, "bad.xlsx", buffer.getvalue()).headers["Location"]
    page = trainer_client.get(preview).get_data(as_text=True)
    assert re.search(r"<td>2</td>", page) and "table-danger" in page


@pytest.mark.parametrize("data", [b"", b"\x00\x01\x02" * 100, b"PK\x03\x04garbage",
                                  b"<quiz><question", "\ufffd".encode() * 10])
def test_garbage_uploads_give_errors_not_500(trainer_client, bank, db_session, data):
    before = len(current(db_session, bank.id))
    response = _upload(trainer_client, bank, "x.bin", data)
    if response.status_code == 302:
        page = trainer_client.get(response.headers["Location"])
        assert page.status_code == 200
        trainer_client.post(response.headers["Location"], {})
    else:
        assert response.status_code in (200, 400)
    assert len(current(db_session, bank.id)) == before


def test_upload_over_the_cap_is_refused_clearly(app, trainer_client, bank):
    big = b"x" * (app.config["MAX_CONTENT_LENGTH"] + 1)
    response = _upload(trainer_client, bank, "big.gift", big)
    assert response.status_code == 413 and "MB" in response.get_data(as_text=True)


@pytest.mark.parametrize("fmt", ["gift", "moodlexml", "xlsx"])
def test_export_from_the_page_reimports_field_for_field(trainer_client, bank, db_session, fmt):
    response = trainer_client.get(f"/banks/{bank.id}/export?format={fmt}")
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    result = formats.parse_file(response.data, f"x.{ {'gift': 'gift', 'moodlexml': 'xml', 'xlsx': 'xlsx'}[fmt] }")
    assert result.ok, [i.render() for i in result.issues]
    stored = sorted((services.to_parsed(q) for q in current(db_session, bank.id)),
                    key=lambda q: q.id_number)
    again = sorted(result.questions, key=lambda q: q.id_number)
    for a, b in zip(stored, again):
        b.line = a.line
        assert a == b


MISSING_WORD = ("// [id:MW-1] [difficulty:1]\n"
                "::宗旨::客户服务的宗旨是{=让客户满意 ~企业利润最大 ~员工方便}，这是服务体系的核心。\n")
BLANK_STEM = "客户服务的宗旨是（\u3000\u3000），这是服务体系的核心。"


def test_a_missing_word_question_is_imported_exported_edited_and_asked_with_its_blank(
        trainer_client, another_client, bank, db_session, users):
    preview = _upload(trainer_client, bank, "mw.gift", MISSING_WORD.encode()).headers["Location"]
    assert trainer_client.post(preview, {}).status_code == 302
    q = db_session.scalar(select(Question).where(Question.id_number == "MW-1"))
    assert (q.qtype, q.stem, q.blank_number) == ("single", BLANK_STEM, 1)
    # Exported in the form it came in, and every export format gives it back.
    gift = trainer_client.get(f"/banks/{bank.id}/export?format=gift").get_data(as_text=True)
    assert "::宗旨::客户服务的宗旨是{\n\t=让客户满意\n" in gift
    assert "\n}，这是服务体系的核心。\n" in gift
    for fmt, name in (("gift", "x.gift"), ("moodlexml", "x.xml"), ("xlsx", "x.xlsx")):
        data = trainer_client.get(f"/banks/{bank.id}/export?format={fmt}").data
        (again,) = [p for p in formats.parse_file(data, name).questions if p.id_number == "MW-1"]
        again.line = 0
        assert again == services.to_parsed(q), fmt
    # The form shows which blank it is and keeps it through an edit.
    page = trainer_client.get(f"/banks/questions/{q.id}/edit").get_data(as_text=True)
    assert re.search(r'name="blank_number"[^>]*value="1"|value="1"[^>]*name="blank_number"', page)
    form = question_form(stem=BLANK_STEM, id_number="MW-1", blank_number="1",
                         explanation="以客户为中心。")
    assert trainer_client.post(f"/banks/questions/{q.id}/edit", form).status_code == 302
    new = db_session.scalar(select(Question).where(Question.id_number == "MW-1",
                                                   Question.is_current.is_(True)))
    assert new.version == 2 and new.blank_number == 1 and new.explanation == "以客户为中心。"
    # A blank the text does not have is refused, naming it; nothing is saved.
    form = question_form(stem="没有空位的题干。", id_number="MW-1", blank_number="1")
    page = trainer_client.post(f"/banks/questions/{new.id}/edit", form).get_data(as_text=True)
    assert "alert-danger" in page and "（\u3000\u3000）" in page
    db_session.expire_all()
    assert len(services.versions_of(new)) == 2

    # A learner sees the stem with its blank in a quiz.
    quiz_bank = services.create_bank(None, name="填空题库", now=utcnow())
    services.create_questions(None, quiz_bank, formats.parse_gift(MISSING_WORD).questions,
                              now=utcnow(), origin="import")
    quiz = make_quiz(quiz_bank, users["trainer"], count=1, title="填空测验")
    db_session.commit()
    another_client.login(users["learner"].employee_no)
    response = another_client.post(f"/quizzes/{quiz.id}/start")
    page = another_client.get(response.headers["Location"]).get_data(as_text=True)
    assert BLANK_STEM in page


def test_banks_need_the_trainer_role(client, users, bank):
    client.login(users["learner"].employee_no)
    assert client.get(f"/banks/{bank.id}").status_code == 403
    assert client.get(f"/banks/{bank.id}/export?format=gift").status_code == 403


def test_an_expired_staging_is_refused(trainer_client, bank, db_session):
    from datetime import timedelta

    from trainer.banks.models import ImportStaging

    response = _upload(trainer_client, bank, "a.gift", "题？{=是 ~否}".encode())
    staging = db_session.scalar(select(ImportStaging))
    staging.expires_at = utcnow() - timedelta(seconds=1)
    db_session.commit()
    before = len(current(db_session, bank.id))
    assert trainer_client.post(response.headers["Location"], {}).status_code == 302
    assert len(current(db_session, bank.id)) == before
