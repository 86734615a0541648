"""Forms of the banks area."""
from __future__ import annotations

from decimal import Decimal

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
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

from trainer.banks.formats import ParsedChoice, ParsedQuestion
from trainer.banks.formats.base import (
    BLANK,
    MAX_CHOICE_LENGTH,
    MAX_EXPLANATION_LENGTH,
    MAX_FEEDBACK_LENGTH,
    MAX_STEM_LENGTH,
    TRUE_TEXT,
    is_keep_in_place_text,
    parse_category_path,
    truefalse_choices,
)

QTYPE_CHOICES = [("single", _l("Single choice")), ("multiple", _l("Multiple choice")),
                 ("truefalse", _l("True/false"))]
FORMAT_CHOICES = [("markdown", "Markdown"), ("plain", _l("Plain text")), ("html", "HTML")]
DIFFICULTY_CHOICES = [("1", _l("Easy")), ("2", _l("Medium")), ("3", _l("Hard"))]
CHOICE_ROWS = 6


class BankForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=2000)])


class ChoiceRow(Form):
    text = TextAreaField(_l("Choice"), validators=[Optional(), Length(max=MAX_CHOICE_LENGTH)])
    weight = DecimalField(_l("Weight (percent)"), places=5, validators=[Optional(),
                                                               NumberRange(-100, 100)])
    feedback = StringField(_l("Feedback"),
                           validators=[Optional(), Length(max=MAX_FEEDBACK_LENGTH)])
    keep_in_place = BooleanField(_l("Keep in place"))


class QuestionForm(FlaskForm):
    qtype = SelectField(_l("Type"), choices=QTYPE_CHOICES, default="single")
    name = StringField(_l("Name"), validators=[Optional(), Length(max=255)])
    category = StringField(_l("Knowledge point (category path, a/b)"),
                           validators=[Optional(), Length(max=500)])
    # The length limits are the importers' too (formats.base.validate_question, which the
    # services run on every save); the form's own check puts the message beside the field.
    stem = TextAreaField(_l("Question text"),
                         validators=[DataRequired(), Length(max=MAX_STEM_LENGTH)])
    # Set by GIFT's missing-word form, so export writes that form again; the services check
    # that the text has that blank.
    blank_number = IntegerField(
        _l("Missing-word blank"), validators=[Optional(), NumberRange(min=1)],
        description=_l("For a missing-word question only: which %(blank)s of the question text "
                       "stands for the answer (1 for the first). Empty for any other question.",
                       blank=BLANK))
    text_format = SelectField(_l("Text format"), choices=FORMAT_CHOICES, default="markdown")
    choices = FieldList(FormField(ChoiceRow), min_entries=CHOICE_ROWS, max_entries=20)
    tf_answer = SelectField(_l("Answer (true/false)"),
                            choices=[("true", _l("True")), ("false", _l("False"))],
                            default="true")
    explanation = TextAreaField(_l("Explanation"),
                                validators=[Optional(), Length(max=MAX_EXPLANATION_LENGTH)])
    difficulty = SelectField(_l("Difficulty"), choices=DIFFICULTY_CHOICES, default="2")
    default_points = DecimalField(_l("Points"), default=Decimal("1"), places=2,
                                  validators=[DataRequired(), NumberRange(min=0.01, max=1000)])
    tags = StringField(_l("Tags (comma separated)"), validators=[Optional(), Length(max=500)])
    id_number = StringField(_l("Id number"), validators=[Optional(), Length(max=64)])

    def to_parsed(self) -> ParsedQuestion:
        """The form's content in the format-neutral shape the services validate."""
        qtype = self.qtype.data
        if qtype == "truefalse":
            choices = truefalse_choices(self.tf_answer.data == "true")
        else:
            choices = [ParsedChoice(text=row.text.data.strip(),
                                    weight=(row.weight.data or Decimal(0)).quantize(
                                        Decimal("0.00001")),
                                    feedback=(row.feedback.data or "").strip(),
                                    keep_in_place=bool(row.keep_in_place.data)
                                    or is_keep_in_place_text(row.text.data))
                       for row in self.choices if (row.text.data or "").strip()]
        tags = [t.strip() for t in (self.tags.data or "").replace("，", ",").split(",")]
        return ParsedQuestion(
            qtype=qtype, stem=self.stem.data.strip(), choices=choices,
            name=(self.name.data or "").strip(), text_format=self.text_format.data,
            explanation=(self.explanation.data or "").strip(),
            category_path=parse_category_path(self.category.data or ""),
            tags=[t for t in tags if t], id_number=(self.id_number.data or "").strip(),
            difficulty=int(self.difficulty.data), default_points=self.default_points.data,
            blank_number=self.blank_number.data)

    def fill_from(self, parsed: ParsedQuestion) -> None:
        self.qtype.data = parsed.qtype
        self.name.data = parsed.name
        self.category.data = "/".join(parsed.category_path)
        self.stem.data = parsed.stem
        self.blank_number.data = parsed.blank_number
        self.text_format.data = parsed.text_format
        self.explanation.data = parsed.explanation
        self.difficulty.data = str(parsed.difficulty)
        self.default_points.data = parsed.default_points
        self.tags.data = ", ".join(parsed.tags)
        self.id_number.data = parsed.id_number
        if parsed.qtype == "truefalse":
            true_choice = next((c for c in parsed.choices if c.text == TRUE_TEXT), None)
            self.tf_answer.data = "true" if true_choice and true_choice.weight > 0 else "false"
            return
        while len(self.choices) < max(CHOICE_ROWS, len(parsed.choices) + 1):
            self.choices.append_entry()
        for row, choice in zip(self.choices, parsed.choices):
            row.text.data = choice.text
            row.weight.data = choice.weight
            row.feedback.data = choice.feedback
            row.keep_in_place.data = choice.keep_in_place


# The import formats by the names people know them by (the upload form, the import's preview).
FORMAT_LABELS = {"gift": "GIFT", "aiken": "Aiken",
                 "paper": _l("Chinese practice paper (pasted from Word)"),
                 "xlsx": _l("Spreadsheet (XLSX)"), "csv": "CSV", "moodlexml": "Moodle XML"}


class ImportForm(FlaskForm):
    file = FileField(_l("File"), validators=[FileRequired()])
    format = SelectField(_l("Format"), default="auto", choices=[
        ("auto", _l("Detect automatically")), *FORMAT_LABELS.items()])


class ConfirmImportForm(FlaskForm):
    skip_invalid = BooleanField(_l("Import only the valid questions"))


class MoveForm(FlaskForm):
    category = StringField(_l("Move the selected questions to (category path)"),
                           validators=[DataRequired(), Length(max=500)])


class ActionForm(FlaskForm):
    """A button that only needs CSRF protection."""
