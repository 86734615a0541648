"""Grading (pure): single choice scores the chosen choice's weight; multiple choice the sum of
the ticked weights clamped to 0..1, or all-or-nothing where the quiz says so; true/false is single.
Weights are percents (−100..100); marks are Decimals rounded to hundredths of a point."""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

HUNDRED = Decimal(100)
CENT = Decimal("0.01")


def fraction(qtype: str, weights: Sequence[Decimal], selected: Iterable[int],
             all_or_nothing: bool = False) -> Decimal:
    """The fraction (0..1) of the points earned for the choices at `selected`."""
    chosen = sorted(set(i for i in selected if 0 <= i < len(weights)))
    if not chosen:
        return Decimal(0)
    if qtype in ("single", "truefalse"):
        if len(chosen) != 1:
            return Decimal(0)
        return max(Decimal(0), min(Decimal(1), weights[chosen[0]] / HUNDRED))
    if all_or_nothing:
        correct = {i for i, w in enumerate(weights) if w > 0}
        return Decimal(1) if set(chosen) == correct else Decimal(0)
    total = sum((weights[i] for i in chosen), Decimal(0)) / HUNDRED
    return max(Decimal(0), min(Decimal(1), total))


def mark(points: Decimal, frac: Decimal) -> Decimal:
    return (points * frac).quantize(CENT, rounding=ROUND_HALF_UP)


def percent(score: Decimal, maximum: Decimal) -> Decimal:
    if maximum <= 0:
        return Decimal(0)
    return (score * HUNDRED / maximum).quantize(CENT, rounding=ROUND_HALF_UP)


def is_full_marks(frac: Decimal) -> bool:
    return frac >= 1


@dataclass(frozen=True)
class KeptGrade:
    """The grade a quiz keeps of someone's attempts, and the attempt it comes from."""

    percent: Decimal
    passed: bool
    attempt_id: int


def kept_grade(finished_in_order: Sequence[KeptGrade], method: str) -> KeptGrade | None:
    """The grade a quiz keeps of finished attempts given in the order they were taken: the last
    one, or the highest (the first attempt that reached it)."""
    if not finished_in_order:
        return None
    if method == "last":
        return finished_in_order[-1]
    return max(finished_in_order, key=lambda grade: (grade.percent, grade.passed))
