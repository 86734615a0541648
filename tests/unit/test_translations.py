"""Every user-facing string is in the catalogues, and zh_CN translates all of them faithfully."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
ZH = ROOT / "trainer/translations/zh_Hans_CN/LC_MESSAGES/messages.po"
KEYWORDS = ["_l", "lazy_pgettext:1c,2", "N_", "DomainError", "Forbidden", "NotFound", "DecodeError", "RowError:3",
            "TimeUp", "AttemptClosed"]
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|\{\w*\}")


def _catalogue(path: Path):
    with path.open("rb") as handle:
        return read_po(handle)


def test_every_source_string_is_in_the_zh_catalogue(tmp_path):
    pot = tmp_path / "fresh.pot"
    args = [sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg",
            "--no-location", "-o", str(pot)]
    for keyword in KEYWORDS:
        args += ["-k", keyword]
    args.append(".")
    subprocess.run(args, cwd=ROOT, check=True, capture_output=True)
    # A message is its id and its context: "Trainer" the product and "Trainer" the role differ.
    fresh = {(m.context, m.id) for m in _catalogue(pot) if m.id}
    known = {(m.context, m.id) for m in _catalogue(ZH) if m.id}
    missing = sorted(str(m) for m in fresh - known)
    assert not missing, f"run `make i18n-extract` and translate: {missing[:20]}"


def test_zh_catalogue_is_complete_and_keeps_placeholders():
    problems = []
    for message in _catalogue(ZH):
        if not message.id:
            continue
        msgid = message.id if isinstance(message.id, str) else message.id[0]
        msgstr = message.string if isinstance(message.string, str) else message.string[0]
        if not msgstr:
            problems.append(f"untranslated: {msgid}")
        elif sorted(PLACEHOLDER.findall(msgid)) != sorted(PLACEHOLDER.findall(msgstr)):
            problems.append(f"placeholders differ: {msgid} -> {msgstr}")
    assert not problems, "\n".join(problems[:20])


def test_the_catalogues_compile_without_errors():
    """What `make translations` (pybabel compile) refuses: a msgid Babel reads as a
    %-format ("Pass mark (% of the total)": "% o" is a conversion) whose translation lacks it."""
    for path in (ZH, ROOT / "trainer/translations/en/LC_MESSAGES/messages.po"):
        errors = [f"{message.id!r}: {'; '.join(map(str, found))}"
                  for message, found in _catalogue(path).check() if found]
        assert not errors, f"{path.parent.parent.name}: {errors[:10]}"
