"""Forms of the attendance area."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

RATINGS = [(str(n), str(n)) for n in range(5, 0, -1)]


class ClassForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=5000)])
    course_id = SelectField(_l("The course it satisfies"), coerce=int, validate_choice=False)
    hours_category = SelectField(_l("Category of 学时"), validate_choice=False)
    place = StringField(_l("Place"), validators=[Optional(), Length(max=200)])
    link = StringField(_l("Link (an online class)"), validators=[Optional(), Length(max=500)])
    capacity = IntegerField(_l("Capacity (empty: no limit)"),
                            validators=[Optional(), NumberRange(1, 10000)])
    cost = DecimalField(_l("Cost (yuan)"), places=2, validators=[Optional(),
                                                               NumberRange(0, 10**7)])
    signup_mode = SelectField(_l("Sign-up"), choices=[
        ("invitation", _l("By invitation")), ("open", _l("Open: agents sign up themselves"))])
    completion_share = IntegerField(_l("Completed with this share of its minutes (%)"),
                                    validators=[Optional(), NumberRange(1, 100)])
    issues_certificate = BooleanField(_l("Completing it issues a 结业证书"))
    trainer_ids = SelectMultipleField(_l("Trainers"), coerce=int, validate_choice=False)


class SessionForm(FlaskForm):
    day = DateField(_l("Date"), validators=[DataRequired()])
    starts = TimeField(_l("Starts"), validators=[DataRequired()])
    ends = TimeField(_l("Ends"), validators=[DataRequired()])
    place = StringField(_l("Place (if not the class's)"), validators=[Optional(),
                                                                      Length(max=200)])
    checkin_opens_min = IntegerField(_l("Check-in opens (minutes before)"),
                                     validators=[Optional(), NumberRange(0, 480)])
    checkin_closes_min = IntegerField(_l("Check-in closes (minutes after the start)"),
                                      validators=[Optional(), NumberRange(0, 480)])
    checkout_opens_min = IntegerField(_l("Check-out opens (minutes before the end)"),
                                      validators=[Optional(), NumberRange(0, 480)])
    checkout_closes_min = IntegerField(_l("Check-out closes (minutes after the end)"),
                                       validators=[Optional(), NumberRange(0, 480)])
    late_after_min = IntegerField(_l("Late after (minutes)"),
                                  validators=[Optional(), NumberRange(0, 480)])
    early_leave_min = IntegerField(_l("Early leaving before the end (minutes)"),
                                   validators=[Optional(), NumberRange(0, 480)])
    checkout_required = SelectField(_l("Check-out"), choices=[
        ("", _l("As in the settings")), ("1", _l("Required")), ("0", _l("Not required"))])
    override = StringField(_l("Reason to go ahead despite a double booking"),
                           validators=[Optional(), Length(max=500)])


class InviteForm(FlaskForm):
    employee_nos = TextAreaField(_l("Employee numbers (separated by spaces or commas)"),
                                 validators=[Optional(), Length(max=20000)])
    department = StringField(_l("…or a whole department"), validators=[Optional(),
                                                                        Length(max=80)])
    needing = BooleanField(_l("…or everyone whose training needs this class"))
    reason = StringField(_l("Note"), validators=[Optional(), Length(max=500)])
    override = StringField(_l("Reason to go ahead despite a double booking"),
                           validators=[Optional(), Length(max=500)])


class ReasonForm(FlaskForm):
    reason = StringField(_l("Reason"), validators=[DataRequired(), Length(max=1000)])


class DecisionForm(FlaskForm):
    decision = SelectField(_l("Decision"), choices=[("approve", _l("Approve")),
                                                    ("decline", _l("Decline"))])
    note = StringField(_l("Note (required when declining)"), validators=[Optional(),
                                                                          Length(max=1000)])


class MarkForm(FlaskForm):
    """An exception or a correction on the roster grid (local times of the session's day)."""

    staff_id = IntegerField(validators=[DataRequired()])
    kind = SelectField(_l("Mark"), choices=[
        ("present", _l("Present")), ("absent", _l("Absent")),
        ("correction", _l("Times (late, left early)")), ("leave", _l("On leave (请假)"))])
    check_in = TimeField(_l("Checked in"), validators=[Optional()])
    check_out = TimeField(_l("Checked out"), validators=[Optional()])
    reason = StringField(_l("Reason"), validators=[Optional(), Length(max=1000)])


class CodeForm(FlaskForm):
    code = StringField(_l("The 6 digits shown in the classroom"),
                       validators=[DataRequired(), Length(max=12)],
                       render_kw={"inputmode": "numeric", "autocomplete": "off",
                                  "pattern": "[0-9 ]*"})


class SurveyForm(FlaskForm):
    content = RadioField(_l("The content"), choices=RATINGS, validators=[DataRequired()])
    trainer = RadioField(_l("The trainer"), choices=RATINGS, validators=[DataRequired()])
    organisation = RadioField(_l("The organisation"), choices=RATINGS,
                              validators=[DataRequired()])
    overall = RadioField(_l("Overall"), choices=RATINGS, validators=[DataRequired()])
    suggestions = TextAreaField(_l("Suggestions"), validators=[Optional(), Length(max=2000)])


class SheetUploadForm(FlaskForm):
    file = FileField(_l("The filled sign-in sheet (XLSX or CSV)"), validators=[FileRequired()])


class SheetConfirmForm(FlaskForm):
    """The preview's confirmation: the checked rows travel back signed (attendance.routes)."""

    token = HiddenField(validators=[DataRequired()])


class ActionForm(FlaskForm):
    """A button that only needs CSRF protection."""
