"""the outbox searched by event id: a request's answer waits for its rows, found by the event's id

Revision ID: intake_0006
Revises: intake_0005
"""
from alembic import op


revision = 'intake_0006'
down_revision = 'intake_0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('intake_outbox', schema=None) as batch_op:
        batch_op.create_index('ix_intake_outbox_event_id', ['event_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('intake_outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_intake_outbox_event_id')
