"""fact reviews: clinicians' decisions on extracted facts

Revision ID: 0004
Revises: 0002
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import medspeak.store.types

revision: str = "0004"
down_revision: str | None = "0002"  # a parallel branch to 0003; `migrate` upgrades to "heads"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "fact_reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("fact_id", sa.Integer(), nullable=False),
        sa.Column("reviewer_id", sa.Integer(), nullable=True),
        sa.Column("reviewer", sa.String(length=64), nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=False),
        sa.Column("corrected", sa.JSON(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", medspeak.store.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["fact_id"], ["facts.id"], name=op.f("fk_fact_reviews_fact_id_facts"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["reviewer_id"], ["users.id"], name=op.f("fk_fact_reviews_reviewer_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fact_reviews")),
    )
    with op.batch_alter_table("fact_reviews", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_fact_reviews_fact_id"), ["fact_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("fact_reviews", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_fact_reviews_fact_id"))
    op.drop_table("fact_reviews")
