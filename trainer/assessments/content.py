"""Loading `assessment_forms/` (one TOML file per shipped form, keyed by its file name)
idempotently: a changed file revises the form (a new version), a removed one retires it, and a
form a trainer has edited in the site since is left as it is (reported as a conflict)."""
from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

from sqlalchemy import select

from trainer.assessments import services
from trainer.assessments.models import AssessmentForm
from trainer.core.db import db
from trainer.core.errors import DomainError


@dataclass
class FormSyncReport:
    created: int = 0
    revised: int = 0
    unchanged: int = 0
    retired: int = 0
    conflicts: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (f"Assessment forms: {self.created} created, {self.revised} revised, "
                f"{self.unchanged} unchanged, {self.retired} retired, "
                f"{len(self.conflicts)} conflicts, {len(self.errors)} errors")


def read_form(path: Path) -> services.FormFields:
    """A form file as the fields save_form takes; ValueError says what is wrong."""
    try:
        spec = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f"not valid TOML: {error}") from error
    items = []
    for number, item in enumerate(spec.get("items", []), start=1):
        try:
            points = Decimal(str(item.get("points", "")))
        except InvalidOperation:
            raise ValueError(f"item {number}: points is not a number") from None
        items.append(services.ItemFields(str(item.get("text", "")), points,
                                         bool(item.get("critical", False)),
                                         str(item.get("section", ""))))
    return services.FormFields(
        title=str(spec.get("title", "")), description=str(spec.get("description", "")),
        purpose=str(spec.get("purpose", "other")), pass_percent=int(spec.get("pass_percent", 0)),
        retake_wait_days=int(spec.get("retake_wait_days", 7)), items=items)


def sync_forms(root: Path, *, now: datetime) -> FormSyncReport:
    report = FormSyncReport()
    present = set()
    for path in sorted(root.glob("*.toml")) if root.is_dir() else []:
        key = path.stem
        present.add(key)
        form = db.session.scalar(select(AssessmentForm).where(AssessmentForm.key == key))
        if form is not None and form.source == "web":
            report.conflicts.append(key)   # edited in the site since: kept
            continue
        try:
            fields = read_form(path)
            with db.session.begin_nested():
                before = form.version if form is not None else None
                saved = services.save_form(None, form, fields, now=now, key=key,
                                           source="shipped")
                saved.retired = False
        except (ValueError, DomainError) as error:
            message = error.translated() if isinstance(error, DomainError) else str(error)
            report.errors.append(f"{path.name}: {message}")
            continue
        if before is None:
            report.created += 1
        elif saved.version != before:
            report.revised += 1
        else:
            report.unchanged += 1
    for form in db.session.scalars(select(AssessmentForm).where(
            AssessmentForm.source == "shipped", AssessmentForm.retired.is_(False))):
        if form.key not in present:
            form.retired = True
            report.retired += 1
    db.session.flush()
    return report
