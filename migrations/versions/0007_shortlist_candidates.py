"""Shortlists' read model: ranking facts of each latest result (readiness, funding).

Filled by `palier dashboard refresh` and at every submission; rows missing after this
upgrade are filled on the first shortlist built (app.shortlists.readmodel.ensure).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 11:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "shortlist_candidate",
        sa.Column("structure_id", sa.Integer(), nullable=False),
        sa.Column("assessment_id", sa.Integer(), nullable=False),
        sa.Column("readiness", sa.Integer(), nullable=True),
        sa.Column("funding", sa.String(), nullable=False),
        sa.ForeignKeyConstraint(
            ["structure_id"], ["latest_result.structure_id"],
            name=op.f("fk_shortlist_candidate_structure_id_latest_result"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["assessment_id"], ["assessment.id"],
            name=op.f("fk_shortlist_candidate_assessment_id_assessment"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("structure_id", name=op.f("pk_shortlist_candidate")),
    )


def downgrade() -> None:
    op.drop_table("shortlist_candidate")
