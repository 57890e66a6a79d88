"""Drafts' documents compressed with lz4 (issue 14, autosave): on PostgreSQL built with lz4
(14 and later), `assessment.answers` and `assessment.answer_meta` are compressed with lz4
instead of pglz. Every autosave rewrites both documents (~1.5 and ~4 KB of JSON), so their
compression runs at every save: with lz4, PostgreSQL spent 0.46 CPU ms per autosave instead
of 0.52–0.59 (0.24 instead of 0.29–0.30 on the bare compare-and-swap), for 2–4 % more WAL
(`bench/README.md`, "Stop 23"). Values written before this migration stay readable as they
are and are compressed with lz4 at their next save.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03 17:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DOCUMENTS = ("answers", "answer_meta")


def _lz4() -> bool:
    """PostgreSQL can compress with lz4 (a setting that lists it: 14 and later, built so)."""
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return False
    methods = bind.execute(sa.text(
        "SELECT enumvals FROM pg_settings WHERE name = 'default_toast_compression'")).scalar()
    return bool(methods) and "lz4" in methods


def upgrade() -> None:
    if _lz4():
        for column in DOCUMENTS:
            op.execute(f"ALTER TABLE assessment ALTER COLUMN {column} SET COMPRESSION lz4")


def downgrade() -> None:
    if _lz4():
        for column in DOCUMENTS:
            op.execute(f"ALTER TABLE assessment ALTER COLUMN {column} SET COMPRESSION default")
