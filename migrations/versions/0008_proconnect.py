"""ProConnect sign-in: provider identities attached to accounts, logins in progress,
e-mailed link proofs, ID tokens of sessions (logout at the provider).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 14:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _user_fk(table: str, column: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], ["user_account.id"],
                                   name=op.f(f"fk_{table}_{column}_user_account"),
                                   ondelete=ondelete)


def upgrade() -> None:
    op.create_table(
        "external_identity",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("issuer", sa.String(), nullable=False),
        sa.Column("subject", sa.String(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("email", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("organisation", sa.String(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("linked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("linked_by", sa.Integer(), nullable=True),
        _user_fk("external_identity", "user_id", "CASCADE"),
        _user_fk("external_identity", "linked_by", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_external_identity")),
        sa.UniqueConstraint("issuer", "subject",
                            name=op.f("uq_external_identity_issuer_subject")),
    )
    op.create_index(op.f("ix_external_identity_user_id"), "external_identity", ["user_id"])
    op.create_table(
        "oidc_login_request",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("nonce", sa.String(), nullable=False),
        sa.Column("code_verifier", sa.String(), nullable=False),
        sa.Column("next_path", sa.String(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oidc_login_request")),
    )
    op.create_index(op.f("ix_oidc_login_request_expires_at"), "oidc_login_request",
                    ["expires_at"])
    op.create_table(
        "oidc_link_token",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("identity_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["identity_id"], ["external_identity.id"],
                                name=op.f("fk_oidc_link_token_identity_id_external_identity"),
                                ondelete="CASCADE"),
        _user_fk("oidc_link_token", "user_id", "CASCADE"),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_oidc_link_token")),
    )
    op.create_index(op.f("ix_oidc_link_token_identity_id"), "oidc_link_token", ["identity_id"])
    op.create_index(op.f("ix_oidc_link_token_user_id"), "oidc_link_token", ["user_id"])
    op.create_table(
        "oidc_session",
        sa.Column("auth_session_id", sa.String(length=64), nullable=False),
        sa.Column("issuer", sa.String(), nullable=False),
        sa.Column("id_token", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["auth_session_id"], ["auth_session.id"],
                                name=op.f("fk_oidc_session_auth_session_id_auth_session"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("auth_session_id", name=op.f("pk_oidc_session")),
    )


def downgrade() -> None:
    op.drop_table("oidc_session")
    op.drop_table("oidc_link_token")
    op.drop_table("oidc_login_request")
    op.drop_table("external_identity")
