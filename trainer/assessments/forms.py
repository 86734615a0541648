"""Forms of the assessments area."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    FieldList,
    Form,
    FormField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

PURPOSE_CHOICES = [("duty", _l("上岗测试 (before taking calls)")),
                   ("reentry", _l("复职鉴定 (after re-entry training)")),
                   ("internship", _l("实习考评 (after a promotion's internship)")),
                   ("other", _l("Other"))]
BLANK_ROWS = 5


class ItemRow(Form):
    section = StringField(_l("Section"), validators=[Optional(), Length(max=80)])
    text = StringField(_l("Item"), validators=[Optional(), Length(max=500)])
    points = DecimalField(_l("Points"), places=1, validators=[Optional(), NumberRange(0.5, 100)])
    critical = BooleanField(_l("Critical"))


class FormEditor(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    description = TextAreaField(_l("What it checks and how (shown to the person assessed)"),
                                validators=[Optional(), Length(max=5000)])
    purpose = SelectField(_l("What it is for"), choices=PURPOSE_CHOICES)
    pass_percent = IntegerField(_l("Pass mark (percent of the total)"),
                                validators=[DataRequired(), NumberRange(1, 100)])
    retake_wait_days = IntegerField(_l("Days to wait before a retake after a fail"),
                                    validators=[Optional(), NumberRange(0, 90)])
    items = FieldList(FormField(ItemRow), min_entries=1, max_entries=100)


class RecordForm(FlaskForm):
    employee_no = StringField(_l("Employee number of the person assessed"),
                              validators=[DataRequired(), Length(max=40)])
    assessed_on = DateField(_l("Date of the assessment"), validators=[DataRequired()])
    context = StringField(_l("Context (a call id, the scene played)"),
                          validators=[Optional(), Length(max=300)])
    comments = TextAreaField(_l("Comments for the person"),
                             validators=[Optional(), Length(max=2000)])


class AcknowledgeForm(FlaskForm):
    comment = TextAreaField(_l("Your comment (optional)"),
                            validators=[Optional(), Length(max=2000)])


class VoidForm(FlaskForm):
    reason = StringField(_l("Why it is void"), validators=[DataRequired(), Length(max=500)])


class ActionForm(FlaskForm):
    """A button that changes something: only its CSRF token."""
