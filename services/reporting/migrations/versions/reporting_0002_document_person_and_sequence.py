"""documents: their person and the write that last changed them

Revision ID: reporting_0002
Revises: reporting_0001
Create Date: 2026-11-30 19:05:00
"""
import json

from alembic import op
import sqlalchemy as sa


revision = 'reporting_0002'
down_revision = 'reporting_0001'
branch_labels = None
depends_on = None


def _owner(key: str, doc: dict):
    kind, _, rest = key.partition(":")
    if kind in ("person", "alias"):
        return rest
    return doc.get("person")


def upgrade() -> None:
    with op.batch_alter_table('reporting_document', schema=None) as batch_op:
        batch_op.add_column(sa.Column('person', sa.String(length=160), nullable=True))
        batch_op.add_column(sa.Column('seq', sa.BigInteger(), server_default='0', nullable=False))
        batch_op.create_index(batch_op.f('ix_reporting_document_person'), ['person'], unique=False)
        batch_op.create_index(batch_op.f('ix_reporting_document_seq'), ['seq'], unique=False)
    op.create_table('reporting_sequence',
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('value', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )
    # Documents written before: their person, read from the document itself.
    conn = op.get_bind()
    table = sa.table('reporting_document', sa.column('key', sa.String), sa.column('doc', sa.Text),
                     sa.column('person', sa.String))
    rows = conn.execute(sa.select(table.c.key, table.c.doc)).all()
    updates = [{"k": key, "p": _owner(key, json.loads(doc))} for key, doc in rows]
    updates = [u for u in updates if u["p"] is not None]
    if updates:
        conn.execute(table.update().where(table.c.key == sa.bindparam("k")).values(person=sa.bindparam("p")),
                     updates)


def downgrade() -> None:
    op.drop_table('reporting_sequence')
    with op.batch_alter_table('reporting_document', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reporting_document_seq'))
        batch_op.drop_index(batch_op.f('ix_reporting_document_person'))
        batch_op.drop_column('seq')
        batch_op.drop_column('person')
