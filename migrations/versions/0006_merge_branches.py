"""Merge the parallel branches: imports (0002), latest results (0003), reviews (0004),
shortlists (0005).

Revision ID: 0006
Revises: 0002, 0003, 0004, 0005
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0006"
down_revision: str | Sequence[str] | None = ("0002", "0003", "0004", "0005")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Nothing to do: the branches touch different tables."""


def downgrade() -> None:
    """Nothing to do."""
