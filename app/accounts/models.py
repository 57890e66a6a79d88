"""Tables of accounts: users and their structures, login sessions, API tokens, password
reset links, login attempts (rate limit), invitations of directors.

E-mail addresses are stored lower-case; tokens are stored as their sha256 only.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, event
from sqlalchemy.orm import Mapper
from sqlmodel import Field, SQLModel

from app.db import UTCDateTime, created_field, in_values, utcnow, when_field
from app.permissions import Role
from app.search_text import joined, search_field, search_index

__all__ = [
    "ApiToken",
    "AuthSession",
    "DirectorStructure",
    "Invitation",
    "InvitationStructure",
    "IssuedToken",
    "LoginAttempt",
    "PasswordResetToken",
    "User",
]


class User(SQLModel, table=True):
    __tablename__ = "user_account"
    __table_args__ = (CheckConstraint(in_values("role", Role), name="role"),
                      search_index("user_account"))

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(unique=True, index=True)  # always lower-case (see the hook below)
    name: str = ""
    password_hash: str
    role: str  # a Role value
    region: str | None = None  # ars, committee (None = national committee)
    active: bool = True
    # name and e-mail normalised (app/search_text.py), written with the row
    search: str = search_field("name", "email")
    created_at: datetime = created_field()
    updated_at: datetime = created_field()


@event.listens_for(User, "before_insert")
@event.listens_for(User, "before_update")
def _lower_email(_mapper: Mapper[User], _conn: Any, user: User) -> None:
    user.email = user.email.strip().lower()
    user.search = joined(user.name, user.email)


class DirectorStructure(SQLModel, table=True):
    """A director (or delegate) account linked to a structure it may fill in."""

    __tablename__ = "director_structure"

    user_id: int = Field(foreign_key="user_account.id", primary_key=True, ondelete="CASCADE")
    structure_id: int = Field(
        foreign_key="structure.id", primary_key=True, ondelete="CASCADE", index=True
    )
    created_at: datetime = created_field()


class AuthSession(SQLModel, table=True):
    """A server-side login session; `id` is the sha256 hex of the cookie's random token."""

    __tablename__ = "auth_session"

    id: str = Field(primary_key=True, max_length=64)
    user_id: int = Field(foreign_key="user_account.id", index=True, ondelete="CASCADE")
    created_at: datetime = created_field()
    last_seen_at: datetime = created_field()
    expires_at: datetime = Field(sa_type=UTCDateTime, nullable=False)  # absolute limit
    revoked_at: datetime | None = when_field()
    csrf_token: str
    user_agent: str | None = None


class IssuedToken(SQLModel):
    """The first columns of a user's long-lived secret, stored as its sha256 (API tokens,
    remembered devices): when it was issued, last used, expires and was revoked."""

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(unique=True, index=True, max_length=64)
    user_id: int = Field(foreign_key="user_account.id", index=True, ondelete="CASCADE")
    created_at: datetime = created_field()
    last_used_at: datetime | None = when_field()
    expires_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    revoked_at: datetime | None = when_field()


class ApiToken(IssuedToken, table=True):
    __tablename__ = "api_token"
    __table_args__ = (CheckConstraint("scope IN ('read', 'write')", name="scope"),)

    # Personal access tokens (created on the account page) have a name; the password
    # grant's tokens none. scope: "write" (everything the account may do) or "read".
    name: str | None = Field(default=None, max_length=100)
    scope: str = Field(default="write", max_length=10)


class PasswordResetToken(SQLModel, table=True):
    __tablename__ = "password_reset_token"

    token_hash: str = Field(primary_key=True, max_length=64)
    user_id: int = Field(foreign_key="user_account.id", index=True, ondelete="CASCADE")
    created_at: datetime = created_field()
    expires_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    used_at: datetime | None = when_field()


class LoginAttempt(SQLModel, table=True):
    __tablename__ = "login_attempt"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(index=True)  # "email:x@y" or "ip:1.2.3.4"
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False, index=True)
    success: bool = False


class Invitation(SQLModel, table=True):
    """A one-time invitation: the link carries a random token; only its sha256 is stored."""

    __tablename__ = "invitation"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(index=True)  # lower-case
    token_hash: str = Field(unique=True, index=True, max_length=64)
    invited_by: int | None = Field(default=None, foreign_key="user_account.id",
                                   ondelete="SET NULL")
    region: str | None = Field(default=None, index=True)  # the inviting ARS's region
    created_at: datetime = created_field()
    expires_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    used_at: datetime | None = when_field()
    used_by: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    revoked_at: datetime | None = when_field()


class InvitationStructure(SQLModel, table=True):
    __tablename__ = "invitation_structure"

    invitation_id: int = Field(foreign_key="invitation.id", primary_key=True, ondelete="CASCADE")
    structure_id: int = Field(foreign_key="structure.id", primary_key=True, ondelete="CASCADE",
                              index=True)
