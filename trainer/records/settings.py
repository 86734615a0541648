"""The records area's settings (core.settings registry): the annual 学时 a person owes, and
which ledger entries count toward it (seed 004: at least 48 and at most 72 hours of
concentrated training a year)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from trainer.core.settings import define, define_area, get_setting

define_area("records", _l("Training records"))

define("hours_annual_minimum", "int", 48, _l("Annual minimum of counted 学时"), "records",
       minimum=0, maximum=1000, order=10,
       help=_l("Prorated over the days each person is at work (leave excluded)."))
define("hours_annual_maximum", "int", 72, _l("Annual maximum of counted 学时"), "records",
       minimum=1, maximum=1000, order=11,
       help=_l("More is shown and flagged, never refused."))
define("hours_count_classes", "bool", True, _l("Classroom 学时 count toward the minimum"),
       "records", order=12)
define("hours_count_courses", "bool", False, _l("E-learning 学时 count toward the minimum"),
       "records", order=13)
define("hours_count_external", "bool", False,
       _l("Approved external training counts toward the minimum"), "records", order=14)
define("hours_counted_categories", "list", [], _l("Categories counted toward the minimum"),
       "records", optional=True, order=15,
       help=_l("One per line; leave empty to count every category."))


def counted_sources() -> list[str]:
    return [kind for kind, key in (("class", "hours_count_classes"),
                                   ("course", "hours_count_courses"),
                                   ("external", "hours_count_external")) if get_setting(key)]


def counted_categories() -> list[str]:
    return list(get_setting("hours_counted_categories") or [])


def annual_minimum() -> int:
    return int(get_setting("hours_annual_minimum"))


def annual_maximum() -> int:
    return int(get_setting("hours_annual_maximum"))
