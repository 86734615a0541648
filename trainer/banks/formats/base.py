"""The format-neutral shapes every importer produces and every exporter consumes.

Importers never raise on bad input: they collect :class:`ParseIssue` objects with the line (or
spreadsheet row) and the first words of the question, so a trainer sees every problem at once.
Issue messages are English format strings marked with :func:`N_` so Babel extracts them; the
site translates them when it renders the issue (:meth:`ParseIssue.render`).

Choices that must never be shuffled ("以上都不对", "all of the above", …) have no syntax of their
own in GIFT, Moodle XML or the spreadsheet. Every importer therefore marks a choice keep-in-place
when its text is one of :data:`KEEP_IN_PLACE_TEXTS` (compared after trimming whitespace and a
final full stop, case-insensitively), and exporters carry the flag implicitly through that text.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Decimal, InvalidOperation

from trainer.core.markdown import external_resources, words_of

__all__ = [
    "N_",
    "QTYPES",
    "TEXT_FORMATS",
    "TRUE_TEXT",
    "FALSE_TEXT",
    "MAX_CHOICES",
    "MAX_POINTS",
    "MAX_STEM_LENGTH",
    "MAX_EXPLANATION_LENGTH",
    "MAX_CHOICE_LENGTH",
    "MAX_FEEDBACK_LENGTH",
    "WEIGHT_QUANTUM",
    "W100",
    "W0",
    "KEEP_IN_PLACE_TEXTS",
    "BLANK",
    "MULTIPLE_TOTAL",
    "ParsedChoice",
    "ParsedQuestion",
    "ParseIssue",
    "ParseResult",
    "validate_question",
    "question_key",
    "excerpt_of",
    "split_at_blank",
    "is_keep_in_place_text",
    "parse_decimal",
    "quantize_weight",
    "split_evenly",
    "truefalse_choices",
    "weights_from_letters",
    "format_decimal",
    "parse_category_path",
    "format_category_path",
    "dedupe",
]


def N_(s: str) -> str:
    """Mark a message for extraction (Babel keyword ``N_``) without translating it here."""
    return s


QTYPES = ("single", "multiple", "truefalse")
TEXT_FORMATS = ("markdown", "plain", "html")

# True/false questions are stored as these two choices, in this order, in every format.
TRUE_TEXT = "正确"
FALSE_TEXT = "错误"

MAX_CHOICES = 20
# The longest texts a question may hold, in characters: the question form and every importer
# apply the same limits (validate_question), so no route around the form stores more.
MAX_STEM_LENGTH = 20_000
MAX_EXPLANATION_LENGTH = 20_000
MAX_CHOICE_LENGTH = 5_000
MAX_FEEDBACK_LENGTH = 2_000
# Far above any sensible mark; it keeps absurd numbers out of the database's numeric column.
MAX_POINTS = Decimal("1000")
WEIGHT_QUANTUM = Decimal("0.00001")
# Weights are always carried at five decimals, whatever the source wrote (100, 100.0, 1E+2).
W100 = Decimal("100.00000")
W0 = Decimal("0.00000")
_HUNDRED = W100

KEEP_IN_PLACE_TEXTS = frozenset(
    {
        "以上都不对",
        "以上都是",
        "以上都对",
        "以上皆非",
        "都不对",
        "以上均不对",
        "以上都不是",
        "以上均是",
        "以上皆是",
        "none of the above",
        "all of the above",
    }
)

# The blank a missing-word question shows where GIFT's answer block stood (FORMATS.md "GIFT").
# A practice paper's own blanks (（　）, ( )) are text like any other.
BLANK = "（\u3000\u3000）"

ISSUE_KINDS = ("error", "incomplete", "unsupported", "skipped")

MULTIPLE_TOTAL = N_(
    "The correct choices of a multiple-choice question must total 100 %, not {total} %."
)


@dataclass
class ParsedChoice:
    text: str
    weight: Decimal  # percent, -100..100, quantized to WEIGHT_QUANTUM
    feedback: str = ""
    keep_in_place: bool = False


@dataclass
class ParsedQuestion:
    qtype: str  # "single" | "multiple" | "truefalse"
    stem: str
    choices: list[ParsedChoice]
    name: str = ""
    text_format: str = "markdown"  # "markdown" | "plain" | "html"
    explanation: str = ""
    category_path: tuple[str, ...] = ()
    tags: list[str] = field(default_factory=list)
    id_number: str = ""
    difficulty: int = 2
    default_points: Decimal = Decimal("1")
    # Which BLANK of the stem (1 = the first) stands where a missing-word question's answer
    # block stood; None for an ordinary stem, even one that shows such a blank.
    blank_number: int | None = None
    line: int = 0  # 1-based line (or spreadsheet row) where the question starts


@dataclass
class ParseIssue:
    line: int
    kind: str  # "error" | "incomplete" | "unsupported" | "skipped"
    message: str  # English format string wrapped in N_(), with {placeholders}
    params: dict[str, object] = field(default_factory=dict)
    excerpt: str = ""

    def render(self, translate: Callable[[str], str] = lambda s: s) -> str:
        """The message in the reader's language with its parameters filled in."""
        try:
            return translate(self.message).format(**self.params)
        except (KeyError, IndexError, ValueError):
            # A broken translation must not hide the problem: fall back to the English text.
            return self.message.format(**self.params)


@dataclass
class ParseResult:
    format: str
    encoding: str = "utf-8"
    questions: list[ParsedQuestion] = field(default_factory=list)
    issues: list[ParseIssue] = field(default_factory=list)
    # The shipped GIFT banks open with "// 题库：NAME" and "// 说明：DESCRIPTION".
    bank_name: str = ""
    bank_description: str = ""

    @property
    def errors(self) -> list[ParseIssue]:
        return [i for i in self.issues if i.kind in ("error", "incomplete")]

    @property
    def skipped(self) -> list[ParseIssue]:
        return [i for i in self.issues if i.kind == "skipped"]

    @property
    def unsupported(self) -> list[ParseIssue]:
        return [i for i in self.issues if i.kind == "unsupported"]

    @property
    def ok(self) -> bool:
        return not self.errors

    def counts_by_type(self) -> dict[str, int]:
        counts = dict.fromkeys(QTYPES, 0)
        for q in self.questions:
            counts[q.qtype] = counts.get(q.qtype, 0) + 1
        return counts

    # -- helpers the importers share ------------------------------------------------------------

    def add(
        self, line: int, kind: str, message: str, excerpt: str = "", /, **params: object
    ) -> None:
        self.issues.append(ParseIssue(line, kind, message, dict(params), excerpt_of(excerpt)))

    def accept(self, q: ParsedQuestion) -> bool:
        """Validate *q*; keep it when valid, otherwise turn each failure into an error issue."""
        problems = validate_question(q)
        if not problems:
            self.questions.append(q)
            return True
        for message, params in problems:
            self.issues.append(ParseIssue(q.line, "error", message, params, excerpt_of(q.stem)))
        return False


# -- text helpers ---------------------------------------------------------------------------------

_WS = re.compile(r"\s+")


def excerpt_of(text: str, length: int = 30) -> str:
    """The first words of *text* on one line, for issue lists."""
    flat = _WS.sub(" ", text).strip()
    return flat if len(flat) <= length else flat[:length] + "…"


def _norm(text: str) -> str:
    return _WS.sub(" ", text).strip().casefold()


def split_at_blank(stem: str, number: int) -> tuple[str, str] | None:
    """The text before and after the *number*-th BLANK of *stem*, or None when it has no such."""
    parts = stem.split(BLANK)
    if not 1 <= number < len(parts):
        return None
    return BLANK.join(parts[:number]), BLANK.join(parts[number:])


def is_keep_in_place_text(text: str) -> bool:
    return _norm(text).rstrip("。.").strip() in KEEP_IN_PLACE_TEXTS


def dedupe(items: Iterable[str]) -> list[str]:
    """Non-empty items, trimmed, first occurrence kept, order preserved."""
    seen: dict[str, None] = {}
    for item in items:
        item = item.strip()
        if item and item not in seen:
            seen[item] = None
    return list(seen)


# -- numbers --------------------------------------------------------------------------------------


def parse_decimal(text: str) -> Decimal | None:
    """A finite decimal from user text (full-width digits allowed), or None."""
    cleaned = unicodedata.normalize("NFKC", text).strip().rstrip("%").strip()
    if not cleaned or len(cleaned) > 40:
        return None
    try:
        value = Decimal(cleaned)
    except (InvalidOperation, ValueError):
        return None
    return value if value.is_finite() else None


def quantize_weight(value: Decimal) -> Decimal:
    """Round to five decimals; values far outside −100..100 are left for validation to reject."""
    if abs(value) > 10**6:
        return value
    return value.quantize(WEIGHT_QUANTUM, rounding=ROUND_HALF_EVEN)


def format_decimal(value: Decimal) -> str:
    """Shortest plain notation: 100, 33.33333, -50, 1.5 (never 1E+2)."""
    if value == 0:
        return "0"
    if value == value.to_integral_value():
        return str(value.quantize(Decimal(1)))
    text = format(value.normalize(), "f")
    return text


def split_evenly(count: int, total: Decimal) -> list[Decimal]:
    """*count* shares of *total* at five decimals; the last takes the remainder, so they add up."""
    if count <= 0:
        return []
    share = (total / count).quantize(WEIGHT_QUANTUM, rounding=ROUND_DOWN)
    shares = [share] * (count - 1)
    shares.append((total - sum(shares, Decimal(0))).quantize(WEIGHT_QUANTUM))
    return shares


def weights_from_letters(count: int, correct: set[int], multiple: bool) -> list[Decimal]:
    """Weights for a question whose key is a set of choice indexes (Aiken, paper, spreadsheet).

    Single choice: the correct one scores 100 %. Multiple choice: the correct ones share +100 %
    and the wrong ones share −100 %, so ticking everything scores nothing.
    """
    if not multiple:
        return [W100 if i in correct else W0 for i in range(count)]
    right = iter(split_evenly(len(correct), _HUNDRED))
    wrong = iter(split_evenly(count - len(correct), -_HUNDRED))
    return [next(right) if i in correct else next(wrong) for i in range(count)]


def truefalse_choices(
    answer: bool, feedback_true: str = "", feedback_false: str = ""
) -> list[ParsedChoice]:
    """The uniform two-choice shape of a true/false question."""
    return [
        ParsedChoice(TRUE_TEXT, W100 if answer else W0, feedback_true),
        ParsedChoice(FALSE_TEXT, W0 if answer else W100, feedback_false),
    ]


# -- category paths -------------------------------------------------------------------------------

_PATH_TOKENS = re.compile(r"(//|/)")
_CONTEXT_PREFIX = re.compile(r"^\s*\$[A-Za-z0-9_]+\$\s*(?:/|$)")


def parse_category_path(text: str) -> tuple[str, ...]:
    """Split ``a/b//c`` into ("a", "b/c"): ``//`` is a literal slash (Moodle's convention).

    A leading context such as ``$course$/`` and a leading ``top`` segment are dropped.
    """
    text = _CONTEXT_PREFIX.sub("", text.strip(), count=1)
    segments: list[str] = []
    current: list[str] = []
    for token in _PATH_TOKENS.split(text):
        if token == "/":
            segments.append("".join(current))
            current = []
        elif token == "//":
            current.append("/")
        else:
            current.append(token)
    segments.append("".join(current))
    cleaned = [s.strip() for s in segments if s.strip()]
    if cleaned and cleaned[0] == "top":
        cleaned = cleaned[1:]
    return tuple(cleaned)


def format_category_path(path: Iterable[str], protect_top: bool = True) -> str:
    """The inverse of :func:`parse_category_path`.

    A real first segment called "top" (or looking like a context, "$course$") would be dropped
    on import, so it is written behind Moodle's root ("top/top/…") unless the caller adds a root
    itself (*protect_top* False).
    """
    segments = [s.replace("/", "//") for s in path]
    if (
        protect_top
        and segments
        and (segments[0] == "top" or _CONTEXT_PREFIX.match(segments[0] + "/"))
    ):
        segments.insert(0, "top")
    return "/".join(segments)


# -- validation and duplicate keys ----------------------------------------------------------------


def validate_question(q: ParsedQuestion) -> list[tuple[str, dict[str, object]]]:
    """Every reason *q* cannot be imported, as (N_ message, params) pairs; empty when valid."""
    problems: list[tuple[str, dict[str, object]]] = []

    def fail(message: str, **params: object) -> None:
        problems.append((message, params))

    if q.qtype not in QTYPES:
        fail(N_("Unknown question type “{qtype}”."), qtype=q.qtype)
    if q.text_format not in TEXT_FORMATS:
        fail(N_("Unknown text format “{format}”."), format=q.text_format)
    if not q.stem.strip():
        fail(N_("The question has no text."))
    elif len(q.stem) > MAX_STEM_LENGTH:
        fail(N_("The question text is {length} characters long; at most {max} are allowed."),
             length=len(q.stem), max=MAX_STEM_LENGTH)
    if not (isinstance(q.difficulty, int) and 1 <= q.difficulty <= 3):
        fail(N_("Difficulty must be 1, 2 or 3, not {difficulty}."), difficulty=q.difficulty)
    points = q.default_points
    if not isinstance(points, Decimal) or not points.is_finite() or points <= 0:
        fail(N_("Points must be greater than 0, not {points}."), points=points)
    elif points > MAX_POINTS:
        fail(N_("Points must be at most {max}, not {points}."), max=MAX_POINTS, points=points)

    choices = q.choices
    if len(choices) > MAX_CHOICES:
        fail(N_("Too many choices: {count} (at most {max})."), count=len(choices), max=MAX_CHOICES)
    weights_ok = True
    for number, c in enumerate(choices, 1):
        if not c.text.strip():
            fail(N_("Choice {number} has no text."), number=number)
        elif len(c.text) > MAX_CHOICE_LENGTH:
            fail(N_("Choice {number} is {length} characters long; at most {max} are allowed."),
                 number=number, length=len(c.text), max=MAX_CHOICE_LENGTH)
        if len(c.feedback) > MAX_FEEDBACK_LENGTH:
            fail(N_("The feedback of choice {number} is {length} characters long; at most "
                    "{max} are allowed."),
                 number=number, length=len(c.feedback), max=MAX_FEEDBACK_LENGTH)
        w = c.weight
        if not isinstance(w, Decimal) or not w.is_finite() or not -_HUNDRED <= w <= _HUNDRED:
            weights_ok = False
            fail(
                N_("Choice {number} has weight {weight} %, outside −100..100 %."),
                number=number,
                weight=w,
            )
    if len(q.explanation) > MAX_EXPLANATION_LENGTH:
        fail(N_("The explanation is {length} characters long; at most {max} are allowed."),
             length=len(q.explanation), max=MAX_EXPLANATION_LENGTH)
    # A picture (or frame, sound…) from another site would be fetched by every learner's browser
    # opening the question, telling that site who sits the exam. Links are fetched only when
    # followed: they stay.
    texts = [q.stem, *(c.text for c in choices), *(c.feedback for c in choices), q.explanation]
    for url in dict.fromkeys(url for text in texts
                             for url in external_resources(text, q.text_format)):
        fail(N_("Question “{question}” would make each learner's browser fetch {url} from "
                "another site, which could then see who opens it. Remove it; a link to it "
                "is fine."),
             question=q.id_number or excerpt_of(words_of(q.stem, q.text_format)), url=url)

    if q.blank_number is not None:
        if q.qtype not in ("single", "multiple"):
            fail(N_("Only a choice question can have a missing-word blank."))
        elif not isinstance(q.blank_number, int) or (
                around := split_at_blank(q.stem, q.blank_number)) is None:
            fail(N_("The question text has no blank {number} “{blank}” for the missing word "
                    "(it has {count})."),
                 number=q.blank_number, blank=BLANK, count=q.stem.count(BLANK))
        elif not around[1].strip():
            # GIFT's missing-word form is text after the answer block; at the end the block
            # makes an ordinary question.
            fail(N_("A missing-word question needs text after its blank “{blank}”."),
                 blank=BLANK)

    if q.qtype == "single":
        if len(choices) < 2:
            fail(N_("A single-choice question needs at least two choices."))
        if weights_ok and not any(c.weight == _HUNDRED for c in choices):
            fail(N_("A single-choice question needs a choice worth 100 %."))
    elif q.qtype == "multiple":
        if len(choices) < 2:
            fail(N_("A multiple-choice question needs at least two choices."))
        if weights_ok:
            total = sum((c.weight for c in choices if c.weight > 0), Decimal(0))
            if abs(total - _HUNDRED) > Decimal("0.01"):
                fail(MULTIPLE_TOTAL, total=format_decimal(total))
    elif q.qtype == "truefalse":
        weights = sorted(c.weight for c in choices)
        if len(choices) != 2 or weights != [Decimal(0), _HUNDRED]:
            fail(N_("A true/false question needs its answer: true or false."))
    return problems


def question_key(q: ParsedQuestion) -> str:
    """A key equal for questions a trainer would call duplicates (case, spacing, choice order)."""
    choices = sorted(f"{_norm(c.text)}\x1d{int(c.weight > 0)}" for c in q.choices)
    return "\x1f".join([q.qtype, _norm(q.stem), "\x1e".join(choices)])
