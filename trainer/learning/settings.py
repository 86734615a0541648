"""The learning area's settings (core.settings registry): the lifecycle's days and the 学时."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from trainer.core.settings import define, define_area, get_setting
from trainer.learning import rules

define_area("learning", _l("Training tracks"))
define_area("hours", _l("Training hours (学时)"))
_DEFAULTS = rules.LifecycleSettings()

define("go_live_date", "date", None, _l("Go-live date"), "learning", optional=True, order=10,
       help=_l("Staff hired before it count as cleared for duty and enter the yearly in-service "
               "cycle instead of onboarding. Set it before importing staff who already work "
               "here."))
define("onboarding_due_days", "int", _DEFAULTS.onboarding_days,
       _l("Onboarding due (days after the hire)"), "learning", minimum=1, maximum=365, order=11)
define("reentry_min_leave_days", "int", _DEFAULTS.reentry_min_leave_days,
       _l("Re-entry after a leave of at least (days)"), "learning", minimum=1, maximum=3650,
       order=12)
define("reentry_due_days", "int", _DEFAULTS.reentry_days,
       _l("Re-entry due (days after the return)"), "learning", minimum=1, maximum=365, order=13)
define("promotion_due_days", "int", _DEFAULTS.promotion_days,
       _l("Promotion due (days after the nomination)"), "learning", minimum=1, maximum=730,
       order=14)
define("inservice_cycle_months", "int", _DEFAULTS.inservice_cycle_months,
       _l("In-service cycle (months)"), "learning", minimum=1, maximum=60, order=15)
define("inservice_window_days", "int", _DEFAULTS.inservice_window_days,
       _l("In-service assigned this many days before due"), "learning", minimum=0,
       maximum=365, order=16)
define("remedial_months", "int", _DEFAULTS.remedial_months,
       _l("Remedial training due (months after the stand-down)"), "learning", minimum=1,
       maximum=6, order=17,
       help=_l("Reinstatement becomes possible from half of this period."))
define("reentry_extended_leave_days", "int", 90,
       _l("Re-entry adds the extended content after a leave of at least (days)"), "learning",
       minimum=1, maximum=3650, order=18,
       help=_l("The business-knowledge refresher course joins the re-entry training."))
define("refresher_due_days", "int", 14,
       _l("Business refresher due (days after a failed monthly exam)"), "learning", minimum=1,
       maximum=90, order=19)

# Seed 004: class hours are counted in 学时; centres count 45 or 60 minutes to one.
define("minutes_per_hour", "choice", 60, _l("Minutes in one hour of training (学时)"), "hours", order=20,
       choices=((45, "45"), (60, "60")),
       help=_l("Changing it changes every figure from now on; the minutes credited stay."))
define("hours_categories", "list",
       ["业务知识", "岗位技能", "服务礼仪", "法规制度", "系统操作", "其他"],
       _l("Categories of 学时"), "hours", order=21,
       help=_l("One per line. A category in use stays on the entries that name it."))


def post_due_days() -> dict[str, tuple[str, int]]:
    """Each post with its own training, by its name and each alias: (key, due days)."""
    from sqlalchemy import select

    from trainer.core.db import db
    from trainer.learning.models import PostTraining

    found: dict[str, tuple[str, int]] = {}
    for post in db.session.scalars(select(PostTraining).where(PostTraining.retired.is_(False))):
        for name in post.names:
            found.setdefault(name, (post.key, post.due_days))
    return found


def lifecycle_settings() -> rules.LifecycleSettings:
    return rules.LifecycleSettings(
        posts=post_due_days(),
        go_live=get_setting("go_live_date"),
        onboarding_days=get_setting("onboarding_due_days"),
        reentry_days=get_setting("reentry_due_days"),
        reentry_min_leave_days=get_setting("reentry_min_leave_days"),
        promotion_days=get_setting("promotion_due_days"),
        inservice_cycle_months=get_setting("inservice_cycle_months"),
        inservice_window_days=get_setting("inservice_window_days"),
        remedial_months=get_setting("remedial_months"))
