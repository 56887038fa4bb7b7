"""document blobs: originals in the database (MEDSPEAK_FILE_STORE=database), once per SHA-256

Revision ID: 0007
Revises: 0006i19
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import medspeak.store.types

revision: str = "0007"
down_revision: str | None = "0006i19"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "document_blobs",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", medspeak.store.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("sha256", name=op.f("pk_document_blobs")),
    )
    if op.get_bind().dialect.name == "postgresql":
        # PDFs and images are compressed already: store them out of line without trying to compress again.
        op.execute("ALTER TABLE document_blobs ALTER COLUMN content SET STORAGE EXTERNAL")


def downgrade() -> None:
    op.drop_table("document_blobs")
