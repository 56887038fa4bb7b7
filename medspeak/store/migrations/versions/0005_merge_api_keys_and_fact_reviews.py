"""Merge the two branches that grew from 0002: API keys (0003) and fact reviews (0004).

Revision ID: 0005
Revises: 0003, 0004
"""

from __future__ import annotations

revision: str = "0005"
down_revision: tuple[str, ...] = ("0003", "0004")
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Nothing to change: the two branches touch different tables."""


def downgrade() -> None:
    """Nothing to undo."""
