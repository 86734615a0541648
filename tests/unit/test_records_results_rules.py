"""The pure rules of quiz results: score bands, rates, means and medians (no database)."""
from __future__ import annotations

from decimal import Decimal

import pytest

from trainer.records import rules


@pytest.mark.parametrize("percent, band", [
    (Decimal("0"), 0), (Decimal("9.99"), 0), (Decimal("10"), 1), (Decimal("59.99"), 5),
    (Decimal("60"), 6), (Decimal("89.99"), 8), (Decimal("90"), 9), (Decimal("100"), 9)])
def test_a_grade_falls_in_its_band_and_full_marks_in_the_last(percent, band):
    assert rules.score_band(percent) == band


def test_band_labels_cover_zero_to_a_hundred():
    assert [rules.band_label(b) for b in (0, 9)] == ["0–10%", "90–100%"]


def test_rate_is_a_percent_to_one_decimal_and_none_without_a_whole():
    assert rules.rate(2, 3) == Decimal("66.7")
    assert rules.rate(0, 4) == Decimal("0.0")
    assert rules.rate(0, 0) is None


def test_mean_puts_a_float_sum_back_on_the_hundredths():
    # SQLite sums REAL columns: 0.1 + 0.2 is 0.30000000000000004 there.
    assert rules.mean(0.1 + 0.2, 2) == Decimal("0.15")
    assert rules.mean(Decimal("200.01"), 3) == Decimal("66.67")
    assert rules.mean(None, 0) is None


def test_median_of_odd_and_even_counts():
    values = [Decimal(v) for v in ("80", "30", "60.5")]
    assert rules.median(values) == Decimal("60.50")
    assert rules.median(values + [Decimal("65.25")]) == Decimal("62.88")   # (60.5+65.25)/2
    assert rules.median([]) is None
