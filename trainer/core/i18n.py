"""Language and time-zone selection, and the date/time filters templates use."""
from __future__ import annotations

from datetime import date, datetime, timezone
from functools import lru_cache

import flask_babel
from babel import Locale, dates
from babel.dates import get_timezone_location
from flask import Flask, current_app, g, request, session
from flask_babel import get_locale
from flask_login import current_user

from trainer.core.timeutil import is_valid_timezone

LANGUAGE_NAMES = {"zh_CN": "中文", "en": "English"}


def select_locale() -> Locale:
    return _parsed(_select_locale_name())


@lru_cache(maxsize=16)
def _parsed(name: str) -> Locale:
    # Flask-Babel parses the selected name on every request; "zh_CN" is stored as zh_Hans_CN, so
    # each parse searched Babel's ~800 locale names (0.1 ms a page). A Locale parses to itself.
    return Locale.parse(name)


def _select_locale_name() -> str:
    languages = current_app.config["LANGUAGES"]
    if getattr(current_user, "is_authenticated", False) and current_user.locale in languages:
        return current_user.locale
    chosen = session.get("locale")
    if chosen in languages:
        return chosen
    return request.accept_languages.best_match(languages) or current_app.config[
        "BABEL_DEFAULT_LOCALE"
    ]


def select_timezone() -> str:
    """The person's own zone, else the centre's (a setting). Flask-Babel wants a zone name,
    not a ZoneInfo."""
    if getattr(current_user, "is_authenticated", False):
        tz = current_user.timezone
        if tz and is_valid_timezone(tz):
            return tz
    from trainer.core.settings import centre_timezone

    return centre_timezone()


# -- the request's translations, locale and zone, found once ----------------------------------------
# Flask-Babel finds them again on every call: a template's gettext went through the request
# globals about ten times, a date filter about five (a long training record: ~3,000 lookups, a
# fifth of its template's time). They are kept beside Flask-Babel's own per-request values
# (g._flask_babel) and used while its locale is still the one they were found for, so
# flask_babel.refresh() and force_locale() are followed (tests/integration/test_i18n_lookups.py).

def _babel_state():
    """Flask-Babel's per-request namespace, or None (outside an app context, or before it made
    one)."""
    try:
        return g._flask_babel
    except (AttributeError, RuntimeError):
        return None


def translations():
    """flask_babel.get_translations(), found once a request."""
    state = _babel_state()
    if state is not None:
        kept = state.__dict__.get("trainer_translations")
        if kept is not None and kept[0] is state.__dict__.get("babel_locale"):
            return kept[1]
    found = flask_babel.get_translations()
    state = _babel_state()
    if state is not None and state.__dict__.get("babel_locale") is not None:
        state.trainer_translations = (state.babel_locale, found)
    return found


def _locale_and_zone():
    state = _babel_state()
    known = state.__dict__ if state is not None else {}
    locale, zone = known.get("babel_locale"), known.get("babel_tzinfo")
    return (locale or flask_babel.get_locale(), zone or flask_babel.get_timezone())


def format_date(value: date | datetime, fmt: str = "medium") -> str:
    """flask_babel.format_date: a datetime is shown on its day in the person's zone."""
    locale, zone = _locale_and_zone()
    if isinstance(value, datetime):
        if value.tzinfo is None:                       # (as Flask-Babel: naive is UTC)
            value = value.replace(tzinfo=timezone.utc)
        value = value.astimezone(zone)
        if hasattr(zone, "normalize"):                 # a pytz zone, as Flask-Babel makes
            value = zone.normalize(value)
    return dates.format_date(value, flask_babel._get_format("date", fmt), locale=locale)


def format_datetime(value: datetime, fmt: str = "medium") -> str:
    """flask_babel.format_datetime, in the person's zone."""
    locale, zone = _locale_and_zone()
    return dates.format_datetime(value, flask_babel._get_format("datetime", fmt),
                                 tzinfo=zone, locale=locale)


def install_template_helpers(app: Flask) -> None:
    # Flask-Babel's gettext callables, with the translations found once a request.
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: translations().ugettext(s),
        ngettext=lambda s, p, n: translations().ungettext(s, p, n),
        pgettext=lambda c, s: translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: translations().unpgettext(c, s, p, n),
        newstyle=True)

    @app.template_filter("dt")
    def _format_dt(value: datetime | None, fmt: str = "medium") -> str:
        return format_datetime(value, fmt) if value else ""

    @app.template_filter("d")
    def _format_d(value: date | None, fmt: str = "medium") -> str:
        return format_date(value, fmt) if value else ""

    @app.template_filter("tz_name")
    def _timezone_name(zone: str) -> str:
        # "中国（上海）时间" rather than "Asia/Shanghai", in the page's language.
        return get_timezone_location(zone, locale=get_locale()) if zone else ""

    @app.template_filter("rich")
    def _rich(value: str | None, text_format: str = "markdown"):
        from trainer.core.markdown import render_text

        return render_text(value or "", text_format)

    @app.context_processor
    def _languages():
        return {"language_names": LANGUAGE_NAMES, "get_locale": get_locale}
