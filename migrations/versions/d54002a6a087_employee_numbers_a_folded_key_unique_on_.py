"""employee numbers: a folded key, unique on every database

Revision ID: d54002a6a087
Revises: a36195a9ef4c
Create Date: 2026-12-02 13:40:00

Employee numbers are compared by their NFKC, trimmed, case-folded form (accounts.rules.
employee_no_key). SQLite's lower() folds ASCII only, so ÄSEC1 and äSEC1 could both exist and
one of them could never sign in. The key is computed in Python and kept in its own column with
a unique constraint. Numbers that would collide stop the migration before it changes anything,
naming them (`trainer staff normalise --report` lists them beforehand).
"""
from alembic import op
import sqlalchemy as sa

from trainer.accounts.rules import colliding_employee_nos, employee_no_key

revision = 'd54002a6a087'
down_revision = 'a36195a9ef4c'
branch_labels = None
depends_on = None


def upgrade():
    connection = op.get_bind()
    rows = connection.execute(sa.text("SELECT id, employee_no FROM staff_members")).all()
    collisions = colliding_employee_nos(number for _, number in rows)
    if collisions:
        listed = "; ".join(" = ".join(group) for group in collisions)
        raise RuntimeError(
            "These employee numbers differ only in case or width and would be one login: "
            f"{listed}. Nothing was changed. Give each person a distinct number (HR: edit the "
            "staff record), then run the upgrade again.")
    with op.batch_alter_table('staff_members', schema=None) as batch_op:
        batch_op.add_column(sa.Column('employee_no_key', sa.String(length=64), nullable=True))
    table = sa.table('staff_members', sa.column('id', sa.Integer),
                     sa.column('employee_no_key', sa.String))
    for staff_id, number in rows:
        connection.execute(table.update().where(table.c.id == staff_id)
                           .values(employee_no_key=employee_no_key(number)))
    with op.batch_alter_table('staff_members', schema=None) as batch_op:
        batch_op.alter_column('employee_no_key', existing_type=sa.String(length=64),
                              nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_staff_members_employee_no_key'),
                                          ['employee_no_key'])


def downgrade():
    with op.batch_alter_table('staff_members', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_staff_members_employee_no_key'), type_='unique')
        batch_op.drop_column('employee_no_key')
