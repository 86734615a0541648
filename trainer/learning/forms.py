"""Forms of the learning area."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional


class AssignForm(FlaskForm):
    track = SelectField(_l("Track"), validate_choice=False)
    employee_nos = TextAreaField(_l("Employee numbers (separated by spaces or commas)"),
                                 validators=[Optional(), Length(max=20000)])
    department = StringField(_l("…or a whole department"), validators=[Optional(),
                                                                        Length(max=80)])
    due_on = DateField(_l("Due on"), validators=[DataRequired()])


class ExtendForm(FlaskForm):
    due_on = DateField(_l("New due date"), validators=[DataRequired()])


class WaiveForm(FlaskForm):
    reason = StringField(_l("Why is it waived?"), validators=[DataRequired(), Length(max=1000)])


class ActionForm(FlaskForm):
    """A button that only needs CSRF protection."""


class SettingsForm(FlaskForm):
    timezone = StringField(_l("The centre's time zone"), validators=[DataRequired(),
                                                                      Length(max=64)])
    go_live_date = DateField(_l("Go-live date (staff hired before it count as cleared for duty)"),
                             validators=[Optional()])
    onboarding_due_days = IntegerField(_l("Onboarding due (days after the hire)"),
                                       validators=[DataRequired(), NumberRange(1, 365)])
    reentry_min_leave_days = IntegerField(_l("Re-entry after a leave of at least (days)"),
                                          validators=[DataRequired(), NumberRange(1, 3650)])
    reentry_due_days = IntegerField(_l("Re-entry due (days after the return)"),
                                    validators=[DataRequired(), NumberRange(1, 365)])
    promotion_due_days = IntegerField(_l("Promotion due (days after the nomination)"),
                                      validators=[DataRequired(), NumberRange(1, 730)])
    inservice_cycle_months = IntegerField(_l("In-service cycle (months)"),
                                          validators=[DataRequired(), NumberRange(1, 60)])
    inservice_window_days = IntegerField(_l("In-service assigned this many days before due"),
                                         validators=[DataRequired(), NumberRange(0, 365)])
