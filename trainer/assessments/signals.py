"""What the assessments area tells the areas above it (learning's requirements): an assessment
was recorded, or voided (sender: the Assessment; keyword: now)."""
from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

assessment_recorded = _signals.signal("assessment-recorded")
assessment_voided = _signals.signal("assessment-voided")
