"""identity reviews: an id whose alerts wait for the coordinator's decision

Revision ID: followup_0003
Revises: followup_0002
Create Date: 2026-12-01 04:00:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = 'followup_0003'
down_revision = 'followup_0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('followup_identity_review',
    sa.Column('review_id', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('person_id', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('other_person_id', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('matched', sa.Text(), nullable=False),
    sa.Column('missing', sa.Text(), nullable=False),
    sa.Column('opened_on', sa.Date(), nullable=False),
    sa.Column('decision', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.PrimaryKeyConstraint('review_id')
    )
    with op.batch_alter_table('followup_identity_review', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_followup_identity_review_person_id'), ['person_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_followup_identity_review_decision'), ['decision'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('followup_identity_review', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_followup_identity_review_decision'))
        batch_op.drop_index(batch_op.f('ix_followup_identity_review_person_id'))
    op.drop_table('followup_identity_review')
