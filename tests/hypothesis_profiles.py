"""The Hypothesis profiles every property test runs under: HYPOTHESIS_PROFILE=ci runs 500
examples per property, the default "dev" 100."""
from __future__ import annotations

import os

from hypothesis import HealthCheck, settings


def register_profiles() -> None:
    # Registering again only replaces a profile with the same settings: harmless when several
    # modules (or a re-import) do it.
    common = {
        "deadline": None,
        "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large],
    }
    settings.register_profile("ci", max_examples=500, **common)
    settings.register_profile("dev", max_examples=100, **common)
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))
