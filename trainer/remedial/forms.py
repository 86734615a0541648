"""Forms of the remedial area."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

OUTCOME_CHOICES = [("reinstated", _l("Reinstated: back to the post")),
                   ("lower_post", _l("Moved to a lower post")),
                   ("extended", _l("Extended: a new due date"))]


class PlanForm(FlaskForm):
    goals = TextAreaField(_l("Goals: what the agent must be able to do again"),
                          validators=[DataRequired(), Length(max=4000)])
    schedule = TextAreaField(_l("Courses, practice and dates"),
                             validators=[Optional(), Length(max=4000)])
    review_on = DateField(_l("Evaluation planned on"), validators=[DataRequired()])


class AcknowledgePlanForm(FlaskForm):
    comment = TextAreaField(_l("Your comment (optional)"), validators=[Optional(), Length(max=4000)])


class TalkForm(FlaskForm):
    held_on = DateField(_l("Date of the talk"), validators=[DataRequired()])
    counsellor = StringField(_l("Held by"), validators=[Optional(), Length(max=80)])
    notes = TextAreaField(_l("Notes (read only by HR and by you)"),
                          validators=[Optional(), Length(max=4000)])


class AssessorForm(FlaskForm):
    assessor = SelectField(_l("Assessor on this case"), coerce=int, choices=[])


class EvaluationForm(FlaskForm):
    outcome = SelectField(_l("Outcome"), choices=OUTCOME_CHOICES)
    decided_on = DateField(_l("Decided on"), validators=[DataRequired()])
    new_due_on = DateField(_l("New due date (for an extension)"), validators=[Optional()])
    position = IntegerField(_l("Lower post"), validators=[Optional()])
    notes = TextAreaField(_l("Grounds of the decision"), validators=[Optional(), Length(max=4000)])
