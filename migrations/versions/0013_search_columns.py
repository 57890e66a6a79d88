"""Accent- and case-insensitive search: `search` columns on `structure` (name and commune)
and `user_account` (name and e-mail), normalised by app/search_text.py, filled here for the
existing rows, and indexed (trigram GIN on PostgreSQL, extension pg_trgm; plain on SQLite).

The normalisation is copied here (not imported) so that this migration keeps doing what it
did when the application's code changes.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 19:30:00
"""

import re
import unicodedata
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = {"structure": ("name", "city"), "user_account": ("name", "email")}
BATCH = 2000
_LIGATURES = str.maketrans({"œ": "oe", "æ": "ae", "ß": "ss", "ø": "o", "đ": "d", "ł": "l"})


def _normalise(text: str | None) -> str:
    if not text:
        return ""
    folded = unicodedata.normalize("NFKD", text.casefold().translate(_LIGATURES))
    ascii_text = "".join(c for c in folded if not unicodedata.combining(c))
    return re.sub(r"[^a-z0-9]+", " ", ascii_text).strip()


def _fill(table: str, columns: tuple[str, str]) -> None:
    bind = op.get_bind()
    t = sa.table(table, sa.column("id"), sa.column("search"),
                 *(sa.column(c) for c in columns))
    rows = bind.execute(sa.select(t.c.id, *(t.c[c] for c in columns))).all()
    stmt = t.update().where(t.c.id == sa.bindparam("_id")).values(search=sa.bindparam("s"))
    for i in range(0, len(rows), BATCH):
        bind.execute(stmt, [{"_id": row[0], "s": " | ".join(_normalise(v) for v in row[1:])}
                            for row in rows[i:i + BATCH]])


def upgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    if postgresql:
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for table, columns in TABLES.items():
        op.add_column(table, sa.Column("search", sa.String(), server_default="",
                                       nullable=False))
        _fill(table, columns)
        op.create_index(f"ix_{table}_search", table, ["search"], postgresql_using="gin",
                        postgresql_ops={"search": "gin_trgm_ops"})


def downgrade() -> None:
    for table in TABLES:
        op.drop_index(f"ix_{table}_search", table_name=table)
        op.drop_column(table, "search")  # SQLite ≥ 3.35: ALTER TABLE … DROP COLUMN
