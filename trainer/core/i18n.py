"""Language and time-zone selection, and the date/time filters templates use."""
from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache

from babel import Locale
from babel.dates import get_timezone_location
from flask import Flask, current_app, request, session
from flask_babel import format_date, format_datetime, get_locale
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


def install_template_helpers(app: Flask) -> None:
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
