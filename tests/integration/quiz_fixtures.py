"""Shared builders for the quiz tests: a small bank and quizzes drawn from it."""
from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

from trainer.banks import formats
from trainer.banks import services as banks
from trainer.core.timeutil import utcnow
from trainer.quizzes import services as quizzes


def bank_text(n_single: int = 10, n_multiple: int = 4, n_tf: int = 4) -> str:
    blocks = ["$CATEGORY: 服务规范/服务七声"]
    for i in range(n_single):
        blocks.append(f"// [id:S-{i}] [tag:入职] [difficulty:{1 + i % 3}]\n"
                      f"::S-{i}::单选题{i}：客户离开时应当说？{{=正确{i}#好 ~错误甲{i} ~错误乙{i} "
                      f"~以上都不对####单选解析S{i}号。}}")
    blocks.append("$CATEGORY: 投诉处理")
    for i in range(n_multiple):
        blocks.append(f"// [id:M-{i}] [tag:在岗] [difficulty:2]\n"
                      f"::M-{i}::多选题{i}（多选）{{~%50%对甲{i} ~%50%对乙{i} ~%-100%错丙{i} "
                      f"####多选解析M{i}号。}}")
    for i in range(n_tf):
        blocks.append(f"// [id:T-{i}] [tag:在岗] [difficulty:1]\n"
                      f"::T-{i}::判断题{i}：可以泄露客户信息。{{FALSE####判断解析T{i}号。}}")
    return "\n\n".join(blocks) + "\n"


def make_bank(name: str = "测验题库"):
    bank = banks.create_bank(None, name=name, now=utcnow())
    result = formats.parse_gift(bank_text())
    assert result.ok, [i.render() for i in result.issues]
    banks.create_questions(None, bank, result.questions, now=utcnow(), origin="import")
    return bank


def make_quiz(bank, owner=None, *, count: int = 5, time_limit_s: int | None = 600,
              mode: str = "exam", open_to_all: bool = True, **settings):
    values = dict(title=settings.pop("title", "测验"), mode=mode, time_limit_s=time_limit_s,
                  open_to_all=open_to_all, shuffle_questions=True, shuffle_choices=True)
    values.update(settings)
    return quizzes.save_quiz(owner, None, quizzes.QuizSettings(**values),
                             rule_specs=[quizzes.RuleSpec(bank.id, count, Decimal(2))],
                             now=utcnow())


def key_of(item) -> list[int]:
    """The snapshot indexes a fully correct answer ticks."""
    return [i for i, c in enumerate(item.snapshot["choices"]) if Decimal(c["weight"]) > 0]


def wrong_of(item) -> list[int]:
    return [next(i for i, c in enumerate(item.snapshot["choices"])
                 if Decimal(c["weight"]) <= 0)]


def later(seconds: int):
    return utcnow() + timedelta(seconds=seconds)


def start_as_learner(client, users, db_session, title: str) -> int:
    """A three-question quiz, and the learner signed in on `client` with an attempt started."""
    quiz = make_quiz(make_bank(), users["trainer"], count=3, title=title)
    db_session.commit()
    client.login(users["learner"].employee_no)
    response = client.post(f"/quizzes/{quiz.id}/start")
    return int(re.search(r"/attempts/(\d+)", response.headers["Location"]).group(1))


def first_item_selected(db_session, attempt_id: int) -> list[int]:
    from trainer.quizzes.models import Attempt

    db_session.expire_all()
    return db_session.get(Attempt, attempt_id).items[0].selected
