"""document links: who linked or moved a document to a patient, and why

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import medspeak.store.types

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "document_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("from_patient_id", sa.Integer(), nullable=True),
        sa.Column("to_patient_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", medspeak.store.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"], ["documents.id"], name=op.f("fk_document_links_document_id_documents"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_document_links_user_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_document_links")),
    )
    with op.batch_alter_table("document_links", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_document_links_document_id"), ["document_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("document_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_document_links_document_id"))
    op.drop_table("document_links")
