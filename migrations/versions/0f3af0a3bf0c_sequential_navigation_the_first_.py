"""sequential navigation: the first position still open

Revision ID: 0f3af0a3bf0c
Revises: b2448eed7a2b
Create Date: 2026-12-02 14:25:35.752041

Sequential navigation was enforced only in the page: a save to an earlier page after moving on
was accepted. attempts.open_from is the first position still open; the autosave's UPDATE
refuses positions below it. Attempts already in progress start at 0 (nothing closed).
"""
from alembic import op
import sqlalchemy as sa


revision = '0f3af0a3bf0c'
down_revision = 'b2448eed7a2b'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('attempts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('open_from', sa.Integer(), server_default='0',
                                      nullable=False))


def downgrade():
    with op.batch_alter_table('attempts', schema=None) as batch_op:
        batch_op.drop_column('open_from')
