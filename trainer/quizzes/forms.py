"""Forms of the quizzes area: the quiz builder, overrides and assignments."""
from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateTimeLocalField,
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

from trainer.core.timeutil import zone
from trainer.quizzes.services import QuizSettings, RuleSpec

RULE_ROWS = 6


def to_utc(value: datetime | None, tz_name: str) -> datetime | None:
    """A local date-time typed by a person, as aware UTC."""
    if value is None:
        return None
    return value.replace(tzinfo=zone(tz_name)).astimezone(timezone.utc)


def to_local(value: datetime | None, tz_name: str) -> datetime | None:
    if value is None:
        return None
    return value.astimezone(zone(tz_name)).replace(tzinfo=None)


class RuleRow(Form):
    bank_id = SelectField(_l("Bank"), coerce=int, validate_choice=False)
    category = StringField(_l("Knowledge point"), validators=[Optional(), Length(max=500)])
    tag = StringField(_l("Tag"), validators=[Optional(), Length(max=64)])
    # Empty rows are ignored, so these choices are checked in rule_spec, not by WTForms.
    difficulty = SelectField(_l("Difficulty"), validate_choice=False,
                             choices=[("", "—"), ("1", _l("Easy")), ("2", _l("Medium")),
                                      ("3", _l("Hard"))])
    qtype = SelectField(_l("Type"), validate_choice=False,
                        choices=[("", "—"), ("single", _l("Single choice")),
                                 ("multiple", _l("Multiple choice")),
                                 ("truefalse", _l("True/false"))])
    count = IntegerField(_l("Questions"), validators=[Optional(), NumberRange(1, 500)])
    points = DecimalField(_l("Points each"), default=Decimal(1), places=2,
                          validators=[Optional(), NumberRange(0.01, 1000)])


class QuizForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=5000)])
    mode = SelectField(_l("Mode"), choices=[("exam", _l("Exam")), ("practice", _l("Practice"))])
    time_limit_min = IntegerField(_l("Time limit (minutes, empty = untimed)"),
                                  validators=[Optional(), NumberRange(1, 1440)])
    open_at = DateTimeLocalField(_l("Opens"), validators=[Optional()])
    close_at = DateTimeLocalField(_l("Closes"), validators=[Optional()])
    pass_mark = DecimalField(_l("Pass mark (percent)"), default=Decimal(60), places=2,
                             validators=[DataRequired(), NumberRange(0, 100)])
    attempts_allowed = IntegerField(_l("Attempts allowed (empty = no limit)"),
                                    validators=[Optional(), NumberRange(1, 100)])
    grading = SelectField(_l("Grade kept"), choices=[("highest", _l("Highest attempt")),
                                                     ("last", _l("Last attempt"))])
    delay_min = IntegerField(_l("Minutes between attempts"), default=0,
                             validators=[Optional(), NumberRange(0, 100000)])
    shuffle_questions = BooleanField(_l("Shuffle questions"), default=True)
    shuffle_choices = BooleanField(_l("Shuffle choices (以上都不对 and the like stay in place)"),
                                   default=True)
    layout = SelectField(_l("Layout"), choices=[("all", _l("All questions on one page")),
                                                ("paged", _l("One question per page"))])
    navigation = SelectField(_l("Navigation (one per page)"), choices=[
        ("free", _l("Free")), ("sequential", _l("Sequential: no going back"))])
    all_or_nothing = BooleanField(_l("Multiple choice: all or nothing (no partial credit)"))
    review_what = SelectField(_l("After submitting, show"), choices=[
        ("score", _l("The score only")), ("wrong", _l("Which answers were wrong")),
        ("full", _l("Correct answers and explanations"))], default="full")
    review_when = SelectField(_l("Show it"), choices=[
        ("immediately", _l("Immediately")), ("after_close", _l("After the quiz closes"))])
    open_to_all = BooleanField(_l("Open to every learner (otherwise only to those assigned)"))
    rules = FieldList(FormField(RuleRow), min_entries=RULE_ROWS, max_entries=30)

    def set_banks(self, banks) -> None:
        choices = [(0, "—")] + [(b.id, b.name) for b in banks]
        for row in self.rules:
            row.bank_id.choices = choices

    def settings(self, tz_name: str) -> QuizSettings:
        return QuizSettings(
            title=self.title.data, description=self.description.data or "", mode=self.mode.data,
            time_limit_s=self.time_limit_min.data * 60 if self.time_limit_min.data else None,
            open_at=to_utc(self.open_at.data, tz_name),
            close_at=to_utc(self.close_at.data, tz_name), pass_mark=self.pass_mark.data,
            attempts_allowed=self.attempts_allowed.data, grading=self.grading.data,
            delay_s=(self.delay_min.data or 0) * 60,
            shuffle_questions=self.shuffle_questions.data,
            shuffle_choices=self.shuffle_choices.data, layout=self.layout.data,
            navigation=self.navigation.data, all_or_nothing=self.all_or_nothing.data,
            review_what=self.review_what.data, review_when=self.review_when.data,
            open_to_all=self.open_to_all.data)

    def rule_rows(self) -> list[tuple[RuleRow, int]]:
        return [(row, i) for i, row in enumerate(self.rules)
                if row.bank_id.data and row.count.data]

    def fill_from(self, quiz, tz_name: str, category_paths: dict[int, str]) -> None:
        self.title.data, self.description.data, self.mode.data = \
            quiz.title, quiz.description, quiz.mode
        self.time_limit_min.data = quiz.time_limit_s // 60 if quiz.time_limit_s else None
        self.open_at.data = to_local(quiz.open_at, tz_name)
        self.close_at.data = to_local(quiz.close_at, tz_name)
        self.pass_mark.data = quiz.pass_mark
        self.attempts_allowed.data = quiz.attempts_allowed
        self.grading.data, self.delay_min.data = quiz.grading, quiz.delay_s // 60
        self.shuffle_questions.data = quiz.shuffle_questions
        self.shuffle_choices.data = quiz.shuffle_choices
        self.layout.data, self.navigation.data = quiz.layout, quiz.navigation
        self.all_or_nothing.data = quiz.all_or_nothing
        self.review_what.data, self.review_when.data = quiz.review_what, quiz.review_when
        self.open_to_all.data = quiz.open_to_all
        while len(self.rules) < max(RULE_ROWS, len(quiz.rules) + 1):
            self.rules.append_entry()
        for row, rule in zip(self.rules, quiz.rules):
            row.bank_id.data = rule.bank_id
            row.category.data = category_paths.get(rule.category_id, "")
            row.tag.data = rule.tag
            row.difficulty.data = str(rule.difficulty or "")
            row.qtype.data = rule.qtype
            row.count.data = rule.count
            row.points.data = rule.points


def rule_spec(row: RuleRow, category_id: int | None) -> RuleSpec:
    difficulty = row.difficulty.data if row.difficulty.data in ("1", "2", "3") else None
    qtype = row.qtype.data if row.qtype.data in ("single", "multiple", "truefalse") else ""
    return RuleSpec(bank_id=row.bank_id.data, count=row.count.data,
                    points=row.points.data or Decimal(1), category_id=category_id,
                    tag=(row.tag.data or "").strip(),
                    difficulty=int(difficulty) if difficulty else None, qtype=qtype)


class OverrideForm(FlaskForm):
    employee_no = StringField(_l("Employee number"), validators=[DataRequired(),
                                                                 Length(max=32)])
    extra_minutes = IntegerField(_l("Extra minutes"), default=0,
                                 validators=[Optional(), NumberRange(0, 1440)])
    extra_attempts = IntegerField(_l("Extra attempts"), default=0,
                                  validators=[Optional(), NumberRange(0, 100)])
    open_at = DateTimeLocalField(_l("Opens (for this person)"), validators=[Optional()])
    close_at = DateTimeLocalField(_l("Closes (for this person)"), validators=[Optional()])


class AssignForm(FlaskForm):
    employee_nos = TextAreaField(_l("Employee numbers (separated by spaces or commas)"),
                                 validators=[Optional(), Length(max=20000)])
    department = StringField(_l("…or a whole department"), validators=[Optional(),
                                                                        Length(max=80)])


class ActionForm(FlaskForm):
    """A button that only needs CSRF protection."""
