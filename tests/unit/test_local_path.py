"""core.params.local_path: a "next" or "back" a form sends stays on this site."""
from __future__ import annotations

import pytest

from trainer.core.params import local_path


@pytest.mark.parametrize("target,expected", [
    ("/assessments/7", "/assessments/7"),
    ("/staff/3?tab=events", "/staff/3?tab=events"),
    ("//evil.example/", "/home"), ("https://evil.example/", "/home"),
    ("/\\evil.example/", "/home"), ("javascript:alert(1)", "/home"), ("", "/home"),
    (None, "/home")])
def test_only_a_path_of_this_site_comes_back(target, expected):
    assert local_path(target, "/home") == expected
