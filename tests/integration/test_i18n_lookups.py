"""core.i18n finds the request's translations, locale and zone once, where Flask-Babel finds
them on every call: templates must still follow a language switched within the request
(refresh, force_locale), and the date filters must say what Flask-Babel's would."""
from datetime import date, datetime, timezone

import flask_babel
from babel import Locale
from flask import render_template_string

TEMPLATE = "{{ _('Training tracks') }}|{{ value|d }}|{{ value|d('long') }}|{{ value|dt('short') }}"


def _render(value) -> str:
    return render_template_string(TEMPLATE, value=value)


def test_templates_follow_a_locale_forced_or_refreshed_within_the_request(app, db_session):
    with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
        assert render_template_string("{{ _('Training tracks') }}") == "培训路径"
        with flask_babel.force_locale("en"):
            assert render_template_string("{{ _('Training tracks') }}") == "Training tracks"
        assert render_template_string("{{ _('Training tracks') }}") == "培训路径"
        # refresh() drops the request's locale; a forced one is what it then falls back to.
        flask_babel._get_current_context().forced_babel_locale = Locale.parse("en")
        flask_babel.refresh()
        assert render_template_string("{{ _('Training tracks') }}") == "Training tracks"


def test_the_date_filters_say_what_flask_babels_say(app, db_session):
    # 23:30 UTC is the next day in Shanghai (the centre's zone): the day shown is the local one.
    late = datetime(2026, 3, 31, 23, 30, tzinfo=timezone.utc)
    naive = datetime(2026, 3, 31, 23, 30)          # Flask-Babel reads naive as UTC
    for language in ("zh-CN", "en"):
        with app.test_request_context(headers={"Accept-Language": language}):
            for value in (late, naive):
                expected = "|".join((
                    flask_babel.gettext("Training tracks"),
                    flask_babel.format_date(value), flask_babel.format_date(value, "long"),
                    flask_babel.format_datetime(value, "short")))
                assert _render(value) == expected
            assert "4月1日" in _render(late) or "Apr 1" in _render(late)
            day = date(2026, 4, 1)
            assert render_template_string("{{ day|d('long') }}", day=day) == \
                flask_babel.format_date(day, "long")
