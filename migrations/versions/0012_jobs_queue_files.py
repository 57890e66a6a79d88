"""Jobs on procrastinate (PostgreSQL) and files in the database.

- `stored_file`: evidence, generated PDFs, exports and uploaded import files (app/files.py);
- on PostgreSQL only: procrastinate's schema (tables `procrastinate_*`, their functions,
  types and triggers), the queue `palier worker` runs. SQLite runs jobs in-process.

The schema is the one of the procrastinate version pinned in pyproject.toml; upgrading
procrastinate past it needs a migration applying its own SQL migration files.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 14:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from procrastinate.schema import SchemaManager

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "stored_file",
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=200), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_stored_file")),
    )
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        # The raw cursor: the script holds several statements and `%` characters.
        bind.connection.driver_connection.cursor().execute(SchemaManager.get_schema())


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        for table in ("procrastinate_events", "procrastinate_periodic_defers",
                      "procrastinate_jobs", "procrastinate_workers"):
            op.execute(f"DROP TABLE IF EXISTS {table} CASCADE")
        functions = bind.execute(sa.text(
            "SELECT p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace n "
            "ON n.oid = p.pronamespace WHERE n.nspname = current_schema() "
            "AND p.proname LIKE 'procrastinate%'")).scalars().all()
        for signature in functions:
            op.execute(f"DROP FUNCTION IF EXISTS {signature} CASCADE")
        for type_name in ("procrastinate_job_to_defer_v1", "procrastinate_job_event_type",
                          "procrastinate_job_status"):
            op.execute(f"DROP TYPE IF EXISTS {type_name} CASCADE")
    op.drop_table("stored_file")
