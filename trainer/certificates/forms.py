"""Forms of the certificates area."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import DateField, DecimalField, SelectField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional


class ExternalForm(FlaskForm):
    file = FileField(_l("The certificate (PDF, JPEG or PNG)"), validators=[FileRequired()])
    issuer = StringField(_l("Issued by"), validators=[DataRequired(), Length(max=200)])
    title = StringField(_l("Training or qualification"), validators=[DataRequired(),
                                                                     Length(max=200)])
    started_on = DateField(_l("From"), validators=[DataRequired()])
    finished_on = DateField(_l("To"), validators=[DataRequired()])
    hours = DecimalField(_l("学时"), places=1, validators=[DataRequired(), NumberRange(0, 500)])
    category = SelectField(_l("Category of 学时"), validate_choice=False)


class RevokeForm(FlaskForm):
    reason = SelectField(_l("Why"), choices=[("withdrawn", _l("Withdrawn")),
                                             ("issued_in_error", _l("Issued in error"))])
    note = StringField(_l("Explain"), validators=[DataRequired(), Length(max=1000)])


class NoteForm(FlaskForm):
    note = StringField(_l("What does the reissue correct?"), validators=[DataRequired(),
                                                                         Length(max=1000)])


class DecisionForm(FlaskForm):
    decision = SelectField(_l("Decision"), choices=[("approve", _l("Approve")),
                                                    ("decline", _l("Decline"))])
    note = StringField(_l("Note (required when declining)"), validators=[Optional(),
                                                                          Length(max=1000)])


class SealForm(FlaskForm):
    file = FileField(_l("The seal (a PNG with a transparent background)"),
                     validators=[FileRequired()])


class VerifyForm(FlaskForm):
    class Meta:
        csrf = False   # a lookup, sent with GET

    code = StringField(_l("Verification code"), validators=[DataRequired(), Length(max=40)])
