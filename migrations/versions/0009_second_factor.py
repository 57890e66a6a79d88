"""Second factor (TOTP, recovery codes, remembered devices, half-open logins) and personal
access tokens (named, scoped API tokens). Password-grant tokens of ars, committee and
admin accounts are revoked: those accounts now use personal access tokens.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 14:30:00
"""

from collections.abc import Sequence
from datetime import datetime, timezone

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = sa.DateTime(timezone=True)


def _user_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(["user_id"], ["user_account.id"],
                                   name=op.f(f"fk_{table}_user_id_user_account"),
                                   ondelete="CASCADE")


def upgrade() -> None:
    op.create_table(
        "user_totp",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("secret", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("confirmed_at", UTC, nullable=True),
        sa.Column("last_step", sa.Integer(), nullable=False),
        _user_fk("user_totp"),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_user_totp")),
    )
    op.create_table(
        "recovery_code",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("used_at", UTC, nullable=True),
        _user_fk("recovery_code"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recovery_code")),
    )
    op.create_index(op.f("ix_recovery_code_user_id"), "recovery_code", ["user_id"])
    op.create_table(
        "trusted_device",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("last_used_at", UTC, nullable=True),
        sa.Column("expires_at", UTC, nullable=False),
        sa.Column("revoked_at", UTC, nullable=True),
        sa.Column("user_agent", sa.String(), nullable=True),
        _user_fk("trusted_device"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trusted_device")),
    )
    op.create_index(op.f("ix_trusted_device_token_hash"), "trusted_device", ["token_hash"],
                    unique=True)
    op.create_index(op.f("ix_trusted_device_user_id"), "trusted_device", ["user_id"])
    op.create_table(
        "login_challenge",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("expires_at", UTC, nullable=False),
        sa.Column("next_path", sa.String(), nullable=True),
        sa.Column("used_at", UTC, nullable=True),
        _user_fk("login_challenge"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_challenge")),
    )
    op.create_index(op.f("ix_login_challenge_user_id"), "login_challenge", ["user_id"])
    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.add_column(sa.Column("name", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("scope", sa.String(length=10), nullable=False,
                                      server_default="write"))
        batch_op.create_check_constraint(op.f("ck_api_token_scope"),
                                         "scope IN ('read', 'write')")
    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.alter_column("scope", server_default=None)
    tokens = sa.table("api_token", sa.column("user_id", sa.Integer()),
                      sa.column("revoked_at", UTC))
    users = sa.table("user_account", sa.column("id", sa.Integer()), sa.column("role"))
    privileged = sa.select(users.c.id).where(users.c.role.in_(("ars", "committee", "admin")))
    now = datetime.now(timezone.utc)
    if op.get_bind().dialect.name == "sqlite":
        now = now.replace(tzinfo=None)  # stored naive UTC (app.db.UTCDateTime)
    op.execute(tokens.update().where(tokens.c.revoked_at.is_(None),
                                     tokens.c.user_id.in_(privileged)).values(revoked_at=now))


def downgrade() -> None:
    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_api_token_scope"), type_="check")
        batch_op.drop_column("scope")
        batch_op.drop_column("name")
    op.drop_index(op.f("ix_login_challenge_user_id"), table_name="login_challenge")
    op.drop_table("login_challenge")
    op.drop_index(op.f("ix_trusted_device_user_id"), table_name="trusted_device")
    op.drop_index(op.f("ix_trusted_device_token_hash"), table_name="trusted_device")
    op.drop_table("trusted_device")
    op.drop_index(op.f("ix_recovery_code_user_id"), table_name="recovery_code")
    op.drop_table("recovery_code")
    op.drop_table("user_totp")
