"""questions: the blank of a missing-word question

Revision ID: b2448eed7a2b
Revises: 8befc45d061d
Create Date: 2026-12-02 14:28:21.109646

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b2448eed7a2b'
down_revision = '8befc45d061d'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('questions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('blank_number', sa.Integer(), nullable=True))
        batch_op.create_check_constraint(op.f('ck_questions_blank_number_positive'),
                                         'blank_number >= 1')


def downgrade():
    with op.batch_alter_table('questions', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_questions_blank_number_positive'), type_='check')
        batch_op.drop_column('blank_number')
