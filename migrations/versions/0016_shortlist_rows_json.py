"""National shortlist creation (issue 14): a shortlist's frozen rows kept as the JSON text
that was hashed, and their count in a column.

On PostgreSQL, `shortlist.rows` becomes `json` instead of `jsonb`: a national list is ~23 MB
of canonical JSON that is written once and read whole or row by row, never searched. Storing
it as `jsonb` cost PostgreSQL 0.71–0.84 s per national creation (parsing and building the
binary form); as `json` (validated, stored as sent, still lz4) 0.15–0.19 s (`bench/README.md`,
"Stop 24"). The stored text is now byte for byte the one the shortlist's hash covers.

`shortlist.row_count` (both backends): the number of rows, so that listing shortlists or
starting an export never parses a national list to count it.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03 19:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _retype(to: str) -> None:
    """`shortlist.rows` as `to`, its compression (lz4 since 0014 where PostgreSQL has it)
    kept: changing a column's type resets it."""
    lz4 = op.get_bind().execute(sa.text(
        "SELECT attcompression FROM pg_attribute WHERE attrelid = 'shortlist'::regclass "
        "AND attname = 'rows'")).scalar() == "l"
    op.execute(f"ALTER TABLE shortlist ALTER COLUMN rows TYPE {to} USING rows::{to}")
    if lz4:
        op.execute("ALTER TABLE shortlist ALTER COLUMN rows SET COMPRESSION lz4")


def upgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    op.add_column("shortlist", sa.Column("row_count", sa.Integer(), server_default="0",
                                         nullable=False))
    length = "jsonb_array_length" if postgresql else "json_array_length"
    op.execute(f"UPDATE shortlist SET row_count = {length}(rows)")
    if postgresql:
        _retype("json")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _retype("jsonb")
    op.drop_column("shortlist", "row_count")  # SQLite ≥ 3.35
