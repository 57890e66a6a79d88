"""Issue 10 (ARS): the questions an "à revoir" review concerns, the message thread
between a structure's directors and its region's ARS about a submitted assessment, and the
ARS campaigns with their reminders.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 14:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> sa.types.TypeEngine:  # type: ignore[type-arg]
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("assessment_review", schema=None) as batch_op:
        batch_op.add_column(sa.Column("questions", _json(), nullable=True))

    op.create_table(
        "assessment_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("assessment_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("author_role", sa.String(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["assessment_id"], ["assessment.id"],
                                name=op.f("fk_assessment_message_assessment_id_assessment"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["author_id"], ["user_account.id"],
                                name=op.f("fk_assessment_message_author_id_user_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessment_message")),
    )
    with op.batch_alter_table("assessment_message", schema=None) as batch_op:
        batch_op.create_index("ix_assessment_message_assessment_id_id",
                              ["assessment_id", "id"], unique=False)


    op.create_table(
        "campaign",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("region", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=False),
        sa.Column("categories", _json(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["created_by"], ["user_account.id"],
                                name=op.f("fk_campaign_created_by_user_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign")),
    )
    with op.batch_alter_table("campaign", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_campaign_region"), ["region"], unique=False)
    op.create_table(
        "campaign_reminder",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("structure_id", sa.Integer(), nullable=False),
        sa.Column("sent_on", sa.Date(), nullable=False),
        sa.Column("sent_by", sa.Integer(), nullable=True),
        sa.Column("recipients", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaign.id"],
                                name=op.f("fk_campaign_reminder_campaign_id_campaign"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["structure_id"], ["structure.id"],
                                name=op.f("fk_campaign_reminder_structure_id_structure"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["sent_by"], ["user_account.id"],
                                name=op.f("fk_campaign_reminder_sent_by_user_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_reminder")),
        sa.UniqueConstraint("structure_id", "sent_on",
                            name=op.f("uq_campaign_reminder_structure_id_sent_on")),
    )
    with op.batch_alter_table("campaign_reminder", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_campaign_reminder_campaign_id"), ["campaign_id"],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table("campaign_reminder", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_campaign_reminder_campaign_id"))
    op.drop_table("campaign_reminder")
    with op.batch_alter_table("campaign", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_campaign_region"))
    op.drop_table("campaign")
    with op.batch_alter_table("assessment_message", schema=None) as batch_op:
        batch_op.drop_index("ix_assessment_message_assessment_id_id")
    op.drop_table("assessment_message")
    with op.batch_alter_table("assessment_review", schema=None) as batch_op:
        batch_op.drop_column("questions")
