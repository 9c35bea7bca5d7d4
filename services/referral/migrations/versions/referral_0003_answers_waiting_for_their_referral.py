"""answers waiting for their referral

Revision ID: referral_0003
Revises: referral_0002
Create Date: 2026-12-01 11:10:00

One row per answer that came before its referral, so that the day ticks find those whose wait is over. The
answers already waiting in people's states get their row here (their wait starts at the next tick; the bytes of
their record were not kept, so their dead letter, if it comes to that, carries the reason alone).
"""
import json
from datetime import date

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = 'referral_0003'
down_revision = 'referral_0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    parked = op.create_table('referral_parked_answer',
    sa.Column('event_id', sqlmodel.sql.sqltypes.AutoString(length=160), nullable=False),
    sa.Column('person_id', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('referral_id', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('answer_on', sa.Date(), nullable=False),
    sa.Column('waits_until', sa.Date(), nullable=True),
    sa.Column('topic', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('partition', sa.Integer(), nullable=False),
    sa.Column('offset', sa.BigInteger(), nullable=False),
    sa.Column('original', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('event_id')
    )
    with op.batch_alter_table('referral_parked_answer', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_referral_parked_answer_person_id'), ['person_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_referral_parked_answer_waits_until'), ['waits_until'], unique=False)
    _backfill(parked)


def _backfill(parked: sa.Table) -> None:
    conn = op.get_bind()
    people = conn.execute(sa.text("SELECT person_id, state FROM referral_person WHERE state LIKE :waiting"),
                          {"waiting": '%"pending"%'}).all()
    inbox = sa.table('referral_inbox', sa.column('event_id'), sa.column('topic'), sa.column('partition'),
                     sa.column('offset'))
    rows = []
    for person_id, state in people:
        for referral_id, answers in json.loads(state).get("pending", {}).items():
            for answer in answers:
                where = conn.execute(sa.select(inbox.c.topic, inbox.c.partition, inbox.c.offset)
                                     .where(inbox.c.event_id == answer["event_id"])).first()
                topic, partition, offset = where if where is not None else (
                    f"unrecorded:{answer['event_id']}", -1, -1)
                rows.append({"event_id": answer["event_id"], "person_id": person_id, "referral_id": referral_id,
                             "answer_on": date.fromisoformat(answer["on"]),
                             "waits_until": None, "topic": topic, "partition": partition, "offset": offset,
                             "original": b""})
    if rows:
        op.bulk_insert(parked, rows)


def downgrade() -> None:
    with op.batch_alter_table('referral_parked_answer', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_referral_parked_answer_waits_until'))
        batch_op.drop_index(batch_op.f('ix_referral_parked_answer_person_id'))

    op.drop_table('referral_parked_answer')
