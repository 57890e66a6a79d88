"""Shortlists, export jobs, assessment facts cache, latest-submission index.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 04:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON_TYPE = sa.JSON(none_as_null=True).with_variant(
    postgresql.JSONB(none_as_null=True), "postgresql"
)


def upgrade() -> None:
    op.create_table(
        "shortlist",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("region", sa.String(), nullable=True),
        sa.Column("criteria", JSON_TYPE, nullable=False),
        sa.Column("questionnaire_versions", JSON_TYPE, nullable=False),
        sa.Column("rows", JSON_TYPE, nullable=False),
        sa.Column("excluded", JSON_TYPE, nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["author_id"], ["user_account.id"],
                                name=op.f("fk_shortlist_author_id_user_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shortlist")),
    )
    with op.batch_alter_table("shortlist", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_shortlist_author_id"), ["author_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_shortlist_region"), ["region"], unique=False)
        batch_op.create_index(batch_op.f("ix_shortlist_hash"), ["hash"], unique=False)

    op.create_table(
        "export_job",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("params", JSON_TYPE, nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("progress", sa.Float(), nullable=False),
        sa.Column("rows_done", sa.Integer(), nullable=False),
        sa.Column("rows_total", sa.Integer(), nullable=True),
        sa.Column("file_path", sa.String(), nullable=True),
        sa.Column("filename", sa.String(), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error", sa.String(), nullable=True),
        sa.ForeignKeyConstraint(["created_by"], ["user_account.id"],
                                name=op.f("fk_export_job_created_by_user_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_export_job")),
    )
    with op.batch_alter_table("export_job", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_export_job_created_by"), ["created_by"],
                              unique=False)

    op.create_table(
        "shortlist_assessment_facts",
        sa.Column("assessment_id", sa.Integer(), nullable=False),
        sa.Column("readiness", sa.Integer(), nullable=True),
        sa.Column("funding", JSON_TYPE, nullable=False),
        sa.ForeignKeyConstraint(
            ["assessment_id"], ["assessment.id"],
            name=op.f("fk_shortlist_assessment_facts_assessment_id_assessment"),
            ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("assessment_id", name=op.f("pk_shortlist_assessment_facts")),
    )
    with op.batch_alter_table("assessment", schema=None) as batch_op:
        batch_op.create_index("ix_assessment_latest_submitted",
                              ["status", "structure_id", "submitted_at", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("assessment", schema=None) as batch_op:
        batch_op.drop_index("ix_assessment_latest_submitted")
    op.drop_table("shortlist_assessment_facts")
    with op.batch_alter_table("export_job", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_export_job_created_by"))
    op.drop_table("export_job")
    with op.batch_alter_table("shortlist", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_shortlist_hash"))
        batch_op.drop_index(batch_op.f("ix_shortlist_region"))
        batch_op.drop_index(batch_op.f("ix_shortlist_author_id"))
    op.drop_table("shortlist")
