"""Drafts' documents kept in their row (issue 14, autosave): on PostgreSQL, `assessment`
rows are moved to TOAST only beyond 4,080 bytes (`toast_tuple_target`, default ~2 KB), and
its answers and answer meta are compressed with lz4 where the server has it (14 and later,
built so) instead of pglz.

A draft's two documents, compressed, are ~2.4 KB together: past the default target, every
autosave wrote one of them out of line (new TOAST chunks and their index entries, the old
ones left dead for vacuum). With the higher target they stay compressed in the row, and an
autosave writes one row version. lz4 compresses them several times faster than pglz. Rows
written before this migration stay as they are until their next save.

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
    methods = op.get_bind().execute(sa.text(
        "SELECT enumvals FROM pg_settings WHERE name = 'default_toast_compression'")).scalar()
    return bool(methods) and "lz4" in methods


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("ALTER TABLE assessment SET (toast_tuple_target = 4080)")
    if _lz4():
        for column in DOCUMENTS:
            op.execute(f"ALTER TABLE assessment ALTER COLUMN {column} SET COMPRESSION lz4")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    if _lz4():
        for column in DOCUMENTS:
            op.execute(f"ALTER TABLE assessment ALTER COLUMN {column} SET COMPRESSION default")
    op.execute("ALTER TABLE assessment RESET (toast_tuple_target)")
