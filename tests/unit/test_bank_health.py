"""The bank health check (banks.health), rule by rule, without a database: the longest-choice
score with its ties and its 30 % edge, the giveaway words' rates and their 10-point edge, the
multiple-answer rule, the per-question flags, near-duplicate stems and the shares."""
from __future__ import annotations

import json
import random
import time
from decimal import Decimal
from fractions import Fraction
from itertools import combinations

import pytest

from trainer.banks import health
from trainer.banks.health import ChoiceData, QuestionData, check_bank

_ids = iter(range(1, 10**9))


def unique_stem(qid: int) -> str:
    """A stem no other question's resembles: twelve pseudo-random CJK characters."""
    return "".join(chr(0x4E00 + (qid * 7919 + k * 104729) % 20000) for k in range(12)) + "？"


def single(key: str, *wrong: str, stem: str | None = None, text_format: str = "markdown",
           **kw) -> QuestionData:
    """A single-answer question whose first choice is the key."""
    qid = next(_ids)
    choices = (ChoiceData(key, Decimal("100.00000")),) + tuple(
        ChoiceData(w, Decimal("0.00000")) for w in wrong)
    return QuestionData(id=qid, qtype="single", stem=stem or unique_stem(qid),
                        choices=choices, id_number=f"S-{qid}", text_format=text_format, **kw)


def truefalse(stem: str, true: bool, **kw) -> QuestionData:
    qid = next(_ids)
    return QuestionData(id=qid, qtype="truefalse", stem=stem, id_number=f"TF-{qid}",
                        choices=(ChoiceData("正确", 100 if true else 0),
                                 ChoiceData("错误", 0 if true else 100)), **kw)


def multiple(right: list[str], wrong: list[str], *, stem: str | None = None,
             **kw) -> QuestionData:
    qid = next(_ids)
    share = Fraction(100, len(right))
    lose = Fraction(-100, len(wrong)) if wrong else 0
    return QuestionData(id=qid, qtype="multiple", stem=stem or unique_stem(qid),
                        id_number=f"M-{qid}",
                        choices=tuple(ChoiceData(r, share) for r in right)
                        + tuple(ChoiceData(w, lose) for w in wrong), **kw)


def key_longest() -> QuestionData:
    return single("主动问候并询问客户需要办理的业务", "等客户开口", "先忙手头的事", "低头不语")


def key_not_longest() -> QuestionData:
    return single("主动问候", "等客户先开口说明来意", "先把手头的事情忙完", "低头整理桌面资料")


def flags_of(report, question) -> list[str]:
    return [f.kind for item in report.flagged if item.question.id == question.id
            for f in item.flags]


# -- the longest-choice score ----------------------------------------------------------------

def test_exactly_30_percent_passes_and_just_above_fails():
    bank = [key_longest() for _ in range(3)] + [key_not_longest() for _ in range(7)]
    report = check_bank(bank)
    rule = report.rule("longest_choice")
    assert rule.figure == Fraction(3, 10) and rule.verdict == health.PASS and report.passed
    assert rule.counts == {"questions": 10, "key_strictly_longest": 3}

    # 7 of 23 is 30.43 %: above the limit.
    bank = [key_longest() for _ in range(7)] + [key_not_longest() for _ in range(16)]
    rule = check_bank(bank).rule("longest_choice")
    assert rule.figure == Fraction(7, 23) and rule.verdict == health.FAIL
    assert not check_bank(bank).passed and check_bank(bank).failed_rules == ["longest_choice"]


def test_a_two_way_tie_with_the_key_scores_a_half_and_is_not_strictly_longest():
    tie_with_key = single("先向客户致歉", "先向客户解释", "等一等")   # key and one wrong: 6, 6, 3
    tie_without_key = single("致歉", "先向客户解释", "先向客户辩解")  # 2, 6, 6
    report = check_bank([tie_with_key])
    assert report.rule("longest_choice").figure == Fraction(1, 2)
    assert flags_of(report, tie_with_key) == []
    report = check_bank([tie_with_key, tie_without_key])
    assert report.rule("longest_choice").figure == Fraction(1, 4)
    three_way = single("甲乙丙", "丁戊己", "庚辛壬", "癸")
    assert check_bank([three_way]).rule("longest_choice").figure == Fraction(1, 3)


def test_the_key_strictly_longest_is_flagged():
    q = key_longest()
    report = check_bank([q, key_not_longest()])
    assert flags_of(report, q) == ["key_longest"]
    assert report.rule("longest_choice").figure == Fraction(1, 2)


def test_length_is_what_the_learner_reads_not_markup_or_spaces():
    # Markdown emphasis and a link's address do not make a choice longer.
    q = single("**您好**", "您好吗", "[再见](https://example.com/a/very/long/address)")
    assert [health.visible_length(c.text) for c in q.choices] == [2, 3, 2]
    assert check_bank([q]).rule("longest_choice").figure == 0
    html = single("<b>您&nbsp;好</b>", "<i>再见啊</i>", text_format="html")
    assert [health.visible_length(c.text, "html") for c in html.choices] == [2, 3]
    assert health.visible_length("a b\tc\n d") == 4
    assert health.visible_length("2\\*3", "markdown") == 3          # an escaped star is text
    assert health.visible_length("**x**", "plain") == 5             # plain text has no markup


def test_partial_credit_choices_score_their_weight_and_negative_ones_nothing():
    q = QuestionData(id=next(_ids), qtype="single", stem="部分得分", choices=(
        ChoiceData("对", 100), ChoiceData("差不多对的说法", 50), ChoiceData("错", 0)))
    assert check_bank([q]).rule("longest_choice").figure == Fraction(1, 2)
    q = QuestionData(id=next(_ids), qtype="single", stem="倒扣", choices=(
        ChoiceData("对", 100), ChoiceData("倒扣分的错误说法", -50)))
    assert check_bank([q]).rule("longest_choice").figure == 0


def test_no_single_choice_question_is_not_applicable_not_a_failure():
    report = check_bank([truefalse("客户投诉可以拖到月底再处理。", False),
                         truefalse("受理投诉时应先安抚客户情绪。", True)])
    rule = report.rule("longest_choice")
    assert rule.verdict == health.NA and rule.figure is None and report.passed


# -- giveaway words ---------------------------------------------------------------------------

def statements(false_with: int, false_without: int, true_with: int, true_without: int):
    return ([truefalse(f"第{i}条：客服代表一定要当场给出答复。", False) for i in range(false_with)]
            + [truefalse(f"第{i}条：客服代表可以随口答复客户。", False)
               for i in range(false_without)]
            + [truefalse(f"第{i}条：回访时必须核实客户身份。", True) for i in range(true_with)]
            + [truefalse(f"第{i}条：回访时应先核实客户身份。", True)
               for i in range(true_without)])


def test_giveaway_rates_and_the_gap():
    report = check_bank(statements(6, 4, 1, 9))
    rule = report.rule("giveaway_words")
    assert rule.counts["false_rate"] == Fraction(6, 10)
    assert rule.counts["true_rate"] == Fraction(1, 10)
    assert rule.figure == Fraction(1, 2) and rule.verdict == health.FAIL
    assert report.failed_rules == ["giveaway_words"]


def test_a_gap_of_exactly_ten_points_passes_and_just_above_fails():
    # 3/10 − 1/5 is exactly 0.1 (in floating point, 0.09999999999999998).
    rule = check_bank(statements(3, 7, 1, 4)).rule("giveaway_words")
    assert rule.figure == Fraction(1, 10) and rule.verdict == health.PASS
    rule = check_bank(statements(4, 5, 1, 2)).rule("giveaway_words")   # 4/9 − 1/3 = 11.1 points
    assert rule.figure == Fraction(1, 9) and rule.verdict == health.FAIL
    # True statements holding more words than false ones is no cue to a false answer.
    rule = check_bank(statements(0, 5, 5, 0)).rule("giveaway_words")
    assert rule.figure == -1 and rule.verdict == health.PASS


def test_giveaway_rule_needs_both_true_and_false_statements():
    for bank in ([], [key_longest()], statements(3, 0, 0, 0), statements(0, 0, 2, 2)):
        rule = check_bank(bank).rule("giveaway_words")
        assert rule.verdict == health.NA and rule.figure is None
    rule = check_bank(statements(3, 1, 0, 0)).rule("giveaway_words")
    assert rule.counts["false_rate"] == Fraction(3, 4) and rule.counts["true_rate"] is None


def test_the_word_list_is_a_parameter_and_matching_ignores_case_width_and_markup():
    bank = [truefalse("投诉处理**一定**要在当天结束。", False),
            truefalse("Agents ALWAYS escalate complaints.", False),
            truefalse("回访应在三个工作日内完成。", True)]
    assert check_bank(bank).rule("giveaway_words").counts["false_with_words"] == 1
    report = check_bank(bank, giveaway_words=["一定", "always"])
    assert report.rule("giveaway_words").counts["false_with_words"] == 2
    report = check_bank(bank, giveaway_words=["工作日"])
    rule = report.rule("giveaway_words")
    assert (rule.counts["false_with_words"], rule.counts["true_with_words"]) == (0, 1)
    assert rule.verdict == health.PASS
    # Full-width letters are read as their ordinary form.
    assert health.words_in(health._folded("ＡＬＷＡＹＳ", "plain"), ["always"]) == ("always",)


def test_a_false_statement_with_a_giveaway_word_is_flagged_a_true_one_is_not():
    false, true = statements(1, 0, 1, 0)
    report = check_bank([false, true])
    assert flags_of(report, false) == ["giveaway_word"]
    flag = report.flagged[0].flags[0]
    assert flag.detail == ("一定",)
    assert flags_of(report, true) == []


# -- multiple-answer questions ----------------------------------------------------------------

def test_a_multiple_choice_question_with_one_wrong_choice_fails_the_bank():
    good = multiple(["问候声", "道歉声"], ["抱怨声", "催促声"])
    bad = multiple(["电话热线", "电子邮件", "网站"], ["算命"])
    report = check_bank([good])
    assert report.rule("multiple_wrong_choices").verdict == health.PASS and report.passed
    report = check_bank([good, bad, key_not_longest()])
    rule = report.rule("multiple_wrong_choices")
    assert rule.verdict == health.FAIL and rule.figure == 1 and rule.counts["questions"] == 2
    assert flags_of(report, bad) == ["few_wrong_choices"] and flags_of(report, good) == []
    assert not report.passed
    none_wrong = multiple(["甲", "乙"], [])
    assert check_bank([none_wrong]).rule("multiple_wrong_choices").figure == 1
    # A zero-weight choice is wrong too.
    zero = QuestionData(id=next(_ids), qtype="multiple", stem="零分选项", choices=(
        ChoiceData("甲", 50), ChoiceData("乙", 50), ChoiceData("丙", 0), ChoiceData("丁", -100)))
    assert check_bank([zero]).passed


def test_no_multiple_choice_question_is_not_applicable():
    rule = check_bank([key_not_longest()]).rule("multiple_wrong_choices")
    assert rule.verdict == health.NA


# -- 以上都对 and the like ----------------------------------------------------------------------

@pytest.mark.parametrize("text", ["以上都对", "以上都是", "以上都不对", "以上皆是", "以上均正确",
                                  "以上皆非", "以上说法都不对", "以上三项都是", "以上全部正确",
                                  "上述做法都正确。", "以 上 都 对", "All of the above",
                                  "none of the above.", "都不对"])
def test_above_choices_are_recognised(text):
    assert health.is_above_choice(text)


@pytest.mark.parametrize("text", ["以上", "以上内容需要核实", "以上是公司的规定", "都可以",
                                  "客户都满意", "all of them"])
def test_other_choices_are_not(text):
    assert not health.is_above_choice(text)


def test_an_above_choice_is_flagged_only_as_the_key():
    as_key = single("以上都对", "问候声", "道别声")
    as_wrong = single("问候声", "道别声", "以上都对")
    in_multiple = multiple(["问候", "以上均正确"], ["抱怨", "催促"])
    report = check_bank([as_key, as_wrong, in_multiple])
    assert "above_as_key" in flags_of(report, as_key)
    assert "above_as_key" not in flags_of(report, as_wrong)
    assert "above_as_key" in flags_of(report, in_multiple)


# -- unnamed subjects ---------------------------------------------------------------------------

def test_a_stem_about_an_unnamed_centre_or_company_is_flagged():
    flagged = [single("是", "不是", "说不准", stem=stem) for stem in (
        "该中心规定投诉应在几天内回复？", "某公司的客诉办法把客诉分为几类？",
        "某中心的排班原则是什么？", "该公司要求柜员几点到岗？")]
    fine = single("是", "不是", "说不准", stem="本中心的服务热线是多少？")
    report = check_bank(flagged + [fine])
    for q in flagged:
        assert flags_of(report, q) == ["unnamed_subject"]
    assert flags_of(report, fine) == []
    assert report.flagged[1].flags[0].detail == ("某公司",)
    assert report.passed  # advice, not a verdict


# -- duplicate stems ----------------------------------------------------------------------------

def test_duplicate_and_near_duplicate_stems():
    a = single("是", "否", stem="客户投诉时，客服代表首先应当做什么？")
    b = single("是", "否", stem="客户投诉时 客服代表首先应当做什么")        # punctuation, spaces
    c = single("是", "否", stem="客户投诉时，客服代表首先应该做什么？")      # one character
    d = single("是", "否", stem="回访电话应当在什么时间段拨打？")
    e = single("是", "否", stem="<p>客户投诉时，客服代表首先应当做什么？</p>", text_format="html")
    report = check_bank([a, b, c, d, e])
    for q in (a, b, c, e):
        assert flags_of(report, q) == ["duplicate_stem"]
    assert flags_of(report, d) == []
    flag = next(item for item in report.flagged if item.question.id == a.id).flags[0]
    assert set(flag.others) == {b.id, c.id, e.id}
    assert set(flag.detail) == {b.label, c.label, e.label}


def test_near_means_a_sequence_matcher_ratio_of_at_least_0_9():
    ten = "客户投诉首先应当做啥"
    assert health.similar(ten, ten.replace("啥", "么"))                  # 18/20
    assert not health.similar(ten, ten.replace("首先", "最先").replace("啥", "么"))  # 16/20
    forty = "受理客户投诉时客服代表应当先安抚客户情绪再了解事情经过和诉求并做好记录及时回复他"
    assert len(forty) == 40
    changed = "".join("甲" if i % 10 == 3 else ch for i, ch in enumerate(forty))  # four changed
    assert health.similar(forty, changed) and not health.similar(forty, changed[:-4] + "乙丙丁戊")
    assert not health.similar("", "")
    questions = [single("是", "否", stem=s) for s in (
        "受理客户投诉时，客服代表应当先安抚客户情绪，再了解事情的经过和诉求",
        "受理客户投诉时，客服代表应当先平复客户情绪，再了解事情的经过和诉求",
        "客户服务中心的绩效考核一般包括哪些维度，各自占多大的权重")]
    found = health.near_duplicates(questions)
    assert found == {questions[0].id: [questions[1].id], questions[1].id: [questions[0].id]}


def _random_stems(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    words = ["客户", "投诉", "服务", "回访", "柜台", "礼仪", "电话", "满意", "处理", "流程",
             "规范", "员工", "问候", "道歉", "记录", "系统", "热线", "时限", "升级", "主管",
             "信息", "保密", "核实", "身份", "业务", "办理", "材料", "等待", "排队", "引导"]
    stems = []
    for _ in range(n):
        if stems and rng.random() < 0.15:   # some near copies: one word changed or dropped
            words_of = list(rng.choice(stems))
            words_of[rng.randrange(len(words_of))] = rng.choice(words)
            stems.append(tuple(words_of))
        else:
            stems.append(tuple(rng.choice(words) for _ in range(rng.randint(6, 14))))
    return ["".join(s) + "？" for s in stems]


def test_the_prefix_filter_finds_exactly_the_pairs_a_full_comparison_finds():
    questions = [single("是", "否", stem=s) for s in _random_stems(300, seed=7)]
    found = health.near_duplicates(questions)
    expected: dict[int, set[int]] = {}
    stems = {q.id: health.normalised_stem(q.stem) for q in questions}
    for x, y in combinations(questions, 2):
        if health.similar(stems[x.id], stems[y.id]):
            expected.setdefault(x.id, set()).add(y.id)
            expected.setdefault(y.id, set()).add(x.id)
    assert expected, "the fixture should hold near copies"
    assert {k: set(v) for k, v in found.items()} == expected


def test_a_thousand_question_bank_is_checked_quickly():
    stems = _random_stems(1000, seed=11)
    bank = [single("主动问候并询问客户需要办理的业务", "等客户开口", "先忙手头的事", stem=s)
            for s in stems]
    started = time.perf_counter()
    report = check_bank(bank)
    elapsed = time.perf_counter() - started
    assert len(report.flagged) == 1000          # every key is the longest choice
    assert elapsed < 2.0, f"{elapsed:.2f} s"


# -- shares and the report as data --------------------------------------------------------------

def test_shares_of_case_questions_types_difficulties_and_knowledge_points():
    bank = [single("是", "否", tags=("案例", "入职"), difficulty=3, category="投诉/受理"),
            single("是", "否", tags=("入职",), difficulty=1, category="投诉/受理"),
            truefalse("客户信息可以随意提供给合作伙伴。", False, category="保密"),
            multiple(["甲", "乙"], ["丙", "丁"], tags=("案例",), category="保密")]
    shares = check_bank(bank).shares
    assert shares.total == 4 and shares.case == 2 and shares.share(shares.case) == Fraction(1, 2)
    assert shares.by_type == {"single": 2, "multiple": 1, "truefalse": 1}
    assert shares.by_difficulty == {1: 1, 2: 2, 3: 1}
    assert shares.by_category == {"保密": 2, "投诉/受理": 2}
    assert check_bank([]).shares.share(0) is None


def test_an_empty_bank_passes_with_every_rule_not_applicable():
    report = check_bank([])
    assert report.passed and [r.verdict for r in report.rules] == [health.NA] * 3


def test_the_report_as_json():
    bank = statements(6, 4, 1, 9) + [key_longest(), key_not_longest(),
                                     multiple(["甲", "乙", "丙"], ["丁"])]
    data = health.report_to_dict(check_bank(bank))
    json.dumps(data, ensure_ascii=False)   # plain data only
    assert data["passed"] is False
    assert data["failed_rules"] == ["longest_choice", "giveaway_words",
                                    "multiple_wrong_choices"]
    longest = data["rules"]["longest_choice"]
    assert longest == {"verdict": "fail", "score_percent": 50.0, "limit_percent": 30.0,
                       "questions": 2, "key_strictly_longest": 1}
    giveaway = data["rules"]["giveaway_words"]
    assert giveaway["gap_points"] == 50.0 and giveaway["false_percent"] == 60.0
    assert giveaway["true_statements"] == 10 and giveaway["true_with_words"] == 1
    assert data["shares"]["types"]["truefalse"] == {"count": 20, "percent": 87.0}
    kinds = {f["kind"] for item in data["flagged"] for f in item["flags"]}
    assert kinds == {"giveaway_word", "key_longest", "few_wrong_choices", "duplicate_stem"}


def test_flags_can_be_left_out_for_the_verdict_only():
    bank = [key_longest(), single("以上都对", "否", stem="该中心规定？")]
    assert check_bank(bank, flags=False).flagged == []
    assert check_bank(bank, flags=False).rule("longest_choice").figure == \
        check_bank(bank).rule("longest_choice").figure
