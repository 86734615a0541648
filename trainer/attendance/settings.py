"""The attendance area's settings (core.settings registry): defaults of a new session's windows
and thresholds, completion, the wait-list's cut-off, the survey, and the centre's addresses."""
from __future__ import annotations

import ipaddress

from flask_babel import lazy_gettext as _l

from trainer.core.errors import N_
from trainer.core.settings import define, define_area, get_setting

define_area("attendance", _l("Classroom training"))


def _addresses_problem(ranges: list[str]) -> str | None:
    for item in ranges:
        try:
            ipaddress.ip_network(item, strict=False)
        except ValueError:
            return N_("%(setting)s: each line is an address range like 10.1.0.0/16.")
    return None


for order, (key, default, label, low, high) in enumerate((
        ("checkin_opens_min", 15, _l("Check-in opens (minutes before the start)"), 0, 240),
        ("checkin_closes_min", 30, _l("Check-in closes (minutes after the start)"), 0, 480),
        ("checkout_opens_min", 10, _l("Check-out opens (minutes before the end)"), 0, 240),
        ("checkout_closes_min", 30, _l("Check-out closes (minutes after the end)"), 0, 480),
        ("late_after_min", 5, _l("Late when checked in later than (minutes after the start)"),
         0, 120),
        ("early_leave_min", 5, _l("Left early when checked out earlier than (minutes before "
                                  "the end)"), 0, 120),
        ("completion_share", 80, _l("A class is completed with this share of its minutes (%)"),
         1, 100),
        ("waitlist_cutoff_hours", 24, _l("The wait-list moves up until this many hours before "
                                         "the first session"), 0, 720),
        ("survey_days", 7, _l("The survey stays open this many days after the last session"),
         1, 60),
        ("code_step_s", 20, _l("The check-in code changes every (seconds)"), 10, 120),
        ("mark_address_days", 180, _l("Check-in addresses are kept (days)"), 1, 730),
), start=30):
    define(key, "int", default, label, "attendance", minimum=low, maximum=high, order=order)

define("checkout_required", "bool", True, _l("Check-out is required"), "attendance", order=29)
define("centre_addresses", "list", [], _l("The centre's address ranges"), "attendance",
       optional=True, check=_addresses_problem, order=50,
       help=_l("One range per line (e.g. 10.1.0.0/16). A check-in from elsewhere is flagged "
               "for the trainer, not refused. None: no such flag."))


def session_defaults() -> dict[str, object]:
    keys = ("checkin_opens_min", "checkin_closes_min", "checkout_opens_min",
            "checkout_closes_min", "late_after_min", "early_leave_min", "checkout_required")
    return {key: get_setting(key) for key in keys}
