"""departments and positions: managed lists the staff record points at

Revision ID: a2dcf9fbb2e9
Revises: 0f3af0a3bf0c
Create Date: 2026-12-02 14:20:36

Departments and positions were free text on each staff member (and on nomination and
position-change events), so 客服一部 and "客服一部 " were two departments and a typo made a third.
HR now keeps both as lists. This migration makes one entry per distinct non-empty name found
today (NFKC, trimmed, inner spaces collapsed, as accounts.services names entries), points every
staff member and every event that named a position at it, and drops the staff members' text
columns. Events keep their text as well: it is the name the event was recorded with, and
history is never rewritten.
"""
import re
import unicodedata
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa

import trainer.core.db

revision = 'a2dcf9fbb2e9'
down_revision = '0f3af0a3bf0c'
branch_labels = None
depends_on = None

NAME_MAX = 80


def _name(raw):
    # Kept here rather than imported: a migration must keep doing what it did when it was written.
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", raw or "")).strip()[:NAME_MAX]


def _list_table(name):
    op.create_table(name,
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('sort_order', sa.Integer(), nullable=False),
    sa.Column('created_at', trainer.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', trainer.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f(f'pk_{name}'))
    )
    with op.batch_alter_table(name, schema=None) as batch_op:
        batch_op.create_index(f'uq_{name}_active_code', ['code'], unique=True, sqlite_where=sa.text('active'), postgresql_where=sa.text('active'))
        batch_op.create_index(f'uq_{name}_active_name', ['name'], unique=True, sqlite_where=sa.text('active'), postgresql_where=sa.text('active'))


def _fill(connection, table_name, raw_names, now):
    """One entry per distinct name (in name order); returns {raw string: entry id}."""
    table = sa.table(table_name, sa.column('id', sa.Integer), sa.column('name', sa.String),
                     sa.column('active', sa.Boolean), sa.column('sort_order', sa.Integer),
                     sa.column('created_at', trainer.core.db.UTCDateTime()),
                     sa.column('updated_at', trainer.core.db.UTCDateTime()))
    names = sorted({_name(raw) for raw in raw_names} - {""})
    if names:
        connection.execute(table.insert(), [
            {"name": name, "active": True, "sort_order": order, "created_at": now,
             "updated_at": now} for order, name in enumerate(names)])
    ids = dict(connection.execute(sa.select(table.c.name, table.c.id)).all())
    return {raw: ids[_name(raw)] for raw in raw_names if _name(raw)}


def _point(connection, table_name, text_column, id_column, mapping):
    """Set id_column from text_column, one UPDATE per distinct string (not per row)."""
    table = sa.table(table_name, sa.column(text_column, sa.String),
                     sa.column(id_column, sa.Integer))
    for raw, entry_id in mapping.items():
        connection.execute(table.update().where(table.c[text_column] == raw)
                           .values({id_column: entry_id}))


def upgrade():
    _list_table('departments')
    _list_table('positions')

    with op.batch_alter_table('staff_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('position_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_staff_events_position_id_positions'), 'positions', ['position_id'], ['id'])

    with op.batch_alter_table('staff_members', schema=None) as batch_op:
        batch_op.add_column(sa.Column('department_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('position_id', sa.Integer(), nullable=True))

    connection = op.get_bind()
    now = datetime.now(timezone.utc)
    departments = connection.execute(sa.text(
        "SELECT DISTINCT department FROM staff_members")).scalars().all()
    staff_positions = connection.execute(sa.text(
        "SELECT DISTINCT position FROM staff_members")).scalars().all()
    event_positions = connection.execute(sa.text(
        "SELECT DISTINCT position FROM staff_events WHERE position IS NOT NULL")).scalars().all()
    department_ids = _fill(connection, 'departments', departments, now)
    position_ids = _fill(connection, 'positions', set(staff_positions) | set(event_positions), now)
    _point(connection, 'staff_members', 'department', 'department_id', department_ids)
    _point(connection, 'staff_members', 'position', 'position_id', position_ids)
    _point(connection, 'staff_events', 'position', 'position_id', position_ids)

    with op.batch_alter_table('staff_members', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_staff_members_department'))
        batch_op.create_index(batch_op.f('ix_staff_members_department_id'), ['department_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_staff_members_position_id'), ['position_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_staff_members_department_id_departments'), 'departments', ['department_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_staff_members_position_id_positions'), 'positions', ['position_id'], ['id'])
        batch_op.drop_column('department')
        batch_op.drop_column('position')


def downgrade():
    # The names come back as text; entries nobody pointed at, codes and the order are lost.
    with op.batch_alter_table('staff_members', schema=None) as batch_op:
        batch_op.add_column(sa.Column('department', sa.String(length=80), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('position', sa.String(length=80), nullable=False, server_default=''))
    op.execute("UPDATE staff_members SET department = (SELECT name FROM departments "
               "WHERE departments.id = staff_members.department_id) "
               "WHERE department_id IS NOT NULL")
    op.execute("UPDATE staff_members SET position = (SELECT name FROM positions "
               "WHERE positions.id = staff_members.position_id) WHERE position_id IS NOT NULL")
    with op.batch_alter_table('staff_members', schema=None) as batch_op:
        batch_op.alter_column('department', server_default=None)
        batch_op.alter_column('position', server_default=None)
        batch_op.drop_constraint(batch_op.f('fk_staff_members_position_id_positions'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_staff_members_department_id_departments'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_staff_members_position_id'))
        batch_op.drop_index(batch_op.f('ix_staff_members_department_id'))
        batch_op.create_index(batch_op.f('ix_staff_members_department'), ['department'], unique=False)
        batch_op.drop_column('position_id')
        batch_op.drop_column('department_id')

    with op.batch_alter_table('staff_events', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_staff_events_position_id_positions'), type_='foreignkey')
        batch_op.drop_column('position_id')

    for name in ('positions', 'departments'):
        with op.batch_alter_table(name, schema=None) as batch_op:
            batch_op.drop_index(f'uq_{name}_active_name', sqlite_where=sa.text('active'), postgresql_where=sa.text('active'))
            batch_op.drop_index(f'uq_{name}_active_code', sqlite_where=sa.text('active'), postgresql_where=sa.text('active'))
        op.drop_table(name)
