"""Tables of ProConnect (OpenID Connect) sign-in: identities of the provider and the account
each is attached to, logins in progress, e-mailed link proofs, and the ID token of each
session opened through the provider (for the logout at the provider).

Secret values (browser binding, link tokens) are stored as their sha256 only.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.db import UTCDateTime, created_field, when_field

__all__ = ["ExternalIdentity", "OidcLinkToken", "OidcLoginRequest", "OidcSession"]


class ExternalIdentity(SQLModel, table=True):
    """An identity of the provider (issuer, subject). `user_id` None: known to nobody yet
    (no access until an admin attaches it, or its owner proves the e-mail of an account)."""

    __tablename__ = "external_identity"
    __table_args__ = (UniqueConstraint("issuer", "subject"),)

    id: int | None = Field(default=None, primary_key=True)
    issuer: str
    subject: str
    user_id: int | None = Field(default=None, foreign_key="user_account.id", index=True,
                                ondelete="CASCADE")
    email: str = ""  # as the provider last said (lower-case)
    name: str = ""
    organisation: str | None = None  # SIRET, when the provider gives one
    created_at: datetime = created_field()
    last_login_at: datetime | None = when_field()
    linked_at: datetime | None = when_field()
    linked_by: int | None = Field(default=None, foreign_key="user_account.id",
                                  ondelete="SET NULL")


class OidcLoginRequest(SQLModel, table=True):
    """A login sent to the provider and not back yet; `id`: sha256 of the browser's cookie."""

    __tablename__ = "oidc_login_request"

    id: str = Field(primary_key=True, max_length=64)
    state: str
    nonce: str
    code_verifier: str
    next_path: str | None = None
    created_at: datetime = created_field()
    expires_at: datetime = Field(sa_type=UTCDateTime, nullable=False, index=True)


class OidcLinkToken(SQLModel, table=True):
    """A one-time link e-mailed to an account's address: opening it attaches the identity."""

    __tablename__ = "oidc_link_token"

    token_hash: str = Field(primary_key=True, max_length=64)
    identity_id: int = Field(foreign_key="external_identity.id", index=True, ondelete="CASCADE")
    user_id: int = Field(foreign_key="user_account.id", index=True, ondelete="CASCADE")
    created_at: datetime = created_field()
    expires_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    used_at: datetime | None = when_field()


class OidcSession(SQLModel, table=True):
    """The ID token of a session opened through the provider (`id_token_hint` at logout)."""

    __tablename__ = "oidc_session"

    auth_session_id: str = Field(primary_key=True, max_length=64, foreign_key="auth_session.id",
                                 ondelete="CASCADE")
    issuer: str
    id_token: str = Field(sa_column=Column(Text, nullable=False))
