"""holds: who holds each person now, so a structure's or a counsellor's caseload can be listed and handed over

Revision ID: followup_0004
Revises: followup_0003
Create Date: 2026-12-01 04:10:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = 'followup_0004'
down_revision = 'followup_0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Filled as people are decided again (any fact or tick that concerns them rewrites their rows whole).
    op.create_table('followup_hold',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('structure_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('counsellor', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('file_number', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('followup_hold', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_followup_hold_person_id'), ['person_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_followup_hold_structure_id'), ['structure_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('followup_hold', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_followup_hold_structure_id'))
        batch_op.drop_index(batch_op.f('ix_followup_hold_person_id'))
    op.drop_table('followup_hold')
