"""Question banks, categories, versioned questions and their choices."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from trainer.core.db import db

QTYPES = ("single", "multiple", "truefalse")
ORIGINS = ("shipped", "web", "import")


class QuestionBank(db.Model):
    __tablename__ = "question_banks"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Shipped banks are keyed by their file name (question_banks/<key>.gift).
    key: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    shipped: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    categories: Mapped[list[Category]] = relationship(
        back_populates="bank", order_by="Category.path", cascade="all, delete-orphan")


class Category(db.Model):
    """A knowledge point (知识点). `path` is the full slash-separated path within the bank."""

    __tablename__ = "bank_categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    bank_id: Mapped[int] = mapped_column(ForeignKey("question_banks.id", ondelete="CASCADE"))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("bank_categories.id"))
    name: Mapped[str] = mapped_column(String(120))
    path: Mapped[str] = mapped_column(String(500))

    bank: Mapped[QuestionBank] = relationship(back_populates="categories")
    parent: Mapped[Category | None] = relationship(remote_side=[id])

    __table_args__ = (UniqueConstraint("bank_id", "path"),)

    @property
    def depth(self) -> int:
        return self.path.count("/")


class Question(db.Model):
    """One version of a question. Editing adds a version (same lineage) and keeps this one, so
    history and statistics never lose what a person was actually asked."""

    __tablename__ = "questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    bank_id: Mapped[int] = mapped_column(ForeignKey("question_banks.id", ondelete="CASCADE"))
    category_id: Mapped[int] = mapped_column(ForeignKey("bank_categories.id"))
    # The id of the first version; every version of one question shares it.
    lineage_id: Mapped[int | None] = mapped_column(index=True)
    version: Mapped[int] = mapped_column(default=1)
    is_current: Mapped[bool] = mapped_column(default=True)
    retired: Mapped[bool] = mapped_column(default=False)
    id_number: Mapped[str] = mapped_column(String(64), default="")
    name: Mapped[str] = mapped_column(String(255), default="")
    qtype: Mapped[str] = mapped_column(String(16))
    stem: Mapped[str] = mapped_column(Text)
    text_format: Mapped[str] = mapped_column(String(16), default="markdown")
    explanation: Mapped[str] = mapped_column(Text, default="")
    difficulty: Mapped[int] = mapped_column(default=2)
    default_points: Mapped[Decimal] = mapped_column(Numeric(8, 2), default=Decimal("1"))
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    # A missing-word question (GIFT's text after the answer block): which （　　） of the stem
    # (1 = the first) stands where the block stood, so export writes that form again. None for
    # an ordinary stem, blanks and all.
    blank_number: Mapped[int | None]
    origin: Mapped[str] = mapped_column(String(16), default="web")
    # Content fingerprint (banks.rules.content_hash); sync compares it with the file.
    content_hash: Mapped[str] = mapped_column(String(64))
    # True when a person changed this question in the site since the last content sync.
    edited_in_site: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime]
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_members.id", ondelete="SET NULL"))

    bank: Mapped[QuestionBank] = relationship()
    category: Mapped[Category] = relationship()
    choices: Mapped[list[Choice]] = relationship(
        back_populates="question", order_by="Choice.position", cascade="all, delete-orphan",
        lazy="selectin")

    __table_args__ = (
        CheckConstraint("qtype IN ('single', 'multiple', 'truefalse')", name="qtype_valid"),
        CheckConstraint("difficulty BETWEEN 1 AND 3", name="difficulty_valid"),
        CheckConstraint("default_points > 0", name="points_positive"),
        CheckConstraint("blank_number >= 1", name="blank_number_positive"),
        Index("ix_questions_browse", "bank_id", "is_current", "retired", "category_id"),
        Index("ix_questions_bank_idnumber", "bank_id", "id_number"),
    )


class QuestionTag(db.Model):
    """Tags of current versions, one row each, so a bank can be filtered by tag with an index."""

    __tablename__ = "question_tags"

    question_id: Mapped[int] = mapped_column(
        ForeignKey("questions.id", ondelete="CASCADE"), primary_key=True)
    tag: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)


class Choice(db.Model):
    __tablename__ = "choices"

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id", ondelete="CASCADE"),
                                             index=True)
    position: Mapped[int]
    text: Mapped[str] = mapped_column(Text)
    # Percent of the question's points, −100..100, exact to five decimals (33.33333).
    weight: Mapped[Decimal] = mapped_column(Numeric(9, 5))
    feedback: Mapped[str] = mapped_column(Text, default="")
    keep_in_place: Mapped[bool] = mapped_column(default=False)

    question: Mapped[Question] = relationship(back_populates="choices")

    __table_args__ = (CheckConstraint("weight BETWEEN -100 AND 100", name="weight_range"),)


class ImportStaging(db.Model):
    """A parsed upload waiting for the trainer's confirmation (server-side, with an expiry)."""

    __tablename__ = "import_stagings"

    token: Mapped[str] = mapped_column(String(32), primary_key=True)
    bank_id: Mapped[int] = mapped_column(ForeignKey("question_banks.id", ondelete="CASCADE"))
    actor_id: Mapped[int] = mapped_column(ForeignKey("staff_members.id", ondelete="CASCADE"))
    filename: Mapped[str] = mapped_column(String(255))
    format: Mapped[str] = mapped_column(String(16))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)
