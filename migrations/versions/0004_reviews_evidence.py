"""Reviews of submitted assessments (history kept) and evidence attached to answers.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "assessment_review",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("assessment_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("reviewer_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("status IN ('validee', 'a_revoir')",
                           name=op.f("ck_assessment_review_status")),
        sa.ForeignKeyConstraint(["assessment_id"], ["assessment.id"],
                                name=op.f("fk_assessment_review_assessment_id_assessment"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["reviewer_id"], ["user_account.id"],
                                name=op.f("fk_assessment_review_reviewer_id_user_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessment_review")),
    )
    with op.batch_alter_table("assessment_review", schema=None) as batch_op:
        batch_op.create_index("ix_assessment_review_assessment_id_id", ["assessment_id", "id"],
                              unique=False)

    op.create_table(
        "evidence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("assessment_id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("original_filename", sa.String(), nullable=True),
        sa.Column("stored_name", sa.String(), nullable=True),
        sa.Column("content_type", sa.String(), nullable=True),
        sa.Column("size", sa.Integer(), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("uploaded_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('file', 'note')", name=op.f("ck_evidence_kind")),
        sa.ForeignKeyConstraint(["assessment_id"], ["assessment.id"],
                                name=op.f("fk_evidence_assessment_id_assessment"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["uploaded_by"], ["user_account.id"],
                                name=op.f("fk_evidence_uploaded_by_user_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence")),
        sa.UniqueConstraint("stored_name", name=op.f("uq_evidence_stored_name")),
    )
    with op.batch_alter_table("evidence", schema=None) as batch_op:
        batch_op.create_index("ix_evidence_assessment_id_question_id",
                              ["assessment_id", "question_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("evidence", schema=None) as batch_op:
        batch_op.drop_index("ix_evidence_assessment_id_question_id")
    op.drop_table("evidence")
    with op.batch_alter_table("assessment_review", schema=None) as batch_op:
        batch_op.drop_index("ix_assessment_review_assessment_id_id")
    op.drop_table("assessment_review")
