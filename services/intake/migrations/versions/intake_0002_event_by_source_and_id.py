"""accepted partner events by (source, id) with their content digest

Revision ID: intake_0002
Revises: intake_0001
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = 'intake_0002'
down_revision = 'intake_0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('intake_event',
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('event_id', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('content_sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('published_id', sqlmodel.sql.sqltypes.AutoString(length=160), nullable=False),
    sa.Column('person_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('accepted_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=True),
    sa.PrimaryKeyConstraint('source', 'event_id')
    )
    with op.batch_alter_table('intake_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_intake_event_published_id'), ['published_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('intake_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_intake_event_published_id'))
    op.drop_table('intake_event')
