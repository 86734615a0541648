"""Forms of the accounts area. Labels are lazy gettext strings."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import AnyOf, DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from trainer.core.params import DB_INT_MAX, db_int

# "Trainer" is also the product's name (培训考试系统); the role (培训师) has a context of its own.
ROLE_CHOICES = [("learner", _l("Learner")), ("trainer", lazy_pgettext("role", "Trainer")),
                ("assessor", _l("Assessor")), ("hr", _l("HR")), ("admin", _l("Administrator"))]
# Each language by its own name, marked as written in it (screen readers switch voice).
LOCALE_CHOICES = [("zh_CN", "中文", {"lang": "zh-CN"}), ("en", "English", {"lang": "en"})]
EVENT_CHOICES = [("leave_start", _l("Leave starts")), ("leave_return", _l("Return from leave")),
                 ("nomination", _l("Nomination for a position")),
                 ("position_change", _l("Position change")), ("leaving", _l("Leaving")),
                 ("hire", _l("Hire (re-hire)")),
                 ("stood_down", _l("Stood down (remedial training)")),
                 ("reinstated", _l("Reinstated after remedial training"))]
STAND_DOWN_CHOICES = [("", _l("— (only for a stand-down)")),
                      ("performance", _l("Does not meet the post's requirements")),
                      ("violation", _l("A serious violation"))]


def entry_id(value: object) -> int:
    """A department or position select's value: an entry's id, 0 for none."""
    return 0 if value in (None, "") else db_int(value)


class EntryField(SelectField):
    """One entry of a list HR keeps (choices set by the view: the active entries, and the one
    the record holds). Anything else posted is refused as an invalid choice."""

    def __init__(self, label=None, validators=None, **kwargs):
        super().__init__(label, validators, coerce=entry_id, default=0, **kwargs)


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class LoginForm(FlaskForm):
    employee_no = StringField(_l("Employee number"), validators=[DataRequired(), Length(max=32)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])
    remember = BooleanField(_l("Keep me signed in on this device (14 days)"))


class ChangePasswordForm(FlaskForm):
    current = PasswordField(_l("Current password"), validators=[DataRequired()])
    new = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=200)])
    confirm = PasswordField(_l("New password again"), validators=[DataRequired()])


class StaffForm(FlaskForm):
    employee_no = StringField(_l("Employee number"), validators=[DataRequired(), Length(max=32)])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=80)])
    department = EntryField(_l("Department"))
    position = EntryField(_l("Position"))
    hire_date = DateField(_l("Hire date"), validators=[DataRequired()])
    roles = MultiCheckboxField(_l("Roles"), choices=ROLE_CHOICES, default=["learner"])
    locale = SelectField(_l("Language"), choices=LOCALE_CHOICES, default="zh_CN")
    timezone = StringField(_l("Time zone"), default="Asia/Shanghai",
                           validators=[DataRequired(), Length(max=64)])


class StaffEventForm(FlaskForm):
    kind = SelectField(_l("Event"), choices=EVENT_CHOICES)
    occurred_on = DateField(_l("Date"), validators=[DataRequired()])
    position = EntryField(_l("Position (for a nomination or position change)"))
    reason = SelectField(_l("Reason (for a stand-down)"), choices=STAND_DOWN_CHOICES, default="")
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=1000)])


class ListEntryForm(FlaskForm):
    """A department or a position."""

    name = StringField(_l("Department or position name"),
                       validators=[DataRequired(), Length(max=80)])
    code = StringField(_l("Code (optional)"), validators=[Optional(), Length(max=32)])
    sort_order = IntegerField(_l("Order in the list"), validators=[
        Optional(), NumberRange(-DB_INT_MAX, DB_INT_MAX)])


class VoidEventForm(FlaskForm):
    note = StringField(_l("Why is this event wrong?"), validators=[DataRequired(),
                                                                    Length(max=1000)])


class StaffImportForm(FlaskForm):
    file = FileField(_l("Staff list (XLSX or CSV)"), validators=[FileRequired()])


class ConfirmForm(FlaskForm):
    """A button that only needs CSRF protection."""


class ConfirmedForm(FlaskForm):
    """The form of a page that asks before an action the person it happens to cannot undo: it
    alone carries `confirmed`, so a POST from anywhere else (a one-click button) does not act."""
    confirmed = HiddenField(default="yes", validators=[InputRequired(), AnyOf(["yes"])])
