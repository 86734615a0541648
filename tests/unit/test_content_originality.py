"""Shipped content is written in our own words: the workplace's seed-overlap tool finds no
sentence copied from the source documents."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import skip_or_fail

ROOT = Path(__file__).resolve().parents[2]
TOOL = ROOT.parent / "shared" / "tools" / "seed_overlap.py"


def test_no_sentence_is_copied_from_the_seeds():
    if not TOOL.exists():
        skip_or_fail(f"{TOOL} is not beside the checkout")
    folders = [p for p in ("question_banks", "courses", "assessment_forms") if (ROOT / p).exists()]
    result = subprocess.run([sys.executable, str(TOOL), *folders], cwd=ROOT,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:]
    assert "0 copied run(s)" in result.stdout
