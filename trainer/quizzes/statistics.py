"""Item analysis of a quiz's graded attempts (pure: no app, no database), as Moodle's quiz
statistics report computes it (mod/quiz/report/statistics and
question/classes/statistics/questions/calculator.php), with DESIGN.md's thresholds.

For item i over the S attempts that contain it, x = the mark on the item, X = the attempt's
total, R = X − x (the rest of the attempt):

- facility = mean(x / max mark) (= mean(x) / max mark, the marks of one item sharing a maximum);
- standard deviation = the sample SD of x / max mark;
- discrimination index = 100·Cov(x, R) / sqrt(Var(x)·Var(R)), sample moments (n − 1);
- discriminative efficiency = 100·Cov(x, R) / Cov_max(x, R), where Cov_max pairs the same
  marks sorted to agree (the highest x with the highest R, and so on): the most the item could
  have agreed with the rest, given its own marks;
- for each choice: how often it was picked, overall and by the top and bottom 27 % of the
  attempts containing the item, ranked by the attempt's percent (ties at the cut go to the
  attempt given first, so the groups keep their size and the result does not move between runs).

A figure that cannot be computed is None, with the reason, never 0: an item everyone scored the
same on (Var(x) = 0) has no discrimination, nor has one whose attempts all scored the same on
the rest of the quiz (Var(R) = 0), nor one answered fewer than twice.

For the quiz: the attempts' percents (mean, median, sample SD, Moodle's skewness), and
Cronbach's alpha = P/(P−1)·(1 − ΣVar(x_i)/Var(X)) with the standard error of measurement
SD·sqrt(1 − alpha). Alpha adds item variances, so it means something only when every attempt
answered the same P items: it is computed when every attempt holds the same questions (by
lineage, each with the same maximum mark) — which a fixed list gives, and so does a draw whose
rules take every question they match; attempts drawn from larger pools each hold a different
set, and alpha is then not given (`alpha_reason` = "different_items"). The decision is made on
the attempts themselves, not on the quiz's settings, so a fixed list changed half-way through an
exam period is caught too.

Flags, only for an item contained in at least `MIN_ATTEMPTS` attempts (below that: "not enough
answers yet"): facility outside 0.2–0.9 (too easy, too hard), a negative discrimination, a
discrimination under 20 or an efficiency under 15 % (does not discriminate), a distractor
picked by fewer than 5 % of the attempts (nobody picks it), a distractor the top 27 % pick more
often than the bottom 27 % (the strong candidates pick it). The flags are codes; pages word them.
"""
from __future__ import annotations

import math
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

MIN_ATTEMPTS = 30
EASY_ABOVE = 0.9
HARD_BELOW = 0.2
MIN_DISCRIMINATION = 20.0
MIN_EFFICIENCY = 15.0
RARE_PICK_PERCENT = 5.0
GROUP_SHARE = 0.27
BANDS = 10
_ZERO = 1e-12

# Item flags.
TOO_EASY, TOO_HARD = "too_easy", "too_hard"
NEGATIVE, WEAK = "negative_discrimination", "weak_discrimination"
# Choice flags (a distractor's).
RARELY_PICKED, STRONG_PICK = "rarely_picked", "strong_pick"
# Why a figure is missing.
TOO_FEW, ITEM_CONSTANT, REST_CONSTANT = "too_few", "item_constant", "rest_constant"
NO_ATTEMPTS, DIFFERENT_ITEMS, ONE_ITEM, TOTAL_CONSTANT = (
    "no_attempts", "different_items", "one_item", "total_constant")


# -- input ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Choice:
    text: str
    key: bool  # a choice that earns marks (weight > 0)


@dataclass(frozen=True)
class QuestionShown:
    """One version of a question as the attempts snapshotted it (shared by its responses)."""

    question_id: int
    qtype: str
    stem: str
    choices: tuple[Choice, ...]
    name: str = ""
    version: int = 1


@dataclass(frozen=True)
class Response:
    """One item of one attempt: its mark and what was shown and picked (indexes into
    `question.choices`)."""

    lineage_id: int
    question: QuestionShown
    position: int
    mark: float
    max_mark: float
    shown: tuple[int, ...]
    picked: frozenset[int]


@dataclass(frozen=True)
class GradedAttempt:
    """A graded attempt: `total` is its whole score (the sum of all its items' marks) even when
    `responses` holds only some of its items (a question followed across quizzes)."""

    key: int
    total: float
    max_total: float
    responses: tuple[Response, ...]

    @property
    def percent(self) -> float:
        return 100.0 * self.total / self.max_total if self.max_total > 0 else 0.0


# -- output ---------------------------------------------------------------------------------------

@dataclass
class ChoiceFigures:
    text: str
    key: bool
    picked: int
    percent: float | None          # of the attempts containing the item
    percent_top: float | None      # of the top 27 %
    percent_bottom: float | None   # of the bottom 27 %
    flags: tuple[str, ...] = ()


@dataclass(frozen=True)
class Flag:
    code: str
    choice: int | None = None      # index into ItemFigures.choices for a distractor's flag


@dataclass
class ItemFigures:
    lineage_id: int
    question: QuestionShown        # the latest version answered
    question_ids: tuple[int, ...]  # every version answered, oldest first
    n: int
    max_mark: float
    mean_mark: float | None
    facility: float | None         # 0..1
    sd: float | None               # of the fraction mark, 0..1
    discrimination: float | None   # −100..100
    discrimination_reason: str | None
    efficiency: float | None       # percent
    group_size: int
    choices: list[ChoiceFigures]
    flags: list[Flag]
    mean_position: float = 0.0
    number: int = 0                # 1.. in the quiz's table

    @property
    def enough(self) -> bool:
        return self.n >= MIN_ATTEMPTS

    @property
    def flagged(self) -> bool:
        return bool(self.flags)

    @property
    def mark_variance(self) -> float | None:
        if self.sd is None:
            return None
        return (self.sd * self.max_mark) ** 2


@dataclass
class QuizFigures:
    n: int
    mean: float | None             # percents
    median: float | None
    sd: float | None
    skewness: float | None
    alpha: float | None            # 0..1 (may be negative)
    alpha_reason: str | None
    sem: float | None              # percent points
    same_items: bool
    items: list[ItemFigures] = field(default_factory=list)
    bands: list[int] = field(default_factory=lambda: [0] * BANDS)

    @property
    def flagged(self) -> int:
        return sum(item.flagged for item in self.items)


# -- the moments ----------------------------------------------------------------------------------

def _covariance(xs: Sequence[float], ys: Sequence[float]) -> float:
    n = len(xs)
    mx, my = math.fsum(xs) / n, math.fsum(ys) / n
    return math.fsum((x - mx) * (y - my) for x, y in zip(xs, ys)) / (n - 1)


def _variance(xs: Sequence[float]) -> float:
    """The sample variance (n − 1), 0 below two values. Summed with fsum rather than by
    `statistics.variance`, whose exact fractions are far slower on a large exam."""
    n = len(xs)
    if n < 2:
        return 0.0
    mean = math.fsum(xs) / n
    return math.fsum((x - mean) ** 2 for x in xs) / (n - 1)


def _stdev(xs: Sequence[float]) -> float | None:
    return math.sqrt(_variance(xs)) if len(xs) > 1 else None


def group_size(n: int) -> int:
    """How many attempts make the top (and the bottom) 27 % of n: rounded, at least one."""
    return max(1, int(GROUP_SHARE * n + 0.5)) if n else 0


def skewness(values: Sequence[float]) -> float | None:
    """Moodle's skewness of the scores: k3 / k2^1.5 (unbiased cumulants); None below 3 values
    or when they are all equal."""
    s = len(values)
    if s < 3:
        return None
    mean = math.fsum(values) / s
    m2 = math.fsum((v - mean) ** 2 for v in values) / s
    m3 = math.fsum((v - mean) ** 3 for v in values) / s
    k2 = s * m2 / (s - 1)
    k3 = s * s * m3 / ((s - 1) * (s - 2))
    if k2 <= _ZERO:
        return None
    return k3 / k2 ** 1.5


# -- one item -------------------------------------------------------------------------------------

def _choices(answers: Sequence[tuple[GradedAttempt, Response]], top: set[int],
             bottom: set[int], latest: QuestionShown) -> list[ChoiceFigures]:
    """Per choice, keyed by its text: a new version that kept a choice's words counts it as the
    same choice (its letter may have moved). The latest version's choices first, in its order,
    then any that only older versions had."""
    order: list[str] = [c.text for c in latest.choices]
    key = {c.text: c.key for c in latest.choices}
    picked: Counter[str] = Counter()
    picked_top: Counter[str] = Counter()
    picked_bottom: Counter[str] = Counter()
    for attempt, response in answers:
        choices = response.question.choices
        for choice in choices:
            if choice.text not in key:
                key[choice.text] = choice.key
                order.append(choice.text)
        for index in response.picked:
            if 0 <= index < len(choices):
                text = choices[index].text
                picked[text] += 1
                if attempt.key in top:
                    picked_top[text] += 1
                if attempt.key in bottom:
                    picked_bottom[text] += 1
    n = len(answers)

    def pct(count: int, of: int) -> float | None:
        return 100.0 * count / of if of else None

    return [ChoiceFigures(text=text, key=key[text], picked=picked[text],
                          percent=pct(picked[text], n), percent_top=pct(picked_top[text], len(top)),
                          percent_bottom=pct(picked_bottom[text], len(bottom)))
            for text in order]


def _groups(answers: Sequence[tuple[GradedAttempt, Response]]) -> tuple[set[int], set[int]]:
    size = group_size(len(answers))
    given = {attempt.key: i for i, (attempt, _r) in enumerate(answers)}
    attempts = [attempt for attempt, _r in answers]
    top = sorted(attempts, key=lambda a: (-a.percent, given[a.key]))[:size]
    bottom = sorted(attempts, key=lambda a: (a.percent, given[a.key]))[:size]
    return {a.key for a in top}, {a.key for a in bottom}


def analyse_item(lineage_id: int, attempts: Iterable[GradedAttempt]) -> ItemFigures | None:
    """The figures of one question (lineage) over the attempts that contain it; None when none
    does. An attempt holding the question twice (it cannot) would count its first."""
    answers: list[tuple[GradedAttempt, Response]] = []
    for attempt in attempts:
        response = next((r for r in attempt.responses if r.lineage_id == lineage_id), None)
        if response is not None:
            answers.append((attempt, response))
    return _item(lineage_id, answers) if answers else None


def _item(lineage_id: int, answers: Sequence[tuple[GradedAttempt, Response]]) -> ItemFigures:
    n = len(answers)
    versions = {r.question.question_id: r.question for _a, r in answers}
    latest = versions[max(versions)]
    x = [r.mark for _a, r in answers]
    rest = [a.total - r.mark for a, r in answers]
    maxima = [r.max_mark for _a, r in answers]
    fractions = [r.mark / r.max_mark if r.max_mark > 0 else 0.0 for _a, r in answers]
    facility = math.fsum(fractions) / n if any(m > 0 for m in maxima) else None
    sd = _stdev(fractions)

    discrimination = efficiency = None
    reason: str | None = None
    if n < 2:
        reason = TOO_FEW
    else:
        var_x, var_r = _variance(x), _variance(rest)
        if var_x <= _ZERO:
            reason = ITEM_CONSTANT
        elif var_r <= _ZERO:
            reason = REST_CONSTANT
        else:
            cov = _covariance(x, rest)
            discrimination = 100.0 * cov / math.sqrt(var_x * var_r)
            cov_max = _covariance(sorted(x), sorted(rest))
            if cov_max > _ZERO:
                efficiency = 100.0 * cov / cov_max

    top, bottom = _groups(answers)
    choices = _choices(answers, top, bottom, latest)
    item = ItemFigures(
        lineage_id=lineage_id, question=latest, question_ids=tuple(sorted(versions)), n=n,
        max_mark=max(maxima), mean_mark=math.fsum(x) / n, facility=facility, sd=sd,
        discrimination=discrimination, discrimination_reason=reason, efficiency=efficiency,
        group_size=len(top), choices=choices, flags=[],
        mean_position=math.fsum(r.position for _a, r in answers) / n)
    item.flags = flags_for(item)
    return item


def flags_for(item: ItemFigures) -> list[Flag]:
    """DESIGN.md's thresholds; nothing below `MIN_ATTEMPTS` answers (too few to judge)."""
    if not item.enough:
        return []
    flags: list[Flag] = []
    if item.facility is not None:
        if item.facility > EASY_ABOVE:
            flags.append(Flag(TOO_EASY))
        elif item.facility < HARD_BELOW:
            flags.append(Flag(TOO_HARD))
    if item.discrimination is not None and item.discrimination < 0:
        flags.append(Flag(NEGATIVE))
    elif (item.discrimination is not None and item.discrimination < MIN_DISCRIMINATION) or (
            item.efficiency is not None and item.efficiency < MIN_EFFICIENCY):
        flags.append(Flag(WEAK))
    for index, choice in enumerate(item.choices):
        if choice.key:
            continue
        marks = []
        if choice.percent is not None and choice.percent < RARE_PICK_PERCENT:
            marks.append(RARELY_PICKED)
        if (choice.percent_top or 0) > (choice.percent_bottom or 0):
            marks.append(STRONG_PICK)
        choice.flags = tuple(marks)
        flags.extend(Flag(code, index) for code in marks)
    return flags


# -- the quiz -------------------------------------------------------------------------------------

def _same_items(attempts: Sequence[GradedAttempt]) -> bool:
    sets = {frozenset((r.lineage_id, r.max_mark) for r in a.responses) for a in attempts}
    return len(sets) == 1


def _alpha(attempts: Sequence[GradedAttempt], items: Sequence[ItemFigures]
           ) -> tuple[float | None, str | None]:
    if len(attempts) < 2:
        return None, TOO_FEW
    if not _same_items(attempts):
        return None, DIFFERENT_ITEMS
    p = len(items)
    if p < 2:
        return None, ONE_ITEM
    totals = [math.fsum(r.mark for r in a.responses) for a in attempts]
    var_total = _variance(totals)
    if var_total <= _ZERO:
        return None, TOTAL_CONSTANT
    marks: dict[int, list[float]] = defaultdict(list)
    for attempt in attempts:
        for response in attempt.responses:
            marks[response.lineage_id].append(response.mark)
    item_variances = math.fsum(_variance(m) for m in marks.values())
    return p / (p - 1) * (1 - item_variances / var_total), None


def band(percent: float) -> int:
    """0 for 0–10 %, …, 9 for 90–100 % (100 % in the last band)."""
    return min(BANDS - 1, max(0, int(percent // (100 / BANDS))))


def analyse(attempts: Iterable[GradedAttempt], *, order: Mapping[int, int] | None = None
            ) -> QuizFigures:
    """The quiz's figures and one ItemFigures per question (lineage) answered, in `order`
    (lineage → rank, e.g. a fixed list's positions) where given, else by the mean position
    the question was shown at; numbered from 1 in that order."""
    attempts = list(attempts)
    n = len(attempts)
    percents = [a.percent for a in attempts]
    by_lineage: dict[int, list[tuple[GradedAttempt, Response]]] = defaultdict(list)
    for attempt in attempts:
        seen: set[int] = set()
        for response in attempt.responses:
            if response.lineage_id not in seen:
                seen.add(response.lineage_id)
                by_lineage[response.lineage_id].append((attempt, response))
    items = [_item(lineage, answers) for lineage, answers in by_lineage.items()]
    rank = order or {}
    items.sort(key=lambda i: (rank.get(i.lineage_id, len(rank)), i.mean_position, i.lineage_id))
    for number, item in enumerate(items, start=1):
        item.number = number
    alpha, alpha_reason = _alpha(attempts, items) if n else (None, NO_ATTEMPTS)
    sd = _stdev(percents)
    sem = sd * math.sqrt(1 - alpha) if sd is not None and alpha is not None and alpha <= 1 \
        else None
    bands = [0] * BANDS
    for percent in percents:
        bands[band(percent)] += 1
    return QuizFigures(
        n=n, mean=statistics.fmean(percents) if n else None,
        median=statistics.median(percents) if n else None, sd=sd, skewness=skewness(percents),
        alpha=alpha, alpha_reason=alpha_reason, sem=sem, same_items=bool(n) and
        _same_items(attempts), items=items, bands=bands)
