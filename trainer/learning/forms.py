"""Forms of the learning area."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional


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
