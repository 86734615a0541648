"""The banks area's settings (core.settings registry): the giveaway words the bank health check
looks for in true/false statements. The health check's thresholds are not settings: the issue
fixes them (30 %, 10 points), and a bank that passes should pass the same check everywhere."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from trainer.banks.health import DEFAULT_GIVEAWAY_WORDS
from trainer.core.settings import define, define_area, get_setting

define_area("banks", _l("Question banks"))
define("giveaway_words", "list", list(DEFAULT_GIVEAWAY_WORDS),
       _l("Giveaway words in true/false statements"), "banks", order=70,
       help=_l("One per line. The bank health check compares how often false and true "
               "statements hold one: a bank fails when false ones hold them more than 10 "
               "points more often."))


def giveaway_words() -> list[str]:
    return list(get_setting("giveaway_words"))
