"""Next steps of each submitted assessment as rows (exports read them without decoding the
stored result snapshots): the distinct step texts once, and each assessment's steps.

Filled at every submission and by `palier dashboard refresh` (latest results); an export
reads the snapshot of an assessment that has no rows yet (app.shortlists.next_steps).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 15:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "next_step_text",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("tier", sa.Integer(), nullable=True),
        sa.Column("label", sa.String(), nullable=True),
        sa.Column("title", sa.String(), nullable=True),
        sa.Column("effort", sa.String(), nullable=True),
        sa.Column("funding", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_next_step_text")),
        sa.UniqueConstraint("key", name=op.f("uq_next_step_text_key")),
    )
    op.create_table(
        "assessment_next_step",
        sa.Column("assessment_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("text_id", sa.Integer(), nullable=False),
        sa.Column("to_verify", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["assessment_id"], ["assessment.id"],
            name=op.f("fk_assessment_next_step_assessment_id_assessment"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["text_id"], ["next_step_text.id"],
            name=op.f("fk_assessment_next_step_text_id_next_step_text")),
        sa.PrimaryKeyConstraint("assessment_id", "position",
                                name=op.f("pk_assessment_next_step")),
    )


def downgrade() -> None:
    op.drop_table("assessment_next_step")
    op.drop_table("next_step_text")
