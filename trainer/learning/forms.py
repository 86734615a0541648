"""Forms of the learning area."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
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


class NotPassedForm(FlaskForm):
    note = StringField(_l("What was decided?"), validators=[DataRequired(), Length(max=1000)])


class WaiveForm(FlaskForm):
    reason = StringField(_l("Why is it waived?"), validators=[DataRequired(), Length(max=1000)])


class ActionForm(FlaskForm):
    """A button that only needs CSRF protection."""


class ScheduleForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    quiz = SelectField(_l("Quiz to copy each month (its banks and draw rules)"), coerce=int,
                       choices=[])
    day_of_month = IntegerField(_l("Day of the month"), validators=[
        DataRequired(), NumberRange(1, 31)], default=25)
    window_days = IntegerField(_l("Window (days)"), validators=[DataRequired(),
                                                                NumberRange(1, 28)], default=5)
    pass_mark = DecimalField(_l("Pass mark (per cent)"), places=0, default=60,
                             validators=[DataRequired(), NumberRange(1, 100)])
    follow_up = SelectField(_l("After a failed sitting"), choices=[
        ("none", _l("Nothing (the result goes to the record)")),
        ("retake", _l("One retake within the window")),
        ("refresher", _l("The business refresher track (业务复训)"))], default="none")
    departments = SelectMultipleField(_l("Departments (none chosen: all)"), coerce=int,
                                      choices=[])
    positions = SelectMultipleField(_l("Positions (none chosen: all)"), coerce=int, choices=[])
    active = BooleanField(_l("Active"), default=True)
