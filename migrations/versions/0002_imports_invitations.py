"""Structures import jobs, manual corrections, director invitations.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON_TYPE = sa.JSON(none_as_null=True).with_variant(
    postgresql.JSONB(none_as_null=True), "postgresql"
)


def upgrade() -> None:
    op.create_table(
        "import_job",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("filename", sa.String(), nullable=False),
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("phase", sa.String(), nullable=True),
        sa.Column("partial", sa.Boolean(), nullable=False),
        sa.Column("region", sa.String(), nullable=True),
        sa.Column("close_missing", sa.Boolean(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("processed", sa.Integer(), nullable=False),
        sa.Column("imported", sa.Integer(), nullable=False),
        sa.Column("updated", sa.Integer(), nullable=False),
        sa.Column("skipped", sa.Integer(), nullable=False),
        sa.Column("rejected", sa.Integer(), nullable=False),
        sa.Column("closed", sa.Integer(), nullable=False),
        sa.Column("applied", sa.Boolean(), nullable=False),
        sa.Column("error", sa.String(), nullable=True),
        sa.Column("report", JSON_TYPE, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status IN ('pending', 'running', 'done', 'failed')",
                           name=op.f("ck_import_job_status")),
        sa.ForeignKeyConstraint(["user_id"], ["user_account.id"],
                                name=op.f("fk_import_job_user_id_user_account"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_job")),
    )
    with op.batch_alter_table("import_job", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_import_job_user_id"), ["user_id"], unique=False)

    op.create_table(
        "structure_correction",
        sa.Column("structure_id", sa.Integer(), nullable=False),
        sa.Column("field", sa.String(), nullable=False),
        sa.Column("value", sa.String(), nullable=False),
        sa.Column("corrected_by", sa.Integer(), nullable=True),
        sa.Column("corrected_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["structure_id"], ["structure.id"],
                                name=op.f("fk_structure_correction_structure_id_structure"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["corrected_by"], ["user_account.id"],
                                name=op.f("fk_structure_correction_corrected_by_user_account"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("structure_id", "field", name=op.f("pk_structure_correction")),
    )

    op.create_table(
        "invitation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("invited_by", sa.Integer(), nullable=True),
        sa.Column("region", sa.String(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("used_by", sa.Integer(), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["invited_by"], ["user_account.id"],
                                name=op.f("fk_invitation_invited_by_user_account"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["used_by"], ["user_account.id"],
                                name=op.f("fk_invitation_used_by_user_account"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invitation")),
    )
    with op.batch_alter_table("invitation", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_invitation_email"), ["email"], unique=False)
        batch_op.create_index(batch_op.f("ix_invitation_region"), ["region"], unique=False)
        batch_op.create_index(batch_op.f("ix_invitation_token_hash"), ["token_hash"],
                              unique=True)

    op.create_table(
        "invitation_structure",
        sa.Column("invitation_id", sa.Integer(), nullable=False),
        sa.Column("structure_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["invitation_id"], ["invitation.id"],
                                name=op.f("fk_invitation_structure_invitation_id_invitation"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["structure_id"], ["structure.id"],
                                name=op.f("fk_invitation_structure_structure_id_structure"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("invitation_id", "structure_id",
                                name=op.f("pk_invitation_structure")),
    )
    with op.batch_alter_table("invitation_structure", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_invitation_structure_structure_id"),
                              ["structure_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("invitation_structure", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_invitation_structure_structure_id"))
    op.drop_table("invitation_structure")
    with op.batch_alter_table("invitation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_invitation_token_hash"))
        batch_op.drop_index(batch_op.f("ix_invitation_region"))
        batch_op.drop_index(batch_op.f("ix_invitation_email"))
    op.drop_table("invitation")
    op.drop_table("structure_correction")
    with op.batch_alter_table("import_job", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_import_job_user_id"))
    op.drop_table("import_job")
