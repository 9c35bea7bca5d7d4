"""who was erased (a person's key shredded, their file numbers dropped); accepted events found by person

Revision ID: intake_0004
Revises: intake_0003
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = 'intake_0004'
down_revision = 'intake_0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('intake_erasure',
    sa.Column('erasure_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('person_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('merged_person_ids', sa.Text(), server_default='[]', nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('requested_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('key_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('role', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('erased_on', sa.Date(), nullable=False),
    sa.Column('erased_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('erasure_id')
    )
    with op.batch_alter_table('intake_erasure', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_intake_erasure_erased_at'), ['erased_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_intake_erasure_person_id'), ['person_id'], unique=True)
        batch_op.create_index(batch_op.f('ix_intake_erasure_requested_by'), ['requested_by'], unique=False)
    with op.batch_alter_table('intake_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_intake_event_person_id'), ['person_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('intake_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_intake_event_person_id'))
    with op.batch_alter_table('intake_erasure', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_intake_erasure_requested_by'))
        batch_op.drop_index(batch_op.f('ix_intake_erasure_person_id'))
        batch_op.drop_index(batch_op.f('ix_intake_erasure_erased_at'))
    op.drop_table('intake_erasure')
