"""Forms core builds: the settings page, from the settings registry."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import Optional

from trainer.core.settings import REGISTRY, SettingDef, get_setting, may_change


def _field(definition: SettingDef, read_only: bool):
    render_kw = {"disabled": True} if read_only else {}
    options = {"label": definition.label, "description": definition.help,
               "render_kw": render_kw, "validators": [Optional()]}
    if definition.kind == "int":
        return IntegerField(**options)
    if definition.kind == "bool":
        return BooleanField(**options)
    if definition.kind == "date":
        return DateField(**options)
    if definition.kind == "choice":
        return SelectField(choices=[(str(v), label) for v, label in definition.choices],
                           **options)
    if definition.kind == "list":
        return TextAreaField(**options)
    return StringField(**options)


def settings_form(actor, formdata=None) -> FlaskForm:
    """A form of every registered setting; those the person may not change are read-only
    (and ignored if sent)."""

    class SettingsForm(FlaskForm):
        pass

    shown = {key: d for key, d in REGISTRY.items() if not d.hidden}
    for key, definition in shown.items():
        setattr(SettingsForm, key, _field(definition, not may_change(actor, definition)))
    form = SettingsForm(formdata=formdata) if formdata is not None else SettingsForm()
    if formdata is None:
        for key, definition in shown.items():
            value = get_setting(key)
            field = getattr(form, key)
            if definition.kind == "list":
                field.data = "\n".join(value)
            elif definition.kind == "choice":
                field.data = str(value)
            else:
                field.data = value
    return form


def submitted_values(form, actor) -> dict:
    """The raw values of the settings this person may change and the form sent (a field the
    page did not send keeps its value; an unticked box is sent as nothing, so it is False)."""
    values = {}
    for key, definition in REGISTRY.items():
        if definition.hidden:
            continue
        field = getattr(form, key)
        if not may_change(actor, definition):
            continue
        if definition.kind == "bool":
            values[key] = bool(field.data)
        elif field.raw_data:
            values[key] = field.raw_data[0] if definition.kind == "int" else field.data
    return values


class ConfirmForm(FlaskForm):
    """A button that only needs CSRF protection."""
