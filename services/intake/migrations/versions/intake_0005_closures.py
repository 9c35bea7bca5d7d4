"""people whose case is closed, and since when: the clock erases them once the retention period has run

Revision ID: intake_0005
Revises: intake_0004
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = 'intake_0005'
down_revision = 'intake_0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('intake_closure',
    sa.Column('person_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('closed_on', sa.Date(), nullable=False),
    sa.PrimaryKeyConstraint('person_id')
    )
    with op.batch_alter_table('intake_closure', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_intake_closure_closed_on'), ['closed_on'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('intake_closure', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_intake_closure_closed_on'))
    op.drop_table('intake_closure')
