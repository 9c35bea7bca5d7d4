"""actionable worklist lines: the id to answer, what is expected, the acting structure's file number

Revision ID: followup_0002
Revises: followup_0001
Create Date: 2026-12-01 03:40:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = 'followup_0002'
down_revision = 'followup_0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Lines written before this revision keep empty values until their person is decided again (any fact or
    # the next tick that concerns them rewrites the person's lines whole).
    with op.batch_alter_table('followup_action', schema=None) as batch_op:
        batch_op.add_column(sa.Column('answer_id', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True))
        batch_op.add_column(sa.Column('expected', sa.Text(), server_default='', nullable=False))
        batch_op.add_column(sa.Column('file_number', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
        batch_op.create_index(batch_op.f('ix_followup_action_file_number'), ['file_number'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('followup_action', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_followup_action_file_number'))
        batch_op.drop_column('file_number')
        batch_op.drop_column('expected')
        batch_op.drop_column('answer_id')
