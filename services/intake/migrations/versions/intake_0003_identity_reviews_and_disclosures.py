"""identity reviews the coordinator decides; who may see a person's identity; who saw one

Revision ID: intake_0003
Revises: intake_0002
Create Date: 2026-12-01 04:30:00

Reviews flagged before this revision get their review id (the same derivation as the code's, written out
here so this step never changes), their newer id (the one the vault created last) and status pending. The
structures that gave a file number for a person before this revision are entered as having registered them.
"""
import hashlib

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = 'intake_0003'
down_revision = 'intake_0002'
branch_labels = None
depends_on = None


def _review_id(a: str, b: str) -> str:
    first, second = sorted((a, b))
    return "rev-" + hashlib.sha256(f"{first}\x1f{second}".encode()).hexdigest()[:32]


def upgrade() -> None:
    op.create_table('intake_disclosure',
    sa.Column('disclosure_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('person_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('disclosed_to', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('key_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('role', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('basis', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('disclosed_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('disclosure_id')
    )
    with op.batch_alter_table('intake_disclosure', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_intake_disclosure_disclosed_at'), ['disclosed_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_intake_disclosure_disclosed_to'), ['disclosed_to'], unique=False)
        batch_op.create_index(batch_op.f('ix_intake_disclosure_person_id'), ['person_id'], unique=False)

    op.create_table('intake_entitlement',
    sa.Column('person_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('structure_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('basis', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('since', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('person_id', 'structure_id', 'basis')
    )
    with op.batch_alter_table('intake_entitlement', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_intake_entitlement_structure_id'), ['structure_id'], unique=False)

    with op.batch_alter_table('intake_review', schema=None) as batch_op:
        batch_op.add_column(sa.Column('review_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
        batch_op.add_column(sa.Column('newer_person_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
        batch_op.add_column(sa.Column('matched', sa.Text(), server_default='[]', nullable=False))
        batch_op.add_column(sa.Column('missing', sa.Text(), server_default='[]', nullable=False))
        batch_op.add_column(sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=32), server_default='pending', nullable=False))
        batch_op.add_column(sa.Column('opened_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('decided_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
        batch_op.add_column(sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True))
        batch_op.create_index(batch_op.f('ix_intake_review_status'), ['status'], unique=False)

    bind = op.get_bind()
    reviews = bind.execute(sa.text("SELECT person_a, person_b FROM intake_review")).all()
    for a, b in reviews:
        born = dict(bind.execute(sa.text("SELECT person_id, created_at FROM intake_person WHERE person_id IN (:a, :b)"),
                                 {"a": a, "b": b}).all())
        newer = a if born.get(a) is not None and born.get(b) is not None and born[a] > born[b] else b
        bind.execute(sa.text("UPDATE intake_review SET review_id = :rid, newer_person_id = :newer "
                             "WHERE person_a = :a AND person_b = :b"),
                     {"rid": _review_id(a, b), "newer": newer, "a": a, "b": b})
    with op.batch_alter_table('intake_review', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_intake_review_review_id'), ['review_id'], unique=True)

    op.execute("INSERT INTO intake_entitlement (person_id, structure_id, basis, since) "
               "SELECT DISTINCT person_id, structure_id, 'registered', CURRENT_TIMESTAMP FROM intake_partner_ref")


def downgrade() -> None:
    with op.batch_alter_table('intake_review', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_intake_review_review_id'))
        batch_op.drop_index(batch_op.f('ix_intake_review_status'))
        batch_op.drop_column('note')
        batch_op.drop_column('decided_at')
        batch_op.drop_column('decided_by')
        batch_op.drop_column('opened_at')
        batch_op.drop_column('status')
        batch_op.drop_column('missing')
        batch_op.drop_column('matched')
        batch_op.drop_column('newer_person_id')
        batch_op.drop_column('review_id')

    with op.batch_alter_table('intake_entitlement', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_intake_entitlement_structure_id'))
    op.drop_table('intake_entitlement')

    with op.batch_alter_table('intake_disclosure', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_intake_disclosure_person_id'))
        batch_op.drop_index(batch_op.f('ix_intake_disclosure_disclosed_to'))
        batch_op.drop_index(batch_op.f('ix_intake_disclosure_disclosed_at'))
    op.drop_table('intake_disclosure')
