"""The bank health check (题库体检), pure: whether a bank can be passed without knowing anything.

Checked question by question, a bank can be sound in fact yet easy to pass: the right choice is
the longest one, false true/false statements carry absolute words (只要, 一定 …) that true ones
do not, a multiple-answer question has a single wrong choice to avoid. No exam system we studied
checks a bank for such cues before anyone sits it; Moodle finds weak questions only afterwards,
from the answers (item analysis). This module reads plain question data (no app, no database)
and reports:

Bank-level rules (a bank passes when every one holds; "n/a" holds):
- the longest-choice score: over single-answer questions, the score of a learner who always
  picks the longest choice. A k-way tie for longest scores the mean of the tied choices' weights
  (1/k when the key is among them); choices score their weight clamped to 0..100 %, as grading
  does. Fails above 30 % (chance with four choices is 25 %); exactly 30 % passes. No
  single-answer question: n/a.
- giveaway words: over true/false questions, the share of false statements holding one of the
  words against the share of true ones. Fails when the false share exceeds the true one by more
  than 10 percentage points; exactly 10 passes. n/a unless there is at least one true and one
  false statement (a share of nothing is no share).
- multiple-answer questions with fewer than two wrong choices (weight ≤ 0): any fails the bank.
  No multiple-answer question: n/a.

Per-question flags (advice; they never fail a bank by themselves): the key strictly the longest
choice (single answer); 以上都对 / 以上都是 / 以上都不对 and the like as a key; fewer than two
wrong choices (multiple answer; the rule above); a duplicate or near-duplicate stem; a stem about
an unnamed 该中心 / 某公司; a false statement carrying a giveaway word (so a trainer can find what
the giveaway rule counts).

Shares: case questions (tag 案例), each type, each difficulty, each knowledge point (the
question's own category path).

How text is measured. A choice's length is its number of characters once markup is taken away
(HTML tags and entities for HTML text; link targets, emphasis and heading, quote, list and code
markers for Markdown) and every whitespace character removed; punctuation counts. Stems are
compared after the same and further normalisation (NFKC, case folded, only letters and digits
kept). Near-duplicate stems: difflib's SequenceMatcher ratio ≥ 0.9 on the normalised stems
(identical ones are duplicates): one changed character in a ten-character stem, four in forty.
So that a 1,000-question bank does not compare every pair, only pairs whose character-bigram
sets are at least half alike (Jaccard ≥ 0.5) are compared, found with a prefix filter (each
stem's rarest bigrams first: two sets this alike share one of their first few). Edits that keep
a ratio of 0.9 — substitutions, insertions or deletions scattered through a stem — keep its
bigram Jaccard above 0.5 (scattered deletions, the worst of them, ≈ 0.54).

All figures are exact fractions (no rounding at the thresholds)."""
from __future__ import annotations

import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from difflib import SequenceMatcher
from fractions import Fraction
from html import unescape

# -- the thresholds (fixed by the issue, so a pass means the same in every centre) ---------------

LONGEST_CHOICE_LIMIT = Fraction(30, 100)   # fails above
GIVEAWAY_GAP_LIMIT = Fraction(10, 100)     # fails when the false share exceeds the true by more
MIN_WRONG_CHOICES = 2                      # a multiple-answer question needs at least these
NEAR_DUPLICATE = Fraction(9, 10)           # SequenceMatcher ratio at or above: near-duplicates
CANDIDATE_JACCARD = Fraction(1, 2)         # bigram Jaccard a pair needs to be compared at all
CASE_TAG = "案例"

# The default giveaway words (a setting: banks.settings): the issue's own (只要, 一定, 不必, 可以不)
# and the absolutes that make a statement false in nearly every exam: always, all, any, wholly,
# never, must, need not, without exception.
DEFAULT_GIVEAWAY_WORDS = (
    "只要", "一定", "不必", "可以不", "总是", "所有", "任何", "完全", "绝对", "从不", "从来",
    "必须", "无需", "全部", "一律", "永远", "绝不", "只需", "不需要",
)
UNNAMED_SUBJECTS = ("该中心", "某中心", "该公司", "某公司")

RULES = ("longest_choice", "giveaway_words", "multiple_wrong_choices")
FLAGS = ("key_longest", "above_as_key", "few_wrong_choices", "duplicate_stem",
         "unnamed_subject", "giveaway_word")
PASS, FAIL, NA = "pass", "fail", "n/a"

TRUE_TEXT = "正确"   # the stored shape of a true/false question: [正确, 错误] (formats.base)


# -- input ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ChoiceData:
    text: str
    weight: Decimal | Fraction | int | float   # percent, −100..100


@dataclass(frozen=True)
class QuestionData:
    id: int
    qtype: str                      # "single" | "multiple" | "truefalse"
    stem: str
    choices: tuple[ChoiceData, ...]
    id_number: str = ""
    tags: tuple[str, ...] = ()
    difficulty: int = 2
    category: str = ""              # the knowledge point's path
    text_format: str = "markdown"   # "markdown" | "plain" | "html"

    @property
    def label(self) -> str:
        return self.id_number or f"#{self.id}"


# -- output ---------------------------------------------------------------------------------------

@dataclass
class RuleResult:
    key: str                        # one of RULES
    verdict: str                    # PASS, FAIL or NA
    figure: Fraction | int | None   # the score, the gap, or the number of offending questions
    limit: Fraction | int
    counts: dict[str, object] = field(default_factory=dict)

    @property
    def failed(self) -> bool:
        return self.verdict == FAIL


@dataclass
class Flag:
    kind: str                       # one of FLAGS
    detail: tuple[str, ...] = ()    # the words found, the choice's text, the other questions
    others: tuple[int, ...] = ()    # duplicate_stem: the ids of the other questions


@dataclass
class FlaggedQuestion:
    question: QuestionData
    flags: list[Flag]


@dataclass
class Shares:
    total: int
    case: int
    by_type: dict[str, int]
    by_difficulty: dict[int, int]
    by_category: dict[str, int]

    def share(self, n: int) -> Fraction | None:
        return Fraction(n, self.total) if self.total else None


@dataclass
class HealthReport:
    rules: list[RuleResult]
    shares: Shares
    flagged: list[FlaggedQuestion]  # empty when flags were not asked for

    @property
    def passed(self) -> bool:
        return not any(rule.failed for rule in self.rules)

    @property
    def failed_rules(self) -> list[str]:
        return [rule.key for rule in self.rules if rule.failed]

    def rule(self, key: str) -> RuleResult:
        return next(r for r in self.rules if r.key == key)


# -- text -------------------------------------------------------------------------------------------

_TAG = re.compile(r"<[^>]*>")
_MD_IMAGE_OR_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_MD_AUTOLINK = re.compile(r"<((?:https?|mailto):[^>\s]*)>")
_MD_LINE_MARKERS = re.compile(r"(?m)^\s{0,3}(?:#{1,6}\s|>\s?|[-*+]\s(?:\[[ xX]\]\s)?|\d+[.)]\s)")
_MD_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!~|>])")
_MD_MARKERS = re.compile(r"(?<!\\)(?:\*\*|__|~~|[*`])")
_SPACE = re.compile(r"\s+")


# Anything Markdown could read as markup; text without it (most choices) is taken as it is.
_MD_HINT = re.compile(r"[*_`\[\]<>#\\~]|^\s*(?:[-+]|\d+[.)])\s", re.M)


def plain_text(text: str, text_format: str = "markdown") -> str:
    """The text a learner reads, without markup (whitespace kept)."""
    if text_format == "html":
        return unescape(_TAG.sub("", text))
    if text_format == "plain" or not _MD_HINT.search(text):
        return text
    text = _MD_IMAGE_OR_LINK.sub(r"\1", text)
    text = _MD_AUTOLINK.sub(r"\1", text)
    text = _MD_LINE_MARKERS.sub("", text)
    return _MD_ESCAPE.sub(r"\1", _MD_MARKERS.sub("", text))


def visible_length(text: str, text_format: str = "markdown") -> int:
    """Characters a learner sees: markup and whitespace do not count, punctuation does."""
    return len(_SPACE.sub("", plain_text(text, text_format)))


def _folded(text: str, text_format: str) -> str:
    return unicodedata.normalize("NFKC", plain_text(text, text_format)).casefold()


def normalised_stem(text: str, text_format: str = "markdown") -> str:
    """Letters and digits only, width and case folded: what two stems are compared on."""
    return "".join(ch for ch in _folded(text, text_format)
                   if unicodedata.category(ch)[0] in "LN")


_ABOVE = re.compile(
    r"^(?:以上|上述)"
    r"(?:所有|全部|各|几|[两二三四五六七八九])?(?:项|个|种|条)?"
    r"(?:选项|答案|说法|做法|观点|内容|描述|情形|情况)?"
    r"(?:都|均|皆|全都|全部|全)"
    r"(?:是|对|正确|不对|不是|不正确|错|错误|非|符合|不符合|属于|不属于)?的?$")
_ABOVE_EN = re.compile(r"^(?:all|none|both|neither)ofthe(?:above|abovechoices|aboveanswers)$")
_ABOVE_SHORT = frozenset({"都对", "都是", "都不对", "都不是", "全对", "全都对", "全错"})


def is_above_choice(text: str, text_format: str = "markdown") -> bool:
    """以上都对, 以上都是, 以上都不对 and their variants (以上皆是, 以上均正确, 上述说法都不对,
    all of the above …): a choice that answers by pointing at the others."""
    flat = normalised_stem(text, text_format)
    return bool(_ABOVE.match(flat) or _ABOVE_EN.match(flat) or flat in _ABOVE_SHORT)


# -- the check ------------------------------------------------------------------------------------

def _weight(choice: ChoiceData) -> Fraction:
    value = choice.weight
    return Fraction(value) if not isinstance(value, float) else Fraction(str(value))


def _keys(question: QuestionData) -> set[int]:
    """Indexes of the key: the best-scoring choice(s) of a single-answer question, every
    positive choice of a multiple-answer one."""
    weights = [_weight(c) for c in question.choices]
    if not weights:
        return set()
    if question.qtype == "multiple":
        return {i for i, w in enumerate(weights) if w > 0}
    best = max(weights)
    return {i for i, w in enumerate(weights) if w == best and w > 0}


def _is_true_statement(question: QuestionData) -> bool:
    for choice in question.choices:
        if choice.text.strip() == TRUE_TEXT:
            return _weight(choice) > 0
    return bool(question.choices) and _weight(question.choices[0]) > 0


def _fold_word(word: str) -> str:
    return _SPACE.sub("", unicodedata.normalize("NFKC", word).casefold())


def words_in(folded_text: str, words: Iterable[str]) -> tuple[str, ...]:
    """The words that occur in a text folded by `_folded` (so width, case and spaces do not
    matter), as given, in list order."""
    return _found(folded_text, [(w, _fold_word(w)) for w in words])


def _found(folded_text: str, words: Sequence[tuple[str, str]]) -> tuple[str, ...]:
    """`words_in` with the words already folded: (as given, folded) pairs."""
    flat = _SPACE.sub("", folded_text)
    return tuple(word for word, folded in words if folded and folded in flat)


def check_bank(questions: Sequence[QuestionData], *,
               giveaway_words: Sequence[str] = DEFAULT_GIVEAWAY_WORDS,
               flags: bool = True) -> HealthReport:
    """The health check of a bank's current questions. flags=False computes only the bank-level
    verdicts and shares (the quiz builder's question: does this bank fail?)."""
    words = [(w.strip(), _fold_word(w)) for w in giveaway_words if w.strip()]
    unnamed = [(w, _fold_word(w)) for w in UNNAMED_SUBJECTS]
    per_question: dict[int, list[Flag]] = defaultdict(list)

    # the longest-choice score
    single = [q for q in questions if q.qtype == "single" and q.choices]
    score = Fraction(0)
    strictly = 0
    for q in single:
        lengths = [visible_length(c.text, q.text_format) for c in q.choices]
        longest = max(lengths)
        tied = [i for i, n in enumerate(lengths) if n == longest]
        score += sum((min(max(_weight(q.choices[i]), Fraction(0)), Fraction(100))
                      for i in tied), Fraction(0)) / (100 * len(tied))
        if len(tied) == 1 and tied[0] in _keys(q):
            strictly += 1
            per_question[q.id].append(Flag("key_longest"))
    longest_score = score / len(single) if single else None
    longest_rule = RuleResult(
        "longest_choice",
        NA if longest_score is None else FAIL if longest_score > LONGEST_CHOICE_LIMIT else PASS,
        longest_score, LONGEST_CHOICE_LIMIT,
        {"questions": len(single), "key_strictly_longest": strictly})

    # giveaway words in true/false statements
    hits = {True: 0, False: 0}
    totals = {True: 0, False: 0}
    for q in questions:
        if q.qtype != "truefalse":
            continue
        truth = _is_true_statement(q)
        found = _found(_folded(q.stem, q.text_format), words)
        totals[truth] += 1
        if found:
            hits[truth] += 1
            if not truth:
                per_question[q.id].append(Flag("giveaway_word", found))
    if totals[True] and totals[False]:
        false_rate = Fraction(hits[False], totals[False])
        true_rate = Fraction(hits[True], totals[True])
        gap: Fraction | None = false_rate - true_rate
    else:
        false_rate = Fraction(hits[False], totals[False]) if totals[False] else None
        true_rate = Fraction(hits[True], totals[True]) if totals[True] else None
        gap = None
    giveaway_rule = RuleResult(
        "giveaway_words", NA if gap is None else FAIL if gap > GIVEAWAY_GAP_LIMIT else PASS,
        gap, GIVEAWAY_GAP_LIMIT,
        {"false_statements": totals[False], "false_with_words": hits[False],
         "true_statements": totals[True], "true_with_words": hits[True],
         "false_rate": false_rate, "true_rate": true_rate})

    # multiple-answer questions with too few wrong choices
    multiple = [q for q in questions if q.qtype == "multiple"]
    few = 0
    for q in multiple:
        wrong = sum(1 for c in q.choices if _weight(c) <= 0)
        if wrong < MIN_WRONG_CHOICES:
            few += 1
            per_question[q.id].append(Flag("few_wrong_choices", (str(wrong),)))
    multiple_rule = RuleResult(
        "multiple_wrong_choices", NA if not multiple else FAIL if few else PASS,
        few, MIN_WRONG_CHOICES, {"questions": len(multiple), "offending": few})

    flagged: list[FlaggedQuestion] = []
    if flags:
        for q in questions:
            for i in sorted(_keys(q)):
                if q.qtype in ("single", "multiple") and is_above_choice(q.choices[i].text,
                                                                          q.text_format):
                    per_question[q.id].append(Flag("above_as_key",
                                                   (plain_text(q.choices[i].text,
                                                               q.text_format).strip(),)))
                    break
            found = _found(_folded(q.stem, q.text_format), unnamed)
            if found:
                per_question[q.id].append(Flag("unnamed_subject", found))
        by_id = {q.id: q for q in questions}
        for qid, others in near_duplicates(questions).items():
            per_question[qid].append(Flag("duplicate_stem",
                                          tuple(by_id[o].label for o in others), tuple(others)))
        order = {kind: i for i, kind in enumerate(FLAGS)}
        for q in questions:
            if per_question.get(q.id):
                flagged.append(FlaggedQuestion(q, sorted(per_question[q.id],
                                                         key=lambda f: order[f.kind])))
    return HealthReport([longest_rule, giveaway_rule, multiple_rule], shares_of(questions),
                        flagged)


def shares_of(questions: Sequence[QuestionData]) -> Shares:
    by_category = Counter(q.category for q in questions)
    return Shares(
        total=len(questions),
        case=sum(1 for q in questions if CASE_TAG in q.tags),
        by_type={t: sum(1 for q in questions if q.qtype == t)
                 for t in ("single", "multiple", "truefalse")},
        by_difficulty={d: sum(1 for q in questions if q.difficulty == d) for d in (1, 2, 3)},
        by_category=dict(sorted(by_category.items())))


# -- near-duplicate stems ------------------------------------------------------------------------

def bigrams(text: str) -> frozenset[str]:
    if len(text) < 2:
        return frozenset([text]) if text else frozenset()
    return frozenset(text[i:i + 2] for i in range(len(text) - 1))


def similar(a: str, b: str, threshold: Fraction = NEAR_DUPLICATE) -> bool:
    """Whether two normalised stems are near-duplicates: SequenceMatcher's ratio 2·M/T (M
    matching characters, T both lengths) at or above the threshold, compared exactly."""
    total = len(a) + len(b)
    if not total or 2 * min(len(a), len(b)) < threshold * total:   # the ratio's upper bound
        return False
    matched = sum(block.size for block in SequenceMatcher(None, a, b, autojunk=False)
                  .get_matching_blocks())
    return 2 * matched >= threshold * total


def near_duplicates(questions: Sequence[QuestionData],
                    threshold: Fraction = NEAR_DUPLICATE) -> dict[int, list[int]]:
    """For each question whose stem duplicates or nearly duplicates another's: the ids of the
    others, in the given order.

    Identical normalised stems are grouped first. The distinct stems are then paired when
    their bigram sets have a Jaccard similarity ≥ CANDIDATE_JACCARD, found with a prefix filter
    (with each set's bigrams ordered from rarest to commonest, two sets with Jaccard ≥ t share
    at least ceil(t·|larger|) bigrams, hence one among each other's first |s| − ceil(t·|s|) + 1;
    only those prefixes are indexed and probed), and each such pair is compared (`similar`)."""
    groups: dict[str, list[int]] = {}
    for q in questions:
        key = normalised_stem(q.stem, q.text_format)
        if key:
            groups.setdefault(key, []).append(q.id)
    stems = list(groups)
    sets = [bigrams(s) for s in stems]
    frequency: Counter[str] = Counter(token for s in sets for token in s)
    index: dict[str, list[int]] = defaultdict(list)
    linked: dict[int, set[int]] = defaultdict(set)   # between distinct stems
    # Integer arithmetic in the loop (Fractions there cost more than the rest of the check).
    num, den = CANDIDATE_JACCARD.numerator, CANDIDATE_JACCARD.denominator
    # Smaller sets first, so each probe only meets sets no larger than its own; and as the
    # probes only grow, a set too small for one probe is too small for every later one: each
    # posting list is read from the first set still large enough.
    start: dict[str, int] = defaultdict(int)
    for i in sorted(range(len(sets)), key=lambda k: (len(sets[k]), stems[k])):
        mine = sets[i]
        tokens = sorted(mine, key=lambda token: (frequency[token], token))
        size = len(tokens)
        seen: set[int] = set()
        for token in tokens[:size + (-num * size // den) + 1]:   # size − ceil(t·size) + 1
            postings = index[token]
            first = start[token]
            while first < len(postings) and den * len(sets[postings[first]]) < num * size:
                first += 1
            start[token] = first
            for j in postings[first:]:
                if j in seen:
                    continue
                seen.add(j)
                other = sets[j]
                common = len(mine & other)
                if (den * common >= num * (size + len(other) - common)
                        and similar(stems[i], stems[j], threshold)):
                    linked[i].add(j)
                    linked[j].add(i)
            postings.append(i)
    result: dict[int, list[int]] = {}
    position = {q.id: n for n, q in enumerate(questions)}
    for k, ids in enumerate(groups.values()):
        others_of_stem = [qid for m in linked.get(k, ()) for qid in groups[stems[m]]]
        for qid in ids:
            others = [o for o in ids if o != qid] + others_of_stem
            if others:
                result[qid] = sorted(others, key=position.__getitem__)
    return result


# -- presenting -------------------------------------------------------------------------------------

def percent(value: Fraction | None, places: int = 1) -> float | None:
    """A fraction of one as a percentage, rounded for display (never used for a verdict)."""
    return None if value is None else round(float(value * 100), places)


def report_to_dict(report: HealthReport) -> dict[str, object]:
    """The report as JSON-ready data (`trainer banks check --json`): percentages rounded to one
    decimal, questions named by id number (and id)."""
    longest, giveaway, multiple = (report.rule(k) for k in RULES)
    shares = report.shares

    def count(n: int) -> dict[str, object]:
        return {"count": n, "percent": percent(shares.share(n))}

    return {
        "passed": report.passed,
        "failed_rules": report.failed_rules,
        "rules": {
            "longest_choice": {
                "verdict": longest.verdict, "score_percent": percent(longest.figure),
                "limit_percent": percent(LONGEST_CHOICE_LIMIT), **longest.counts},
            "giveaway_words": {
                "verdict": giveaway.verdict, "gap_points": percent(giveaway.figure),
                "limit_points": percent(GIVEAWAY_GAP_LIMIT),
                **{side + part: (percent(giveaway.counts[side + "rate"]) if part == "percent"
                                 else giveaway.counts[side + part])
                   for side in ("false_", "true_")
                   for part in ("statements", "with_words", "percent")}},
            "multiple_wrong_choices": {
                "verdict": multiple.verdict, "allowed": 0,
                "min_wrong_choices": MIN_WRONG_CHOICES, **multiple.counts},
        },
        "shares": {
            "questions": shares.total, "case": count(shares.case),
            "types": {t: count(n) for t, n in shares.by_type.items()},
            "difficulties": {str(d): count(n) for d, n in shares.by_difficulty.items()},
            "knowledge_points": {path: count(n) for path, n in shares.by_category.items()},
        },
        "flagged": [
            {"id_number": item.question.id_number, "id": item.question.id,
             "flags": [{"kind": f.kind, **({"detail": list(f.detail)} if f.detail else {})}
                       for f in item.flags]}
            for item in report.flagged],
    }


def from_parsed(questions: Iterable) -> list[QuestionData]:
    """Parsed questions (banks.formats: a file not yet imported, a shipped bank) as question data,
    numbered in file order: the check of a file before anything is saved."""
    return [QuestionData(
        id=number, qtype=q.qtype, stem=q.stem,
        choices=tuple(ChoiceData(c.text, c.weight) for c in q.choices),
        id_number=q.id_number, tags=tuple(q.tags), difficulty=q.difficulty,
        category="/".join(q.category_path), text_format=q.text_format)
        for number, q in enumerate(questions, start=1)]
