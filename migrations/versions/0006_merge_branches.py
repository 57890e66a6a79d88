"""End of the first wave's schema (no change). It once merged four parallel branches
(0002-0005); the history is now linear and this revision is kept so that a database
stamped 0006 keeps upgrading.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Nothing to do."""


def downgrade() -> None:
    """Nothing to do."""
