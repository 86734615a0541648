"""Practical assessments (实操考评), pure: scoring a form, its critical items, the retake wait and
who may assess whom. No app, no database: the services pass plain values in.

A form is a list of items, each worth some points (halves allowed), some of them critical, and a
pass mark as a percentage of the form's total. An assessor gives each item between 0 and its
points. The form is passed when the points reach the pass mark AND every critical item got its
full points: a critical item ("核实客户身份", "未泄露客户信息") is a thing an agent must not get
partly right, so it fails the form whatever the total (seed 004's practical tests are pass/fail
on such points; Moodle's rubrics have no such notion, which is why it is modelled here).

After a failed form the same person may be assessed on it again only once the form's wait has
passed (counted in the centre's local days from the failed assessment's date): an agent needs
time to practise between tries. Nobody assesses themselves."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

def N_(message: str) -> str:
    """Marks a message for the catalogue (the services translate it where it is shown)."""
    return message

MAX_ITEM_POINTS = Decimal("100")
MAX_WAIT_DAYS = 90


class AssessmentRuleError(ValueError):
    """A form or a scoring that cannot stand; the message says what to change (English: the
    services translate by `code`)."""

    def __init__(self, code: str, message: str, **params: object) -> None:
        super().__init__(message)
        self.code, self.params = code, params


@dataclass(frozen=True)
class Item:
    key: str                  # stable within the form ("1", "2", … or a shipped key)
    text: str
    points: Decimal
    critical: bool = False
    section: str = ""


@dataclass(frozen=True)
class FormSpec:
    items: tuple[Item, ...]
    pass_percent: int
    retake_wait_days: int = 0

    @property
    def total(self) -> Decimal:
        return sum((item.points for item in self.items), Decimal(0))


@dataclass(frozen=True)
class Outcome:
    awarded: dict[str, Decimal]
    total: Decimal
    out_of: Decimal
    percent: Decimal            # of out_of, two decimals, rounded down (never passes by rounding)
    critical_failed: tuple[str, ...]   # keys of critical items not given full points
    passed: bool


def plain(value: Decimal) -> str:
    """Points as people write them: 50 (not 5E+1, not 50.0), 7.5."""
    return format(Decimal(value).normalize(), "f")


def is_half_step(value: Decimal) -> bool:
    doubled = value * 2
    return doubled == doubled.to_integral_value()


def check_form(spec: FormSpec) -> None:
    """Raise when the form cannot be used: no items, a duplicate key, an item without text or
    with points that are not a positive multiple of ½ up to 100, a pass mark outside 1–100, a
    wait outside 0–90 days."""
    if not spec.items:
        raise AssessmentRuleError("no_items", N_("A form needs at least one item."))
    keys = [item.key for item in spec.items]
    if len(set(keys)) != len(keys):
        raise AssessmentRuleError("duplicate_key", N_("Two items share a key."))
    for number, item in enumerate(spec.items, start=1):
        if not item.text.strip():
            raise AssessmentRuleError("item_text", N_("Item %(n)s has no text."), n=number)
        if not (0 < item.points <= MAX_ITEM_POINTS) or not is_half_step(item.points):
            raise AssessmentRuleError("item_points", N_(
                "Item %(n)s: points must be a multiple of 0.5 from 0.5 to 100."), n=number)
    if not 1 <= spec.pass_percent <= 100:
        raise AssessmentRuleError("pass_percent",
                                  N_("The pass mark must be between 1 and 100 (percent)."))
    if not 0 <= spec.retake_wait_days <= MAX_WAIT_DAYS:
        raise AssessmentRuleError("retake_wait",
                                  N_("The retake wait must be between 0 and 90 days."))


def parse_points(raw: object) -> Decimal | None:
    """An assessor's entry ("8", "7.5", " 3 ") as a Decimal; None when it is not a number."""
    try:
        value = Decimal(str(raw).strip().replace("，", ".").replace(",", "."))
    except (InvalidOperation, ValueError):
        return None
    return value if value.is_finite() else None


def score(spec: FormSpec, awarded: Mapping[str, Decimal]) -> Outcome:
    """The outcome of one assessment. Every item must be scored, from 0 to its points in halves;
    anything else raises (nothing is guessed for a missing item)."""
    check_form(spec)
    unknown = set(awarded) - {item.key for item in spec.items}
    if unknown:
        raise AssessmentRuleError("unknown_item",
                                  N_("Points given for an item the form lacks."))
    given: dict[str, Decimal] = {}
    for number, item in enumerate(spec.items, start=1):
        value = awarded.get(item.key)
        if value is None:
            raise AssessmentRuleError("unscored", N_("Item %(n)s has no points."), n=number)
        if not (0 <= value <= item.points) or not is_half_step(value):
            raise AssessmentRuleError("out_of_range", N_(
                "Item %(n)s: give 0 to %(max)s points, in steps of 0.5."),
                n=number, max=plain(item.points))
        given[item.key] = value
    total = sum(given.values(), Decimal(0))
    out_of = spec.total
    percent = (total * 100 / out_of).quantize(Decimal("0.01"), rounding="ROUND_DOWN")
    critical_failed = tuple(item.key for item in spec.items
                            if item.critical and given[item.key] < item.points)
    passed = total * 100 >= out_of * spec.pass_percent and not critical_failed
    return Outcome(given, total, out_of, percent, critical_failed, passed)


def retake_from(last_failed_on: date, wait_days: int) -> date:
    """The first local date on which a failed form may be taken again."""
    return last_failed_on + timedelta(days=wait_days)


def refusal(*, assessor_id: int, person_id: int, assessed_on: date, today: date,
            history: Sequence[tuple[date, bool]], wait_days: int) -> tuple[str, dict] | None:
    """Why this assessment may not be recorded, or None. `history` is the person's earlier
    assessments on the same form (date, passed). Codes: self, future, retake_wait (params:
    from). (When an assessment counts for a course — after the assignment, after a post's
    internship — is the course requirement's rule, not a refusal.)"""
    if assessor_id == person_id:
        return "self", {}
    if assessed_on > today:
        return "future", {}
    earlier = [day for day, _passed in history if day <= assessed_on]
    failed = [day for day, passed in history if not passed and day <= assessed_on]
    if failed and earlier and max(failed) == max(earlier):
        allowed = retake_from(max(failed), wait_days)
        if assessed_on < allowed:
            return "retake_wait", {"from": allowed}
    return None
